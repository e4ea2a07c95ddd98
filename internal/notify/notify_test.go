package notify_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/notify"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/mail"
)

func TestPostFansOutSkipsActorAndOptedOut(t *testing.T) {
	e := newEnv(t)
	ps := e.persons(5, "Enseignant", false)
	actorID, optedOut := ps[0], ps[1]
	prefs, err := e.svc.Preferences(e.ctx, who(optedOut, "Enseignant"))
	if err != nil {
		t.Fatal(err)
	}
	prefs.Channels[notify.KindMessage] = notify.Off
	if err := e.svc.SavePreferences(e.ctx, who(optedOut, "Enseignant"), prefs); err != nil {
		t.Fatal(err)
	}
	// The actor, a duplicate and an unknown id among the recipients.
	e.post(notify.Event{Kind: notify.KindMessage, Recipients: append(ps, ps[2], "inconnu"), ActorID: actorID, Title: "Sortie au musée", Link: "/messagerie/m1"})
	want := map[string]int{ps[0]: 0, ps[1]: 0, ps[2]: 1, ps[3]: 1, ps[4]: 1}
	for id, n := range want {
		if got := e.unread(id); got != n {
			t.Errorf("%s: %d unread, want %d", id, got, n)
		}
	}
	// The opt-out is per kind: a publication still reaches them.
	e.post(notify.Event{Kind: notify.KindPublication, Recipients: ps, Title: "Menu de la cantine", Link: "/actualites/42"})
	if got := e.unread(optedOut); got != 1 {
		t.Errorf("opted-out person has %d unread after a publication, want 1", got)
	}
	var events, rows int
	e.db.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM notify_events`).Scan(&events)
	e.db.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM notify_inbox`).Scan(&rows)
	if events != 2 || rows != 3+5 {
		t.Errorf("%d events and %d rows, want 2 and 8", events, rows)
	}
	// Nobody left to notify: nothing stored.
	e.post(notify.Event{Kind: notify.KindMessage, Recipients: []string{actorID}, ActorID: actorID, Title: "À moi-même", Link: "/messagerie/m2"})
	e.db.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM notify_events`).Scan(&events)
	if events != 2 {
		t.Errorf("an event with no recipient left was stored")
	}
}

func TestPostValidatesKindAndLink(t *testing.T) {
	e := newEnv(t)
	ps := e.persons(1, "Eleve", false)
	for _, link := range []string{"", "messagerie/1", "//evil.example/x", "/\\evil.example", "https://evil.example/", "javascript:alert(1)", "/a b", "/a\nb"} {
		err := e.svc.Post(e.ctx, notify.Event{Kind: notify.KindMessage, Recipients: ps, Title: "x", Link: link})
		if !errors.Is(err, notify.ErrBadLink) {
			t.Errorf("link %q: %v, want ErrBadLink", link, err)
		}
	}
	if err := e.svc.Post(e.ctx, notify.Event{Kind: "inconnu.sorte", Recipients: ps, Title: "x", Link: "/"}); !errors.Is(err, notify.ErrUnknownKind) {
		t.Errorf("unknown kind: %v", err)
	}
	if e.unread(ps[0]) != 0 {
		t.Error("a refused event was stored")
	}
	// Titles are kept to one line and MaxTitle characters.
	e.post(notify.Event{Kind: notify.KindMessage, Recipients: ps, Title: "Deux\r\nlignes\t" + strings.Repeat("é", 300), Link: "/messagerie/1?x=1#y"})
	page, err := e.svc.List(e.ctx, who(ps[0], "Eleve"), "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := page.Items[0].Title; !strings.HasPrefix(got, "Deux lignes éé") || len([]rune(got)) != notify.MaxTitle {
		t.Errorf("title %q (%d characters)", got, len([]rune(got)))
	}
}

func TestListKeysetOpenAndMarkAll(t *testing.T) {
	e := newEnv(t)
	ps := e.persons(2, "Eleve", false)
	me, other := ps[0], ps[1]
	start := e.clock.Now()
	for i := range 25 {
		// Events two at a time share a millisecond: the keyset must not lose one.
		e.clock.Set(start.Add(time.Duration(i/2) * time.Minute))
		e.post(notify.Event{Kind: notify.KindPublication, Recipients: []string{me}, Title: fmt.Sprintf("Actualité %02d", i), Link: fmt.Sprintf("/actualites/%d", i)})
	}
	e.post(notify.Event{Kind: notify.KindPublication, Recipients: []string{other}, Title: "Pas pour moi", Link: "/actualites/x"})
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		p, err := e.svc.List(e.ctx, who(me, "Eleve"), cursor, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range p.Items {
			seen = append(seen, n.Title)
			if n.Read || n.Label != "notify.kind.actualites.publication" {
				t.Errorf("%+v", n)
			}
		}
		if p.Next == "" {
			if pages != 2 {
				t.Errorf("%d pages, want 3", pages+1)
			}
			break
		}
		cursor = p.Next
	}
	if len(seen) != 25 {
		t.Fatalf("%d notifications listed, want 25: %v", len(seen), seen)
	}
	sorted := append([]string(nil), seen...)
	sort.Sort(sort.Reverse(sort.StringSlice(sorted)))
	// Within one millisecond the order is the event id's; across, newest first.
	for i := 0; i+2 < len(seen); i += 2 {
		if seen[i][:12] < seen[i+2][:12] {
			t.Errorf("not newest first: %v", seen)
			break
		}
	}
	if _, err := e.svc.List(e.ctx, who(me, "Eleve"), "n'importe quoi", 10); err == nil {
		t.Error("a bad cursor was accepted")
	}

	first, _ := e.svc.List(e.ctx, who(me, "Eleve"), "", 1)
	n, err := e.svc.Open(e.ctx, who(me, "Eleve"), first.Items[0].ID)
	if err != nil || n.Link != "/actualites/24" {
		t.Fatalf("open: %+v %v", n, err)
	}
	if got := e.unread(me); got != 24 {
		t.Errorf("%d unread after opening one, want 24", got)
	}
	if _, err := e.svc.Open(e.ctx, who(other, "Eleve"), first.Items[0].ID); !errors.Is(err, actor.ErrNotFound) {
		t.Errorf("another person opened my notification: %v", err)
	}
	if k, err := e.svc.MarkAllRead(e.ctx, who(me, "Eleve")); err != nil || k != 24 {
		t.Errorf("mark all: %d %v", k, err)
	}
	if e.unread(me) != 0 || e.unread(other) != 1 {
		t.Errorf("after mark all: me %d, other %d", e.unread(me), e.unread(other))
	}
}

// A conversation shows once while unread, whatever the number of lines.
func TestChatCollapsesWhileUnread(t *testing.T) {
	e := newEnv(t)
	ps := e.persons(2, "Eleve", false)
	me := who(ps[0], "Eleve")
	for i := range 3 {
		e.post(notify.Event{Kind: notify.KindChat, Recipients: ps[:1], ActorID: ps[1], Title: fmt.Sprint("Ligne ", i), Link: "/chat/c1"})
	}
	e.post(notify.Event{Kind: notify.KindChat, Recipients: ps[:1], ActorID: ps[1], Title: "Autre conversation", Link: "/chat/c2"})
	e.post(notify.Event{Kind: notify.KindMessage, Recipients: ps[:1], ActorID: ps[1], Title: "Même lien, autre sorte", Link: "/chat/c1"})
	if got := e.unread(ps[0]); got != 3 {
		t.Fatalf("%d unread, want 3 (one per conversation, and the message)", got)
	}
	p, _ := e.svc.List(e.ctx, me, "", 10)
	for _, n := range p.Items {
		if n.Link == "/chat/c1" && n.Kind == notify.KindChat {
			if n.Title != "Ligne 0" {
				t.Errorf("the conversation shows %q, want its first line", n.Title)
			}
			if _, err := e.svc.Open(e.ctx, me, n.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Read: the next line notifies again.
	e.post(notify.Event{Kind: notify.KindChat, Recipients: ps[:1], ActorID: ps[1], Title: "Ligne 3", Link: "/chat/c1"})
	if got := e.unread(ps[0]); got != 3 {
		t.Errorf("%d unread after reading and a new line, want 3", got)
	}
}

func TestUnreadCountIsCapped(t *testing.T) {
	e := newEnv(t)
	ps := e.persons(1, "Eleve", false)
	for i := range notify.MaxUnread + 5 {
		e.post(notify.Event{Kind: notify.KindPublication, Recipients: ps, Title: fmt.Sprint(i), Link: "/actualites"})
	}
	if got := e.unread(ps[0]); got != notify.MaxUnread {
		t.Errorf("unread %d, want the cap %d", got, notify.MaxUnread)
	}
}

var eventLink = regexp.MustCompile(`https://ent\.example\.fr/notifications/([A-Za-z0-9]+)`)

