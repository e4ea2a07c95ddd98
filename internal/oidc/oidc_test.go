package oidc_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"html"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/preau-ent/preau/internal/app"
	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/connector"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/oidc"
	"github.com/preau-ent/preau/internal/platform/audit"
)

const (
	lms      = "https://moodle.example.org/"
	callback = lms + "cb"
	afterOut = lms + "au-revoir"
)

type env struct {
	*apptest.Kit
	client   connector.Connector
	secret   string
	provider *gooidc.Provider
	conf     oauth2.Config
}

// setup registers the LMS as an OpenID Connect client and points go-oidc (a widely
// used relying-party library) and golang.org/x/oauth2 at Préau through discovery.
func setup(t testing.TB, options ...func(*app.Options)) *env {
	k := apptest.New(t, options...)
	c, err := k.App.Services.Connectors.Create(k.Ctx, k.Sys, connector.Input{Name: "Moodle", Icon: "ressources", URL: lms, Protocol: connector.OIDC,
		RedirectURIs: []string{callback, afterOut}, Profiles: []string{directory.Eleve, directory.Enseignant},
		Attributes: []string{"uid", "nom", "prenom", "ENTPersonProfils", "ENTPersonStructRattachRNE", "ENTEleveClasses"}})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := k.App.Services.Connectors.NewClientSecret(k.Ctx, k.Sys, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	provider, err := gooidc.NewProvider(k.Ctx, k.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := oauth2.Config{ClientID: c.ID, ClientSecret: secret, Endpoint: provider.Endpoint(), RedirectURL: callback,
		Scopes: []string{gooidc.ScopeOpenID, "profile"}}
	return &env{Kit: k, client: c, secret: secret, provider: provider, conf: conf}
}

// authorize follows the authorization URL as the signed-in client and returns where
// the browser is sent.
func (e *env) authorize(t *testing.T, c *apptest.Client, authURL string) *url.URL {
	t.Helper()
	resp, body := c.Get(strings.TrimPrefix(authURL, e.URL))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("authorize: %d\n%s", resp.StatusCode, body)
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *env) code(t *testing.T, c *apptest.Client, verifier, state, nonce string) string {
	t.Helper()
	u := e.authorize(t, c, e.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce)))
	if !strings.HasPrefix(u.String(), callback+"?") || u.Query().Get("state") != state || u.Query().Get("code") == "" {
		t.Fatalf("redirected to %s", u)
	}
	return u.Query().Get("code")
}

func oauthError(t *testing.T, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != code || re.ErrorDescription == "" {
		t.Fatalf("want OAuth error %s with a description, got %v", code, err)
	}
}

