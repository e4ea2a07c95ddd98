package saml_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"html"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewsaml "github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/connector"
	"github.com/preau-ent/preau/internal/web/browsertest"
)

// testSP is a small service provider application built on crewjam/saml (an
// independent SAML implementation): /hello requires a SAML session and shows the
// NameID and attributes as JSON, /logout starts a logout at the identity provider,
// /saml/slo takes the identity provider's logout messages (its LogoutResponse,
// checked by crewjam/saml, and back-channel LogoutRequests, whose signature is checked
// against the certificate of the identity provider's metadata).
type testSP struct {
	URL       string
	MW        *samlsp.Middleware
	Connector connector.Connector
	cert      *x509.Certificate

	mu      sync.Mutex
	revoked map[string]bool // NameIDs the identity provider logged out
	logouts int
	seen    map[string]bool // assertion IDs already accepted
}

// HandleAssertion is the replay cache of the service provider: an assertion is
// accepted once (crewjam/saml leaves this check to the application).
func (sp *testSP) HandleAssertion(a *crewsaml.Assertion) error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.seen[a.ID] {
		return errors.New("assertion rejouée")
	}
	sp.seen[a.ID] = true
	return nil
}

// newSP starts the service provider against Préau at base (signing its requests
// with a key registered with the connector when signed), and registers it; the GAR
// one accepts IdP-initiated responses.
func newSP(t testing.TB, k *apptest.Kit, base string, signed bool, binding string, gar bool) *testSP {
	t.Helper()
	return newSPOn(t, k, base, "127.0.0.1", signed, binding, gar)
}

// newSPOn is newSP with the service provider reached by the name host.
func newSPOn(t testing.TB, k *apptest.Kit, base, host string, signed bool, binding string, gar bool) *testSP {
	t.Helper()
	sp := &testSP{revoked: map[string]bool{}, seen: map[string]bool{}}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	sp.URL = browsertest.HostURL(srv.URL, host)
	key, cert := selfSigned(t)
	sp.cert = cert
	md := fetchMetadata(t, base)
	root, _ := url.Parse(sp.URL)
	mw, err := samlsp.New(samlsp.Options{URL: *root, Key: key, Certificate: cert, IDPMetadata: md, SignRequest: signed, AllowIDPInitiated: gar})
	if err != nil {
		t.Fatal(err)
	}
	mw.Binding = binding
	mw.AssertionHandler = sp // refuses an assertion seen before
	if signed {
		// Préau accepts RSA-SHA256 signatures only (crewjam/saml defaults to SHA-1).
		mw.ServiceProvider.SignatureMethod = dsig.RSASHA256SignatureMethod
	}
	sp.MW = mw
	mux.Handle("/saml/", mw)
	mux.HandleFunc("/saml/slo", sp.slo)
	mux.Handle("/hello", mw.RequireAccount(http.HandlerFunc(sp.hello)))
	mux.Handle("/logout", mw.RequireAccount(http.HandlerFunc(sp.logout)))
	in := connector.Input{Name: "Ressources de test", Icon: "ressources", URL: sp.URL + "/hello", Protocol: connector.SAML, SingleLogout: true,
		Attributes: []string{"uid", "nom", "prenom", "ENTPersonProfils", "ENTPersonStructRattachRNE", "ENTEleveClasses"},
		SAMLSettings: connector.SAMLSettings{EntityID: mw.ServiceProvider.EntityID, ACSURLs: []string{mw.ServiceProvider.AcsURL.String()},
			SLOURL: mw.ServiceProvider.SloURL.String(), GAR: gar}}
	if in.EntityID == "" {
		in.EntityID = mw.ServiceProvider.MetadataURL.String()
	}
	if signed {
		in.SPCert = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
	}
	sp.Connector, err = k.App.Services.Connectors.Create(k.Ctx, k.Sys, in)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func fetchMetadata(t testing.TB, base string) *crewsaml.EntityDescriptor {
	t.Helper()
	resp, err := http.Get(base + "/saml/metadata")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	md, err := samlsp.ParseMetadata(raw)
	if err != nil {
		t.Fatalf("metadata: %v\n%s", err, raw)
	}
	return md
}

func selfSigned(t testing.TB) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sp de test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return key, cert
}

