package web_test

import (
	"bytes"
	"encoding/json"
	"html"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/i18n"
	"github.com/preau-ent/preau/internal/rights"
	assets "github.com/preau-ent/preau/web"
)

// has checks the page's HTML, or its text once entities are decoded (French text is
// full of apostrophes, which the templates escape).
func has(t *testing.T, body string, want ...string) {
	t.Helper()
	text := html.UnescapeString(body)
	for _, w := range want {
		if !strings.Contains(body, w) && !strings.Contains(text, w) {
			t.Errorf("page should contain %q", w)
		}
	}
}

func hasNot(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	text := html.UnescapeString(body)
	for _, w := range unwanted {
		if strings.Contains(body, w) || strings.Contains(text, w) {
			t.Errorf("page should not contain %q", w)
		}
	}
}

func status(t *testing.T, resp *http.Response, body string, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d\n%s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want, abbreviate(body))
	}
}

// redirected checks a change answered by 303 to a page, and returns that location.
func redirected(t *testing.T, resp *http.Response, body, prefix string) string {
	t.Helper()
	status(t, resp, body, http.StatusSeeOther)
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, prefix) {
		t.Fatalf("%s: redirected to %q, want %q…", resp.Request.URL.Path, loc, prefix)
	}
	return loc
}

func abbreviate(s string) string {
	if i := strings.Index(s, `<main`); i >= 0 {
		s = s[i:]
	}
	if len(s) > 3000 {
		s = s[:3000] + "…"
	}
	return s
}

var codeRE = regexp.MustCompile(`<span class="code-box">([A-Z0-9]+)</span>`)

// The local administrator creates a class, then a pupil in it: the page shows the
// login and the code, and the pupil activates their account and signs in.
func TestAdminCreatesClassAndPerson(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	head := k.As(f.Head)

	resp, body := head.Get("/admin")
	status(t, resp, body, 200)
	has(t, body, "Collège Jean Moulin", `aria-current="page"`, "Journal d'audit")
	hasNot(t, body, "Lycée Marie Curie", "Créer une structure", "/admin/courriels")

	resp, body = head.Post("/admin/structures/"+f.College.ID+"/groupes", url.Values{"group_kind": {"class"}, "group_name": {"3e B"}})
	loc := redirected(t, resp, body, "/admin/groupes/")
	classID := strings.TrimPrefix(loc, "/admin/groupes/")
	resp, body = head.Get(loc)
	status(t, resp, body, 200)
	has(t, body, "<h1>3e B</h1>", "Le groupe est créé.", "Créer un élève dans cette classe")

	resp, body = head.Get("/admin/personnes/nouvelle?structure=" + f.College.ID + "&classe=" + classID)
	status(t, resp, body, 200)
	has(t, body, `<option value="`+classID+`" selected>3e B</option>`, `for="f-first_name"`)

	resp, body = head.Post("/admin/personnes", url.Values{"structure": {f.College.ID}, "first_name": {"Inès"}, "last_name": {"Garnier"},
		"profile": {"Eleve"}, "birth_date": {"2012-03-04"}, "class": {classID}})
	status(t, resp, body, 200)
	has(t, body, "ines.garnier", "Ce code n'est affiché qu'ici", "/activation")
	m := codeRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no activation code on the page:\n%s", abbreviate(body))
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the code page may be cached: %q", resp.Header.Get("Cache-Control"))
	}
	_, body = head.Get(loc)
	has(t, body, "Inès GARNIER")

	c := k.Client()
	resp, body = c.Post("/activation", url.Values{"login": {"ines.garnier"}, "code": {m[1]}, "password": {"Cahier-Bleu-42"}, "confirm": {"Cahier-Bleu-42"}})
	redirected(t, resp, body, "/connexion")
	c.Login("ines.garnier", "Cahier-Bleu-42")
	_, body = c.Get("/")
	has(t, body, "3e B")

	// A new code resets the password: the old one stops working.
	p, err := k.App.Services.Directory.PersonByLogin(k.Ctx, "ines.garnier")
	if err != nil {
		t.Fatal(err)
	}
	resp, body = head.Post("/admin/personnes/"+p.ID+"/activation", nil)
	status(t, resp, body, 200)
	has(t, body, "réinitialise un mot de passe oublié")
	if codeRE.FindStringSubmatch(body) == nil {
		t.Fatal("no new code shown")
	}
	resp, _ = k.Client().Post("/connexion", url.Values{"login": {"ines.garnier"}, "password": {"Cahier-Bleu-42"}})
	if resp.StatusCode == http.StatusSeeOther {
		t.Fatal("the old password still works after a new activation code")
	}
}

