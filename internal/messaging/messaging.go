// Package messaging is the messagerie, the internal mail of the ENT: persons write to
// persons and to groups (a class, the parents of a class, the teachers of a school)
// within the communication rules, with cc, bcc, replies, forwards, drafts,
// attachments, folders, search, "read by", recall and moderation of reported messages.
//
// A message is stored once (subject, body, attachments); each person holding it has a
// small row in mail_copies (folder, read, deleted), so storage grows with the size of
// the message, not with recipients × body. Sending is one transaction: all copies or
// none. Nobody reads a message they do not hold, administrators included; moderators
// see reported messages only.
package messaging

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/commrules"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/blob"
	"github.com/preau-ent/preau/internal/platform/db"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the messagerie's tables (they need the directory's).
var Migrations = db.Embedded("messaging", migrations)

// Folders every person has.
const (
	Inbox  = "inbox"
	Sent   = "sent"
	Drafts = "drafts"
	Trash  = "trash"
)

// Roles of a copy.
const (
	RoleSender = "sender"
	RoleTo     = "to"
	RoleCc     = "cc"
	RoleBcc    = "bcc"
)

// Recipient kinds in a header.
const (
	KindPerson = "p"
	KindGroup  = "g"
)

// MiB is a mebibyte.
const MiB = 1 << 20

// Config sets the limits of the messagerie.
type Config struct {
	FileLimit    int64 // largest attachment, in bytes (default 20 MiB)
	MessageLimit int64 // attachments of one message together (default 20 MiB)
	Quota        int64 // what one person sends and keeps, in bytes (default 100 MiB)
	MaxBody      int   // longest body, in bytes (default 256 KiB)
	MaxAttach    int   // attachments per message (default 20)
}

func (c *Config) defaults() {
	if c.FileLimit <= 0 {
		c.FileLimit = 20 * MiB
	}
	if c.MessageLimit <= 0 {
		c.MessageLimit = 20 * MiB
	}
	if c.Quota <= 0 {
		c.Quota = 100 * MiB
	}
	if c.MaxBody <= 0 {
		c.MaxBody = 256 << 10
	}
	if c.MaxAttach <= 0 {
		c.MaxAttach = 20
	}
}

// Rights is the part of the rights service the messagerie needs.
type Rights interface {
	AdminScope(ctx context.Context, a actor.Actor) (all bool, structureIDs []string, err error)
}

// Scanner checks an uploaded file (an antivirus); a non-nil error refuses it.
type Scanner func(ctx context.Context, r io.Reader) error

// NotifyFunc is told about a message once it is sent (the notifications service).
type NotifyFunc func(ctx context.Context, recipients []string, senderID, subject, link string)

// Service is the messagerie.
type Service struct {
	db     *db.DB
	audit  *audit.Log
	rights Rights
	comm   *commrules.Engine
	blobs  *blob.Store
	cfg    Config
	now    func() time.Time

	// Scan, when set, checks every attachment before it is kept.
	Scan Scanner
	// Notify, when set, is called after each successful send (nil: nothing).
	Notify NotifyFunc
	// afterCopies, in tests, runs after each statement that makes recipient copies:
	// an error there shows that a send interrupted half-way leaves nothing behind.
	afterCopies func(statement int) error
}

// New returns the messagerie service.
func New(d *db.DB, a *audit.Log, r Rights, comm *commrules.Engine, blobs *blob.Store, cfg Config) *Service {
	cfg.defaults()
	return &Service{db: d, audit: a, rights: r, comm: comm, blobs: blobs, cfg: cfg, now: time.Now}
}

// Limits returns the configured limits.
func (s *Service) Limits() Config { return s.cfg }

// CommandScanner runs command (a program and its arguments, split on spaces) with the
// file on its standard input: exit status 0 accepts the file, anything else refuses
// it (clamdscan - --no-summary, say).
func CommandScanner(command string) Scanner {
	args := strings.Fields(command)
	if len(args) == 0 {
		return nil
	}
	return func(ctx context.Context, r io.Reader) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Stdin = r
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("analyse refusée (%v) : %s", err, strings.TrimSpace(out.String()))
		}
		return nil
	}
}
