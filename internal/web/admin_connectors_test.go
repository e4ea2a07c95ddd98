package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
)

// A local administrator adds a connected service for their school; it shows as a
// tile on the dashboards of the profiles chosen, and nowhere else.
func TestConnectorsConsoleAndTiles(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	head := k.As(f.Head)

	resp, body := head.Get("/admin/structures/" + f.College.ID + "/connecteurs")
	status(t, resp, body, 200)
	has(t, body, "Services connectés", "Aucun service connecté", `name="attributes" value="ENTPersonStructRattachRNE"`)
	hasNot(t, body, `name="structures"`) // a school's connector is for that school

	// Bad input: a clear French error, the form given back, nothing stored.
	form := url.Values{"structure": {f.College.ID}, "name": {"Pronote"}, "url": {"javascript:alert(1)"}, "protocol": {"cas"}, "icon": {"vie-scolaire"},
		"profiles": {"Eleve", "Enseignant"}, "attributes": {"uid", "ENTPersonStructRattachRNE"}, "single_logout": {"oui"}}
	resp, body = head.Post("/admin/connecteurs", form)
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "L'adresse doit être complète", `value="Pronote"`)
	form.Set("url", "http://pronote.example.org/")
	resp, body = head.Post("/admin/connecteurs", form)
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "doit être joint en https://")
	_, body = head.Get("/admin/structures/" + f.College.ID + "/connecteurs")
	has(t, body, "Aucun service connecté")

	form.Set("url", "https://pronote.example.org/")
	resp, body = head.Post("/admin/connecteurs", form)
	loc := redirected(t, resp, body, "/admin/connecteurs/")
	resp, body = head.Get(loc)
	status(t, resp, body, 200)
	has(t, body, "Le service est ajouté.", "<h1>Pronote</h1>", "/cas</code>", `value="ENTPersonStructRattachRNE" id="f-attributes-ENTPersonStructRattachRNE" checked`)

	// Not for the lycée, not for the deployment.
	form.Set("structure", f.Lycee.ID)
	resp, body = head.Post("/admin/connecteurs", form)
	status(t, resp, body, http.StatusForbidden)
	resp, body = head.Get("/admin/connecteurs")
	status(t, resp, body, http.StatusForbidden)
	resp, body = k.As(f.Teacher).Get(loc)
	status(t, resp, body, http.StatusForbidden)

	// The super administrator adds a deployment service for teachers of the lycée only.
	admin := k.As(f.Admin)
	resp, body = admin.Post("/admin/connecteurs", url.Values{"structure": {""}, "name": {"Ressources du lycée"}, "url": {"https://ressources.example.org/"},
		"protocol": {"lien"}, "icon": {"ressources"}, "structures": {f.Lycee.ID}})
	redirected(t, resp, body, "/admin/connecteurs/")
	_, body = admin.Get("/admin/connecteurs")
	has(t, body, "Ressources du lycée", "Tout le déploiement")

	_, body = k.As(f.Pupil).Get("/")
	has(t, body, `href="https://pronote.example.org/"`, "Pronote")
	hasNot(t, body, "Ressources du lycée")
	_, body = k.As(f.Parent).Get("/")
	hasNot(t, body, "Pronote") // profiles: pupils and teachers only
	_, body = k.As(f.OtherPupil).Get("/")
	has(t, body, "Ressources du lycée")
	hasNot(t, body, "Pronote")

	// Edit, then delete.
	form.Set("structure", f.College.ID)
	form.Set("name", "Pronote collège")
	resp, body = head.Post(loc, form)
	redirected(t, resp, body, loc)
	_, body = k.As(f.Teacher).Get("/")
	has(t, body, "Pronote collège")
	resp, body = head.Post(loc+"/supprimer", nil)
	redirected(t, resp, body, "/admin/structures/"+f.College.ID+"/connecteurs")
	_, body = k.As(f.Teacher).Get("/")
	hasNot(t, body, "Pronote")

	// Each change is in the journal.
	_, body = head.Get("/admin/journal")
	for _, a := range []string{"connector.create", "connector.update", "connector.delete"} {
		if !strings.Contains(body, a) {
			t.Errorf("journal lacks %s", a)
		}
	}
}