func TestAdminAccessIsChecked(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	head := k.As(f.Head)
	for _, path := range []string{
		"/admin/structures/" + f.Lycee.ID,
		"/admin/structures/" + f.Lycee.ID + "/communication",
		"/admin/structures/" + f.Lycee.ID + "/portail",
		"/admin/structures/" + f.Lycee.ID + "/applications",
		"/admin/personnes/nouvelle?structure=" + f.Lycee.ID,
		"/admin/personnes/" + f.OtherPupil.ID,
		"/admin/courriels",
	} {
		resp, body := head.Get(path)
		status(t, resp, body, http.StatusForbidden)
		has(t, body, "Vous n'avez pas le droit")
	}
	resp, body := head.Post("/admin/structures/"+f.Lycee.ID+"/groupes", url.Values{"group_kind": {"class"}, "group_name": {"2nde Z"}})
	status(t, resp, body, http.StatusForbidden)
	resp, body = head.Post("/admin/personnes/"+f.OtherPupil.ID+"/etat", url.Values{"state": {"blocked"}})
	status(t, resp, body, http.StatusForbidden)
	resp, body = head.Post("/admin/structures", url.Values{"kind": {"ecole"}, "name": {"École pirate"}, "uai": {"0690099Z"}})
	status(t, resp, body, http.StatusForbidden)

	pupil := k.As(f.Pupil)
	for _, path := range []string{"/admin", "/admin/journal", "/admin/structures/" + f.College.ID, "/admin/groupes/" + f.Class.ID} {
		resp, body := pupil.Get(path)
		status(t, resp, body, http.StatusForbidden)
	}
	resp, body = k.Client().Get("/admin")
	redirected(t, resp, body, "/connexion?retour=%2Fadmin")

	// The super administrator opens everything.
	admin := k.As(f.Admin)
	for _, path := range []string{"/admin", "/admin/structures/" + f.Lycee.ID, "/admin/personnes/" + f.OtherPupil.ID, "/admin/courriels", "/admin/journal"} {
		resp, body := admin.Get(path)
		status(t, resp, body, 200)
	}
	_, body = admin.Get("/admin")
	has(t, body, "Lycée Marie Curie", "Créer une structure", "Super administrateurs", f.Admin.Login)
}

// A validation error gives the form back with what was typed, the error next to the
// field and in a summary that links to it, with status 400.
func TestAdminValidationKeepsTheForm(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	head := k.As(f.Head)
	resp, body := head.Post("/admin/personnes", url.Values{"structure": {f.College.ID}, "first_name": {""}, "last_name": {"Lemoine"},
		"profile": {"Responsable"}, "email": {"c.lemoine@example.org"}, "class": {f.Class.ID}})
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "Le prénom est obligatoire", `href="#f-first_name"`, `aria-invalid="true"`, `value="Lemoine"`,
		`value="c.lemoine@example.org"`, `<option value="Responsable" selected>`, `<option value="`+f.Class.ID+`" selected>`)

	resp, body = head.Post("/admin/personnes", url.Values{"structure": {f.College.ID}, "first_name": {"Chloé"}, "last_name": {"Lemoine"},
		"profile": {"Eleve"}, "birth_date": {"04/03/2012"}})
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "Date invalide", `value="04/03/2012"`, `value="Chloé"`)

	// On a page with several forms, the other forms keep their current values.
	resp, body = head.Post("/admin/structures/"+f.College.ID+"/groupes", url.Values{"group_kind": {"class"}, "group_name": {""}, "group_code": {"XX"}})
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "Le nom est obligatoire", `href="#f-group_name"`, `value="XX"`, `value="Collège Jean Moulin"`)

	resp, body = head.Post("/admin/groupes/"+f.Class.ID+"/membres", url.Values{"login": {"personne.inconnue"}})
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "Aucune personne que vous administrez", `value="personne.inconnue"`)
	// A person of another school reads the same as an unknown one.
	resp, body = head.Post("/admin/groupes/"+f.Class.ID+"/membres", url.Values{"login": {f.OtherPupil.Login}})
	status(t, resp, body, http.StatusBadRequest)

	admin := k.As(f.Admin)
	resp, body = admin.Post("/admin/structures", url.Values{"kind": {"etablissement"}, "name": {"Collège Victor Hugo"}, "uai": {"12345"}, "city": {"Bron"}})
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "7 chiffres et une lettre", `value="Collège Victor Hugo"`, `value="Bron"`, `value="12345"`)
	resp, body = admin.Post("/admin/structures", url.Values{"kind": {"etablissement"}, "name": {"Collège Victor Hugo"}, "uai": {"0690010k"}, "city": {"Bron"}, "type": {"college"}})
	loc := redirected(t, resp, body, "/admin/structures/")
	_, body = admin.Get(loc)
	has(t, body, "Collège Victor Hugo", "0690010K", "La structure est créée.", `<option value="college" selected>Collège</option>`)
}

