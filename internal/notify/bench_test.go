package notify_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/notify"
)

// BenchmarkPost posts one event to 2,000 recipients (a whole collège), a fifth of
// them parents and a tenth opted out.
func BenchmarkPost(b *testing.B) {
	e := newEnv(b)
	ps := append(e.persons(1600, "Eleve", false), e.persons(400, "Responsable", true)...)
	for _, id := range ps[:200] {
		a := who(id, "Eleve")
		prefs, err := e.svc.Preferences(e.ctx, a)
		if err != nil {
			b.Fatal(err)
		}
		prefs.Channels[notify.KindPublication] = notify.Off
		if err := e.svc.SavePreferences(e.ctx, a, prefs); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.post(notify.Event{Kind: notify.KindPublication, Recipients: ps, Title: fmt.Sprint("Actualité ", i), Link: "/actualites/1"})
	}
	b.StopTimer()
	var rows int
	e.db.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM notify_inbox`).Scan(&rows)
	if rows != b.N*1800 {
		b.Fatalf("%d rows for %d posts, want %d", rows, b.N, b.N*1800)
	}
}

// BenchmarkUnreadCount counts the unread notifications of a person who has 10,000
// (half of them unread), as the badge of every page does; the count stops at
// MaxUnread.
func BenchmarkUnreadCount(b *testing.B) {
	e := newEnv(b)
	me := e.inbox10k()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if n := e.unread(me); n != notify.MaxUnread {
			b.Fatalf("unread %d", n)
		}
	}
}

// inbox10k makes a person with 10,000 notifications, half of them read, among
// 40,000 more of 500 other persons, written straight in the tables.
func (e *env) inbox10k() string {
	me := e.persons(1, "Responsable", true)[0]
	others := e.persons(500, "Eleve", false)
	// Rows written straight in the tables: 10,000 posts would time the setup only.
	err := e.db.Tx(e.ctx, func(tx *sql.Tx) error {
		for start := 0; start < 10000; start += 100 {
			var ev, in strings.Builder
			ev.WriteString(`INSERT INTO notify_events(id, kind, title, link, created_at) VALUES `)
			in.WriteString(`INSERT INTO notify_inbox(person_id, event_id, created_at, read_at) VALUES `)
			var ea, ia []any
			for i := start; i < start+100; i++ {
				if i > start {
					ev.WriteByte(',')
					in.WriteByte(',')
				}
				id := fmt.Sprintf("ev%06d", i)
				fmt.Fprintf(&ev, "($%d,'messagerie.message','Titre','/messagerie/1',$%d)", len(ea)+1, len(ea)+2)
				ea = append(ea, id, int64(i))
				read := int64(0)
				if i%2 == 0 {
					read = 1
				}
				fmt.Fprintf(&in, "($%d,$%d,$%d,$%d)", len(ia)+1, len(ia)+2, len(ia)+3, len(ia)+4)
				ia = append(ia, me, id, int64(i), read)
				// Each event also reaches four others, so that the person's rows are a
				// fifth of the table, as in a school where events reach many.
				for o := range 4 {
					fmt.Fprintf(&in, ",($%d,$%d,$%d,0)", len(ia)+1, len(ia)+2, len(ia)+3)
					ia = append(ia, others[(i*4+o)%len(others)], id, int64(i))
				}
			}
			if _, err := tx.ExecContext(e.ctx, ev.String(), ea...); err != nil {
				return err
			}
			if _, err := tx.ExecContext(e.ctx, in.String(), ia...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.Analyze(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	return me
}

// BenchmarkDashboardBlock is what the dashboard adds for a person with 10,000
// notifications: the unread count of the badge and the five latest.
func BenchmarkDashboardBlock(b *testing.B) {
	e := newEnv(b)
	me := e.inbox10k()
	if err := e.db.Analyze(e.ctx); err != nil {
		b.Fatal(err)
	}
	a := who(me, "Responsable")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.unread(me)
		p, err := e.svc.List(e.ctx, a, "", 5)
		if err != nil || len(p.Items) != 5 {
			b.Fatalf("%d items, %v", len(p.Items), err)
		}
	}
}