type helloPage struct {
	NameID     string              `json:"name_id"`
	Attributes map[string][]string `json:"attributes"`
}

func (sp *testSP) hello(w http.ResponseWriter, r *http.Request) {
	claims, _ := samlsp.SessionFromContext(r.Context()).(samlsp.JWTSessionClaims)
	sp.mu.Lock()
	revoked := sp.revoked[claims.Subject]
	sp.mu.Unlock()
	if revoked {
		// The identity provider logged this person out: the session is over.
		_ = sp.MW.Session.DeleteSession(w, r)
		sp.MW.HandleStartAuthFlow(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	b, _ := json.Marshal(helloPage{NameID: claims.Subject, Attributes: claims.Attributes})
	io.WriteString(w, `<!doctype html><html lang="fr"><head><title>Service SAML de test</title></head><body><main><h1>Connecté</h1>`+
		`<p id="user">`+html.EscapeString(claims.Attributes.Get("uid"))+`</p><pre id="attributes">`+html.EscapeString(string(b))+`</pre>`+
		`<p><a id="logout" href="/logout">Se déconnecter</a></p></main></body></html>`)
}

func (sp *testSP) logout(w http.ResponseWriter, r *http.Request) {
	claims, _ := samlsp.SessionFromContext(r.Context()).(samlsp.JWTSessionClaims)
	u, err := sp.MW.ServiceProvider.MakeRedirectLogoutRequest(claims.Subject, "")
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	_ = sp.MW.Session.DeleteSession(w, r)
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (sp *testSP) slo(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("SAMLResponse") != "" {
		if err := sp.MW.ServiceProvider.ValidateLogoutResponseRequest(r); err != nil {
			http.Error(w, "réponse de déconnexion refusée : "+err.Error(), http.StatusForbidden)
			return
		}
		io.WriteString(w, `<!doctype html><html lang="fr"><head><title>Déconnecté</title></head><body><main><h1 id="out">Déconnecté</h1></main></body></html>`)
		return
	}
	// A back-channel LogoutRequest: signed by a certificate of the metadata.
	raw, err := base64.StdEncoding.DecodeString(r.PostFormValue("SAMLRequest"))
	if err != nil {
		http.Error(w, "illisible", http.StatusBadRequest)
		return
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		http.Error(w, "illisible", http.StatusBadRequest)
		return
	}
	var certs []*x509.Certificate
	for _, kd := range sp.MW.ServiceProvider.IDPMetadata.IDPSSODescriptors[0].KeyDescriptors {
		der, _ := base64.StdEncoding.DecodeString(kd.KeyInfo.X509Data.X509Certificates[0].Data)
		if c, err := x509.ParseCertificate(der); err == nil {
			certs = append(certs, c)
		}
	}
	validated, err := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: certs}).Validate(doc.Root())
	if err != nil {
		http.Error(w, "signature refusée : "+err.Error(), http.StatusForbidden)
		return
	}
	var req crewsaml.LogoutRequest
	vdoc := etree.NewDocument()
	vdoc.SetRoot(validated)
	b, _ := vdoc.WriteToBytes()
	if err := xml.Unmarshal(b, &req); err != nil || req.NameID == nil || req.Destination != sp.MW.ServiceProvider.SloURL.String() {
		http.Error(w, "demande refusée", http.StatusBadRequest)
		return
	}
	sp.mu.Lock()
	sp.revoked[req.NameID.Value] = true
	sp.logouts++
	sp.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// browser is a cookie-keeping HTTP client that follows redirections itself and
// submits SAML's auto-posted forms, as a browser with JavaScript would.
type browser struct {
	t    testing.TB
	http *http.Client
}

func newBrowser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	URL    string
	Status int
	Body   string
	Header http.Header
}

func (b *browser) do(method, target string, form url.Values, site string) page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", site)
	}
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return page{URL: target, Status: resp.StatusCode, Body: string(raw), Header: resp.Header}
}