// TestAdminStructureType: the school type is chosen in the structure forms, checked
// against the kind, and only a super administrator changes it.
func TestAdminStructureType(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	admin := k.As(f.Admin)
	dir := k.App.Services.Directory
	// An école is an école: another type is refused, the form keeps what was typed.
	resp, body := admin.Post("/admin/structures", url.Values{"kind": {"ecole"}, "name": {"Les Lilas"}, "uai": {"0690011L"}, "type": {"college"}})
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "Une école a le type", `href="#f-type"`, `value="Les Lilas"`, `<option value="college" selected>`)
	resp, body = admin.Post("/admin/structures", url.Values{"kind": {"etablissement"}, "name": {"Cité scolaire"}, "uai": {"0690012M"}, "type": {"ufo"}})
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "Type d&#39;établissement inconnu")

	form := url.Values{"name": {f.College.Name}, "city": {f.College.City}, "kind": {"etablissement"}, "uai": {f.College.UAI}, "type": {"lycee_pro"}}
	resp, body = admin.Post("/admin/structures/"+f.College.ID, form)
	redirected(t, resp, body, "/admin/structures/"+f.College.ID)
	if st, err := dir.Structure(k.Ctx, f.College.ID); err != nil || st.Type != "lycee_pro" {
		t.Fatalf("type after the form: %+v %v", st, err)
	}
	_, body = admin.Get("/admin/structures/" + f.College.ID)
	has(t, body, "Lycée professionnel", `<option value="lycee_pro" selected>`)

	// The local administrator renames the school; the type they do not see stays.
	head := k.As(f.Head)
	resp, body = head.Post("/admin/structures/"+f.College.ID, url.Values{"name": {"Collège Jean-Moulin"}, "city": {"Villeurbanne"}, "type": {"autre"}})
	redirected(t, resp, body, "/admin/structures/"+f.College.ID)
	if st, err := dir.Structure(k.Ctx, f.College.ID); err != nil || st.Type != "lycee_pro" || st.Name != "Collège Jean-Moulin" {
		t.Fatalf("after the local administrator: %+v %v", st, err)
	}
	_, body = head.Get("/admin/structures/" + f.College.ID)
	if strings.Contains(body, `name="type"`) {
		t.Error("the local administrator gets the type field")
	}
}

func TestAdminBlockAndUnblock(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	head := k.As(f.Head)
	pupil := k.As(f.Pupil)
	resp, body := head.Post("/admin/personnes/"+f.Pupil.ID+"/etat", url.Values{"state": {"blocked"}})
	redirected(t, resp, body, "/admin/personnes/"+f.Pupil.ID)
	_, body = head.Get("/admin/personnes/" + f.Pupil.ID)
	has(t, body, "Le compte est bloqué", `class="badge warn">Bloqué`, "Débloquer le compte")

	if resp, _ := pupil.Get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the blocked pupil's session is still open: %d", resp.StatusCode)
	}
	resp, body = k.Client().Post("/connexion", url.Values{"login": {f.Pupil.Login}, "password": {apptest.Password}})
	status(t, resp, body, http.StatusForbidden)
	has(t, body, "Ce compte est bloqué")

	resp, body = head.Post("/admin/personnes/"+f.Pupil.ID+"/etat", url.Values{"state": {"active"}})
	redirected(t, resp, body, "/admin/personnes/"+f.Pupil.ID)
	k.As(f.Pupil)

	// Failed logins lock the account; the administrator unlocks it at once.
	for i := 0; i < 6; i++ {
		k.Client().Post("/connexion", url.Values{"login": {f.Classmate.Login}, "password": {"Mauvais-Mot-1"}})
	}
	_, body = head.Get("/admin/personnes/" + f.Classmate.ID)
	has(t, body, "Verrouillé jusqu'au", "Déverrouiller maintenant")
	resp, body = head.Post("/admin/personnes/"+f.Classmate.ID+"/deverrouillage", nil)
	redirected(t, resp, body, "/admin/personnes/"+f.Classmate.ID)
	k.As(f.Classmate)
}