func mailedEvents(body string) []string {
	var out []string
	for _, m := range eventLink.FindAllStringSubmatch(body, -1) {
		if m[1] != "preferences" {
			out = append(out, m[1])
		}
	}
	return out
}

func TestQuietHoursHoldImmediateMails(t *testing.T) {
	e := newEnv(t)
	teachers := e.persons(2, "Enseignant", true) // messages: e-mail at once by default
	noMail := e.persons(1, "Enseignant", false)
	me := teachers[0]
	e.clock.Set(at(24, 19, 30))
	e.post(notify.Event{Kind: notify.KindMessage, Recipients: []string{me}, Title: "Avant 20 h", Link: "/messagerie/1"})
	if r := e.deliver(); r.Mails != 1 || r.Events != 1 {
		t.Fatalf("before quiet hours: %+v", r)
	}
	e.clock.Set(at(24, 21, 0))
	e.post(notify.Event{Kind: notify.KindMessage, Recipients: append([]string{me}, noMail...), Title: "Conseil de classe", Link: "/messagerie/2"})
	e.clock.Set(at(24, 23, 30))
	e.post(notify.Event{Kind: notify.KindMessage, Recipients: []string{me, teachers[1]}, Title: "Réunion <parents> & profs", Link: "/messagerie/3"})
	e.clock.Set(at(25, 6, 59))
	if r := e.deliver(); r.Mails != 0 {
		t.Fatalf("mail sent during quiet hours: %+v", r)
	}
	// The second teacher reads theirs in the ENT before 7:00: no mail for it.
	p, _ := e.svc.List(e.ctx, who(teachers[1], "Enseignant"), "", 5)
	if _, err := e.svc.Open(e.ctx, who(teachers[1], "Enseignant"), p.Items[0].ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(at(25, 7, 0))
	if r := e.deliver(); r.Mails != 1 || r.Events != 2 {
		t.Fatalf("end of quiet hours: %+v, want one mail with two events", r)
	}
	if r := e.deliver(); r.Mails != 0 {
		t.Fatalf("second pass sent again: %+v", r)
	}
	mails := e.mails()
	if len(mails) != 2 {
		t.Fatalf("%d mails, want 2", len(mails))
	}
	m := mails[1]
	if m.To != me+"@example.fr" || !strings.Contains(m.Subject, "2 nouvelles notifications") {
		t.Errorf("mail to %s, subject %q", m.To, m.Subject)
	}
	for _, want := range []string{"Bonjour,", "Nouveau message — Conseil de classe", "Réunion <parents> & profs", "le 24/11/2026 à 21:00", "https://ent.example.fr/notifications/preferences"} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("mail body lacks %q:\n%s", want, m.Body)
		}
	}
	if got := len(mailedEvents(m.Body)); got != 2 {
		t.Errorf("%d event links in the mail, want 2", got)
	}
	if !strings.Contains(mails[0].Subject, "Nouveau message — Avant 20 h") {
		t.Errorf("single mail subject %q", mails[0].Subject)
	}
}

