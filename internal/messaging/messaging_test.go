package messaging_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app"
	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/messaging"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
)

type env struct {
	*apptest.Kit
	m *messaging.Service
	f apptest.School
}

func setup(t *testing.T, opts ...func(*app.Options)) env {
	k := apptest.New(t, opts...)
	return env{Kit: k, m: k.App.Services.Messaging, f: k.School}
}

func as(p directory.Person) actor.Actor {
	return actor.Actor{PersonID: p.ID, Login: p.Login, Profile: p.Profile}
}

func (e env) must(err error) {
	e.T.Helper()
	if err != nil {
		e.T.Fatal(err)
	}
}

// classGroup returns the class profile group of the fixture's class for a profile.
func (e env) classGroup(profile string) messaging.Recipient {
	e.T.Helper()
	var id, name string
	e.must(e.App.DB.QueryRowContext(e.Ctx, `SELECT id, name FROM groups WHERE class_id=$1 AND profile=$2`, e.f.Class.ID, profile).Scan(&id, &name))
	return messaging.Recipient{Kind: messaging.KindGroup, ID: id, Name: name}
}

func person(p directory.Person) messaging.Recipient {
	return messaging.Recipient{Kind: messaging.KindPerson, ID: p.ID}
}

// send writes and sends a message.
func (e env) send(from directory.Person, d messaging.Draft) messaging.SendResult {
	e.T.Helper()
	id, err := e.m.SaveDraft(e.Ctx, as(from), d)
	e.must(err)
	res, err := e.m.Send(e.Ctx, as(from), id)
	e.must(err)
	return res
}

func invalid(t *testing.T, err error, key string) {
	t.Helper()
	var inv *actor.InvalidError
	if !errors.As(err, &inv) || inv.Message != key {
		t.Fatalf("want invalid %s, got %v", key, err)
	}
}

func hasGroup(rs []messaging.Recipient, name string) bool {
	for _, r := range rs {
		if r.Name == name {
			return true
		}
	}
	return false
}

func TestCommunicationRules(t *testing.T) {
	e := setup(t)
	f := e.f
	// A pupil writes to a classmate, not to a pupil of another school.
	_, err := e.m.SaveDraft(e.Ctx, as(f.Pupil), messaging.Draft{To: []messaging.Recipient{person(f.OtherPupil)}, Subject: "Salut"})
	invalid(t, err, "messagerie.error.recipient_forbidden")
	e.send(f.Pupil, messaging.Draft{To: []messaging.Recipient{person(f.Classmate)}, Subject: "Devoirs", Body: "Tu as noté l'exercice ?"})
	found, err := e.m.PersonChoices(e.Ctx, as(f.Pupil), "roux", 10)
	e.must(err)
	if len(found) != 0 {
		t.Fatalf("a pupil of another school is offered: %v", found)
	}

	// A parent is offered the groups of their child's class only: the class's
	// teachers, the school's staff and direction; not the pupils, not the parents.
	groups, err := e.m.GroupChoices(e.Ctx, as(f.Parent))
	e.must(err)
	if !hasGroup(groups, "Enseignants — 4e A") || hasGroup(groups, "Élèves — 4e A") || hasGroup(groups, "Responsables — 4e A") {
		t.Fatalf("parent's groups: %v", groups)
	}
	for _, g := range groups {
		if strings.Contains(g.Name, "Lycée") {
			t.Fatalf("parent offered a group of another school: %v", g)
		}
	}
	if found, _ := e.m.PersonChoices(e.Ctx, as(f.Parent), "durand", 10); len(found) != 1 {
		t.Fatalf("parent does not find the class's teacher: %v", found)
	}
	if found, _ := e.m.PersonChoices(e.Ctx, as(f.Parent), "petit", 10); len(found) != 0 {
		t.Fatalf("parent finds another child: %v", found)
	}
	_, err = e.m.SaveDraft(e.Ctx, as(f.Parent), messaging.Draft{To: []messaging.Recipient{e.classGroup(directory.Eleve)}})
	invalid(t, err, "messagerie.error.recipient_forbidden")

	// The teacher may write to the parents of the class as a group.
	groups, err = e.m.GroupChoices(e.Ctx, as(f.Teacher))
	e.must(err)
	if !hasGroup(groups, "Responsables — 4e A") || !hasGroup(groups, "Élèves — 4e A") {
		t.Fatalf("teacher's groups: %v", groups)
	}
}

