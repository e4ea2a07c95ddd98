package csvfeed_test

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/csvfeed"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
)

const good = `identifiant;profil;nom;prenom;date_naissance;email;classes;enfants;fonction
E001;eleve;Lefèvre;Noé;14/03/2015;;CM1;;
E002;élève;Lefèvre;Zoé;02/09/2017;;CP;;
R001;responsable;Lefèvre;Anne;;anne.lefevre@example.org;;E001|E002;
P001;enseignant;Durand;Paul;;;CM1|CP;;
D001;personnel;Bernard;Claire;;;;;dir
`

func problems(p *csvfeed.Preview) string {
	var out []string
	for _, x := range p.Problems {
		out = append(out, x.Key+"@"+string(rune('0'+x.Line)))
	}
	return strings.Join(out, " ")
}

func TestPreviewListsEveryProblemWithItsLineAndWritesNothing(t *testing.T) {
	k := apptest.New(t)
	feed := k.App.Services.CSV
	admin := actor.Actor{PersonID: k.School.Head.ID, Login: k.School.Head.Login}
	bad := `identifiant,profil,nom,prenom,date_naissance,classes,enfants
E001,eleve,Lefèvre,Noé,31/02/2015,CM1,
E001,eleve,Roux,,01/01/2015,CM1,
X1,directeur,Roux,Léo,,,
R001,responsable,Lefèvre,Anne,,,E001|E999
P001,enseignant,Durand,Paul,,CM1,E001
`
	p, err := feed.Preview(k.Ctx, admin, k.School.College.ID, []byte(bad))
	if err != nil {
		t.Fatal(err)
	}
	want := "csvfeed.bad_date@2 csvfeed.duplicate_id@3 csvfeed.first_required@3 csvfeed.bad_profile@4 csvfeed.children_for_responsables@6 csvfeed.unknown_child@5"
	if got := problems(p); got != want {
		t.Errorf("erreurs :\n%s\nattendu :\n%s", got, want)
	}
	before := count(t, k, `SELECT COUNT(*) FROM persons`)
	if _, err := feed.Import(k.Ctx, admin, k.School.College.ID, []byte(bad)); !errors.Is(err, csvfeed.ErrProblems) {
		t.Fatalf("import d'un fichier erroné : %v", err)
	}
	if after := count(t, k, `SELECT COUNT(*) FROM persons`); after != before {
		t.Errorf("%d personnes écrites", after-before)
	}
	for _, c := range []struct{ name, data string }{
		{"colonne inconnue", "identifiant;profil;nom;prenom;classe\nE1;eleve;A;B;CM1\n"},
		{"colonne manquante", "identifiant;profil;nom\nE1;eleve;A\n"},
		{"vide", ""},
		{"colonnes en trop", "identifiant;profil;nom;prenom\nE1;eleve;A;B;C\n"},
	} {
		p, err := feed.Preview(k.Ctx, admin, k.School.College.ID, []byte(c.data))
		if err != nil || len(p.Problems) == 0 {
			t.Errorf("%s : aucune erreur (%v)", c.name, err)
		}
	}
}

