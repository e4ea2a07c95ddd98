package messaging_test

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/messaging"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
)

// bulkInsert writes rows with multi-row INSERTs (a benchmark's fixture, not a service path).
func bulkInsert(b *testing.B, d *db.DB, table string, cols []string, rows [][]any) {
	b.Helper()
	const batch = 400
	for start := 0; start < len(rows); start += batch {
		end := min(start+batch, len(rows))
		var sb strings.Builder
		var args []any
		for i, r := range rows[start:end] {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString("(" + db.In(len(args)+1, len(r)) + ")")
			args = append(args, r...)
		}
		if _, err := d.DB.ExecContext(b.Context(), "INSERT INTO "+table+"("+strings.Join(cols, ",")+") VALUES "+sb.String(), args...); err != nil {
			b.Fatal(err)
		}
	}
}

// addParents puts n new parents in the college and in the class's parents group.
func addParents(b *testing.B, k *apptest.Kit, n int) {
	d := k.App.DB
	var classParents, schoolParents string
	if err := d.QueryRowContext(k.Ctx, `SELECT id FROM groups WHERE class_id=$1 AND profile='Responsable'`, k.School.Class.ID).Scan(&classParents); err != nil {
		b.Fatal(err)
	}
	if err := d.QueryRowContext(k.Ctx, `SELECT id FROM groups WHERE structure_id=$1 AND kind='profile' AND profile='Responsable'`, k.School.College.ID).Scan(&schoolParents); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UnixMilli()
	var persons, structures, members [][]any
	for i := 0; i < n; i++ {
		id := ids.New()
		last := fmt.Sprintf("parent%05d", i)
		persons = append(persons, []any{id, "bench." + last, "Parent", last, "parent", last, directory.Responsable, "active", now, now})
		structures = append(structures, []any{id, k.School.College.ID})
		members = append(members, []any{classParents, id, "auto"}, []any{schoolParents, id, "auto"})
	}
	bulkInsert(b, d, "persons", []string{"id", "login", "first_name", "last_name", "first_key", "last_key", "profile", "state", "created_at", "updated_at"}, persons)
	bulkInsert(b, d, "person_structures", []string{"person_id", "structure_id"}, structures)
	bulkInsert(b, d, "group_members", []string{"group_id", "person_id", "source"}, members)
	if err := d.Analyze(k.Ctx); err != nil {
		b.Fatal(err)
	}
}

func dbSize(b *testing.B, d *db.DB) int64 {
	var n int64
	q := `SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()`
	if d.Dialect == db.Postgres {
		q = `SELECT pg_database_size(current_database())`
	}
	if err := d.QueryRowContext(b.Context(), q).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}

// prose makes n bytes of text that compresses like text, not like one repeated line
// (PostgreSQL compresses long values: a repeated sentence would hide the body's size).
func prose(n int) string {
	words := strings.Fields("la classe de quatrième visite le musée jeudi matin merci de signer autorisation sortie prévoir pique-nique bus départ huit heures retour collège parents professeurs")
	rng := rand.New(rand.NewPCG(1, 2))
	var sb strings.Builder
	for sb.Len() < n {
		sb.WriteString(words[rng.IntN(len(words))])
		if rng.IntN(9) == 0 {
			sb.WriteString(fmt.Sprintf(" %d. ", rng.IntN(10000)))
		} else {
			sb.WriteByte(' ')
		}
	}
	return strings.ToValidUTF8(sb.String()[:n], "")
}