// Only activated accounts with an address get mail.
func TestOnlyActiveAccountsWithAnAddressGetMail(t *testing.T) {
	e := newEnv(t)
	ps := e.persons(3, "Enseignant", true)
	noAddress := e.persons(1, "Enseignant", false)
	if _, err := e.db.ExecContext(e.ctx, `UPDATE persons SET state = 'pending' WHERE id = $1`, ps[1]); err != nil {
		t.Fatal(err)
	}
	e.post(notify.Event{Kind: notify.KindMessage, Recipients: append(ps, noAddress...), Title: "Bienvenue", Link: "/"})
	// Blocked after the event was posted: the worker does not mail them either.
	if _, err := e.db.ExecContext(e.ctx, `UPDATE persons SET state = 'blocked' WHERE id = $1`, ps[2]); err != nil {
		t.Fatal(err)
	}
	e.deliver()
	mails := e.mails()
	if len(mails) != 1 || mails[0].To != ps[0]+"@example.fr" {
		t.Fatalf("mails: %+v", mails)
	}
	for _, id := range append(ps, noAddress...) {
		if e.unread(id) != 1 {
			t.Errorf("%s does not see the event in the ENT", id)
		}
	}
}

// A mail that cannot be sent (here the spool folder cannot be made) is tried again
// RetryAfter later, by any instance.
func TestFailedMailIsRetried(t *testing.T) {
	e := newEnv(t)
	ps := e.persons(1, "Enseignant", true)
	blocker := filepath.Join(t.TempDir(), "un-fichier")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	broken := notify.New(e.db, mail.NewSpool(filepath.Join(blocker, "spool"), "ne-pas-repondre@preau.test"), e.cat, notify.Config{Now: e.clock.Now})
	e.post(notify.Event{Kind: notify.KindMessage, Recipients: ps, Title: "Réessayé", Link: "/messagerie/1"})
	if r, err := broken.Deliver(e.ctx); err != nil || r.Failed != 1 || r.Mails != 0 {
		t.Fatalf("broken spool: %+v %v", r, err)
	}
	e.clock.Set(e.clock.Now().Add(14 * time.Minute))
	if r := e.deliver(); r.Mails != 0 {
		t.Fatalf("retried too early: %+v", r)
	}
	e.clock.Set(e.clock.Now().Add(time.Minute))
	if r := e.deliver(); r.Mails != 1 || r.Events != 1 {
		t.Fatalf("retry: %+v", r)
	}
}

