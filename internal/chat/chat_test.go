package chat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/chat"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/rights"
)

func as(p directory.Person) actor.Actor {
	return actor.Actor{PersonID: p.ID, Login: p.Login, Profile: p.Profile}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func memberIDs(t *testing.T, k *apptest.Kit, p directory.Person, convID string) []string {
	t.Helper()
	ms, err := k.App.Services.Chat.Members(k.Ctx, as(p), convID)
	must(t, err)
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	slices.Sort(out)
	return out
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// A pupil cannot chat with a pupil of another school, neither one to one nor by
// naming them or their groups in a group conversation; classmates can.
func TestCommunicationRules(t *testing.T) {
	k := apptest.New(t)
	c, f := k.App.Services.Chat, k.School
	if _, err := c.Create(k.Ctx, as(f.Pupil), chat.NewConversation{PersonIDs: []string{f.OtherPupil.ID}}); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("élève d'un autre établissement : %v", err)
	}
	if _, err := c.Create(k.Ctx, as(f.Pupil), chat.NewConversation{Title: "Mélange", PersonIDs: []string{f.Classmate.ID, f.OtherPupil.ID}}); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("groupe avec un élève d'un autre établissement : %v", err)
	}
	lyceeGroups, err := k.App.Services.Directory.Groups(k.Ctx, f.Lycee.ID)
	must(t, err)
	for _, g := range lyceeGroups {
		if _, err := c.Create(k.Ctx, as(f.Pupil), chat.NewConversation{Title: "Lycée", GroupIDs: []string{g.ID}}); !errors.Is(err, actor.ErrForbidden) {
			t.Fatalf("groupe %s du lycée : %v", g.Name, err)
		}
	}
	conv, err := c.Create(k.Ctx, as(f.Pupil), chat.NewConversation{PersonIDs: []string{f.Classmate.ID}})
	must(t, err)
	if conv.Kind != chat.Direct || conv.Name != f.Classmate.DisplayName() {
		t.Fatalf("conversation : %+v", conv)
	}
	again, err := c.Create(k.Ctx, as(f.Classmate), chat.NewConversation{PersonIDs: []string{f.Pupil.ID}})
	must(t, err)
	if again.ID != conv.ID {
		t.Fatal("une seconde conversation à deux entre les mêmes personnes")
	}
	// Nobody else reads it or writes in it.
	if _, err := c.Send(k.Ctx, as(f.OtherPupil), conv.ID, "coucou"); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("envoi par un non-membre : %v", err)
	}
	if _, err := c.Create(k.Ctx, as(f.Pupil), chat.NewConversation{}); err == nil {
		t.Fatal("conversation sans personne")
	}
	if _, err := c.Create(k.Ctx, as(f.Pupil), chat.NewConversation{PersonIDs: []string{f.Classmate.ID, f.Teacher.ID}}); err == nil {
		t.Fatal("conversation de groupe sans titre")
	}
}

