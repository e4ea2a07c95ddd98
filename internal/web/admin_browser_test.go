package web_test

import (
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/web/browsertest"
)

// TestBrowserAdmin walks through the console in a real Chromium as the local and the
// super administrator, checks every page with axe-core and keeps screenshots.
func TestBrowserAdmin(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	b := browsertest.New(t)
	base := browsertest.HostURL(k.URL, "0690001a.localhost")

	login := func(tab *browsertest.Tab, who string) {
		tab.Navigate(base + "/connexion")
		tab.Fill("#f-login", who)
		tab.Fill("#f-password", apptest.Password)
		tab.Submit("form[action='/connexion']")
	}
	look := func(tab *browsertest.Tab, path, shot string, want ...string) {
		t.Helper()
		tab.Navigate(base + path)
		if tab.Status() != 200 {
			t.Fatalf("%s: status %d", path, tab.Status())
		}
		text := tab.Text("main")
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s lacks %q", path, w)
			}
		}
		tab.CheckA11y(t)
		tab.Screenshot(shot)
	}

	head := b.NewIncognito()
	login(head, f.Head.Login)
	look(head, "/admin", "admin-vue-ensemble", "Collège Jean Moulin")
	look(head, "/admin/structures/"+f.College.ID, "admin-structure", "Classes et groupes", "Personnes", "Rôles")
	look(head, "/admin/groupes/"+f.Class.ID, "admin-classe", "Enseignants", "Léa MARTIN")
	look(head, "/admin/personnes/"+f.Pupil.ID, "admin-eleve", "Léa MARTIN", "Sophie MARTIN")
	look(head, "/admin/structures/"+f.College.ID+"/communication", "admin-communication", "Règles")
	look(head, "/admin/structures/"+f.College.ID+"/portail", "admin-portail-local")
	look(head, "/admin/structures/"+f.College.ID+"/applications", "admin-applications", "Annuaire")
	look(head, "/admin/journal", "admin-journal", "Consultation de la fiche")

	// A person created through the form, with a mistake first.
	look(head, "/admin/personnes/nouvelle?structure="+f.College.ID, "admin-personne-nouvelle")
	head.Fill("#f-first_name", "  ") // passes the browser's check, not the server's
	head.Fill("#f-last_name", "Moreau")
	head.Fill("#f-class", f.Class.ID)
	head.Submit("form[action='/admin/personnes']")
	if head.Status() != 400 || !strings.Contains(head.Text(".alert"), "prénom est obligatoire") {
		t.Fatalf("no error for a missing first name: %d %s", head.Status(), head.Text("main"))
	}
	head.CheckA11y(t)
	head.Screenshot("admin-personne-erreur")
	head.Fill("#f-first_name", "Jules")
	head.Submit("form[action='/admin/personnes']")
	if code := head.Text(".code-box"); len(code) != 8 {
		t.Fatalf("no activation code: %q", code)
	}
	head.CheckA11y(t)
	head.Screenshot("admin-code-activation")

	admin := b.NewIncognito()
	login(admin, f.Admin.Login)
	look(admin, "/admin", "admin-super-vue-ensemble", "Lycée Marie Curie", "Créer une structure")
	look(admin, "/admin/structures/"+f.College.ID+"/portail", "admin-portail-creation", "Créer le portail")
	admin.Fill("#f-color_primary", "#ffee00")
	admin.Submit("form[action='/admin/structures/" + f.College.ID + "/portail']")
	if !strings.Contains(admin.Text(".alert"), "trop claire") {
		t.Fatalf("no contrast error: %s", admin.Text("main"))
	}
	admin.CheckA11y(t)
	admin.Screenshot("admin-portail-contraste")
	look(admin, "/admin/courriels", "admin-courriels")
	look(admin, "/admin/structures/"+f.College.ID+"/communication?autre="+f.Lycee.ID, "admin-communication-inter")
}