// A person who chose English gets their mails in English.
func TestMailInThePersonsLanguage(t *testing.T) {
	e := newEnv(t)
	ps := e.persons(1, "Enseignant", true)
	if _, err := e.db.ExecContext(e.ctx, `UPDATE persons SET language = 'en' WHERE id = $1`, ps[0]); err != nil {
		t.Fatal(err)
	}
	e.post(notify.Event{Kind: notify.KindMessage, Recipients: ps, Title: "Class council", Link: "/messagerie/1"})
	e.deliver()
	m := e.mails()
	if len(m) != 1 || m[0].Subject != "Préau: New message — Class council" || !strings.Contains(m[0].Body, "Hello,") || !strings.Contains(m[0].Body, "on 24/11/2026 at 10:00") {
		t.Fatalf("%+v", m)
	}
}

func TestDigestGroupsTheDayAtTheChosenHour(t *testing.T) {
	e := newEnv(t)
	parents := e.persons(1, "Responsable", true) // parents: digest by default
	parent := who(parents[0], "Responsable")
	prefs, err := e.svc.Preferences(e.ctx, parent)
	if err != nil {
		t.Fatal(err)
	}
	if prefs.Channels[notify.KindMessage] != notify.Digest || prefs.Channels[notify.KindSecurity] != notify.Now || prefs.Settings != notify.DefaultSettings {
		t.Fatalf("parent defaults: %+v", prefs)
	}
	prefs.Settings.DigestHour = 17
	if err := e.svc.SavePreferences(e.ctx, parent, prefs); err != nil {
		t.Fatal(err)
	}
	for i, h := range []int{8, 12, 16} {
		e.clock.Set(at(24, h, 59))
		e.post(notify.Event{Kind: notify.KindMessage, Recipients: parents, Title: fmt.Sprintf("Message %d", i+1), Link: "/messagerie/x"})
	}
	e.clock.Set(at(24, 16, 59))
	if r := e.deliver(); r.Mails != 0 {
		t.Fatalf("digest sent before its hour: %+v", r)
	}
	e.clock.Set(at(24, 17, 10))
	e.post(notify.Event{Kind: notify.KindMessage, Recipients: parents, Title: "Après le résumé", Link: "/messagerie/y"})
	if r := e.deliver(); r.Mails != 1 || r.Events != 3 {
		t.Fatalf("digest: %+v, want one mail with three events", r)
	}
	m := e.mails()[0]
	if !strings.Contains(m.Subject, "résumé du jour (3)") {
		t.Errorf("subject %q", m.Subject)
	}
	for _, want := range []string{"Message 1", "Message 2", "Message 3"} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("digest lacks %q", want)
		}
	}
	if strings.Contains(m.Body, "Après le résumé") {
		t.Error("an event after the digest hour is in today's digest")
	}
	e.clock.Set(at(25, 17, 0))
	if r := e.deliver(); r.Mails != 1 || r.Events != 1 {
		t.Fatalf("next day's digest: %+v", r)
	}
}

func TestPreferencesRescheduleWaitingMails(t *testing.T) {
	e := newEnv(t)
	ps := e.persons(1, "Enseignant", true)
	me := who(ps[0], "Enseignant")
	e.clock.Set(at(24, 22, 0))
	e.post(notify.Event{Kind: notify.KindMessage, Recipients: ps, Title: "Tard", Link: "/messagerie/1"})
	e.post(notify.Event{Kind: notify.KindPublication, Recipients: ps, Title: "Dans l'ENT", Link: "/actualites/1"})
	prefs, _ := e.svc.Preferences(e.ctx, me)
	prefs.Settings.QuietStart, prefs.Settings.QuietEnd = 0, 0 // no quiet hours any more
	prefs.Channels[notify.KindPublication] = notify.Now       // future publications only
	if err := e.svc.SavePreferences(e.ctx, me, prefs); err != nil {
		t.Fatal(err)
	}
	if r := e.deliver(); r.Mails != 1 || r.Events != 1 {
		t.Fatalf("after turning quiet hours off: %+v", r)
	}
	prefs.Settings = notify.Settings{QuietStart: 25 * 60, QuietEnd: 0, DigestHour: 18}
	var inv *actor.InvalidError
	if err := e.svc.SavePreferences(e.ctx, me, prefs); !errors.As(err, &inv) || inv.Field != "quiet_start" {
		t.Errorf("bad hour accepted: %v", err)
	}
	prefs.Settings = notify.DefaultSettings
	prefs.Channels["inconnu"] = notify.Now
	if err := e.svc.SavePreferences(e.ctx, me, prefs); !errors.As(err, &inv) {
		t.Errorf("unknown kind accepted: %v", err)
	}
}