func TestAdminJournal(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	s := k.App.Services
	if _, err := s.Directory.CreateGroup(k.Ctx, k.Sys, directory.GroupInput{StructureID: f.Lycee.ID, Kind: directory.GroupManual, Name: "Club théâtre du lycée"}); err != nil {
		t.Fatal(err)
	}
	head := k.As(f.Head)
	resp, body := head.Post("/admin/structures/"+f.College.ID+"/groupes", url.Values{"group_kind": {"manual"}, "group_name": {"Chorale du collège"}})
	redirected(t, resp, body, "/admin/groupes/")
	head.Get("/admin/personnes/" + f.Pupil.ID)

	resp, body = head.Get("/admin/journal")
	status(t, resp, body, 200)
	has(t, body, "Création d'un groupe", "Chorale du collège", "Consultation de la fiche d'un élève", "Léa MARTIN", f.Head.Login, "Collège Jean Moulin",
		`<caption>`, `scope="col"`)
	hasNot(t, body, "Club théâtre du lycée", "Lycée Marie Curie")

	_, body = head.Get("/admin/journal?action=group")
	has(t, body, "Chorale du collège")
	hasNot(t, body, "Consultation de la fiche")
	_, body = head.Get("/admin/journal?login=personne")
	has(t, body, "Aucune entrée ne correspond")
	resp, body = head.Get("/admin/journal?du=2026-13-45")
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "Date invalide", `value="2026-13-45"`)

	admin := k.As(f.Admin)
	_, body = admin.Get("/admin/journal")
	has(t, body, "Club théâtre du lycée", "Chorale du collège")

	// Paging: 100 entries a page, then an "older" link.
	for i := 0; i < 120; i++ {
		s.Audit.Write(k.Ctx, audit.Entry{ActorLogin: "robot", Action: "test.entry", StructureID: f.College.ID, Success: true})
	}
	_, body = head.Get("/admin/journal?login=robot")
	if n := strings.Count(body, "test.entry"); n != 100 {
		t.Fatalf("%d entries on the first page", n)
	}
	m := regexp.MustCompile(`href="(/admin/journal\?[^"]*avant=\d+[^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no link to older entries")
	}
	_, body = head.Get(strings.ReplaceAll(m[1], "&amp;", "&"))
	if n := strings.Count(body, "test.entry"); n != 20 {
		t.Fatalf("%d entries on the second page", n)
	}
}

func TestAdminPortal(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	head := k.As(f.Head)
	resp, body := head.Get("/admin/structures/" + f.College.ID + "/portail")
	status(t, resp, body, 200)
	has(t, body, "0690001a.localhost", "Seul un super administrateur")
	resp, body = head.Post("/admin/structures/"+f.College.ID+"/portail", url.Values{"name": {"Collège"}, "color_primary": {"#1f4e8c"}, "color_accent": {"#b3441e"}})
	status(t, resp, body, http.StatusForbidden)

	admin := k.As(f.Admin)
	_, body = admin.Get("/admin/structures/" + f.College.ID + "/portail")
	has(t, body, `value="0690001a.localhost"`, "Créer le portail", `type="color"`)
	form := url.Values{"host": {"0690001a.localhost"}, "kind": {"etablissement"}, "name": {"Collège Jean Moulin"},
		"color_primary": {"#ffff66"}, "color_primary_picker": {"#1f4e8c"}, "color_accent": {"#b3441e"}, "color_accent_picker": {"#b3441e"},
		"publication_director": {"Claire Bernard"}, "legal_notice": {"Hébergé par la Région."}}
	resp, body = admin.Post("/admin/structures/"+f.College.ID+"/portail", form)
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "Cette couleur est trop claire", `href="#f-color_primary"`, `value="#ffff66"`, `value="Claire Bernard"`, "Hébergé par la Région.")
	form.Set("color_primary", "#1f4e8c")
	resp, body = admin.Post("/admin/structures/"+f.College.ID+"/portail", form)
	redirected(t, resp, body, "/admin/structures/"+f.College.ID+"/portail")

	// The local administrator changes the look, not the address; a colour changed
	// with the picker only is taken.
	_, body = head.Get("/admin/structures/" + f.College.ID + "/portail")
	has(t, body, "Logo", `enctype="multipart/form-data"`)
	hasNot(t, body, `id="f-host"`)
	resp, body = head.Post("/admin/structures/"+f.College.ID+"/portail", url.Values{"host": {"pirate.example.org"}, "name": {"Collège Jean Moulin"},
		"color_primary": {"#1f4e8c"}, "color_primary_picker": {"#145a32"}, "color_accent": {"#eeeeee"}, "color_accent_picker": {"#b3441e"}})
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "Cette couleur est trop claire", `href="#f-color_accent"`)
	resp, body = head.Post("/admin/structures/"+f.College.ID+"/portail", url.Values{"host": {"pirate.example.org"}, "name": {"Collège Jean Moulin"},
		"color_primary": {"#1f4e8c"}, "color_primary_picker": {"#145a32"}, "color_accent": {"#b3441e"}, "color_accent_picker": {"#b3441e"}})
	redirected(t, resp, body, "/admin/structures/")
	p, err := k.App.Services.Portals.ForStructure(k.Ctx, f.College.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Host != "0690001a.localhost" || p.ColorPrimary != "#145a32" {
		t.Fatalf("portal after the local administrator's change: %+v", p)
	}

	// Logo: PNG taken, anything else refused with the form again.
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
	resp, body = upload(t, head, "/admin/portails/"+p.ID+"/logo", "logo.png", png)
	redirected(t, resp, body, "/admin/structures/"+f.College.ID+"/portail")
	_, body = head.Get("/admin/structures/" + f.College.ID + "/portail")
	has(t, body, `src="/portail/logo/`+p.ID)
	resp, body = upload(t, head, "/admin/portails/"+p.ID+"/logo", "logo.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`))
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "PNG ou JPEG", `href="#f-logo"`)
	resp, body = upload(t, head, "/admin/portails/"+p.ID+"/logo", "big.png", append(png, make([]byte, 600<<10)...))
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "512 Kio")
	resp, body = upload(t, head, "/admin/portails/"+p.ID+"/logo", "huge.png", append(png, make([]byte, 3<<20)...))
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "512 Kio")
}

