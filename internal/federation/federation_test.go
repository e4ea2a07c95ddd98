package federation_test

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/connector"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/federation"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/web/browsertest"
)

// client is a cookie-keeping HTTP client that does not follow redirections.
type client struct {
	t    *testing.T
	http *http.Client
}

func newClient(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(method, target string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, html.UnescapeString(string(b))
}

type env struct {
	ent, idp *apptest.Kit
	entBase  string
	provider federation.Provider
}

// setup starts two deployments: the ENT, and another Préau as the external OpenID
// Connect provider (an independent server with its own database), whose
// preferred_username is matched with the ENT's logins.
func setup(t *testing.T) *env {
	e := &env{ent: apptest.New(t), idp: apptest.New(t)}
	e.entBase = browsertest.HostURL(e.ent.URL, "localhost")
	is := e.idp.App.Services
	c, err := is.Connectors.Create(e.idp.Ctx, e.idp.Sys, connector.Input{Name: "ENT de la Région", Icon: "connecteur", URL: e.entBase + "/", Protocol: connector.OIDC,
		RedirectURIs: []string{e.entBase + "/placeholder"}, Attributes: []string{"uid"}})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := is.Connectors.NewClientSecret(e.idp.Ctx, e.idp.Sys, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.provider, err = e.ent.App.Services.Federation.Create(e.ent.Ctx, e.ent.Sys, federation.Input{Name: "Académie", Issuer: e.idp.URL, ClientID: c.ID,
		ClientSecret: secret, Claim: "preferred_username", Match: "login"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := is.Connectors.Update(e.idp.Ctx, e.idp.Sys, c.ID, connector.Input{Name: c.Name, Icon: c.Icon, URL: c.URL, Protocol: connector.OIDC,
		RedirectURIs: []string{e.entBase + "/connexion/federee/" + e.provider.ID + "/retour"}, Attributes: []string{"uid"}}); err != nil {
		t.Fatal(err)
	}
	return e
}

// signIn goes from the ENT's button to the provider's login form, signs in there as
// login, and returns the ENT's callback address.
func (e *env) signIn(t *testing.T, c *client, login string) string {
	t.Helper()
	resp, body := c.do("GET", e.entBase+"/connexion/federee/"+e.provider.ID, nil)
	auth := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(auth, e.idp.URL+"/oidc/authorize?") {
		t.Fatalf("not sent to the provider: %d %s\n%s", resp.StatusCode, auth, body)
	}
	if resp, body = c.do("GET", auth, nil); resp.StatusCode != 200 || !strings.Contains(body, "ENT de la Région") {
		t.Fatalf("provider's login form: %d\n%s", resp.StatusCode, body)
	}
	resp, body = c.do("POST", auth, url.Values{"login": {login}, "password": {apptest.Password}})
	back := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(back, e.entBase+"/connexion/federee/"+e.provider.ID+"/retour?") {
		t.Fatalf("not sent back to the ENT: %d %s\n%s", resp.StatusCode, back, body)
	}
	return back
}

var handleRe = regexp.MustCompile(`name="h" value="([^"]+)"`)

func TestFederatedLogin(t *testing.T) {
	e := setup(t)
	f := e.ent.School

	// The login page offers the provider.
	c := newClient(t)
	if _, body := c.do("GET", e.entBase+"/connexion", nil); !strings.Contains(body, "Se connecter avec Académie") ||
		!strings.Contains(body, `href="/connexion/federee/`+e.provider.ID+`"`) {
		t.Fatalf("no federated button:\n%s", body)
	}

	// First time: the link is confirmed with the Préau password.
	back := e.signIn(t, c, f.Pupil.Login)
	resp, body := c.do("GET", back, nil)
	m := handleRe.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil || !strings.Contains(body, "Lier votre compte") {
		t.Fatalf("link page: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := c.do("GET", back, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("replayed callback: %d", resp.StatusCode)
	}
	resp, body = c.do("POST", e.entBase+"/connexion/federee/lier", url.Values{"h": {m[1]}, "login": {f.Pupil.Login}, "password": {"mauvais"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Identifiant ou mot de passe incorrect") || !strings.Contains(body, `value="`+f.Pupil.Login+`"`) {
		t.Fatalf("wrong password: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = c.do("POST", e.entBase+"/connexion/federee/lier", url.Values{"h": {m[1]}, "login": {f.Pupil.Login}, "password": {apptest.Password}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("link: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := c.do("GET", e.entBase+"/", nil); resp.StatusCode != 200 || !strings.Contains(body, "Votre compte est lié") {
		t.Fatalf("not signed in after the link: %d", resp.StatusCode)
	}

	// Next time, the provider is enough.
	c2 := newClient(t)
	resp, _ = c2.do("GET", e.signIn(t, c2, f.Pupil.Login), nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("linked sign-in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := c2.do("GET", e.entBase+"/mon-compte", nil); resp.StatusCode != 200 || !strings.Contains(body, f.Pupil.Login) {
		t.Fatalf("not signed in: %d", resp.StatusCode)
	}

	// The teacher's identity with the pupil's password: no link, no session.
	c3 := newClient(t)
	_, body = c3.do("GET", e.signIn(t, c3, f.Teacher.Login), nil)
	m = handleRe.FindStringSubmatch(body)
	resp, body = c3.do("POST", e.entBase+"/connexion/federee/lier", url.Values{"h": {m[1]}, "login": {f.Pupil.Login}, "password": {apptest.Password}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "un autre compte") {
		t.Fatalf("other account: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := c3.do("GET", e.entBase+"/mon-compte", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a session was kept after a refused link: %d", resp.StatusCode)
	}

	// Someone the provider knows and the ENT does not.
	stranger := e.idp.Person("Zoé", "Inconnue", directory.Eleve, e.idp.School.College.ID)
	c4 := newClient(t)
	if resp, body := c4.do("GET", e.signIn(t, c4, stranger.Login), nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Aucun compte") {
		t.Fatalf("unknown person: %d\n%s", resp.StatusCode, body)
	}

	entries, _ := e.ent.App.Services.Audit.Search(e.ent.Ctx, audit.Filter{Action: "federation"})
	count := map[string]int{}
	for _, en := range entries {
		count[en.Action+map[bool]string{true: ".ok", false: ".refus"}[en.Success]]++
	}
	if count["federation.link.ok"] != 1 || count["federation.link.refus"] != 1 || count["federation.login.ok"] != 1 || count["federation.login.refus"] != 2 {
		t.Errorf("audit: %v", count)
	}
}

func TestProvidersConsole(t *testing.T) {
	k := apptest.New(t)
	admin := k.As(k.School.Admin)
	resp, body := admin.Post("/admin/federation", url.Values{"name": {"Académie"}, "issuer": {"http://idp.example.org"}, "client_id": {"ent"},
		"client_secret": {"s3cret"}, "claim": {"sub"}, "match": {"externalId"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(html.UnescapeString(body), "https://") || !strings.Contains(body, `value="Académie"`) || strings.Contains(body, "s3cret") {
		t.Fatalf("bad issuer: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = admin.Post("/admin/federation", url.Values{"name": {"Académie"}, "issuer": {"https://idp.example.org"}, "client_id": {"ent"},
		"client_secret": {"s3cret"}, "claim": {"sub"}, "match": {"externalId"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	if _, body := admin.Get("/admin/federation"); !strings.Contains(body, "https://idp.example.org") {
		t.Fatalf("not listed:\n%s", body)
	}
	var sealed []byte
	if err := k.App.DB.QueryRowContext(k.Ctx, `SELECT secret_sealed FROM federation_providers`).Scan(&sealed); err != nil || strings.Contains(string(sealed), "s3cret") {
		t.Errorf("secret not sealed: %v", err)
	}
	// Only super administrators.
	if resp, _ := k.As(k.School.Head).Get("/admin/federation"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("local administrator: %d", resp.StatusCode)
	}
}