// forget drops the cookies of a site (the service provider's session).
func (b *browser) forget(site string) {
	u, _ := url.Parse(site)
	var expired []*http.Cookie
	for _, c := range b.http.Jar.Cookies(u) {
		expired = append(expired, &http.Cookie{Name: c.Name, Value: "", Path: "/", MaxAge: -1})
	}
	b.http.Jar.SetCookies(u, expired)
}

// follow goes through redirections and auto-posted SAML forms; it stops at the first
// other page.
func (b *browser) follow(p page) page {
	b.t.Helper()
	return b.walk(p, false)
}

// untilResponse follows until Préau's page that posts a SAMLResponse.
func (b *browser) untilResponse(p page) page {
	b.t.Helper()
	p = b.walk(p, true)
	if !strings.Contains(p.Body, `name="SAMLResponse"`) {
		b.t.Fatalf("no SAML response at %s (%d):\n%s", p.URL, p.Status, p.Body)
	}
	return p
}

func (b *browser) walk(p page, stopAtResponse bool) page {
	b.t.Helper()
	for range 12 {
		if stopAtResponse && strings.Contains(p.Body, `name="SAMLResponse"`) {
			return p
		}
		switch {
		case p.Status >= 300 && p.Status < 400:
			next, err := url.Parse(p.URL)
			if err != nil {
				b.t.Fatal(err)
			}
			loc, err := next.Parse(p.Header.Get("Location"))
			if err != nil {
				b.t.Fatal(err)
			}
			p = b.do("GET", loc.String(), nil, "")
		case p.Status == 200 && (strings.Contains(p.Body, `name="SAMLResponse"`) || strings.Contains(p.Body, `name="SAMLRequest"`)):
			action, form := autoForm(b.t, p.Body)
			p = b.do("POST", action, form, "cross-site")
		default:
			return p
		}
	}
	b.t.Fatalf("too many steps, at %s", p.URL)
	return p
}

var (
	formAction = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
	hiddenIn   = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)"`)
)

// formWith returns the form of the page that holds marker.
func formWith(body, marker string) string {
	i := strings.Index(body, marker)
	if i < 0 {
		return ""
	}
	start := strings.LastIndex(body[:i], "<form")
	end := strings.Index(body[i:], "</form>")
	if start < 0 || end < 0 {
		return ""
	}
	return body[start : i+end]
}

// autoForm reads the action and hidden fields of the page's SAML form.
func autoForm(t testing.TB, body string) (string, url.Values) {
	t.Helper()
	f := formWith(body, `name="SAMLResponse"`)
	if f == "" {
		f = formWith(body, `name="SAMLRequest"`)
	}
	m := formAction.FindStringSubmatch(f)
	if m == nil {
		t.Fatalf("no form:\n%s", body)
	}
	body = f
	form := url.Values{}
	for _, h := range hiddenIn.FindAllStringSubmatch(body, -1) {
		form.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	return html.UnescapeString(m[1]), form
}

// login fills Préau's login form on p (the /saml/continue page).
func (b *browser) login(p page, login, password string) page {
	b.t.Helper()
	m := formAction.FindStringSubmatch(formWith(p.Body, `name="password"`))
	if m == nil {
		b.t.Fatalf("no login form at %s (%d):\n%s", p.URL, p.Status, p.Body)
	}
	u, _ := url.Parse(p.URL)
	action, _ := u.Parse(html.UnescapeString(m[1]))
	return b.do("POST", action.String(), url.Values{"login": {login}, "password": {password}}, "same-origin")
}

func helloOf(t testing.TB, p page) helloPage {
	t.Helper()
	i := strings.Index(p.Body, `<pre id="attributes">`)
	if p.Status != 200 || i < 0 {
		t.Fatalf("not signed in to the service: %s %d\n%s", p.URL, p.Status, p.Body)
	}
	raw := p.Body[i+len(`<pre id="attributes">`):]
	raw = html.UnescapeString(raw[:strings.Index(raw, "</pre>")])
	var h helloPage
	if err := json.Unmarshal([]byte(raw), &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// preauBase is Préau's address by the name "localhost", so that its cookies and the
// service provider's (on 127.0.0.1) stay apart.
func preauBase(k *apptest.Kit) string { return browsertest.HostURL(k.URL, "localhost") }