func upload(t *testing.T, c *apptest.Client, path, name string, data []byte) (*http.Response, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, err := w.CreateFormFile("logo", name)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(data)
	w.Close()
	return c.Do("POST", path, &buf, http.Header{"Content-Type": {w.FormDataContentType()}, "Sec-Fetch-Site": {"same-origin"}})
}

func mayWrite(t *testing.T, c *apptest.Client, to string) bool {
	t.Helper()
	_, body := c.Get("/api/v1/communication/may-write/" + to)
	var out struct{ MayWrite bool }
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("may-write: %v %s", err, body)
	}
	return out.MayWrite
}

// A rule added in the console changes who may write to whom.
func TestAdminCommunicationRules(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	groups, err := k.App.Services.Directory.Groups(k.Ctx, f.College.ID, directory.GroupClassProfile)
	if err != nil {
		t.Fatal(err)
	}
	var parents, pupils directory.Group
	for _, g := range groups {
		if g.ClassID == f.Class.ID && g.Profile == directory.Responsable {
			parents = g
		}
		if g.ClassID == f.Class.ID && g.Profile == directory.Eleve {
			pupils = g
		}
	}
	parent := k.As(f.Parent)
	if mayWrite(t, parent, f.Classmate.ID) {
		t.Fatal("a parent may write to another pupil by default")
	}
	head := k.As(f.Head)
	resp, body := head.Get("/admin/structures/" + f.College.ID + "/communication")
	status(t, resp, body, 200)
	has(t, body, "Responsables — 4e A", "Élèves — 4e A", `<option value="BOTH" selected>`, "Les membres communiquent entre eux")

	resp, body = head.Post("/admin/structures/"+f.College.ID+"/communication/regles", url.Values{"from": {parents.ID}, "to": {parents.ID}})
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "Choisissez deux groupes différents")
	resp, body = head.Post("/admin/structures/"+f.College.ID+"/communication/regles", url.Values{"from": {parents.ID}, "to": {pupils.ID}})
	redirected(t, resp, body, "/admin/structures/"+f.College.ID+"/communication")
	if !mayWrite(t, parent, f.Classmate.ID) {
		t.Fatal("the rule added in the console does not let the parent write to the class's pupils")
	}
	resp, body = head.Post("/admin/structures/"+f.College.ID+"/communication/relations", url.Values{"group": {pupils.ID}, "communicate": {"NONE"}})
	redirected(t, resp, body, "/admin/structures/"+f.College.ID+"/communication")
	if mayWrite(t, parent, f.Classmate.ID) {
		t.Fatal("a NONE group still carries the rule")
	}
	resp, body = head.Post("/admin/structures/"+f.College.ID+"/communication/regles/retirer", url.Values{"from": {parents.ID}, "to": {pupils.ID}})
	redirected(t, resp, body, "/admin/structures/"+f.College.ID+"/communication")

	// Rules between two schools: the super administrator offers the other school's groups.
	admin := k.As(f.Admin)
	_, body = admin.Get("/admin/structures/" + f.College.ID + "/communication?autre=" + f.Lycee.ID)
	has(t, body, `<optgroup label="Lycée Marie Curie">`)
	_, body = head.Get("/admin/structures/" + f.College.ID + "/communication?autre=" + f.Lycee.ID)
	hasNot(t, body, `<optgroup label="Lycée Marie Curie">`)
}