func TestImportCreatesThenUpdatesAndKeepsAccounts(t *testing.T) {
	k := apptest.New(t)
	s := k.App.Services
	college := k.School.College.ID
	admin := actor.Actor{PersonID: k.School.Head.ID, Login: k.School.Head.Login}
	// A spreadsheet's Windows-1252 file is read as such.
	latin, err := charmap.Windows1252.NewEncoder().String(good)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.CSV.Preview(k.Ctx, admin, college, []byte(latin))
	if err != nil || len(p.Problems) != 0 || p.Created != 5 || p.ClassesCreated != 2 {
		t.Fatalf("aperçu : %v %+v", err, p)
	}
	if _, err := s.CSV.Import(k.Ctx, admin, college, []byte(latin)); err != nil {
		t.Fatal(err)
	}
	noe, err := s.Directory.PersonByExternalID(k.Ctx, csvfeed.ExternalID(college, "E001"))
	if err != nil || noe.FirstName != "Noé" || noe.Login != "noe.lefevre" || noe.BirthDate != "2015-03-14" {
		t.Fatalf("élève : %+v %v", noe, err)
	}
	if err := s.Accounts.SetPassword(k.Ctx, k.Sys, noe.ID, apptest.Password); err != nil {
		t.Fatal(err)
	}
	anne, _ := s.Directory.PersonByExternalID(k.Ctx, csvfeed.ExternalID(college, "R001"))
	if n := count(t, k, `SELECT COUNT(*) FROM person_links WHERE parent_id = $1`, anne.ID); n != 2 {
		t.Errorf("liens : %d", n)
	}
	if n := count(t, k, `SELECT COUNT(*) FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.person_id = $1 AND g.kind = 'class_profile' AND g.profile = 'Responsable'`, anne.ID); n != 2 {
		t.Errorf("groupes de parents : %d", n)
	}
	if n := count(t, k, `SELECT COUNT(*) FROM person_functions f JOIN persons p ON p.id = f.person_id WHERE p.external_id = $1 AND f.code = 'DIR'`, csvfeed.ExternalID(college, "D001")); n != 1 {
		t.Errorf("fonction : %d", n)
	}
	// The same identifiers again, Noé moved to CP and renamed: an update, same account.
	next := strings.Replace(good, "E001;eleve;Lefèvre;Noé;14/03/2015;;CM1;;", "E001;eleve;Lefèvre-Roux;Noé;14/03/2015;;CP;;", 1)
	p, err = s.CSV.Preview(k.Ctx, admin, college, []byte(next))
	if err != nil || p.Updated != 1 || p.Unchanged != 4 || p.Created != 0 {
		t.Fatalf("aperçu de la mise à jour : %v %+v", err, p)
	}
	if got := strings.Join(p.Changes[0].Fields, ","); got != "nom,classes" {
		t.Errorf("champs modifiés : %s", got)
	}
	if _, err := s.CSV.Import(k.Ctx, admin, college, []byte(next)); err != nil {
		t.Fatal(err)
	}
	after, _ := s.Directory.PersonByExternalID(k.Ctx, csvfeed.ExternalID(college, "E001"))
	if after.ID != noe.ID || after.Login != noe.Login || after.LastName != "Lefèvre-Roux" || after.State != directory.StateActive {
		t.Errorf("après : %+v", after)
	}
	if got := strs(t, k, `SELECT g.code FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.person_id = $1 AND m.source = 'direct'`, noe.ID); got != "CP" {
		t.Errorf("classe : %s", got)
	}
	if n := count(t, k, `SELECT COUNT(*) FROM audit_log WHERE action = 'csv.import' AND success`); n != 2 {
		t.Errorf("audit : %d", n)
	}
}

func TestOnlyTheStructuresAdministratorsImport(t *testing.T) {
	k := apptest.New(t)
	s := k.App.Services
	head := actor.Actor{PersonID: k.School.Head.ID, Login: k.School.Head.Login}
	// The collège's head does not administer the lycée; a teacher administers nothing.
	if _, err := s.CSV.Preview(k.Ctx, head, k.School.Lycee.ID, []byte(good)); !errors.Is(err, actor.ErrForbidden) {
		t.Errorf("aperçu pour un autre établissement : %v", err)
	}
	teacher := actor.Actor{PersonID: k.School.Teacher.ID, Login: k.School.Teacher.Login}
	if _, err := s.CSV.Import(k.Ctx, teacher, k.School.College.ID, []byte(good)); !errors.Is(err, actor.ErrForbidden) {
		t.Errorf("import par un enseignant : %v", err)
	}
}

func count(t *testing.T, k *apptest.Kit, q string, args ...any) int {
	t.Helper()
	var n int
	if err := k.App.DB.QueryRowContext(k.Ctx, q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func strs(t *testing.T, k *apptest.Kit, q string, args ...any) string {
	t.Helper()
	out, err := db.Strings(k.Ctx, k.App.DB, q, args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, ",")
}
