package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/web/browsertest"
)

// TestBrowserCSVImport uploads a CSV file with mistakes in a real Chromium as the
// school's local administrator, reads the preview and its errors, fixes the file,
// previews it again and imports it.
func TestBrowserCSVImport(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	b := browsertest.New(t)
	base := browsertest.HostURL(k.URL, "0690001a.localhost")
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	wrong := write("eleves.csv", "identifiant;profil;nom;prenom;date_naissance;classes;enfants\n"+
		"E001;eleve;Lefèvre;Noé;31/02/2015;5B;\n"+
		"R001;responsable;Lefèvre;Anne;;;E001\n"+
		"E002;eleve;Garnier;;01/09/2014;5B;\n")
	fixed := write("eleves-corrige.csv", "identifiant;profil;nom;prenom;date_naissance;classes;enfants\n"+
		"E001;eleve;Lefèvre;Noé;28/02/2015;5B;\n"+
		"R001;responsable;Lefèvre;Anne;;;E001\n"+
		"E002;eleve;Garnier;Inès;01/09/2014;5B;\n")

	head := b.NewIncognito()
	head.Navigate(base + "/connexion")
	head.Fill("#f-login", f.Head.Login)
	head.Fill("#f-password", apptest.Password)
	head.Submit("form[action='/connexion']")

	page := "/admin/structures/" + f.College.ID + "/import-csv"
	head.Navigate(base + page)
	if head.Status() != 200 || !strings.Contains(head.Text("main"), "date_naissance") {
		t.Fatalf("page d'import : %d %s", head.Status(), head.Text("main"))
	}
	head.CheckA11y(t)
	head.Screenshot("admin-csv")

	head.Upload("#f-fichier", wrong)
	head.Submit("#csv-preview")
	problems := head.Text("#csv-problems")
	for _, want := range []string{"2 erreurs", "31/02/2015", "Le prénom est obligatoire"} {
		if !strings.Contains(problems, want) {
			t.Errorf("l'aperçu devrait signaler %q : %s", want, problems)
		}
	}
	if head.Exists("#csv-import") {
		t.Error("un fichier erroné ne doit pas pouvoir être importé")
	}
	head.CheckA11y(t)
	head.Screenshot("admin-csv-erreurs")

	head.Upload("#f-fichier", fixed)
	head.Submit("#csv-preview")
	if head.Exists("#csv-problems") || !strings.Contains(head.Text("main"), "3 personnes à créer") {
		t.Fatalf("aperçu du fichier corrigé : %s", head.Text("main"))
	}
	head.CheckA11y(t)
	head.Screenshot("admin-csv-apercu")
	head.Submit("#csv-import")
	if !strings.Contains(head.Text(".flash"), "Import terminé") {
		t.Fatalf("pas de confirmation : %s", head.Text("main"))
	}
	p, err := k.App.Services.Directory.PersonByLogin(k.Ctx, "ines.garnier")
	if err != nil || p.FirstName != "Inès" {
		t.Fatalf("Inès après l'import : %+v %v", p, err)
	}
}
