package faq_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/faq"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/rights"
)

func as(p directory.Person) actor.Actor {
	return actor.Actor{PersonID: p.ID, Login: p.Login, Profile: p.Profile}
}

func questions(t *testing.T, svc *faq.Service, a actor.Actor, structureID string) []string {
	t.Helper()
	cats, _, err := svc.FAQ(t.Context(), a, structureID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cats {
		for _, e := range c.Entries {
			out = append(out, e.Question)
		}
	}
	return out
}

func TestFAQRightsAndVisibility(t *testing.T) {
	k := apptest.New(t)
	f, svc, ctx := k.School, k.App.Services.FAQ, k.Ctx
	college := f.College.ID
	if _, err := svc.AddCategory(ctx, as(f.Teacher), college, "Cantine", 1); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("a teacher edited the FAQ: %v", err)
	}
	cat, err := svc.AddCategory(ctx, as(f.Head), college, "Cantine", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SaveEntry(ctx, as(f.Head), "", faq.EntryInput{CategoryID: cat.ID, Question: "Combien coûte un repas ?", Answer: "<p>3,50 €</p>", Public: true}); err != nil {
		t.Fatal(err)
	}
	internal, err := svc.SaveEntry(ctx, as(f.Head), "", faq.EntryInput{CategoryID: cat.ID, Question: "Qui contacter en cas d'allergie ?",
		Answer: `<p onmouseover="alert(1)">L'infirmière</p><script>alert(2)</script>`})
	if err != nil {
		t.Fatal(err)
	}
	if a := string(internal.Answer); strings.Contains(a, "script") || strings.Contains(a, "onmouseover") || !strings.Contains(a, "infirmière") {
		t.Fatalf("answer not sanitized: %s", a)
	}

	if q := questions(t, svc, as(f.Parent), college); len(q) != 2 {
		t.Fatalf("a parent of a pupil sees %v", q)
	}
	if q := questions(t, svc, as(f.OtherPupil), college); len(q) != 1 || q[0] != "Combien coûte un repas ?" {
		t.Fatalf("a pupil of another school sees %v", q)
	}
	if q := questions(t, svc, actor.Actor{}, college); len(q) != 1 {
		t.Fatalf("anonymous sees %v", q)
	}

	// Shared with the teacher: they edit.
	if err := svc.ShareEditing(ctx, as(f.Teacher), college, rights.Grantee{Kind: "person", ID: f.Teacher.ID}, rights.Contribute); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("a teacher shared the FAQ: %v", err)
	}
	if err := svc.ShareEditing(ctx, as(f.Head), college, rights.Grantee{Kind: "person", ID: f.Teacher.ID}, rights.Contribute); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SaveEntry(ctx, as(f.Teacher), internal.ID, faq.EntryInput{CategoryID: cat.ID, Question: "Allergies", Answer: "<p>Voir l'infirmière.</p>"}); err != nil {
		t.Fatalf("a shared editor cannot edit: %v", err)
	}
	if err := svc.DeleteEntry(ctx, as(f.Pupil), internal.ID); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("a pupil deleted an entry: %v", err)
	}
	if _, err := svc.AddCategory(ctx, as(f.Teacher), f.Lycee.ID, "x", 0); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("an editor of one school edited another's: %v", err)
	}
	if err := svc.DeleteCategory(ctx, as(f.Teacher), cat.ID); err != nil {
		t.Fatal(err)
	}
	if q := questions(t, svc, as(f.Parent), college); len(q) != 0 {
		t.Fatalf("entries left after deleting the category: %v", q)
	}
}

// The public site links the FAQ when it has a public question, and is told of every
// change.
func TestFAQPublicSite(t *testing.T) {
	k := apptest.New(t)
	f, svc, ctx := k.School, k.App.Services.FAQ, k.Ctx
	var changed []string
	svc.SiteChanged = func(_ context.Context, sid string) { changed = append(changed, sid) }
	has := func() bool {
		t.Helper()
		ok, err := svc.HasPublic(ctx, f.College.ID)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	cat, err := svc.AddCategory(ctx, as(f.Head), f.College.ID, "Cantine", 0)
	if err != nil {
		t.Fatal(err)
	}
	e, err := svc.SaveEntry(ctx, as(f.Head), "", faq.EntryInput{CategoryID: cat.ID, Question: "Prix ?", Answer: "<p>3 €</p>"})
	if err != nil {
		t.Fatal(err)
	}
	if has() {
		t.Fatal("an internal question makes the FAQ public")
	}
	if _, err := svc.SaveEntry(ctx, as(f.Head), e.ID, faq.EntryInput{CategoryID: cat.ID, Question: "Prix ?", Answer: "<p>3 €</p>", Public: true}); err != nil {
		t.Fatal(err)
	}
	if !has() {
		t.Fatal("a public question is not seen")
	}
	if ok, _ := svc.HasPublic(ctx, f.Lycee.ID); ok {
		t.Fatal("another school's FAQ is public")
	}
	if len(changed) != 3 || changed[0] != f.College.ID {
		t.Fatalf("site told of %v", changed)
	}
	if _, err := svc.AddCategory(ctx, as(f.Teacher), f.College.ID, "x", 0); err == nil || len(changed) != 3 {
		t.Fatalf("a refused change told the site: %v %v", err, changed)
	}
}
