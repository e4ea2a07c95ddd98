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
	"github.com/preau-ent/preau/internal/platform/audit"
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

// Editors rename, reorder and delete sections and questions; every change is audited;
// editing is delegated to persons and groups of the school only.
func TestFAQEditingInPlace(t *testing.T) {
	k := apptest.New(t)
	f, svc, ctx := k.School, k.App.Services.FAQ, k.Ctx
	college := f.College.ID
	head := as(f.Head)
	a, err := svc.AddCategory(ctx, head, college, "Cantine", 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.AddCategory(ctx, head, college, "Absences", 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, q := range []string{"Prix ?", "Menus ?", "Allergies ?"} {
		e, err := svc.SaveEntry(ctx, head, "", faq.EntryInput{CategoryID: a.ID, Question: q, Answer: "<p>Voir le secrétariat.</p>", Public: true})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	order := func() string {
		t.Helper()
		cats, _, err := svc.FAQ(ctx, head, college)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range cats {
			qs := []string{}
			for _, e := range c.Entries {
				qs = append(qs, e.Question)
			}
			out = append(out, c.Name+":"+strings.Join(qs, ","))
		}
		return strings.Join(out, " ")
	}
	if got := order(); got != "Cantine:Prix ?,Menus ?,Allergies ? Absences:" {
		t.Fatalf("order: %s", got)
	}
	if err := svc.MoveEntry(ctx, head, ids[2], true); err != nil {
		t.Fatal(err)
	}
	if err := svc.MoveEntry(ctx, head, ids[0], true); err != nil { // already first
		t.Fatal(err)
	}
	if err := svc.MoveCategory(ctx, head, b.ID, true); err != nil {
		t.Fatal(err)
	}
	if got := order(); got != "Absences: Cantine:Prix ?,Allergies ?,Menus ?" {
		t.Fatalf("order after moves: %s", got)
	}
	if _, err := svc.RenameCategory(ctx, head, b.ID, " "); err == nil {
		t.Fatal("an empty name was taken")
	}
	if _, err := svc.RenameCategory(ctx, head, b.ID, "Absences et retards"); err != nil {
		t.Fatal(err)
	}
	// Moving a question to another section puts it last there; the answer is sanitized.
	e, err := svc.SaveEntry(ctx, head, ids[1], faq.EntryInput{CategoryID: b.ID, Question: "Justifier une absence ?", Answer: `<p>Par le carnet.</p><img src=x onerror="alert(1)">`})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(e.Answer), "onerror") {
		t.Fatalf("answer not sanitized: %s", e.Answer)
	}
	if got := order(); got != "Absences et retards:Justifier une absence ? Cantine:Prix ?,Allergies ?" {
		t.Fatalf("order after the edit: %s", got)
	}
	for _, err := range []error{
		svc.MoveEntry(ctx, as(f.Teacher), ids[0], false),
		svc.MoveCategory(ctx, as(f.Parent), a.ID, false),
		svc.DeleteEntry(ctx, as(f.OtherPupil), ids[0]),
	} {
		if !errors.Is(err, actor.ErrForbidden) {
			t.Fatalf("someone who does not edit the FAQ changed it: %v", err)
		}
	}
	if _, err := svc.RenameCategory(ctx, as(f.Teacher), a.ID, "x"); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("a teacher renamed a section: %v", err)
	}
	if _, err := svc.EntryForEdit(ctx, as(f.Pupil), ids[0]); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("a pupil opened a question to edit it: %v", err)
	}
	if err := svc.DeleteEntry(ctx, head, ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteCategory(ctx, head, b.ID); err != nil {
		t.Fatal(err)
	}
	entries, err := k.App.Services.Audit.Search(ctx, audit.Filter{Action: "faq", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, e := range entries {
		seen[e.Action] = e.Details["question"] + e.Details["name"]
	}
	for action, detail := range map[string]string{"faq.entry.delete": "Prix ?", "faq.category.delete": "Absences et retards", "faq.category.update": "Absences et retards", "faq.entry.move": "", "faq.category.move": ""} {
		if got, ok := seen[action]; !ok || got != detail {
			t.Errorf("audit %s: %q (%v)", action, got, ok)
		}
	}

	// Delegation: a group or a person of the school, not of another.
	other, err := k.App.Services.Directory.CreateGroup(ctx, k.Sys, directory.GroupInput{StructureID: f.Lycee.ID, Kind: directory.GroupManual, Name: "Vie scolaire du lycée"})
	if err != nil {
		t.Fatal(err)
	}
	var inv *actor.InvalidError
	if err := svc.ShareEditing(ctx, head, college, rights.Grantee{Kind: "group", ID: other.ID}, rights.Contribute); !errors.As(err, &inv) {
		t.Fatalf("a group of another school: %v", err)
	}
	if err := svc.ShareEditing(ctx, head, college, rights.Grantee{Kind: "person", ID: f.OtherPupil.ID}, rights.Contribute); !errors.As(err, &inv) {
		t.Fatalf("a person of another school: %v", err)
	}
	if err := svc.ShareEditing(ctx, head, college, rights.Grantee{Kind: "group", ID: f.Class.ID}, rights.Contribute); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Editors(ctx, as(f.Teacher), college); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("a teacher listed the editors: %v", err)
	}
	eds, err := svc.Editors(ctx, head, college)
	if err != nil || len(eds) != 1 || eds[0].ID != f.Class.ID {
		t.Fatalf("editors: %v %+v", err, eds)
	}
	if err := svc.MoveEntry(ctx, as(f.Pupil), ids[2], true); err != nil {
		t.Fatalf("a pupil of the class the FAQ is shared with: %v", err)
	}
	if err := svc.ShareEditing(ctx, head, college, rights.Grantee{Kind: "group", ID: f.Class.ID}, rights.None); err != nil {
		t.Fatal(err)
	}
	if err := svc.MoveEntry(ctx, as(f.Pupil), ids[2], false); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("editing taken back, still edits: %v", err)
	}
}