// A teacher makes "4e A — Mathématiques" from the class: its pupils and its teachers
// (not the pupils of another school, not the class's parents, whom the rules let the
// teacher reach only through the structure).
func TestGroupConversationFromClass(t *testing.T) {
	k := apptest.New(t)
	c, f := k.App.Services.Chat, k.School
	second := k.Person("Anne", "Leroy", directory.Enseignant, f.College.ID)
	must(t, k.App.Services.Directory.SetTeaching(k.Ctx, k.Sys, second.ID, f.Class.ID, ""))
	pick, err := c.Pickable(k.Ctx, as(f.Teacher))
	must(t, err)
	if !slices.ContainsFunc(pick, func(g chat.GroupRef) bool { return g.ID == f.Class.ID }) {
		t.Fatalf("la classe n'est pas proposée à son enseignant : %+v", pick)
	}
	if slices.ContainsFunc(pick, func(g chat.GroupRef) bool { return strings.Contains(g.Name, f.Lycee.Name) }) {
		t.Fatalf("un groupe du lycée est proposé : %+v", pick)
	}
	conv, err := c.Create(k.Ctx, as(f.Teacher), chat.NewConversation{Title: "4e A — Mathématiques", GroupIDs: []string{f.Class.ID}})
	must(t, err)
	if conv.Kind != chat.Group || conv.Members != 4 {
		t.Fatalf("conversation : %+v", conv)
	}
	want := sorted(f.Teacher.ID, second.ID, f.Pupil.ID, f.Classmate.ID)
	if got := memberIDs(t, k, f.Teacher, conv.ID); !slices.Equal(got, want) {
		t.Fatalf("membres %v, attendu %v", got, want)
	}
	// Every member sees it; the other school's pupil does not.
	if got := memberIDs(t, k, f.Pupil, conv.ID); !slices.Equal(got, want) {
		t.Fatalf("vu par l'élève : %v", got)
	}
	if _, err := c.Members(k.Ctx, as(f.OtherPupil), conv.ID); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("vu par un autre : %v", err)
	}
	// The creator adds the parent; a member who did not create it cannot add anyone.
	n, err := c.AddMembers(k.Ctx, as(f.Teacher), conv.ID, []string{f.Parent.ID}, nil)
	must(t, err)
	if n != 1 {
		t.Fatalf("%d ajout(s)", n)
	}
	if n, err := c.AddMembers(k.Ctx, as(f.Teacher), conv.ID, []string{f.Parent.ID, f.Pupil.ID}, nil); err != nil || n != 0 {
		t.Fatalf("ajout de membres déjà là : %d %v", n, err)
	}
	if _, err := c.AddMembers(k.Ctx, as(f.Pupil), conv.ID, []string{f.Parent.ID}, nil); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("ajout par un élève : %v", err)
	}
	if _, err := c.AddMembers(k.Ctx, as(f.Teacher), conv.ID, []string{f.OtherPupil.ID}, nil); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("ajout d'un élève du lycée : %v", err)
	}
	// A pupil's group conversation over the class brings classmates and teachers.
	pc, err := c.Create(k.Ctx, as(f.Pupil), chat.NewConversation{Title: "Exposé", GroupIDs: []string{f.Class.ID}})
	must(t, err)
	if got := memberIDs(t, k, f.Pupil, pc.ID); !slices.Equal(got, want) {
		t.Fatalf("conversation de l'élève : %v", got)
	}
	must(t, c.Leave(k.Ctx, as(f.Classmate), pc.ID))
	if _, err := c.Conversation(k.Ctx, as(f.Classmate), pc.ID); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("après départ : %v", err)
	}
}

func TestHistoryUnreadAndSearch(t *testing.T) {
	k := apptest.New(t)
	c, f := k.App.Services.Chat, k.School
	conv, err := c.Create(k.Ctx, as(f.Pupil), chat.NewConversation{PersonIDs: []string{f.Classmate.ID}})
	must(t, err)
	var sent []chat.Message
	for i := 0; i < 120; i++ {
		m, err := c.Send(k.Ctx, as(f.Pupil), conv.ID, fmt.Sprintf("message %d", i))
		must(t, err)
		sent = append(sent, m)
	}
	// Keyset pages, newest page first, each oldest first.
	page, err := c.Messages(k.Ctx, as(f.Classmate), conv.ID, 0, 50)
	must(t, err)
	if len(page) != 50 || page[0].Body != "message 70" || page[49].Body != "message 119" {
		t.Fatalf("première page : %d, %q … %q", len(page), page[0].Body, page[len(page)-1].Body)
	}
	page, err = c.Messages(k.Ctx, as(f.Classmate), conv.ID, page[0].ID, 50)
	must(t, err)
	if len(page) != 50 || page[0].Body != "message 20" || page[49].Body != "message 69" {
		t.Fatalf("deuxième page : %q … %q", page[0].Body, page[len(page)-1].Body)
	}
	page, err = c.Messages(k.Ctx, as(f.Classmate), conv.ID, page[0].ID, 50)
	must(t, err)
	if len(page) != 20 || page[0].Body != "message 0" {
		t.Fatalf("dernière page : %d", len(page))
	}
	// Unread: the recipient has 120, the sender none.
	list, err := c.Conversations(k.Ctx, as(f.Classmate), 0)
	must(t, err)
	if len(list) != 1 || list[0].Unread != 120 || list[0].Name != f.Pupil.DisplayName() {
		t.Fatalf("liste : %+v", list)
	}
	if n, _ := c.Unread(k.Ctx, as(f.Pupil)); n != 0 {
		t.Fatalf("l'expéditeur a %d non lus", n)
	}
	must(t, c.MarkRead(k.Ctx, as(f.Classmate), conv.ID, sent[99].ID))
	if n, _ := c.Unread(k.Ctx, as(f.Classmate)); n != 20 {
		t.Fatalf("%d non lus après lecture partielle", n)
	}
	must(t, c.MarkRead(k.Ctx, as(f.Classmate), conv.ID, 0))
	if n, _ := c.Unread(k.Ctx, as(f.Classmate)); n != 0 {
		t.Fatalf("%d non lus après lecture", n)
	}
	// Validation.
	if _, err := c.Send(k.Ctx, as(f.Pupil), conv.ID, "   "); err == nil {
		t.Fatal("message vide accepté")
	}
	if _, err := c.Send(k.Ctx, as(f.Pupil), conv.ID, strings.Repeat("a", chat.MaxBody+1)); err == nil {
		t.Fatal("message trop long accepté")
	}
	// Full-text search in one's own conversations only.
	_, err = c.Send(k.Ctx, as(f.Classmate), conv.ID, "Rendez-vous devant l'école demain pour la sortie au musée")
	must(t, err)
	other, err := c.Create(k.Ctx, as(f.Teacher), chat.NewConversation{PersonIDs: []string{f.Head.ID}})
	must(t, err)
	_, err = c.Send(k.Ctx, as(f.Teacher), other.ID, "La sortie au musée est confirmée")
	must(t, err)
	found, err := c.Search(k.Ctx, as(f.Pupil), "musée sortie", 10)
	must(t, err)
	if len(found) != 1 || found[0].ConversationID != conv.ID || found[0].ConversationName != f.Classmate.DisplayName() {
		t.Fatalf("recherche : %+v", found)
	}
	found, err = c.Search(k.Ctx, as(f.Head), "musée", 10)
	must(t, err)
	if len(found) != 1 || found[0].ConversationID != other.ID {
		t.Fatalf("recherche de la directrice : %+v", found)
	}
	found, err = c.Search(k.Ctx, as(f.OtherPupil), "musée", 10)
	must(t, err)
	if len(found) != 0 {
		t.Fatalf("recherche d'un non-membre : %+v", found)
	}
	// Query syntax is not interpreted.
	if _, err := c.Search(k.Ctx, as(f.Pupil), `"musée OR NEAR(* -`, 10); err != nil {
		t.Fatalf("recherche avec ponctuation : %v", err)
	}
}

