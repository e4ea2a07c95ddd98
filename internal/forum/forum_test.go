package forum_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/forum"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/rights"
)

func as(p directory.Person) actor.Actor {
	return actor.Actor{PersonID: p.ID, Login: p.Login, Profile: p.Profile}
}

func TestForum(t *testing.T) {
	k := apptest.New(t)
	f, svc, ctx := k.School, k.App.Services.Forum, k.Ctx
	if _, err := svc.CreateCategory(ctx, as(f.Pupil), f.College.ID, "Entraide", ""); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("a pupil created a category: %v", err)
	}
	c, err := svc.CreateCategory(ctx, as(f.Teacher), f.College.ID, "Entraide en maths", "Posez vos questions")
	if err != nil {
		t.Fatal(err)
	}
	// The class's pupils read and reply; the parent is not in the shares.
	if err := svc.Share(ctx, as(f.Pupil), c.ID, rights.Grantee{Kind: "group", ID: f.Class.ID}, rights.Read); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("a stranger shared: %v", err)
	}
	if err := svc.Share(ctx, as(f.Teacher), c.ID, rights.Grantee{Kind: "group", ID: f.Class.ID}, rights.Read); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.OpenSubject(ctx, as(f.Pupil), c.ID, "Exercice 4", "<p>Je bloque</p>"); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("a reader opened a subject: %v", err)
	}
	subj, err := svc.OpenSubject(ctx, as(f.Teacher), c.ID, "Exercice 4", `<p>Vos questions ici</p><script>alert(1)</script>`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Reply(ctx, as(f.Pupil), subj.ID, `<p onclick="x()">Comment factoriser ?</p>`); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := svc.Subject(ctx, as(f.Parent), subj.ID); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("someone outside the shares read a subject: %v", err)
	}
	_, _, msgs, err := svc.Subject(ctx, as(f.Classmate), subj.ID)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("messages: %v %d", err, len(msgs))
	}
	for _, m := range msgs {
		if b := string(m.Body); strings.Contains(b, "script") || strings.Contains(b, "onclick") {
			t.Fatalf("not sanitized: %s", b)
		}
	}

	// Lock and pin: managers only; a locked subject takes no reply but the managers'.
	if err := svc.SetFlags(ctx, as(f.Pupil), subj.ID, true, true); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("a reader locked: %v", err)
	}
	other, err := svc.OpenSubject(ctx, as(f.Teacher), c.ID, "Annonces", "<p>Rien</p>")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SetFlags(ctx, as(f.Teacher), subj.ID, true, true); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Reply(ctx, as(f.Pupil), subj.ID, "<p>encore</p>"); err == nil {
		t.Fatal("a reader replied in a locked subject")
	}
	if _, err := svc.Reply(ctx, as(f.Teacher), subj.ID, "<p>Sujet clos.</p>"); err != nil {
		t.Fatalf("the manager cannot reply in a locked subject: %v", err)
	}
	_, list, err := svc.Subjects(ctx, as(f.Pupil), c.ID)
	if err != nil || len(list) != 2 || list[0].ID != subj.ID || !list[0].Pinned || list[1].ID != other.ID {
		t.Fatalf("subjects: %v %+v", err, list)
	}

	// Report: a classmate reports the pupil's message; the teacher (no moderator) sees
	// no queue; the college's administrator removes it; audited.
	pupilMsg := msgs[1].ID
	if err := svc.Report(ctx, as(f.Parent), pupilMsg, "x"); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("someone outside the shares reported: %v", err)
	}
	if err := svc.Report(ctx, as(f.Classmate), pupilMsg, "Moquerie"); err != nil {
		t.Fatal(err)
	}
	if r, err := svc.Reports(ctx, as(f.Teacher)); err != nil || len(r) != 0 {
		t.Fatalf("a teacher's queue: %v %d", err, len(r))
	}
	reports, err := svc.Reports(ctx, as(f.Head))
	if err != nil || len(reports) != 1 || reports[0].Reason != "Moquerie" || reports[0].SubjectID != subj.ID || !strings.Contains(reports[0].Excerpt, "factoriser") {
		t.Fatalf("the head's queue: %v %+v", err, reports)
	}
	if err := svc.Resolve(ctx, as(f.Teacher), reports[0].ID, true, ""); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("a teacher resolved: %v", err)
	}
	if err := svc.RemoveMessage(ctx, as(f.Classmate), pupilMsg, ""); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("a reader removed a message: %v", err)
	}
	if err := svc.Resolve(ctx, as(f.Head), reports[0].ID, true, "hors sujet"); err != nil {
		t.Fatal(err)
	}
	if r, _ := svc.Reports(ctx, as(f.Head)); len(r) != 0 {
		t.Fatalf("queue after removal: %+v", r)
	}
	_, _, msgs, _ = svc.Subject(ctx, as(f.Pupil), subj.ID)
	if len(msgs) != 2 || slices.ContainsFunc(msgs, func(m forum.Message) bool { return m.ID == pupilMsg }) {
		t.Fatalf("after removal: %+v", msgs)
	}
	entries, err := k.App.Services.Audit.Search(ctx, audit.Filter{Action: "forum", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(entries, func(e audit.Entry) bool {
		return e.Action == "forum.moderation.remove" && e.ActorID == f.Head.ID && e.Details["note"] == "hors sujet"
	}) {
		t.Fatal("the removal is not audited")
	}
	cats, err := svc.Categories(ctx, as(f.Pupil))
	if err != nil || len(cats) != 1 || cats[0].Level != rights.Read {
		t.Fatalf("the pupil's categories: %v %+v", err, cats)
	}
}

// Those who posted in a subject, and those who follow it, are told of a new message
// (never its author); one who stops following is not; nor one who no longer reads.
func TestForumFollowersNotified(t *testing.T) {
	k := apptest.New(t)
	f, svc, ctx := k.School, k.App.Services.Forum, k.Ctx
	var told [][]string
	svc.Notify = func(_ context.Context, to []string, actorID, title, link, structureID string) {
		if structureID != f.College.ID || !strings.HasPrefix(link, "/forums/sujets/") || title != "Exercice 4" {
			t.Errorf("notification: %s %s %s", structureID, link, title)
		}
		if slices.Contains(to, actorID) {
			t.Errorf("the author is told of their own message")
		}
		told = append(told, slices.Sorted(slices.Values(to)))
	}
	last := func() []string {
		t.Helper()
		if len(told) == 0 {
			return nil
		}
		return told[len(told)-1]
	}
	sorted := func(ids ...string) []string { return slices.Sorted(slices.Values(ids)) }
	c, err := svc.CreateCategory(ctx, as(f.Teacher), f.College.ID, "Entraide", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Share(ctx, as(f.Teacher), c.ID, rights.Grantee{Kind: "group", ID: f.Class.ID}, rights.Read); err != nil {
		t.Fatal(err)
	}
	subj, err := svc.OpenSubject(ctx, as(f.Teacher), c.ID, "Exercice 4", "<p>Vos questions</p>")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := svc.Following(ctx, as(f.Teacher), subj.ID); !ok {
		t.Fatal("the subject's author does not follow it")
	}
	if _, err := svc.Reply(ctx, as(f.Pupil), subj.ID, "<p>Je bloque</p>"); err != nil {
		t.Fatal(err)
	}
	if got := last(); !slices.Equal(got, []string{f.Teacher.ID}) {
		t.Fatalf("told of the pupil's reply: %v", got)
	}
	if err := svc.Follow(ctx, as(f.Parent), subj.ID, true); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("someone who does not read the subject follows it: %v", err)
	}
	if err := svc.Follow(ctx, as(f.Classmate), subj.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Reply(ctx, as(f.Teacher), subj.ID, "<p>Factorisez.</p>"); err != nil {
		t.Fatal(err)
	}
	if got := last(); !slices.Equal(got, sorted(f.Pupil.ID, f.Classmate.ID)) {
		t.Fatalf("told of the teacher's reply: %v", got)
	}
	if err := svc.Follow(ctx, as(f.Pupil), subj.ID, false); err != nil {
		t.Fatal(err)
	}
	if ok, _ := svc.Following(ctx, as(f.Pupil), subj.ID); ok {
		t.Fatal("the pupil still follows")
	}
	if _, err := svc.Reply(ctx, as(f.Teacher), subj.ID, "<p>Et développez.</p>"); err != nil {
		t.Fatal(err)
	}
	if got := last(); !slices.Equal(got, []string{f.Classmate.ID}) {
		t.Fatalf("after the pupil stopped following: %v", got)
	}
	// The class loses the category: its pupils are told nothing more.
	if err := svc.Share(ctx, as(f.Teacher), c.ID, rights.Grantee{Kind: "group", ID: f.Class.ID}, rights.None); err != nil {
		t.Fatal(err)
	}
	n := len(told)
	if _, err := svc.Reply(ctx, as(f.Teacher), subj.ID, "<p>Fin.</p>"); err != nil {
		t.Fatal(err)
	}
	if len(told) != n {
		t.Fatalf("told after losing the category: %v", last())
	}
}
