package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// ErrBadName is returned by Read for a name that is not a message of the spool.
var ErrBadName = errors.New("nom de message invalide")

const spoolExt = ".eml"

// Spool keeps each message as one .eml file in a folder, for deployments without a
// mail relay (the demo, a school trying Préau out): an administrator reads the
// activation and reset mails in the console, and any mail client opens the files.
type Spool struct {
	dir  string
	from string
}

// NewSpool returns a spool writing into dir (created on first use) with sender from.
func NewSpool(dir, from string) *Spool { return &Spool{dir: dir, from: from} }

// Dir is the spool folder.
func (s *Spool) Dir() string { return s.dir }

// Send writes the message. The file appears whole or not at all (written under a
// hidden temporary name, then renamed), so List never reads half a message. Files
// are private to the service's user: reset links in them are secrets.
func (s *Spool) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	from, err := parseOne(s.from)
	if err != nil {
		return err
	}
	to, err := parseOne(m.To)
	if err != nil {
		return err
	}
	now := time.Now()
	data, err := compose(from, to, m, now)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.dir, ".part-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// The time first, fixed width, so that names sort in sending order.
	r := make([]byte, 4)
	if _, err := rand.Read(r); err != nil {
		return err
	}
	name := now.UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(r) + spoolExt
	return os.Rename(tmp.Name(), filepath.Join(s.dir, name))
}

// List returns the spooled messages, newest first. Unreadable files are skipped (and
// logged) so that one bad file does not hide the others.
func (s *Spool) List(ctx context.Context) ([]Spooled, error) {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if validName(e.Name()) && e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	out := make([]Spooled, 0, len(names))
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m, err := s.Read(n)
		if err != nil {
			slog.Warn("spool : message illisible", "name", n, "err", err)
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

func validName(name string) bool {
	return name != "" && !strings.ContainsAny(name, `/\`+"\x00") && !strings.HasPrefix(name, ".") &&
		strings.HasSuffix(name, spoolExt) && filepath.Base(name) == name
}

// Read returns one spooled message by file name. Names come from URLs, so anything
// that could leave the folder (separators, dot files) is ErrBadName.
func (s *Spool) Read(name string) (Spooled, error) {
	if !validName(name) {
		return Spooled{}, ErrBadName
	}
	path := filepath.Join(s.dir, name)
	fi, err := os.Lstat(path)
	if err != nil {
		return Spooled{}, err
	}
	if !fi.Mode().IsRegular() {
		return Spooled{}, ErrBadName
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return Spooled{}, err
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Spooled{}, fmt.Errorf("%s : %w", name, err)
	}
	var dec mime.WordDecoder
	out := Spooled{Name: name, At: fi.ModTime()}
	if at, err := msg.Header.Date(); err == nil {
		out.At = at
	}
	if out.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		out.Subject = msg.Header.Get("Subject")
	}
	out.To = msg.Header.Get("To")
	if a, err := netmail.ParseAddress(out.To); err == nil {
		out.To = a.Address
		if a.Name != "" {
			out.To = a.Name + " <" + a.Address + ">"
		}
	}
	var body io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return Spooled{}, fmt.Errorf("%s : %w", name, err)
	}
	out.Body = strings.ReplaceAll(string(b), "\r\n", "\n")
	return out, nil
}