// Reported messages reach the moderators and local administrators of the
// conversation's structure, who may remove them (audited); administrators do not
// read conversations otherwise.
func TestReportAndModeration(t *testing.T) {
	k := apptest.New(t)
	s, f := k.App.Services, k.School
	c := s.Chat
	conv, err := c.Create(k.Ctx, as(f.Pupil), chat.NewConversation{PersonIDs: []string{f.Classmate.ID}})
	must(t, err)
	bad, err := c.Send(k.Ctx, as(f.Pupil), conv.ID, "Un message insultant")
	must(t, err)
	fine, err := c.Send(k.Ctx, as(f.Pupil), conv.ID, "Un message correct")
	must(t, err)
	for _, admin := range []directory.Person{f.Head, f.Admin} {
		if _, err := c.Messages(k.Ctx, as(admin), conv.ID, 0, 50); !errors.Is(err, actor.ErrNotFound) {
			t.Fatalf("%s lit la conversation : %v", admin.Login, err)
		}
		if _, err := c.Conversation(k.Ctx, as(admin), conv.ID); !errors.Is(err, actor.ErrNotFound) {
			t.Fatalf("%s voit la conversation : %v", admin.Login, err)
		}
	}
	if err := c.ReportMessage(k.Ctx, as(f.OtherPupil), bad.ID, "?"); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("signalement par un non-membre : %v", err)
	}
	must(t, c.ReportMessage(k.Ctx, as(f.Classmate), bad.ID, "Il m'insulte"))
	must(t, c.ReportMessage(k.Ctx, as(f.Classmate), bad.ID, "Il m'insulte")) // twice: once
	// The head (local administrator) sees the reported message, and only it.
	reports, err := c.Reports(k.Ctx, as(f.Head))
	must(t, err)
	if len(reports) != 1 || reports[0].Message.ID != bad.ID || reports[0].Reports != 1 || reports[0].Reasons != "Il m'insulte" {
		t.Fatalf("signalements : %+v", reports)
	}
	if _, err := c.Reports(k.Ctx, as(f.Teacher)); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("un enseignant voit les signalements : %v", err)
	}
	if err := c.Moderate(k.Ctx, as(f.Teacher), bad.ID, chat.Removed); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("suppression par un enseignant : %v", err)
	}
	if err := c.Moderate(k.Ctx, as(f.Head), fine.ID, chat.Removed); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("suppression d'un message non signalé : %v", err)
	}
	// A moderator of the structure handles them too.
	must(t, s.Rights.Grant(k.Ctx, k.Sys, f.Teacher.ID, rights.Moderator, f.College.ID))
	reports, err = c.Reports(k.Ctx, as(f.Teacher))
	must(t, err)
	if len(reports) != 1 {
		t.Fatalf("signalements du modérateur : %+v", reports)
	}
	must(t, c.Moderate(k.Ctx, as(f.Teacher), bad.ID, chat.Removed))
	msgs, err := c.Messages(k.Ctx, as(f.Classmate), conv.ID, 0, 50)
	must(t, err)
	if !msgs[0].Removed || msgs[0].Body != "" || msgs[1].Removed {
		t.Fatalf("après suppression : %+v", msgs)
	}
	if found, _ := c.Search(k.Ctx, as(f.Classmate), "insultant", 10); len(found) != 0 {
		t.Fatalf("le message supprimé se trouve encore : %+v", found)
	}
	reports, err = c.Reports(k.Ctx, as(f.Head))
	must(t, err)
	if len(reports) != 0 {
		t.Fatalf("signalement encore ouvert : %+v", reports)
	}
	entries, err := s.Audit.Search(k.Ctx, audit.Filter{Action: "chat.message.removed"})
	must(t, err)
	if len(entries) != 1 || entries[0].ActorID != f.Teacher.ID || entries[0].StructureID != f.College.ID {
		t.Fatalf("journal : %+v", entries)
	}
}

