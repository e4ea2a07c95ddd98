package oidc_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/connector"
	"github.com/preau-ent/preau/internal/web/browsertest"
)

// TestBrowserOpenIDSignIn signs in through OpenID Connect in Chromium: the login
// form naming the client, the consent page, then the client's callback with a code,
// which the client exchanges. Pages are checked with axe-core.
func TestBrowserOpenIDSignIn(t *testing.T) {
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html lang="fr"><head><title>Client de test</title></head><body><main><h1>Code reçu</h1></main></body></html>`))
	}))
	t.Cleanup(rp.Close)
	e := setup(t)
	s := e.App.Services
	if _, err := s.Connectors.Update(e.Ctx, e.Sys, e.client.ID, connector.Input{Name: "Moodle", Icon: "ressources", URL: rp.URL + "/", Protocol: connector.OIDC,
		RedirectURIs: []string{rp.URL + "/cb"}, Attributes: []string{"uid", "nom", "prenom", "ENTEleveClasses"}, Consent: true}); err != nil {
		t.Fatal(err)
	}
	base := browsertest.HostURL(e.URL, "localhost")
	conf := e.conf
	conf.RedirectURL = rp.URL + "/cb"
	conf.Endpoint.AuthURL = base + "/oidc/authorize"
	verifier := oauth2.GenerateVerifier()
	b := browsertest.New(t)
	b.Navigate(conf.AuthCodeURL("etat", oauth2.S256ChallengeOption(verifier)))
	if txt := b.Text("main"); !strings.Contains(txt, "Connexion au service « Moodle »") {
		t.Fatalf("login form:\n%s", txt)
	}
	b.CheckA11y(t)
	b.Fill("#f-login", e.School.Pupil.Login)
	b.Fill("#f-password", apptest.Password)
	b.Submit("form button[type=submit]")
	if txt := b.Text("main"); !strings.Contains(txt, "Autoriser « Moodle » ?") || !strings.Contains(txt, "Classes et groupes") {
		t.Fatalf("consent page:\n%s", txt)
	}
	b.CheckA11y(t)
	b.Screenshot("consentement")
	b.Submit("button[value=accepter]")
	loc := b.Location()
	if !strings.HasPrefix(loc, rp.URL+"/cb?code=") || b.Text("h1") != "Code reçu" {
		t.Fatalf("not back at the client: %s", loc)
	}
	code := loc[strings.Index(loc, "code=")+5:]
	code = code[:strings.Index(code, "&")]
	if _, err := conf.Exchange(e.Ctx, code, oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("exchange of the browser's code: %v", err)
	}
}