func TestSendBccReadByDelete(t *testing.T) {
	e := setup(t)
	f := e.f
	parents := e.classGroup(directory.Responsable)
	res := e.send(f.Teacher, messaging.Draft{To: []messaging.Recipient{parents}, Bcc: []messaging.Recipient{person(f.Head)}, Subject: "Réunion parents-professeurs", Body: "Jeudi 18 h."})
	if res.Recipients != 2 {
		t.Fatalf("copies: %d, want 2 (the parent, the head in bcc)", res.Recipients)
	}
	n, err := e.m.Unread(e.Ctx, f.Parent.ID)
	e.must(err)
	if n != 1 {
		t.Fatalf("parent's unread: %d", n)
	}
	// The parent sees the group in the header, not the bcc.
	m, err := e.m.Message(e.Ctx, as(f.Parent), res.ID, true)
	e.must(err)
	if len(m.To) != 1 || m.To[0].Name != "Responsables — 4e A" || len(m.Bcc) != 0 {
		t.Fatalf("parent's header: to %v bcc %v", m.To, m.Bcc)
	}
	if n, _ := e.m.Unread(e.Ctx, f.Parent.ID); n != 0 {
		t.Fatalf("still unread after reading: %d", n)
	}
	// The bcc recipient sees themself only; the sender sees the whole bcc.
	hm, err := e.m.Message(e.Ctx, as(f.Head), res.ID, false)
	e.must(err)
	if len(hm.Bcc) != 1 || hm.Bcc[0].ID != f.Head.ID {
		t.Fatalf("head's bcc: %v", hm.Bcc)
	}
	tm, err := e.m.Message(e.Ctx, as(f.Teacher), res.ID, false)
	e.must(err)
	if len(tm.Bcc) != 1 || tm.Folder != messaging.Sent {
		t.Fatalf("sender's view: bcc %v folder %s", tm.Bcc, tm.Folder)
	}
	// Read by: one of two.
	read, readers, err := e.m.ReadBy(e.Ctx, as(f.Teacher), res.ID)
	e.must(err)
	if read != 1 || len(readers) != 2 || readers[0].PersonID != f.Parent.ID {
		t.Fatalf("read by: %d %v", read, readers)
	}
	if _, _, err := e.m.ReadBy(e.Ctx, as(f.Parent), res.ID); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("a recipient sees read-by: %v", err)
	}

	// The parent deletes their copy; the others keep theirs.
	e.must(e.m.Move(e.Ctx, as(f.Parent), []string{res.ID}, messaging.Trash))
	e.must(e.m.Restore(e.Ctx, as(f.Parent), []string{res.ID}))
	if m, _ := e.m.Message(e.Ctx, as(f.Parent), res.ID, false); m.Folder != messaging.Inbox {
		t.Fatalf("restored to %q", m.Folder)
	}
	e.must(e.m.Move(e.Ctx, as(f.Parent), []string{res.ID}, messaging.Trash))
	if n, err := e.m.EmptyTrash(e.Ctx, as(f.Parent)); err != nil || n != 1 {
		t.Fatalf("empty trash: %d %v", n, err)
	}
	if _, err := e.m.Message(e.Ctx, as(f.Parent), res.ID, false); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("deleted copy still readable: %v", err)
	}
	for _, p := range []directory.Person{f.Head, f.Teacher} {
		if _, err := e.m.Message(e.Ctx, as(p), res.ID, false); err != nil {
			t.Fatalf("%s lost their copy: %v", p.Login, err)
		}
	}
	// When the last copy goes, the message goes.
	e.must(e.m.Delete(e.Ctx, as(f.Head), []string{res.ID}))
	e.must(e.m.Delete(e.Ctx, as(f.Teacher), []string{res.ID}))
	var left int
	e.must(e.App.DB.QueryRowContext(e.Ctx, `SELECT COUNT(*) FROM mail_messages WHERE id=$1`, res.ID).Scan(&left))
	if left != 0 {
		t.Fatal("message not purged after its last copy was deleted")
	}
}