func TestCodeFlowWithRelyingPartyLibraries(t *testing.T) {
	e := setup(t)
	f := e.School
	ctx := context.Background()
	pupil := e.As(f.Pupil)
	verifier := oauth2.GenerateVerifier()
	code := e.code(t, pupil, verifier, "etat-1", "nonce-1")

	tok, err := e.conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := e.provider.Verifier(&gooidc.Config{ClientID: e.client.ID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("ID token refused by go-oidc: %v", err)
	}
	if idt.Subject != f.Pupil.ID || idt.Nonce != "nonce-1" || idt.Issuer != e.URL {
		t.Fatalf("ID token: sub %s nonce %s iss %s", idt.Subject, idt.Nonce, idt.Issuer)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Fatalf("at_hash: %v", err)
	}
	var claims struct {
		Username   string   `json:"preferred_username"`
		Family     string   `json:"family_name"`
		Given      string   `json:"given_name"`
		Profile    string   `json:"ent_profil"`
		Structures []string `json:"ent_structures"`
		Classes    []string `json:"ent_classes"`
		Email      string   `json:"email"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Username != f.Pupil.Login || claims.Family != "Martin" || claims.Given != "Léa" || claims.Profile != "National_ELV" ||
		strings.Join(claims.Structures, ",") != "0690001A" || strings.Join(claims.Classes, ",") != "0690001A$4e A" || claims.Email != "" {
		t.Fatalf("claims %+v", claims)
	}
	ui, err := e.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || ui.Subject != f.Pupil.ID {
		t.Fatalf("userinfo: %v %+v", err, ui)
	}

	// The code is single-use; a replay revokes what it gave.
	_, err = e.conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	oauthError(t, err, "invalid_grant")
	if _, err := e.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("tokens of a replayed code still work")
	}

	// Refresh tokens rotate; replaying a spent one revokes the family.
	code = e.code(t, pupil, verifier, "etat-2", "nonce-2")
	tok, err = e.conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := e.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil || fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh: %v", err)
	}
	if _, err := e.provider.UserInfo(ctx, oauth2.StaticTokenSource(fresh)); err != nil {
		t.Fatalf("userinfo with the refreshed token: %v", err)
	}
	_, err = e.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	oauthError(t, err, "invalid_grant")
	if _, err := e.provider.UserInfo(ctx, oauth2.StaticTokenSource(fresh)); err == nil {
		t.Fatal("the family survived a replayed refresh token")
	}

	// Wrong verifier, wrong redirect URI, wrong secret, forged code.
	code = e.code(t, pupil, verifier, "etat-3", "n")
	_, err = e.conf.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	oauthError(t, err, "invalid_grant")
	code = e.code(t, pupil, verifier, "etat-4", "n")
	other := e.conf
	other.RedirectURL = afterOut
	_, err = other.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	oauthError(t, err, "invalid_grant")
	code = e.code(t, pupil, verifier, "etat-5", "n")
	other = e.conf
	other.ClientSecret = "pas-le-bon"
	_, err = other.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	oauthError(t, err, "invalid_client")
	_, err = e.conf.Exchange(ctx, "forge", oauth2.VerifierOption(verifier))
	oauthError(t, err, "invalid_grant")

	// Every grant and exchange is audited, refusals included.
	entries, _ := e.App.Services.Audit.Search(e.Ctx, audit.Filter{Action: "sso.oidc"})
	count := map[string]int{}
	for _, en := range entries {
		count[en.Action+map[bool]string{true: ".ok", false: ".refus"}[en.Success]]++
	}
	if count["sso.oidc.grant.ok"] != 5 || count["sso.oidc.token.ok"] != 3 || count["sso.oidc.token.refus"] != 6 {
		t.Errorf("audit %v", count)
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	e := setup(t)
	f := e.School
	pupil := e.As(f.Pupil)
	verifier := oauth2.GenerateVerifier()

	// Unregistered redirect URIs and clients: a clear page, never a redirection.
	for _, q := range []url.Values{
		{"client_id": {e.client.ID}, "redirect_uri": {"https://evil.example.org/cb"}, "response_type": {"code"}, "scope": {"openid"}},
		{"client_id": {e.client.ID}, "redirect_uri": {callback + "/../admin"}, "response_type": {"code"}, "scope": {"openid"}},
		{"client_id": {"inconnu"}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"openid"}},
	} {
		resp, body := pupil.Get("/oidc/authorize?" + q.Encode())
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(html.UnescapeString(body), "n'est pas enregistré") {
			t.Errorf("%v: %d %q", q, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	entries, _ := e.App.Services.Audit.Search(e.Ctx, audit.Filter{Action: "sso.oidc.grant"})
	if len(entries) != 3 || entries[0].Details["reason"] != "unknown_client" || entries[0].ActorLogin != f.Pupil.Login {
		t.Errorf("refusals audited: %+v", entries)
	}

	// Bad requests from a known client go back to it with the error.
	u := e.authorize(t, pupil, e.conf.AuthCodeURL("s")) // no PKCE
	if u.Query().Get("error") != "invalid_request" || u.Query().Get("state") != "s" || !strings.HasPrefix(u.String(), callback) {
		t.Errorf("without PKCE: %s", u)
	}
	u = e.authorize(t, e.Client(), e.conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none")))
	if u.Query().Get("error") != "login_required" {
		t.Errorf("prompt=none, anonymous: %s", u)
	}
	u = e.authorize(t, e.As(f.Parent), e.conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	if u.Query().Get("error") != "access_denied" {
		t.Errorf("a parent, not allowed: %s", u)
	}

	// Anonymous: the login form, which posts back with the same query (login CSRF
	// protection applies), then the code.
	anon := e.Client()
	authURL := strings.TrimPrefix(e.conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), e.URL)
	resp, body := anon.Get(authURL)
	if resp.StatusCode != 200 || !strings.Contains(html.UnescapeString(body), "Connexion au service « Moodle »") {
		t.Fatalf("login form: %d", resp.StatusCode)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://moodle.example.org;") {
		t.Errorf("CSP %q", csp)
	}
	form := url.Values{"login": {f.Teacher.Login}, "password": {apptest.Password}}
	resp, _ = anon.Do("POST", authURL, strings.NewReader(form.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Sec-Fetch-Site": {"cross-site"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site login post: %d", resp.StatusCode)
	}
	resp, _ = anon.Post(authURL, form)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, callback+"?code=") {
		t.Fatalf("after login: %d %s", resp.StatusCode, loc)
	}
}

func TestLogoutAndExpiry(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := setup(t, func(o *app.Options) { o.OIDC.Now = clock })
	ctx := context.Background()
	pupil := e.As(e.School.Pupil)
	verifier := oauth2.GenerateVerifier()

	// An expired code.
	code := e.code(t, pupil, verifier, "s", "n")
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	_, err := e.conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	oauthError(t, err, "invalid_grant")

	code = e.code(t, pupil, verifier, "s", "n")
	tok, err := e.conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw := tok.Extra("id_token").(string)
	// Logout to an unregistered address: Préau's login page.
	resp, _ := e.As(e.School.Teacher).Get("/oidc/logout?" + url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {"https://evil.example.org/"}}.Encode())
	if resp.Header.Get("Location") != "/connexion" {
		t.Errorf("logout to an unknown address: %q", resp.Header.Get("Location"))
	}
	resp, _ = pupil.Get("/oidc/logout?" + url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {afterOut}, "state": {"x"}}.Encode())
	if resp.Header.Get("Location") != afterOut+"?state=x" {
		t.Fatalf("logout: %q", resp.Header.Get("Location"))
	}
	if resp, _ := pupil.Get("/"); resp.Header.Get("Location") != "/connexion" {
		t.Error("still signed in")
	}
	if _, err := e.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("access token alive after logout")
	}
	_, err = e.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	oauthError(t, err, "invalid_grant")
}

// Signing keys are encrypted at rest, rotated, and old ones stay published a while.
func TestKeyRotationAndEncryption(t *testing.T) {
	k := apptest.New(t)
	s := k.App.Services
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	key := make([]byte, 32)
	rand.Read(key)
	p := oidc.New(k.App.DB, s.Audit, s.Directory, s.Connectors, oidc.Config{SecretKey: key, Now: clock, RotateEvery: 24 * time.Hour, KeepFor: time.Hour})
	kids := func(p *oidc.Service) string {
		set, err := p.JWKS(k.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range set.Keys {
			out = append(out, k.KeyID)
		}
		return strings.Join(out, " ")
	}
	first := kids(p)
	if len(strings.Fields(first)) != 1 {
		t.Fatalf("keys %q", first)
	}
	advance(25 * time.Hour)
	second := kids(p)
	if f := strings.Fields(second); len(f) != 2 || f[1] != first {
		t.Fatalf("after rotation %q (first %q)", second, first)
	}
	advance(2 * time.Hour)
	if third := kids(p); third != strings.Fields(second)[0] {
		t.Fatalf("old key still published: %q", third)
	}

	// At rest: no usable private key, and another secret key reads nothing.
	var sealed []byte
	if err := k.App.DB.QueryRowContext(k.Ctx, `SELECT private_sealed FROM oidc_keys LIMIT 1`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParsePKCS1PrivateKey(sealed); err == nil {
		t.Fatal("the private key is stored in clear")
	}
	other := make([]byte, 32)
	rand.Read(other)
	if _, err := oidc.New(k.App.DB, s.Audit, s.Directory, s.Connectors, oidc.Config{SecretKey: other, Now: clock}).JWKS(k.Ctx); err == nil {
		t.Fatal("keys read with the wrong secret key")
	}
}

// challenge is the S256 PKCE challenge of a verifier.
func challenge(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// A client the administrator put under consent: the person is asked, a refusal goes
// back to the client, an agreement is kept until the released information changes.
func TestConsent(t *testing.T) {
	e := setup(t)
	s := e.App.Services
	in := connector.Input{Name: "Moodle", Icon: "ressources", URL: lms, Protocol: connector.OIDC, RedirectURIs: []string{callback},
		Attributes: []string{"uid", "nom"}, Consent: true}
	if _, err := s.Connectors.Update(e.Ctx, e.Sys, e.client.ID, in); err != nil {
		t.Fatal(err)
	}
	pupil := e.As(e.School.Pupil)
	verifier := oauth2.GenerateVerifier()
	authURL := strings.TrimPrefix(e.conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), e.URL)
	consentPage := func() {
		t.Helper()
		resp, body := pupil.Get(authURL)
		text := html.UnescapeString(body)
		if resp.StatusCode != 200 || !strings.Contains(text, "Autoriser « Moodle » ?") || !strings.Contains(text, "Identifiant de connexion") {
			t.Fatalf("no consent page: %d", resp.StatusCode)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://moodle.example.org;") {
			t.Errorf("CSP %q", csp)
		}
	}
	consentPage()
	u := e.authorize(t, pupil, e.conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none")))
	if u.Query().Get("error") != "consent_required" {
		t.Errorf("prompt=none: %s", u)
	}
	resp, _ := pupil.Do("POST", authURL, strings.NewReader("consentement=accepter"), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Sec-Fetch-Site": {"cross-site"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site consent: %d", resp.StatusCode)
	}
	resp, _ = pupil.Post(authURL, url.Values{"consentement": {"refuser"}})
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, callback+"?error=access_denied") {
		t.Fatalf("refusal: %s", loc)
	}
	consentPage()
	resp, _ = pupil.Post(authURL, url.Values{"consentement": {"accepter"}})
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, callback+"?code=") {
		t.Fatalf("agreement: %s", loc)
	}
	e.code(t, pupil, verifier, "s2", "n") // asked once only

	in.Attributes = []string{"uid", "nom", "ENTEleveClasses"}
	if _, err := s.Connectors.Update(e.Ctx, e.Sys, e.client.ID, in); err != nil {
		t.Fatal(err)
	}
	consentPage()
	entries, _ := s.Audit.Search(e.Ctx, audit.Filter{Action: "sso.oidc.consent"})
	if len(entries) != 2 || entries[0].Success != true || entries[1].Success != false {
		t.Errorf("consent audit: %+v", entries)
	}
}