// Viewing a pupil's record is written to the audit log; a teacher's is not.
func TestAdminPupilRecordIsAudited(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	head := k.As(f.Head)
	resp, body := head.Get("/admin/personnes/" + f.Pupil.ID)
	status(t, resp, body, 200)
	has(t, body, f.Pupil.Login, "4e A", "Sophie MARTIN", ">Actif<", "Non verrouillé")
	head.Get("/admin/personnes/" + f.Teacher.ID)
	entries, err := k.App.Services.Audit.Search(k.Ctx, audit.Filter{Action: "person.view"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("%d person.view entries, want 1", len(entries))
	}
	e := entries[0]
	if e.TargetID != f.Pupil.ID || e.TargetType != "person" || e.StructureID != f.College.ID || e.ActorLogin != f.Head.Login || !e.Success {
		t.Fatalf("person.view entry: %+v", e)
	}
}

func TestAdminPersonRecord(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	s := k.App.Services
	head := k.As(f.Head)
	id := f.Classmate.ID
	resp, body := head.Post("/admin/personnes/"+id, url.Values{"first_name": {"Thomas"}, "last_name": {"Petit"}, "email": {"pas une adresse"}, "birth_date": {""}})
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "Adresse électronique invalide", `value="Thomas"`)
	resp, body = head.Post("/admin/personnes/"+id, url.Values{"first_name": {"Thomas"}, "last_name": {"Petit"}, "email": {"thomas@example.org"}, "birth_date": {"2012-05-06"}})
	redirected(t, resp, body, "/admin/personnes/"+id)
	p, _ := s.Directory.Person(k.Ctx, id)
	if p.FirstName != "Thomas" || p.Email != "thomas@example.org" || p.Login != f.Classmate.Login {
		t.Fatalf("after the update: %+v", p)
	}

	// Family links, from the pupil's record and from the parent's.
	resp, body = head.Post("/admin/personnes/"+id+"/liens", url.Values{"link_login": {f.Parent.Login}})
	redirected(t, resp, body, "/admin/personnes/"+id)
	_, body = head.Get("/admin/personnes/" + f.Parent.ID)
	has(t, body, "Thomas PETIT", "Léa MARTIN")
	resp, body = head.Post("/admin/personnes/"+f.Parent.ID+"/liens/retirer", url.Values{"other": {id}})
	redirected(t, resp, body, "/admin/personnes/"+f.Parent.ID)
	resp, body = head.Post("/admin/personnes/"+id+"/liens", url.Values{"link_login": {f.Teacher.Login}})
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "Un lien de responsabilité relie un responsable légal à un élève")

	// Functions.
	resp, body = head.Post("/admin/personnes/"+f.Teacher.ID+"/fonctions", url.Values{"function_structure": {f.College.ID}, "function_code": {"doc"}, "function_label": {"Professeur documentaliste"}})
	redirected(t, resp, body, "/admin/personnes/"+f.Teacher.ID)
	_, body = head.Get("/admin/personnes/" + f.Teacher.ID)
	has(t, body, "<code>DOC</code>", "Professeur documentaliste")
	resp, body = head.Post("/admin/personnes/"+f.Teacher.ID+"/fonctions/retirer", url.Values{"structure": {f.College.ID}, "code": {"DOC"}})
	redirected(t, resp, body, "/admin/personnes/"+f.Teacher.ID)
	resp, body = head.Post("/admin/personnes/"+f.Teacher.ID+"/fonctions", url.Values{"function_structure": {f.College.ID}, "function_code": {""}})
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "Code de fonction invalide", `href="#f-function_code"`)

	// Attaching to another structure needs to administer it.
	resp, body = head.Post("/admin/personnes/"+f.Teacher.ID+"/structures", url.Values{"attach_structure": {f.Lycee.ID}})
	status(t, resp, body, http.StatusForbidden)
	admin := k.As(f.Admin)
	resp, body = admin.Post("/admin/personnes/"+f.Teacher.ID+"/structures", url.Values{"attach_structure": {f.Lycee.ID}})
	redirected(t, resp, body, "/admin/personnes/"+f.Teacher.ID)
	sids, _ := s.Directory.PersonStructureIDs(k.Ctx, f.Teacher.ID)
	if len(sids) != 2 {
		t.Fatalf("teacher's structures: %v", sids)
	}
}

