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

	// A class created from the structure's page.
	head.Navigate(base + "/admin/structures/" + f.College.ID)
	head.Fill("#f-group_kind", "class")
	head.Fill("#f-group_name", "3e B")
	head.Submit("form[action='/admin/structures/" + f.College.ID + "/groupes']")
	classID := strings.TrimPrefix(head.Location(), base+"/admin/groupes/")
	if head.Status() != 200 || classID == head.Location() || !strings.Contains(head.Text("main"), "3e B") {
		t.Fatalf("class not created: %d %s %s", head.Status(), head.Location(), head.Text("main"))
	}
	head.CheckA11y(t)
	head.Screenshot("admin-classe-creee")

	// A person created in that class through the form, with a mistake first.
	look(head, "/admin/personnes/nouvelle?structure="+f.College.ID, "admin-personne-nouvelle")
	head.Fill("#f-first_name", "  ") // passes the browser's check, not the server's
	head.Fill("#f-last_name", "Moreau")
	head.Fill("#f-class", classID)
	head.Submit("form[action='/admin/personnes']")
	if head.Status() != 400 || !strings.Contains(head.Text(".alert"), "prénom est obligatoire") {
		t.Fatalf("no error for a missing first name: %d %s", head.Status(), head.Text("main"))
	}
	head.CheckA11y(t)
	head.Screenshot("admin-personne-erreur")
	head.Fill("#f-first_name", "Jules")
	head.Submit("form[action='/admin/personnes']")
	code, newLogin := head.Text(".code-box"), head.Text("code.login")
	if len(code) != 8 || newLogin != "jules.moreau" {
		t.Fatalf("no activation code or login: %q %q", code, newLogin)
	}
	head.CheckA11y(t)
	head.Screenshot("admin-code-activation")
	look(head, "/admin/groupes/"+classID, "admin-classe-avec-eleve", "Jules MOREAU")

	// The new pupil activates the account with the code handed out, then logs in.
	pupil := b.NewIncognito()
	pupil.Navigate(base + "/activation")
	pupil.Fill("#f-login", newLogin)
	pupil.Fill("#f-code", code)
	pupil.Fill("#f-password", "Marelle-du-preau-3B")
	pupil.Fill("#f-confirm", "Marelle-du-preau-3B")
	pupil.Submit("form[action='/activation']")
	if !strings.Contains(pupil.Location(), "/connexion") {
		t.Fatalf("activation did not lead to login: %s %s", pupil.Location(), pupil.Text("main"))
	}
	pupil.CheckA11y(t)
	pupil.Screenshot("activation-reussie")
	pupil.Fill("#f-login", newLogin)
	pupil.Fill("#f-password", "Marelle-du-preau-3B")
	pupil.Submit("form[action='/connexion']")
	if text := pupil.Text("main"); !strings.Contains(text, "Bonjour Jules") || !strings.Contains(text, "3e B") {
		t.Fatalf("new pupil's dashboard: %s", text)
	}
	pupil.Screenshot("nouvel-eleve-tableau-de-bord")

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

	// The school type in the structure form: a wrong pair of kind and type is refused
	// and shown on the field; a right one is saved and shown in the lead.
	look(admin, "/admin/structures/"+f.College.ID, "admin-structure-super", "Type d'établissement")
	form := "form[action='/admin/structures/" + f.College.ID + "']"
	admin.Fill("#f-kind", "ecole")
	admin.Fill("#f-type", "college")
	admin.Submit(form)
	if admin.Status() != 400 || !strings.Contains(admin.Text("#e-type"), "Une école a le type") {
		t.Fatalf("no type error: %d %s", admin.Status(), admin.Text("main"))
	}
	admin.CheckA11y(t)
	admin.Screenshot("admin-structure-type-erreur")
	admin.Fill("#f-kind", "etablissement")
	admin.Fill("#f-type", "lycee_pro")
	admin.Submit(form)
	if lead := admin.Text("p.lead"); !strings.Contains(lead, "Lycée professionnel") {
		t.Fatalf("type not saved: %s", lead)
	}
	admin.CheckA11y(t)
	admin.Screenshot("admin-structure-type")
	look(admin, "/admin", "admin-super-creation-structure", "Type d'établissement")
}
