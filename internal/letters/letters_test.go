package letters_test

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/letters"
	"github.com/preau-ent/preau/internal/platform/actor"
)

func TestLettersCarryCodesThatActivateTheAccounts(t *testing.T) {
	k := apptest.New(t)
	s := k.App.Services
	f := k.School
	head := actor.Actor{PersonID: f.Head.ID, Login: f.Head.Login}
	// A new pupil and her two responsables, not activated yet, in the fixture's class
	// (whose other pupils and parent already use their accounts).
	newPerson := func(first, last, profile string) directory.Person {
		p, err := s.Directory.CreatePerson(k.Ctx, k.Sys, directory.PersonInput{FirstName: first, LastName: last, Profile: profile, StructureIDs: []string{f.College.ID}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	chloe := newPerson("Chloé", "Lefèvre", directory.Eleve)
	mother := newPerson("Anne", "Lefèvre", directory.Responsable)
	father := newPerson("Łukasz", "Nowak", directory.Responsable)
	must(t, s.Directory.AddMember(k.Ctx, k.Sys, f.Class.ID, chloe.ID))
	must(t, s.Directory.LinkParent(k.Ctx, k.Sys, mother.ID, chloe.ID))
	must(t, s.Directory.LinkParent(k.Ctx, k.Sys, father.ID, chloe.ID))

	list, err := s.Letters.Prepare(k.Ctx, head, f.College.ID, "", letters.ForBoth)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range list {
		got = append(got, l.Profile+":"+l.Name+":"+l.ClassName+":"+strings.Join(l.Children, "+"))
	}
	want := "Eleve:Chloé LEFÈVRE:4e A:,Responsable:Anne LEFÈVRE:4e A:Chloé LEFÈVRE,Responsable:Łukasz NOWAK:4e A:Chloé LEFÈVRE"
	if strings.Join(got, ",") != want {
		t.Fatalf("lettres :\n%s\nattendu :\n%s", strings.Join(got, ","), want)
	}
	// The printed code is the account's: it activates it.
	if err := s.Accounts.Activate(k.Ctx, list[0].Login, list[0].Code, "Trousse-Bleue-2026", "192.0.2.7"); err != nil {
		t.Fatalf("activation avec le code de la lettre : %v", err)
	}
	if p, _ := s.Directory.Person(k.Ctx, chloe.ID); p.State != directory.StateActive {
		t.Errorf("état après activation : %s", p.State)
	}
	// Printing again leaves activated accounts alone.
	again, err := s.Letters.Prepare(k.Ctx, head, f.College.ID, f.Class.ID, letters.ForPupils)
	if err != nil || len(again) != 0 {
		t.Errorf("deuxième impression : %v %+v", err, again)
	}

	var pdf bytes.Buffer
	if err := letters.Render(&pdf, list, letters.Page{Deployment: "Préau", School: "Collège Jean Moulin", PortalURL: "https://0690001a.ent.example",
		ValidUntil: time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)}, false); err != nil {
		t.Fatal(err)
	}
	out := pdf.Bytes()
	if !bytes.HasPrefix(out, []byte("%PDF-")) {
		t.Fatal("pas un PDF")
	}
	if n := len(regexp.MustCompile(`/Type /Page\b[^s]`).FindAll(out, -1)); n != 3 {
		t.Errorf("%d pages, attendu 3", n)
	}
	// French text in the fonts' encoding (Windows-1252): "élève", "Première", the
	// code; a letter outside it loses its accent rather than print as garbage.
	for _, want := range []string{"\xe9l\xe8ve de 4e A", "Premi\xe8re connexion", list[1].Code, list[1].Login, "LEF\xc8VRE", "Lukasz NOWAK", "04/01/2027"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("le PDF ne contient pas %q", want)
		}
	}
}

func TestLettersNeedTheStructuresAdministrator(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	teacher := actor.Actor{PersonID: f.Teacher.ID, Login: f.Teacher.Login}
	if _, err := k.App.Services.Letters.Prepare(k.Ctx, teacher, f.College.ID, "", letters.ForBoth); !errors.Is(err, actor.ErrForbidden) {
		t.Errorf("lettres par un enseignant : %v", err)
	}
	head := actor.Actor{PersonID: f.Head.ID, Login: f.Head.Login}
	if _, err := k.App.Services.Letters.Prepare(k.Ctx, head, f.Lycee.ID, "", letters.ForBoth); !errors.Is(err, actor.ErrForbidden) {
		t.Errorf("lettres d'un autre établissement : %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