func TestAdminGroupsRolesAndApps(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	s := k.App.Services
	head := k.As(f.Head)
	other := k.Person("Marc", "Lefebvre", directory.Enseignant, f.College.ID)

	// A subject, then a teacher added to the class by login teaches it.
	resp, body := head.Post("/admin/structures/"+f.College.ID+"/matieres", url.Values{"subject_code": {"maths"}, "subject_name": {"Mathématiques"}})
	redirected(t, resp, body, "/admin/structures/"+f.College.ID)
	resp, body = head.Post("/admin/groupes/"+f.Class.ID+"/membres", url.Values{"login": {other.Login}})
	redirected(t, resp, body, "/admin/groupes/"+f.Class.ID)
	subjects, _ := s.Directory.Subjects(k.Ctx, f.College.ID)
	resp, body = head.Post("/admin/groupes/"+f.Class.ID+"/enseignements", url.Values{"teacher": {other.ID}, "subject": {subjects[0].ID}})
	redirected(t, resp, body, "/admin/groupes/"+f.Class.ID)
	_, body = head.Get("/admin/groupes/" + f.Class.ID)
	has(t, body, "Marc LEFEBVRE", "Mathématiques", "Paul DURAND", "Léa MARTIN", "Retirer Tom PETIT du groupe")
	resp, body = head.Post("/admin/groupes/"+f.Class.ID+"/membres/retirer", url.Values{"person": {f.Classmate.ID}})
	redirected(t, resp, body, "/admin/groupes/"+f.Class.ID)
	_, body = head.Get("/admin/groupes/" + f.Class.ID)
	hasNot(t, body, "Tom PETIT")

	// Profile groups are automatic: no form.
	groups, _ := s.Directory.Groups(k.Ctx, f.College.ID, directory.GroupProfile)
	_, body = head.Get("/admin/groupes/" + groups[0].ID)
	has(t, body, "calculés automatiquement")
	hasNot(t, body, `action="/admin/groupes/`+groups[0].ID+`/membres"`)

	// Roles.
	resp, body = head.Post("/admin/structures/"+f.College.ID+"/roles", url.Values{"grant_login": {f.Teacher.Login}, "grant_role": {"moderator"}})
	redirected(t, resp, body, "/admin/structures/"+f.College.ID)
	_, body = head.Get("/admin/structures/" + f.College.ID)
	has(t, body, "Modérateur", "Paul DURAND", "Administrateur local", "Claire BERNARD")
	resp, body = head.Post("/admin/structures/"+f.College.ID+"/roles", url.Values{"grant_login": {f.Teacher.Login}, "grant_role": {"superadmin"}})
	status(t, resp, body, http.StatusBadRequest)
	resp, body = head.Post("/admin/structures/"+f.College.ID+"/roles/retirer", url.Values{"person": {f.Teacher.ID}, "role": {"moderator"}})
	redirected(t, resp, body, "/admin/structures/"+f.College.ID)
	if ok, _ := s.Rights.IsModerator(k.Ctx, actorFor(f.Teacher), f.College.ID); ok {
		t.Fatal("the moderator role was not removed")
	}

	// Persons of the structure: search and pages of 50.
	_, body = head.Get("/admin/structures/" + f.College.ID + "?q=mart")
	has(t, body, "Léa MARTIN", "Sophie MARTIN")
	hasNot(t, body, "Paul DURAND")
	for i := 0; i < 55; i++ {
		if _, err := s.Directory.CreatePerson(k.Ctx, k.Sys, directory.PersonInput{FirstName: "Élève", LastName: "Zed" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Profile: directory.Eleve, StructureIDs: []string{f.College.ID}}); err != nil {
			t.Fatal(err)
		}
	}
	_, body = head.Get("/admin/structures/" + f.College.ID)
	has(t, body, "debut=50")

	// Applications: forbidding the directory to pupils of the collège.
	resp, body = head.Get("/admin/structures/" + f.College.ID + "/applications")
	status(t, resp, body, 200)
	has(t, body, "Défaut (oui)", `aria-labelledby="app-annuaire prof-Eleve"`)
	resp, body = head.Post("/admin/structures/"+f.College.ID+"/applications", url.Values{"droit.annuaire.Eleve": {"interdit"}, "droit.annuaire.Enseignant": {"defaut"}})
	redirected(t, resp, body, "/admin/structures/"+f.College.ID+"/applications")
	list, _ := s.Rights.AppRights(k.Ctx, f.College.ID)
	if len(list) != 1 || list[0].App != "annuaire" || list[0].Profile != "Eleve" || list[0].Allowed {
		t.Fatalf("overrides: %+v", list)
	}
	_, body = k.As(f.Pupil).Get("/api/v1/me")
	if strings.Contains(body, `"annuaire"`) {
		t.Fatalf("the directory is still offered to pupils: %s", body)
	}
	_, body = head.Get("/admin/structures/" + f.College.ID + "/applications")
	has(t, body, `<option value="interdit" selected>`)
	// And back to the default: the override goes, pupils get the directory again.
	resp, body = head.Post("/admin/structures/"+f.College.ID+"/applications", url.Values{"droit.annuaire.Eleve": {"defaut"}})
	redirected(t, resp, body, "/admin/structures/"+f.College.ID+"/applications")
	if list, _ := s.Rights.AppRights(k.Ctx, f.College.ID); len(list) != 0 {
		t.Fatalf("override not cleared: %+v", list)
	}
	if _, body = k.As(f.Pupil).Get("/api/v1/me"); !strings.Contains(body, `"annuaire"`) {
		t.Fatalf("the directory is not offered to pupils again: %s", body)
	}
}