// An OpenID Connect client: its redirect URIs, then a secret shown once.
func TestConsoleOpenIDClient(t *testing.T) {
	k := apptest.New(t)
	admin := k.As(k.School.Admin)
	resp, body := admin.Post("/admin/connecteurs", url.Values{"structure": {""}, "name": {"Moodle"}, "url": {"https://moodle.example.org/"},
		"protocol": {"oidc"}, "icon": {"ressources"}, "redirect_uris": {""}})
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "au moins une adresse de retour")
	resp, body = admin.Post("/admin/connecteurs", url.Values{"structure": {""}, "name": {"Moodle"}, "url": {"https://moodle.example.org/"},
		"protocol": {"oidc"}, "icon": {"ressources"}, "redirect_uris": {"https://moodle.example.org/cb\nhttps://moodle.example.org/fin"}})
	loc := redirected(t, resp, body, "/admin/connecteurs/")
	_, body = admin.Get(loc)
	has(t, body, "Configuration du client OpenID Connect", "client public", "https://moodle.example.org/cb\nhttps://moodle.example.org/fin")
	resp, body = admin.Post(loc+"/secret", nil)
	status(t, resp, body, 200)
	has(t, body, "Il n'est affiché qu'ici", `id="client-secret"`)
	_, body = admin.Get(loc)
	has(t, body, "client confidentiel")
	hasNot(t, body, `id="client-secret"`)
}

// The CSRF protection covers the console's connector forms like every other.
func TestConnectorFormsRefuseCrossSitePosts(t *testing.T) {
	k := apptest.New(t)
	head := k.As(k.School.Head)
	form := url.Values{"structure": {k.School.College.ID}, "name": {"X"}, "url": {"https://x.example.org/"}, "protocol": {"cas"}, "icon": {"connecteur"}}
	resp, body := head.Do("POST", "/admin/connecteurs", strings.NewReader(form.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Sec-Fetch-Site": {"cross-site"}})
	status(t, resp, body, http.StatusForbidden)
}

// The super administrator registers a SAML service provider (the GAR): errors keep
// what was typed, the entity ID is unique, the page gives the metadata address.
func TestSAMLConnectorConsole(t *testing.T) {
	k := apptest.New(t)
	admin := k.As(k.School.Admin)
	form := url.Values{"structure": {""}, "name": {"GAR"}, "url": {"https://gar.example.org/"}, "protocol": {"saml"}, "icon": {"ressources"},
		"entity_id": {"https://gar.example.org/sp"}, "acs_urls": {""}, "slo_url": {"https://gar.example.org/slo"}, "gar": {"oui"}}
	resp, body := admin.Post("/admin/connecteurs", form)
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "au moins une adresse de réception des assertions", `value="https://gar.example.org/sp"`, `id="f-gar" checked`)
	form.Set("acs_urls", "https://gar.example.org/acs\nhttps://gar.example.org/acs2")
	form.Set("sp_cert", "pas un certificat")
	resp, body = admin.Post("/admin/connecteurs", form)
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "certificat X.509", "https://gar.example.org/acs2")
	form.Set("sp_cert", "")
	resp, body = admin.Post("/admin/connecteurs", form)
	loc := redirected(t, resp, body, "/admin/connecteurs/")
	resp, body = admin.Get(loc)
	status(t, resp, body, 200)
	has(t, body, "Le service est ajouté.", "/saml/metadata</code>", `id="f-gar" checked`, "https://gar.example.org/acs\nhttps://gar.example.org/acs2")
	form.Set("name", "GAR bis")
	resp, body = admin.Post("/admin/connecteurs", form)
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "a déjà cet identifiant d'entité")
}