// cpuTime is the CPU time the process used so far: on a machine shared with other
// work, wall-clock times say more about the neighbours than about the code.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSendToGroup sends one message to 2,000 parents: the parents of the school
// (a group the rules reach) and the parents of a class (a group inside it, whose
// members are checked one by one against the rules, in the same statement). It
// reports the growth of the database per message for a 1 KiB and a 100 KiB body:
// it follows the size of the message, not recipients × body.
func BenchmarkSendToGroup(b *testing.B) {
	k := apptest.New(b)
	addParents(b, k, 2000)
	m := k.App.Services.Messaging
	teacher := as(k.School.Teacher)
	groups, err := m.GroupChoices(k.Ctx, teacher)
	if err != nil {
		b.Fatal(err)
	}
	pick := func(name string) messaging.Recipient {
		for _, g := range groups {
			if g.Name == name {
				return g
			}
		}
		b.Fatalf("no group %q in %v", name, groups)
		return messaging.Recipient{}
	}
	for _, c := range []struct {
		name  string
		group messaging.Recipient
		body  int
	}{
		{"school-group/body=1KiB", pick("Responsables — Collège Jean Moulin"), 1 << 10},
		{"school-group/body=100KiB", pick("Responsables — Collège Jean Moulin"), 100 << 10},
		{"class-group/body=1KiB", pick("Responsables — 4e A"), 1 << 10},
	} {
		b.Run(c.name, func(b *testing.B) {
			body := prose(c.body)
			before := dbSize(b, k.App.DB)
			var copies int
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				id, err := m.SaveDraft(k.Ctx, teacher, messaging.Draft{To: []messaging.Recipient{c.group}, Subject: "Réunion", Body: body})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				c0 := cpuTime()
				res, err := m.Send(k.Ctx, teacher, id)
				if err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - c0
				copies = res.Recipients
			}
			b.StopTimer()
			if copies < 2000 {
				b.Fatalf("%d copies", copies)
			}
			b.ReportMetric(float64(dbSize(b, k.App.DB)-before)/float64(b.N), "db-bytes/msg")
			b.ReportMetric(float64(copies), "copies/msg")
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// BenchmarkInboxListing lists pages of the inbox of a person holding 20,000 messages
// (200,000 copies in all, 5% unread), the way the inbox page does: one page of 50
// by keyset, the folders with their unread counts, the header's unread count.
func BenchmarkInboxListing(b *testing.B) {
	k := apptest.New(b)
	f := k.School
	others := []string{f.Pupil.ID, f.Classmate.ID, f.Teacher.ID, f.Head.ID, f.Admin.ID, f.OtherPupil.ID}
	now := time.Now().Add(-24 * time.Hour).UnixMilli()
	var msgs, copies [][]any
	for i := 0; i < 20000; i++ {
		id := ids.New()
		at := now + int64(i)*1000
		msgs = append(msgs, []any{id, f.Teacher.ID, "Paul DURAND", fmt.Sprintf("Message %d", i), "Bonjour, voici les devoirs de la semaine.", "sent", int64(60), at, at, at})
		copies = append(copies, []any{f.Parent.ID, id, "inbox", "to", i%20 == 0, at})
		for j, o := range others {
			copies = append(copies, []any{o, id, "inbox", "to", j%2 == 0, at})
		}
	}
	bulkInsert(b, k.App.DB, "mail_messages", []string{"id", "sender_id", "sender_name", "subject", "body", "state", "size", "created_at", "updated_at", "sent_at"}, msgs)
	bulkInsert(b, k.App.DB, "mail_copies", []string{"person_id", "message_id", "folder", "role", "unread", "at"}, copies)
	if err := k.App.DB.Analyze(k.Ctx); err != nil {
		b.Fatal(err)
	}
	m := k.App.Services.Messaging
	parent := as(f.Parent)
	var durations []time.Duration
	cursor := ""
	pages := 0
	c0 := cpuTime()
	for b.Loop() {
		start := time.Now()
		l, err := m.List(k.Ctx, parent, messaging.Inbox, cursor, 50)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.Folders(k.Ctx, parent); err != nil {
			b.Fatal(err)
		}
		if _, err := m.Unread(k.Ctx, parent.PersonID); err != nil {
			b.Fatal(err)
		}
		durations = append(durations, time.Since(start))
		if len(l.Items) != 50 {
			b.Fatalf("page of %d", len(l.Items))
		}
		cursor = l.Next // deeper and deeper pages: keyset pagination costs the same
		pages++
	}
	b.ReportMetric(float64((cpuTime()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	sort.Slice(durations, func(i, j int) bool { return durations[i] < durations[j] })
	p := func(q float64) float64 {
		return float64(durations[min(len(durations)-1, int(q*float64(len(durations))))].Microseconds()) / 1000
	}
	b.ReportMetric(p(0.50), "p50-ms")
	b.ReportMetric(p(0.99), "p99-ms")
}