func TestNotifyAndSweep(t *testing.T) {
	e := setup(t)
	f := e.f
	var got []string
	var link string
	e.m.Notify = func(_ context.Context, recipients []string, senderID, subject, l string) {
		if senderID == f.Teacher.ID && subject == "Devoirs" {
			got, link = recipients, l
		}
	}
	res := e.send(f.Teacher, messaging.Draft{To: []messaging.Recipient{e.classGroup(directory.Eleve)}, Subject: "Devoirs"})
	if len(got) != 2 || link != "/messagerie/messages/"+res.ID {
		t.Fatalf("notified %v %q", got, link)
	}
	// A failed send notifies nobody.
	got = nil
	id, err := e.m.SaveDraft(e.Ctx, as(f.Teacher), messaging.Draft{Subject: "Devoirs"})
	e.must(err)
	if _, err := e.m.Send(e.Ctx, as(f.Teacher), id); err == nil || got != nil {
		t.Fatalf("send without recipients: %v, notified %v", err, got)
	}
	// A message whose copies are gone (a crash between two steps, say) is purged by
	// the sweep, its files with it.
	at, err := e.m.AddAttachment(e.Ctx, as(f.Teacher), id, "a.txt", "text/plain", strings.NewReader("fichier"))
	e.must(err)
	_, err = e.App.DB.ExecContext(e.Ctx, `DELETE FROM mail_copies WHERE message_id=$1`, at.MessageID)
	e.must(err)
	n, files, err := e.m.Sweep(e.Ctx)
	e.must(err)
	if n != 1 || files != 1 {
		t.Fatalf("sweep: %d messages, %d files", n, files)
	}
}

func TestQuota(t *testing.T) {
	e := setup(t, func(o *app.Options) { o.Mailbox.Quota = 4000 })
	f := e.f
	e.send(f.Teacher, messaging.Draft{To: []messaging.Recipient{person(f.Parent)}, Subject: "Un", Body: strings.Repeat("a", 2500)})
	id, err := e.m.SaveDraft(e.Ctx, as(f.Teacher), messaging.Draft{To: []messaging.Recipient{person(f.Parent)}, Subject: "Deux", Body: strings.Repeat("b", 2500)})
	e.must(err)
	_, err = e.m.Send(e.Ctx, as(f.Teacher), id)
	invalid(t, err, "messagerie.error.quota")
	if msg := e.App.Services.Catalog.For("fr").T("messagerie.error.quota"); !strings.Contains(msg, "quota de messagerie est atteint") {
		t.Fatalf("unclear message: %q", msg)
	}
	// The parent's received messages do not count against them.
	if u, _ := e.m.Usage(e.Ctx, f.Parent.ID); u != 0 {
		t.Fatalf("parent's usage %d", u)
	}
	// Deleting sent messages frees the quota.
	l, err := e.m.List(e.Ctx, as(f.Teacher), messaging.Sent, "", 10)
	e.must(err)
	e.must(e.m.Delete(e.Ctx, as(f.Teacher), []string{l.Items[0].ID}))
	if _, err := e.m.Send(e.Ctx, as(f.Teacher), id); err != nil {
		t.Fatalf("send after freeing the quota: %v", err)
	}
	// The parent still has the first message.
	if l, _ := e.m.List(e.Ctx, as(f.Parent), messaging.Inbox, "", 10); len(l.Items) != 2 {
		t.Fatalf("parent's inbox: %d", len(l.Items))
	}
}