// Two instances deliver at once over one database: every event is mailed once.
func TestConcurrentWorkersMailEachEventOnce(t *testing.T) {
	e := newEnv(t)
	ps := e.persons(40, "Enseignant", true)
	e.clock.Set(at(24, 10, 0))
	var posted []string
	for i := range 5 {
		e.post(notify.Event{Kind: notify.KindMessage, Recipients: ps, Title: fmt.Sprintf("Événement %d", i), Link: "/messagerie/z"})
	}
	workers := []*notify.Service{e.svc, e.service(), e.service()}
	var wg sync.WaitGroup
	reports := make([]notify.Report, 6)
	errs := make([]error, 6)
	for i := range reports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reports[i], errs[i] = workers[i%len(workers)].Deliver(e.ctx)
		}()
	}
	wg.Wait()
	total := 0
	for i, r := range reports {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		total += r.Events
	}
	if total != 5*40 {
		t.Errorf("%d events mailed in all, want %d", total, 5*40)
	}
	seen := map[string]bool{}
	for _, m := range e.mails() {
		for _, ev := range mailedEvents(m.Body) {
			key := m.To + " " + ev
			if seen[key] {
				t.Errorf("event %s mailed twice to %s", ev, m.To)
			}
			seen[key] = true
			posted = append(posted, key)
		}
	}
	if len(posted) != 5*40 {
		t.Errorf("%d (person, event) pairs in the mails, want %d", len(posted), 5*40)
	}
}

func TestPurgeDeletesOldEvents(t *testing.T) {
	e := newEnv(t)
	ps := e.persons(3, "Eleve", false)
	e.clock.Set(at(2, 9, 0).AddDate(-1, 0, 0))
	e.post(notify.Event{Kind: notify.KindPublication, Recipients: ps, Title: "Ancienne", Link: "/actualites/old"})
	e.clock.Set(at(20, 9, 0))
	e.post(notify.Event{Kind: notify.KindPublication, Recipients: ps, Title: "Récente", Link: "/actualites/new"})
	n, err := e.svc.Purge(e.ctx)
	if err != nil || n != 1 {
		t.Fatalf("purge: %d %v, want 1", n, err)
	}
	var rows int
	e.db.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM notify_inbox`).Scan(&rows)
	if rows != 3 {
		t.Errorf("%d rows left, want the recent event's 3", rows)
	}
	p, _ := e.svc.List(e.ctx, who(ps[0], "Eleve"), "", 10)
	if len(p.Items) != 1 || p.Items[0].Title != "Récente" {
		t.Errorf("after purge: %+v", p.Items)
	}
}

func TestQuietHoursAndDigestTimes(t *testing.T) {
	st := notify.DefaultSettings
	for _, c := range []struct {
		t     time.Time
		quiet bool
	}{
		{at(24, 19, 59), false}, {at(24, 20, 0), true}, {at(24, 23, 59), true}, {at(25, 0, 0), true}, {at(25, 6, 59), true}, {at(25, 7, 0), false},
	} {
		if got := st.Quiet(c.t, paris); got != c.quiet {
			t.Errorf("%s: quiet %v", c.t, got)
		}
	}
	day := notify.Settings{QuietStart: 12 * 60, QuietEnd: 14 * 60}
	if !day.Quiet(at(24, 13, 0), paris) || day.Quiet(at(24, 14, 0), paris) {
		t.Error("quiet hours within a day")
	}
	if (notify.Settings{QuietStart: 600, QuietEnd: 600}).Quiet(at(24, 10, 0), paris) {
		t.Error("equal start and end must mean no quiet hours")
	}
	if m, ok := notify.ParseClock("07:30"); !ok || m != 450 || notify.Clock(m) != "07:30" {
		t.Error("clock parsing")
	}
	for _, bad := range []string{"", "24:00", "7h", "12:60"} {
		if _, ok := notify.ParseClock(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}
