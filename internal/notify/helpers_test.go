package notify_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/notify"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/i18n"
	"github.com/preau-ent/preau/internal/platform/mail"
	assets "github.com/preau-ent/preau/web"
)

var paris = func() *time.Location {
	l, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return l
}()

// at is a time in Paris on a Tuesday of November 2026.
func at(day, hour, minute int) time.Time {
	return time.Date(2026, time.November, day, hour, minute, 0, 0, paris)
}

// clock is the injectable clock of the tests.
type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time  { return time.Unix(0, c.ns.Load()).In(paris) }
func (c *clock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

type env struct {
	t     testing.TB
	ctx   context.Context
	db    *db.DB
	svc   *notify.Service
	clock *clock
	spool *mail.Spool
	cat   *i18n.Catalog
	seq   int
}

func catalog(t testing.TB) *i18n.Catalog {
	c, err := assets.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	d := db.ForTest(t)
	if err := d.Migrate(ctx, directory.Migrations, notify.Migrations); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, db: d, clock: new(clock), spool: mail.NewSpool(filepath.Join(t.TempDir(), "spool"), "ne-pas-repondre@preau.test"), cat: catalog(t)}
	e.clock.Set(at(24, 10, 0))
	e.svc = e.service()
	return e
}

// service returns another Service over the same database, mail spool and clock, as a
// second instance of Préau would have.
func (e *env) service() *notify.Service {
	return notify.New(e.db, e.spool, e.cat, notify.Config{PortalURL: "https://ent.example.fr", Name: "Préau", Now: e.clock.Now})
}

// persons inserts n persons of a profile (with an e-mail address when withMail) in
// one transaction and returns their ids.
func (e *env) persons(n int, profile string, withMail bool) []string {
	e.t.Helper()
	out := make([]string, 0, n)
	b := e.batchID()
	err := e.db.Tx(e.ctx, func(tx *sql.Tx) error {
		for start := 0; start < n; start += 200 {
			var sb strings.Builder
			sb.WriteString(`INSERT INTO persons(id, login, first_name, last_name, first_key, last_key, profile, email, state, created_at, updated_at) VALUES `)
			var args []any
			for i := start; i < min(start+200, n); i++ {
				id := fmt.Sprintf("%s-%s-%05d", strings.ToLower(profile), b, i)
				email := ""
				if withMail {
					email = id + "@example.fr"
				}
				if i > start {
					sb.WriteByte(',')
				}
				k := len(args)
				fmt.Fprintf(&sb, "($%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,'active',0,0)", k+1, k+2, k+3, k+4, k+5, k+6, k+7, k+8)
				args = append(args, id, id, "Prénom", "Nom"+id, "prenom", "nom"+id, profile, email)
				out = append(out, id)
			}
			if _, err := tx.ExecContext(e.ctx, sb.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// batchID tells apart the persons of each call within one test.
func (e *env) batchID() string {
	e.seq++
	return fmt.Sprint(e.seq)
}

func (e *env) post(ev notify.Event) {
	e.t.Helper()
	if err := e.svc.Post(e.ctx, ev); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) unread(id string) int {
	e.t.Helper()
	n, err := e.svc.UnreadCount(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) deliver() notify.Report {
	e.t.Helper()
	r, err := e.svc.Deliver(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// mails returns the spooled mails, oldest first.
func (e *env) mails() []mail.Spooled {
	e.t.Helper()
	l, err := e.spool.List(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	for i, j := 0, len(l)-1; i < j; i, j = i+1, j-1 {
		l[i], l[j] = l[j], l[i]
	}
	return l
}

func who(id, profile string) actor.Actor { return actor.Actor{PersonID: id, Profile: profile} }
