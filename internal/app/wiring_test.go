package app_test

import (
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/messaging"
	"github.com/preau-ent/preau/internal/notify"
	"github.com/preau-ent/preau/internal/platform/actor"
)

func as(p directory.Person) actor.Actor {
	return actor.Actor{PersonID: p.ID, Login: p.Login, Profile: p.Profile}
}

// A message sent in the messagerie reaches the recipient's notification centre, with
// the message's subject and a link to it, and not the sender's.
func TestMessagePostsNotification(t *testing.T) {
	k := apptest.New(t)
	s := k.App.Services
	teacher, parent := k.School.Teacher, k.School.Parent
	id, err := s.Messaging.SaveDraft(k.Ctx, as(teacher), messaging.Draft{
		To:      []messaging.Recipient{{Kind: messaging.KindPerson, ID: parent.ID}},
		Subject: "Sortie au musée", Body: "Bonjour, la sortie a lieu jeudi."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Messaging.Send(k.Ctx, as(teacher), id); err != nil {
		t.Fatal(err)
	}
	k.App.SettleNotifications() // posted in the background, after the send
	n, err := s.Notify.UnreadCount(k.Ctx, parent.ID)
	if err != nil || n != 1 {
		t.Fatalf("parent's unread notifications: %d, %v", n, err)
	}
	page, err := s.Notify.List(k.Ctx, as(parent), "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].Title != "Sortie au musée" || page.Items[0].Kind != notify.KindMessage ||
		!strings.HasPrefix(page.Items[0].Link, "/messagerie/") {
		t.Fatalf("notifications: %+v", page.Items)
	}
	if n, _ := s.Notify.UnreadCount(k.Ctx, teacher.ID); n != 0 {
		t.Fatalf("the sender has %d notifications", n)
	}
}
