package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"time"
)

// ErrBadAddress is returned for a sender or recipient that is not one address.
var ErrBadAddress = errors.New("adresse électronique invalide")

// parseOne reads one address, refusing lists and anything that could smuggle a
// header (CR, LF) into the message.
func parseOne(s string) (*netmail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, ErrBadAddress
	}
	a, err := netmail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%w : %q", ErrBadAddress, s)
	}
	return a, nil
}

// compose renders m as an RFC 5322 message, CRLF line ends. Non-ASCII subjects are
// RFC 2047 Q-encoded (which also neutralizes line breaks in them) and the body is
// quoted-printable UTF-8, which every mail client and relay accepts, 8BITMIME or not.
func compose(from *netmail.Address, to *netmail.Address, m Message, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", from.String())
	h("To", addressHeader(to))
	h("Subject", mime.QEncoding.Encode("UTF-8", m.Subject))
	h("Date", now.Format(time.RFC1123Z))
	h("Message-ID", messageID(from.Address))
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=UTF-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	h("Auto-Submitted", "auto-generated") // RFC 3834: vacation responders stay quiet
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	body := strings.ReplaceAll(m.Body, "\r\n", "\n")
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}

// messageID makes a unique Message-ID in the sender's domain, as RFC 5322 asks.
func messageID(from string) string {
	domain := "preau.invalid"
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		domain = d
	}
	r := make([]byte, 16)
	if _, err := rand.Read(r); err != nil {
		panic(err)
	}
	return "<" + hex.EncodeToString(r) + "@" + domain + ">"
}

// addressHeader writes a bare address when there is no display name ("<a@b>" is
// valid too, but surprises people reading the spool).
func addressHeader(a *netmail.Address) string {
	if a.Name == "" {
		return a.Address
	}
	return a.String()
}
