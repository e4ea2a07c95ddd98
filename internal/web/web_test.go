package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
)

func contains(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("page should contain %q", w)
		}
	}
}

func lacks(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("page should not contain %q", w)
		}
	}
}

func TestLoginAndDashboards(t *testing.T) {
	k := apptest.New(t)
	f := k.School

	anon := k.Client()
	resp, _ := anon.Get("/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/connexion" {
		t.Fatalf("anonymous home: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := anon.Get("/connexion")
	if resp.StatusCode != 200 {
		t.Fatalf("login page: %d", resp.StatusCode)
	}
	contains(t, body, `<html lang="fr">`, `for="f-login"`, `autocomplete="current-password"`)

	// Wrong password: a clear French error, the login kept, the password not.
	resp, body = anon.Post("/connexion", url.Values{"login": {f.Pupil.Login}, "password": {"faux-Mot2passe"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	contains(t, body, "Identifiant ou mot de passe incorrect", `value="`+f.Pupil.Login+`"`)
	lacks(t, body, "faux-Mot2passe")

	pupil := k.As(f.Pupil)
	_, body = pupil.Get("/")
	contains(t, body, "Bonjour Léa", "4e A", "Collège Jean Moulin", `href="/annuaire"`)
	lacks(t, body, `href="/admin"`)

	parent := k.As(f.Parent)
	_, body = parent.Get("/")
	contains(t, body, "Mes enfants", "Léa MARTIN", "4e A")

	teacher := k.As(f.Teacher)
	_, body = teacher.Get("/")
	contains(t, body, "Mes classes et groupes", "4e A")

	head := k.As(f.Head)
	_, body = head.Get("/")
	contains(t, body, `href="/admin"`, "Principale")

	// Every login is audited.
	entries, err := k.App.Services.Audit.Search(k.Ctx, audit.Filter{Action: "login"})
	if err != nil {
		t.Fatal(err)
	}
	var ok, failed int
	for _, e := range entries {
		switch e.Action {
		case "login":
			ok++
		case "login.failed":
			failed++
		}
	}
	if ok < 4 || failed != 1 {
		t.Fatalf("audit: %d logins, %d failures", ok, failed)
	}
}

func TestPortalsByHost(t *testing.T) {
	k := apptest.New(t)
	c := k.Client()
	c.Host = "0690001a.localhost"
	_, body := c.Get("/connexion")
	contains(t, body, "Se connecter à Collège Jean Moulin")
	c.Host = "0690002B.LOCALHOST:8080"
	_, body = c.Get("/connexion")
	contains(t, body, "Lycée Marie Curie")
	c.Host = "inconnu.example.org"
	resp, body := c.Get("/connexion")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown host: %d", resp.StatusCode)
	}
	contains(t, body, "Aucun portail ne répond à cette adresse")
	c.Host = "localhost"
	_, body = c.Get("/mentions-legales")
	contains(t, body, "Directeur de la publication")
}

func TestBadInputChangesNothing(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	pupil := k.As(f.Pupil)

	// A cross-site form post is refused with a clear page, and the password stays.
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}
	form := url.Values{"current": {apptest.Password}, "password": {"Nouveau-Secret-42"}, "confirm": {"Nouveau-Secret-42"}}
	resp, body := pupil.Do("POST", "/mon-compte/mot-de-passe", strings.NewReader(form.Encode()), h)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site post: %d", resp.StatusCode)
	}
	contains(t, body, "autre site")
	k.As(f.Pupil) // the old password still works

	// An oversized body is refused.
	big := strings.NewReader("login=" + strings.Repeat("a", 2<<20))
	resp, _ = pupil.Do("POST", "/connexion", big, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized: %d", resp.StatusCode)
	}

	// A forged session cookie is a visitor.
	forged := k.Client()
	u := mustURL(t, k.URL)
	forged.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: "preau_session", Value: "forged-value"}})
	resp, _ = forged.Get("/mon-compte")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/connexion") {
		t.Fatalf("forged session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Unknown ids: 404 page; unknown API path: JSON.
	resp, body = pupil.Get("/annuaire/personnes/nexistepas")
	if resp.StatusCode != 404 {
		t.Fatalf("unknown person: %d", resp.StatusCode)
	}
	contains(t, body, "existe pas")
	resp, body = pupil.Get("/api/v1/nexistepas")
	if resp.StatusCode != 404 || !strings.Contains(body, `"code":"not_found"`) {
		t.Fatalf("unknown API path: %d %s", resp.StatusCode, body)
	}

	// Open redirects are neutralised.
	c := k.Client()
	resp, _ = c.Post("/connexion", url.Values{"login": {f.Pupil.Login}, "password": {apptest.Password}, "retour": {"//evil.example/"}})
	if loc := resp.Header.Get("Location"); loc != "/" {
		t.Fatalf("open redirect: %q", loc)
	}

	// A password change that breaks the policy keeps the form and changes nothing.
	resp, body = pupil.Post("/mon-compte/mot-de-passe", url.Values{"current": {apptest.Password}, "password": {"court"}, "confirm": {"court"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("weak password: %d", resp.StatusCode)
	}
	contains(t, body, "entre 8 et 128 caractères", `aria-invalid="true"`)
	k.As(f.Pupil)
}

func TestSessionsAndLogoutEverywhere(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	a, b := k.As(f.Teacher), k.As(f.Teacher)
	_, body := a.Get("/mon-compte")
	contains(t, body, "Mes sessions ouvertes", "cette session")
	if n := strings.Count(body, "/fermer"); n != 2 {
		t.Fatalf("two sessions expected, %d listed", n)
	}
	resp, _ := a.Post("/mon-compte/deconnexion-partout", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout everywhere: %d", resp.StatusCode)
	}
	for name, c := range map[string]*apptest.Client{"a": a, "b": b} {
		if resp, _ := c.Get("/mon-compte"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("session %s still alive: %d", name, resp.StatusCode)
		}
	}
	// Changing the password works and the new one logs in.
	c := k.As(f.Teacher)
	resp, _ = c.Post("/mon-compte/mot-de-passe", url.Values{"current": {apptest.Password}, "password": {"Tableau-Noir-77"}, "confirm": {"Tableau-Noir-77"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change password: %d", resp.StatusCode)
	}
	k.Client().Login(f.Teacher.Login, "Tableau-Noir-77")
}

func TestDirectoryPagesFollowRules(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	pupil := k.As(f.Pupil)
	_, body := pupil.Get("/annuaire?q=")
	contains(t, body, "Tom PETIT", "Paul DURAND", "Sophie MARTIN")
	lacks(t, body, "Hugo ROUX")
	resp, _ := pupil.Get("/annuaire/personnes/" + f.OtherPupil.ID)
	if resp.StatusCode != 404 {
		t.Fatalf("pupil of another school: %d", resp.StatusCode)
	}
	_, body = pupil.Get("/annuaire/personnes/" + f.Teacher.ID)
	contains(t, body, "Vous pouvez écrire à cette personne")
	_, body = pupil.Get("/annuaire/groupes/" + f.Class.ID)
	contains(t, body, "Tom PETIT", "Léa MARTIN")
	// The English catalog follows the language cookie.
	resp, _ = pupil.Post("/langue", url.Values{"lang": {"en"}, "retour": {"/annuaire"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("language: %d", resp.StatusCode)
	}
	_, body = pupil.Get("/annuaire")
	contains(t, body, `<html lang="en">`, "Directory")
}

func TestAPI(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	resp, body := k.Client().Get("/api/v1/me")
	if resp.StatusCode != 401 || !strings.Contains(body, `"unauthenticated"`) {
		t.Fatalf("anonymous API: %d %s", resp.StatusCode, body)
	}
	parent := k.As(f.Parent)
	resp, body = parent.Get("/api/v1/me")
	var me struct {
		Login    string
		Profile  string
		Children []struct {
			FirstName string
			Classes   []struct{ Name string }
		}
		Apps       []string
		Structures []struct{ UAI, Type string }
	}
	if err := json.Unmarshal([]byte(body), &me); err != nil || resp.StatusCode != 200 {
		t.Fatalf("me: %d %v %s", resp.StatusCode, err, body)
	}
	if me.Login != f.Parent.Login || len(me.Children) != 1 || me.Children[0].Classes[0].Name != "4e A" || len(me.Apps) == 0 ||
		len(me.Structures) != 1 || me.Structures[0].Type != "college" {
		t.Fatalf("me: %+v", me)
	}
	resp, body = parent.Get("/api/v1/communication/may-write/" + f.Teacher.ID)
	if resp.StatusCode != 200 || !strings.Contains(body, `"mayWrite":true`) {
		t.Fatalf("may-write teacher: %d %s", resp.StatusCode, body)
	}
	_, body = parent.Get("/api/v1/communication/may-write/" + f.Classmate.ID)
	if !strings.Contains(body, `"mayWrite":false`) {
		t.Fatalf("may-write other pupil: %s", body)
	}
	// Administration through the API: forbidden for a parent, JSON errors for bad bodies.
	h := http.Header{"Content-Type": {"application/json"}}
	resp, body = parent.Do("POST", "/api/v1/admin/groups", strings.NewReader(`{"structureId":"`+f.College.ID+`","kind":"class","name":"3e Z"}`), h)
	if resp.StatusCode != 403 || !strings.Contains(body, `"forbidden"`) {
		t.Fatalf("parent creates class: %d %s", resp.StatusCode, body)
	}
	head := k.As(f.Head)
	resp, body = head.Do("POST", "/api/v1/admin/groups", strings.NewReader(`{"structureId":"`+f.College.ID+`","kind":"class","nme":"3e Z"}`), h)
	if resp.StatusCode != 400 || !strings.Contains(body, `"invalid"`) {
		t.Fatalf("unknown field: %d %s", resp.StatusCode, body)
	}
	resp, body = head.Do("POST", "/api/v1/admin/persons", strings.NewReader(`{"firstName":"Zoé","lastName":"Lemaire","profile":"Eleve","structureId":"`+f.College.ID+`","classId":"`+f.Class.ID+`"}`), h)
	var created struct{ ID, Login, ActivationCode string }
	if err := json.Unmarshal([]byte(body), &created); err != nil || resp.StatusCode != 201 || created.Login != "zoe.lemaire" || len(created.ActivationCode) != 8 {
		t.Fatalf("create person: %d %s", resp.StatusCode, body)
	}
	resp, body = head.Do("POST", "/api/v1/admin/persons", strings.NewReader(`{"firstName":"","lastName":"X","profile":"Eleve","structureId":"`+f.College.ID+`"}`), h)
	if resp.StatusCode != 400 || !strings.Contains(body, `"field":"first_name"`) || !strings.Contains(body, "Le prénom est obligatoire") {
		t.Fatalf("invalid person: %d %s", resp.StatusCode, body)
	}
	// The new pupil activates their account and logs in.
	c := k.Client()
	resp, body = c.Post("/activation", url.Values{"login": {"zoe.lemaire"}, "code": {created.ActivationCode}, "password": {"Trousse-Rouge-9"}, "confirm": {"Trousse-Rouge-9"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("activation: %d %s", resp.StatusCode, body)
	}
	c.Login("zoe.lemaire", "Trousse-Rouge-9")
}

func TestHealthAndMetrics(t *testing.T) {
	k := apptest.New(t)
	c := k.Client()
	for _, p := range []string{"/healthz", "/readyz"} {
		if resp, body := c.Get(p); resp.StatusCode != 200 || !strings.Contains(body, `"ok"`) {
			t.Fatalf("%s: %d %s", p, resp.StatusCode, body)
		}
	}
	c.Get("/connexion")
	_, body := c.Get("/metrics")
	contains(t, body, "preau_http_requests_total", "go_goroutines", "go_sql_open_connections")
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// While a long transaction holds SQLite (the first import of a directory), a login
// that waited out its busy timeout is told to try again in a minute (503 with
// Retry-After), not shown an internal error. It waits the timeout: ten seconds.
func TestLoginDuringALongWriteSaysToRetry(t *testing.T) {
	k := apptest.New(t)
	if k.App.DB.Dialect != db.SQLite {
		t.Skip("PostgreSQL keeps opening sessions during an import")
	}
	holder, err := k.App.DB.Conn(k.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(k.Ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	resp, body := k.Client().Post("/connexion", url.Values{"login": {k.School.Pupil.Login}, "password": {apptest.Password}})
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("login during a long write: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	contains(t, body, "Réessayez dans une minute")
	if _, err := holder.ExecContext(k.Ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	// Once the writer is done, the same login goes through.
	resp, _ = k.Client().Post("/connexion", url.Values{"login": {k.School.Pupil.Login}, "password": {apptest.Password}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("login after the write: %d", resp.StatusCode)
	}
}