func actorFor(p directory.Person) actor.Actor {
	return actor.Actor{PersonID: p.ID, Login: p.Login, Profile: p.Profile}
}

func TestAdminMails(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	admin := k.As(f.Admin)
	head := k.As(f.Head)
	resp, body := head.Post("/admin/personnes/"+f.Teacher.ID, url.Values{"first_name": {"Paul"}, "last_name": {"Durand"}, "email": {"paul.durand@example.org"}})
	redirected(t, resp, body, "/admin/personnes/")
	resp, body = k.Client().Post("/mot-de-passe-oublie", url.Values{"login": {f.Teacher.Login}})
	status(t, resp, body, 200)

	resp, body = admin.Get("/admin/courriels")
	status(t, resp, body, 200)
	has(t, body, "paul.durand@example.org")
	m := regexp.MustCompile(`href="/admin/courriels/([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no mail listed:\n%s", abbreviate(body))
	}
	resp, body = admin.Get("/admin/courriels/" + m[1])
	status(t, resp, body, 200)
	has(t, body, "/reinitialisation?jeton=")
	resp, _ = admin.Get("/admin/courriels/..%2Fsecret.eml")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("path outside the spool: %d", resp.StatusCode)
	}
}

func TestAdminInEnglish(t *testing.T) {
	k := apptest.New(t)
	head := k.As(k.School.Head)
	head.Post("/langue", url.Values{"lang": {"en"}, "retour": {"/admin"}})
	_, body := head.Get("/admin")
	has(t, body, `<html lang="en">`, "Overview", "Audit log", "Structures you administer")
	_, body = head.Get("/admin/structures/" + k.School.College.ID + "/communication")
	has(t, body, "Among themselves (BOTH)")
}

// Every "admin.*" key the console's Go code names exists in both catalogs.
func TestAdminKeysExist(t *testing.T) {
	sub, _ := fs.Sub(assets.I18n, "i18n")
	c, err := i18n.Load(sub)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("admin*.go")
	keyRE := regexp.MustCompile(`"(admin\.[a-z_.]+[a-z_])"`)
	n := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRE.FindAllStringSubmatch(string(b), -1) {
			n++
			for _, lang := range i18n.Languages {
				if !c.Has(lang, m[1]) {
					t.Errorf("%s: key %q missing in %s", name, m[1], lang)
				}
			}
		}
	}
	if n < 30 {
		t.Fatalf("only %d keys found", n)
	}
	// Every role the console offers has a label.
	for _, r := range []string{rights.LocalAdmin, rights.Moderator, rights.SuperAdmin} {
		if !c.Has("en", "role."+r) {
			t.Errorf("role %s has no label", r)
		}
	}
}
