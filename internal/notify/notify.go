// Package notify is Préau's notification centre (the "fil d'actualité"): every
// service posts events to the persons concerned; each person reads them in the
// centre and on the dashboard, chooses per kind of event whether to get them at all,
// in the ENT only, by e-mail at once or in a daily digest, and sets quiet hours during
// which no immediate e-mail goes out (parents' first complaint is evening mail).
//
// Posting stores one event row and one small row per recipient in one transaction,
// with multi-row inserts, so that an event for a whole collège stays cheap. A
// delivery worker (Deliver, run every minute) mails what is due; it claims the rows
// it sends with one UPDATE each, so that several instances on one PostgreSQL
// database never mail an event twice.
package notify

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // Europe/Paris on machines without a zone database
	"unicode"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/i18n"
	"github.com/preau-ent/preau/internal/platform/ids"
	"github.com/preau-ent/preau/internal/platform/mail"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the notification tables (after the directory's).
var Migrations = db.Embedded("notify", migrations)

// Channel is how a person gets a kind of event.
type Channel string

const (
	Off    Channel = "off"    // not at all
	App    Channel = "app"    // in the ENT only (centre, dashboard, badge)
	Now    Channel = "now"    // in the ENT and by e-mail at once, outside quiet hours
	Digest Channel = "digest" // in the ENT and in the daily digest e-mail
)

// Channels in the order the preferences page offers them.
var Channels = []Channel{Off, App, Now, Digest}

// Valid tells whether c is a channel.
func (c Channel) Valid() bool {
	for _, x := range Channels {
		if c == x {
			return true
		}
	}
	return false
}

// Mailed tells whether the channel sends e-mail.
func (c Channel) Mailed() bool { return c == Now || c == Digest }

// Kind is a kind of event a service posts.
type Kind struct {
	ID      string  // "messagerie.message"
	Label   string  // i18n key of its name, e.g. "notify.kind.messagerie.message"
	Default Channel // for everyone but parents
	// Parents is the default for parents (profile Responsable); "" is Default. Parents
	// get digests rather than immediate mail unless a kind says otherwise.
	Parents Channel
	// Collapse: while a recipient has not read an event of this kind for a link, new
	// events for the same link add nothing for them (the first already leads there).
	// A lively conversation then shows once, not once per line.
	Collapse bool
}

// DefaultFor returns the kind's default channel for a profile.
func (k Kind) DefaultFor(profile string) Channel {
	if profile == directory.Responsable && k.Parents != "" {
		return k.Parents
	}
	return k.Default
}

var (
	kindsMu sync.RWMutex
	kinds   = map[string]Kind{}
	order   []string
)

// RegisterKind adds a kind of event (or replaces one with the same id). Services
// register theirs at start; Post refuses kinds nobody registered.
func RegisterKind(k Kind) {
	if k.ID == "" || !k.Default.Valid() || (k.Parents != "" && !k.Parents.Valid()) {
		panic(fmt.Sprintf("notify: sorte d'événement invalide %+v", k))
	}
	if k.Label == "" {
		k.Label = "notify.kind." + k.ID
	}
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if _, ok := kinds[k.ID]; !ok {
		order = append(order, k.ID)
	}
	kinds[k.ID] = k
}

// Kinds lists the registered kinds in registration order.
func Kinds() []Kind {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	out := make([]Kind, 0, len(order))
	for _, id := range order {
		out = append(out, kinds[id])
	}
	return out
}

// KindOf returns a registered kind.
func KindOf(id string) (Kind, bool) {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	k, ok := kinds[id]
	return k, ok
}

// The kinds of the services of issue 5. Messages reach parents in the digest by
// default; instant messages stay in the ENT (they are read live); a change to one's
// own account is mailed at once, to parents too: it may be someone else's doing.
const (
	KindMessage     = "messagerie.message"
	KindChat        = "chat.message"
	KindPublication = "actualites.publication"
	KindSecurity    = "compte.securite"
)

func init() {
	RegisterKind(Kind{ID: KindMessage, Default: Now, Parents: Digest})
	RegisterKind(Kind{ID: KindChat, Default: App, Collapse: true})
	RegisterKind(Kind{ID: KindPublication, Default: App, Parents: Digest})
	RegisterKind(Kind{ID: KindSecurity, Default: Now})
}

// Event is what a service posts.
type Event struct {
	Kind        string   // a registered kind, e.g. "messagerie.message"
	Recipients  []string // person ids
	ActorID     string   // who caused it ("" for the system); never notified of their own action
	Title       string   // plain text, e.g. the message subject (escaped on output)
	Link        string   // relative link inside Préau, "/messagerie/…"
	StructureID string   // optional, the structure it belongs to
}

// Errors of Post: a programming mistake of the calling service.
var (
	ErrUnknownKind = errors.New("notify: sorte d'événement inconnue")
	ErrBadLink     = errors.New("notify: le lien doit être un chemin relatif de Préau")
)

// MaxTitle is the longest title kept, in characters.
const MaxTitle = 200

// Config tunes the service.
type Config struct {
	// PortalURL starts the links of e-mails, e.g. "https://ent.example.fr".
	PortalURL string
	Name      string         // the deployment's name, in e-mail subjects
	Location  *time.Location // quiet hours and digest hours; nil: Europe/Paris
	// Retention: events older than this are deleted by Purge; 0: one year.
	Retention time.Duration
	// RetryAfter: a mail that failed is tried again after this; 0: 15 minutes.
	RetryAfter time.Duration
	Now        func() time.Time // nil: time.Now; tests pass a clock
}

// DefaultRetention keeps notifications one school year and a little more, so that
// a family finds September's notices in June, and no longer: the messages and news
// themselves stay in their own services; the centre is only a way to them.
const DefaultRetention = 365 * 24 * time.Hour

// Service posts, lists and mails notifications.
type Service struct {
	db      *db.DB
	mail    mail.Sender
	catalog *i18n.Catalog
	cfg     Config
}

// New returns the service; m and c may be nil when nothing is mailed.
func New(d *db.DB, m mail.Sender, c *i18n.Catalog, cfg Config) *Service {
	if cfg.Location == nil {
		loc, err := time.LoadLocation("Europe/Paris")
		if err != nil {
			panic(err) // time/tzdata is embedded
		}
		cfg.Location = loc
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 15 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Name == "" {
		cfg.Name = "Préau"
	}
	cfg.PortalURL = strings.TrimRight(cfg.PortalURL, "/")
	return &Service{db: d, mail: m, catalog: c, cfg: cfg}
}

// ValidLink tells whether l is a relative link inside Préau: a path starting with
// one "/", not "//" (another host) nor "/\" (which browsers read as "//").
func ValidLink(l string) bool {
	return strings.HasPrefix(l, "/") && !strings.HasPrefix(l, "//") && !strings.HasPrefix(l, "/\\") &&
		!strings.ContainsFunc(l, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) })
}