func TestInterruptedSendMakesNothing(t *testing.T) {
	e := setup(t)
	f := e.f
	id, err := e.m.SaveDraft(e.Ctx, as(f.Teacher), messaging.Draft{To: []messaging.Recipient{e.classGroup(directory.Eleve), e.classGroup(directory.Responsable)}, Cc: []messaging.Recipient{person(f.Head)}, Subject: "Sortie"})
	e.must(err)
	messaging.SetAfterCopies(e.m, func(n int) error {
		if n == 2 {
			return errors.New("panne simulée")
		}
		return nil
	})
	if _, err := e.m.Send(e.Ctx, as(f.Teacher), id); err == nil || !strings.Contains(err.Error(), "panne") {
		t.Fatalf("send went through: %v", err)
	}
	var copies int
	e.must(e.App.DB.QueryRowContext(e.Ctx, `SELECT COUNT(*) FROM mail_copies WHERE message_id=$1 AND role <> 'sender'`, id).Scan(&copies))
	if copies != 0 {
		t.Fatalf("%d copies left by an interrupted send", copies)
	}
	if _, err := e.m.Draft(e.Ctx, as(f.Teacher), id); err != nil {
		t.Fatalf("draft lost: %v", err)
	}
	messaging.SetAfterCopies(e.m, nil)
	res, err := e.m.Send(e.Ctx, as(f.Teacher), id)
	e.must(err)
	if res.Recipients != 4 { // two pupils, one parent, the head
		t.Fatalf("copies: %d", res.Recipients)
	}
}

func TestRecallReplyForward(t *testing.T) {
	e := setup(t)
	f := e.f
	res := e.send(f.Teacher, messaging.Draft{To: []messaging.Recipient{person(f.Parent), person(f.Pupil)}, Subject: "Cahier", Body: "Oublié en classe."})
	_, err := e.m.Message(e.Ctx, as(f.Parent), res.ID, true)
	e.must(err)
	n, err := e.m.Recall(e.Ctx, as(f.Teacher), res.ID)
	e.must(err)
	if n != 1 {
		t.Fatalf("recalled %d, want 1 (the unread one)", n)
	}
	if _, err := e.m.Message(e.Ctx, as(f.Pupil), res.ID, false); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("recalled copy still there: %v", err)
	}
	if _, err := e.m.Recall(e.Ctx, as(f.Parent), res.ID); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("a recipient recalls: %v", err)
	}
	// The parent replies to all: the pupil is no longer a recipient, the teacher is.
	rid, err := e.m.Reply(e.Ctx, as(f.Parent), res.ID, true)
	e.must(err)
	d, err := e.m.Draft(e.Ctx, as(f.Parent), rid)
	e.must(err)
	if d.Subject != "Re : Cahier" || len(d.To) < 1 || d.To[0].ID != f.Teacher.ID || !strings.Contains(d.Body, "> Oublié en classe.") {
		t.Fatalf("reply draft: %+v", d)
	}
	e.must(func() error { _, err := e.m.Send(e.Ctx, as(f.Parent), rid); return err }())
	if l, _ := e.m.List(e.Ctx, as(f.Teacher), messaging.Inbox, "", 10); len(l.Items) != 1 || l.Items[0].Subject != "Re : Cahier" {
		t.Fatalf("teacher's inbox: %+v", l.Items)
	}
}