// The hub delivers a message to the streams of the members connected to the
// instance, long messages included (read back from the database); presence follows
// the streams; members without a stream are notified.
func TestHubDeliveryPresenceAndNotify(t *testing.T) {
	k := apptest.New(t)
	s, f := k.App.Services, k.School
	c := s.Chat
	var mu sync.Mutex
	var notified [][]string
	c.Notify = func(_ context.Context, recipients []string, senderID, title, link string) {
		mu.Lock()
		notified = append(notified, recipients)
		mu.Unlock()
	}
	conv, err := c.Create(k.Ctx, as(f.Teacher), chat.NewConversation{Title: "4e A", GroupIDs: []string{f.Class.ID}})
	must(t, err)
	st, err := s.ChatHub.Connect(k.Ctx, f.Classmate.ID)
	must(t, err)
	defer s.ChatHub.Disconnect(st)
	ms, err := c.Members(k.Ctx, as(f.Teacher), conv.ID)
	must(t, err)
	for _, m := range ms {
		want := chat.Offline
		if m.ID == f.Classmate.ID {
			want = chat.Online
		}
		if m.Presence != want {
			t.Fatalf("présence de %s : %s", m.Name(), m.Presence)
		}
	}
	long := strings.Repeat("€", chat.MaxBody) // 12 000 bytes: more than a notification holds
	for _, body := range []string{"Bonjour la classe", long} {
		m, err := c.Send(k.Ctx, as(f.Teacher), conv.ID, body)
		must(t, err)
		ev := next(t, st, "message")
		var w chat.WireMessage
		must(t, json.Unmarshal(ev.Data, &w))
		if ev.ID != m.ID || w.Body != body || w.SenderName != f.Teacher.DisplayName() || w.ConversationID != conv.ID {
			t.Fatalf("événement : %d %+v", ev.ID, w)
		}
	}
	mu.Lock()
	if len(notified) != 2 || !slices.Equal(notified[0], sorted(f.Pupil.ID)) {
		t.Fatalf("notifiés : %v (élève %s)", notified, f.Pupil.ID)
	}
	mu.Unlock()
	// A person holds a bounded number of streams.
	var more []*chat.Stream
	for i := 1; i < chat.MaxStreamsPerson; i++ {
		st, err := s.ChatHub.Connect(k.Ctx, f.Classmate.ID)
		must(t, err)
		more = append(more, st)
	}
	if _, err := s.ChatHub.Connect(k.Ctx, f.Classmate.ID); !errors.Is(err, chat.ErrTooManyStreams) {
		t.Fatalf("flux de trop : %v", err)
	}
	if n := s.ChatHub.Connected(); n != chat.MaxStreamsPerson {
		t.Fatalf("%d flux", n)
	}
	for _, st := range more {
		s.ChatHub.Disconnect(st)
	}
	s.ChatHub.Disconnect(st)
	if n := s.ChatHub.Connected(); n != 0 {
		t.Fatalf("%d flux après fermeture", n)
	}
	ms, err = c.Members(k.Ctx, as(f.Teacher), conv.ID)
	must(t, err)
	for _, m := range ms {
		if m.ID == f.Classmate.ID && m.Presence != chat.Away {
			t.Fatalf("présence après déconnexion : %s", m.Presence)
		}
	}
}

func next(t *testing.T, st *chat.Stream, name string) chat.StreamEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-st.C:
			if ev.Name == name {
				return ev
			}
		case <-st.Lost():
			t.Fatal("flux perdu")
		case <-timeout:
			t.Fatalf("pas d'événement %s", name)
		}
	}
}