// cleanTitle keeps a title to one line of at most MaxTitle characters.
func cleanTitle(t string) string {
	t = strings.Join(strings.FieldsFunc(t, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if r := []rune(t); len(r) > MaxTitle {
		t = string(r[:MaxTitle-1]) + "…"
	}
	return t
}

// recipient is what Post needs to know of a person.
type recipient struct {
	id       string
	channel  Channel
	mailable bool
	settings Settings
}

// batch is how many rows one INSERT carries (7 values each, well under both
// engines' parameter limits) and how many ids one lookup asks for.
const batch = 500

// Post stores an event for its recipients, except its actor and those who turned
// its kind off, in one transaction. Recipients unknown to the directory are skipped.
func (s *Service) Post(ctx context.Context, e Event) error {
	k, ok := KindOf(e.Kind)
	if !ok {
		return fmt.Errorf("%w : %q", ErrUnknownKind, e.Kind)
	}
	if !ValidLink(e.Link) {
		return fmt.Errorf("%w : %q", ErrBadLink, e.Link)
	}
	seen := make(map[string]bool, len(e.Recipients))
	wanted := make([]string, 0, len(e.Recipients))
	for _, id := range e.Recipients {
		if id != "" && id != e.ActorID && !seen[id] {
			seen[id] = true
			wanted = append(wanted, id)
		}
	}
	if len(wanted) == 0 {
		return nil
	}
	now := s.cfg.Now()
	id := ids.New()
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		var rcpts []recipient
		for start := 0; start < len(wanted); start += batch {
			part, err := s.recipients(ctx, tx, k, wanted[start:min(start+batch, len(wanted))])
			if err != nil {
				return err
			}
			if k.Collapse {
				if part, err = s.withoutUnread(ctx, tx, k.ID, e.Link, part); err != nil {
					return err
				}
			}
			rcpts = append(rcpts, part...)
		}
		if len(rcpts) == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO notify_events(id, kind, actor_id, title, link, structure_id, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
			id, e.Kind, e.ActorID, cleanTitle(e.Title), e.Link, e.StructureID, now.UnixMilli()); err != nil {
			return err
		}
		// One parameter per row: the event id and time are shared, the mail columns
		// are literals Go made (a constant and an integer). SQLite resolves "$n"
		// parameters by a linear search, so fewer parameters is faster there.
		for start := 0; start < len(rcpts); start += batch {
			part := rcpts[start:min(start+batch, len(rcpts))]
			var sb strings.Builder
			sb.WriteString(`INSERT INTO notify_inbox(person_id, event_id, created_at, mail, mail_due) VALUES `)
			args := make([]any, 0, len(part)+2)
			args = append(args, id, now.UnixMilli())
			for i, r := range part {
				if i > 0 {
					sb.WriteByte(',')
				}
				mailKind, due := "", int64(0)
				if r.mailable && r.channel.Mailed() {
					mailKind, due = string(r.channel), r.settings.due(r.channel, now, s.cfg.Location).UnixMilli()
				}
				args = append(args, r.id)
				fmt.Fprintf(&sb, "($%d,$1,$2,'%s',%d)", len(args), mailKind, due)
			}
			if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// recipients reads, for a batch of person ids, their profile, whether they have an
// e-mail address, their channel for the kind and their hours, in one query, and
// keeps those who did not turn the kind off.
func (s *Service) recipients(ctx context.Context, q db.Querier, k Kind, personIDs []string) ([]recipient, error) {
	args := make([]any, 0, len(personIDs)+1)
	args = append(args, k.ID)
	for _, id := range personIDs {
		args = append(args, id)
	}
	rows, err := q.QueryContext(ctx, `SELECT p.id, p.profile, p.email, p.state, COALESCE(np.channel, ''),
		COALESCE(ns.quiet_start, -1), COALESCE(ns.quiet_end, -1), COALESCE(ns.digest_hour, -1)
		FROM persons p
		LEFT JOIN notify_prefs np ON np.person_id = p.id AND np.kind = $1
		LEFT JOIN notify_settings ns ON ns.person_id = p.id
		WHERE p.id IN (`+db.In(2, len(personIDs))+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]recipient, 0, len(personIDs))
	for rows.Next() {
		var r recipient
		var profile, email, state, channel string
		var qs, qe, dh int
		if err := rows.Scan(&r.id, &profile, &email, &state, &channel, &qs, &qe, &dh); err != nil {
			return nil, err
		}
		r.channel = Channel(channel)
		if !r.channel.Valid() {
			r.channel = k.DefaultFor(profile)
		}
		if r.channel == Off {
			continue
		}
		// Only activated accounts get mail: an address imported for someone who never
		// signed in is no consent to hear from the ENT.
		r.mailable = email != "" && state == directory.StateActive
		r.settings = settingsOrDefault(qs, qe, dh)
		out = append(out, r)
	}
	// The order of the inserts does not matter to the result, but sorted keys make
	// concurrent posts to overlapping audiences take their index locks in one order.
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out, rows.Err()
}

// withoutUnread drops the recipients who have an unread event of the kind for the link.
func (s *Service) withoutUnread(ctx context.Context, q db.Querier, kind, link string, rcpts []recipient) ([]recipient, error) {
	if len(rcpts) == 0 {
		return rcpts, nil
	}
	args := []any{link, kind}
	for _, r := range rcpts {
		args = append(args, r.id)
	}
	unread, err := db.Strings(ctx, q, `SELECT i.person_id FROM notify_events e JOIN notify_inbox i ON i.event_id = e.id
		WHERE e.link = $1 AND e.kind = $2 AND i.read_at = 0 AND i.person_id IN (`+db.In(3, len(rcpts))+`)`, args...)
	if err != nil || len(unread) == 0 {
		return rcpts, err
	}
	skip := make(map[string]bool, len(unread))
	for _, id := range unread {
		skip[id] = true
	}
	out := rcpts[:0]
	for _, r := range rcpts {
		if !skip[r.id] {
			out = append(out, r)
		}
	}
	return out, nil
}

func logErr(msg string, err error, args ...any) {
	slog.Error(msg, append([]any{"err", err}, args...)...)
}