func TestAttachments(t *testing.T) {
	script := filepath.Join(t.TempDir(), "scan.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n! grep -q EICAR\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	e := setup(t, func(o *app.Options) {
		o.Mailbox.FileLimit, o.Mailbox.MessageLimit = 1000, 1500
		o.ScanCommand = script
	})
	f := e.f
	t1 := as(f.Teacher)
	id, err := e.m.SaveDraft(e.Ctx, t1, messaging.Draft{To: []messaging.Recipient{e.classGroup(directory.Responsable), person(f.Head)}, Subject: "Programme"})
	e.must(err)
	_, err = e.m.AddAttachment(e.Ctx, t1, id, "virus.txt", "text/plain", strings.NewReader("X5O!P%@AP EICAR-TEST"))
	invalid(t, err, "messagerie.error.infected")
	_, err = e.m.AddAttachment(e.Ctx, t1, id, "gros.bin", "application/octet-stream", strings.NewReader(strings.Repeat("x", 1001)))
	invalid(t, err, "messagerie.error.file_too_large")
	at, err := e.m.AddAttachment(e.Ctx, t1, id, `C:\Docs\programme.txt`, "text/plain; charset=utf-8", strings.NewReader(strings.Repeat("p", 900)))
	e.must(err)
	if at.Name != "programme.txt" || at.ContentType != "text/plain" {
		t.Fatalf("attachment: %+v", at)
	}
	_, err = e.m.AddAttachment(e.Ctx, t1, id, "deux.txt", "text/plain", strings.NewReader(strings.Repeat("q", 700)))
	invalid(t, err, "messagerie.error.message_too_large")
	res, err := e.m.Send(e.Ctx, t1, id)
	e.must(err)
	// One stored file however many recipients.
	var rows int
	e.must(e.App.DB.QueryRowContext(e.Ctx, `SELECT COUNT(*) FROM mail_attachments`).Scan(&rows))
	if rows != 1 {
		t.Fatalf("%d attachment rows", rows)
	}
	// The parent downloads it; the classmate and the super administrator cannot.
	_, r, err := e.m.OpenAttachment(e.Ctx, as(f.Parent), at.ID)
	e.must(err)
	b, _ := io.ReadAll(r)
	r.Close()
	if len(b) != 900 {
		t.Fatalf("downloaded %d bytes", len(b))
	}
	for _, p := range []directory.Person{f.Classmate, f.Admin} {
		if _, _, err := e.m.OpenAttachment(e.Ctx, as(p), at.ID); !errors.Is(err, actor.ErrNotFound) {
			t.Fatalf("%s downloads another's attachment: %v", p.Login, err)
		}
	}
	// A forward shares the file; it is deleted with the last message using it.
	fid, err := e.m.Forward(e.Ctx, as(f.Head), res.ID)
	e.must(err)
	fd, err := e.m.Draft(e.Ctx, as(f.Head), fid)
	e.must(err)
	if len(fd.Attachments) != 1 || fd.Subject != "Tr : Programme" {
		t.Fatalf("forward: %+v", fd)
	}
	for _, p := range []directory.Person{f.Teacher, f.Parent, f.Head} {
		e.must(e.m.Delete(e.Ctx, as(p), []string{res.ID}))
	}
	if _, r, err := e.m.OpenAttachment(e.Ctx, as(f.Head), fd.Attachments[0].ID); err != nil {
		t.Fatalf("forwarded file lost: %v", err)
	} else {
		r.Close()
	}
	e.must(e.m.DeleteDraft(e.Ctx, as(f.Head), fid))
	files := 0
	e.must(e.App.Services.Blobs.Walk(e.Ctx, func(string) error { files++; return nil }))
	if files != 0 {
		t.Fatalf("%d files left after every message is gone", files)
	}
}

func TestSearchFolders(t *testing.T) {
	e := setup(t)
	f := e.f
	e.send(f.Teacher, messaging.Draft{To: []messaging.Recipient{person(f.Parent)}, Subject: "Sortie au musée", Body: "Merci de signer l'autorisation."})
	e.send(f.Teacher, messaging.Draft{To: []messaging.Recipient{person(f.Parent)}, Subject: "Cantine", Body: "Menu de la semaine."})
	e.send(f.Head, messaging.Draft{To: []messaging.Recipient{person(f.Teacher)}, Subject: "Conseil de classe", Body: "Autorisation de sortie signée."})
	for _, c := range []struct {
		who  directory.Person
		q    string
		want int
	}{
		{f.Parent, "autorisation", 1}, {f.Parent, "AUTORIS", 1}, {f.Parent, "sortie musée", 1}, {f.Parent, "MUSEE", 1}, {f.Parent, "durand", 2},
		{f.Teacher, "autorisation", 2}, {f.Classmate, "autorisation", 0}, {f.Admin, "sortie", 0},
	} {
		got, err := e.m.Search(e.Ctx, as(c.who), c.q, 10)
		e.must(err)
		if len(got) != c.want {
			t.Errorf("%s searching %q: %d results, want %d", c.who.Login, c.q, len(got), c.want)
		}
	}

	p := as(f.Parent)
	fo, err := e.m.CreateFolder(e.Ctx, p, "École")
	e.must(err)
	_, err = e.m.CreateFolder(e.Ctx, p, "École")
	invalid(t, err, "messagerie.error.folder_exists")
	inbox, err := e.m.List(e.Ctx, p, messaging.Inbox, "", 1)
	e.must(err)
	if len(inbox.Items) != 1 || inbox.Next == "" {
		t.Fatalf("first page: %+v", inbox)
	}
	next, err := e.m.List(e.Ctx, p, messaging.Inbox, inbox.Next, 1)
	e.must(err)
	if len(next.Items) != 1 || next.Items[0].ID == inbox.Items[0].ID || next.Next != "" {
		t.Fatalf("second page: %+v", next)
	}
	e.must(e.m.Move(e.Ctx, p, []string{inbox.Items[0].ID}, fo.ID))
	folders, err := e.m.Folders(e.Ctx, p)
	e.must(err)
	if len(folders) != 5 || folders[4].Unread != 1 || folders[0].Unread != 1 {
		t.Fatalf("folders: %+v", folders)
	}
	e.must(e.m.RenameFolder(e.Ctx, p, fo.ID, "Collège"))
	if err := e.m.RenameFolder(e.Ctx, as(f.Teacher), fo.ID, "Volé"); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("renaming another's folder: %v", err)
	}
	if _, err := e.m.List(e.Ctx, as(f.Teacher), fo.ID, "", 10); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("listing another's folder: %v", err)
	}
	e.must(e.m.DeleteFolder(e.Ctx, p, fo.ID))
	if l, _ := e.m.List(e.Ctx, p, messaging.Inbox, "", 10); len(l.Items) != 2 {
		t.Fatalf("messages of a deleted folder not back in the inbox: %d", len(l.Items))
	}
}

func TestAdminCannotReadModeration(t *testing.T) {
	e := setup(t)
	f := e.f
	res := e.send(f.Teacher, messaging.Draft{To: []messaging.Recipient{person(f.Parent), person(f.Pupil)}, Subject: "Message déplacé", Body: "Contenu inapproprié."})
	// Neither the super administrator nor the local administrator reads it.
	for _, p := range []directory.Person{f.Admin, f.Head} {
		if _, err := e.m.Message(e.Ctx, as(p), res.ID, true); !errors.Is(err, actor.ErrNotFound) {
			t.Fatalf("%s reads another's message: %v", p.Login, err)
		}
		if _, err := e.m.ReportedMessage(e.Ctx, as(p), res.ID); !errors.Is(err, actor.ErrNotFound) {
			t.Fatalf("%s reads an unreported message through moderation: %v", p.Login, err)
		}
	}
	if _, err := e.m.Message(e.Ctx, actor.System("test"), res.ID, false); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("the operator reads a message: %v", err)
	}
	// The sender cannot report their own message; a pupil is no moderator.
	invalid(t, e.m.Report(e.Ctx, as(f.Teacher), res.ID, ""), "messagerie.error.report_own")
	if _, err := e.m.ModerationQueue(e.Ctx, as(f.Pupil)); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("pupil's queue: %v", err)
	}
	e.must(e.m.Report(e.Ctx, as(f.Parent), res.ID, "Propos déplacés"))
	q, err := e.m.ModerationQueue(e.Ctx, as(f.Head))
	e.must(err)
	if len(q) != 1 || q[0].MessageID != res.ID || q[0].Reasons[0] != "Propos déplacés" {
		t.Fatalf("queue: %+v", q)
	}
	m, err := e.m.ReportedMessage(e.Ctx, as(f.Head), res.ID)
	e.must(err)
	if m.Body != "Contenu inapproprié." {
		t.Fatalf("moderator's view: %+v", m)
	}
	n, err := e.m.Remove(e.Ctx, as(f.Head), res.ID)
	e.must(err)
	if n != 3 {
		t.Fatalf("removed %d copies", n)
	}
	for _, p := range []directory.Person{f.Teacher, f.Parent, f.Pupil} {
		if _, err := e.m.Message(e.Ctx, as(p), res.ID, false); !errors.Is(err, actor.ErrNotFound) {
			t.Fatalf("%s still has a removed message: %v", p.Login, err)
		}
	}
	entries, err := e.App.Services.Audit.Search(e.Ctx, audit.Filter{Action: "mail.moderation"})
	e.must(err)
	if len(entries) != 2 {
		t.Fatalf("moderation audit: %+v", entries)
	}
	if q, _ := e.m.ModerationQueue(e.Ctx, as(f.Head)); len(q) != 0 {
		t.Fatalf("queue after removal: %+v", q)
	}
}
