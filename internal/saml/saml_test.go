package saml_test

import (
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	crewsaml "github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"

	"github.com/preau-ent/preau/internal/app"
	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/platform/audit"
)

func kit(t testing.TB) *apptest.Kit {
	return apptest.New(t, func(o *app.Options) { o.SAML.IDEnt = "PREAU-TEST" })
}

// refusals counts the audited refusals of an action by reason.
func refusals(t testing.TB, k *apptest.Kit, action string) map[string]int {
	t.Helper()
	entries, err := k.App.Services.Audit.Search(k.Ctx, audit.Filter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range entries {
		if e.Action == action && !e.Success {
			out[e.Details["reason"]]++
		}
	}
	return out
}

func grants(t testing.TB, k *apptest.Kit) int {
	t.Helper()
	entries, _ := k.App.Services.Audit.Search(k.Ctx, audit.Filter{Action: "sso.saml.grant"})
	n := 0
	for _, e := range entries {
		if e.Action == "sso.saml.grant" && e.Success {
			n++
		}
	}
	return n
}

func TestMetadata(t *testing.T) {
	k := kit(t)
	base := preauBase(k)
	md := fetchMetadata(t, base)
	if md.EntityID != base+"/saml/metadata" || len(md.IDPSSODescriptors) != 1 {
		t.Fatalf("metadata: %+v", md)
	}
	d := md.IDPSSODescriptors[0]
	bindings := map[string]string{}
	for _, e := range d.SingleSignOnServices {
		bindings["sso "+e.Binding] = e.Location
	}
	for _, e := range d.SingleLogoutServices {
		bindings["slo "+e.Binding] = e.Location
	}
	for _, b := range []string{crewsaml.HTTPRedirectBinding, crewsaml.HTTPPostBinding} {
		if bindings["sso "+b] != base+"/saml/sso" || bindings["slo "+b] != base+"/saml/slo" {
			t.Errorf("endpoints: %v", bindings)
		}
	}
	if len(d.KeyDescriptors) != 1 || d.KeyDescriptors[0].Use != "signing" || d.KeyDescriptors[0].KeyInfo.X509Data.X509Certificates[0].Data == "" {
		t.Fatalf("signing certificate: %+v", d.KeyDescriptors)
	}
	// The key is made once, stored encrypted: the same certificate every time, and a
	// rotation publishes a new one beside it.
	again := fetchMetadata(t, base)
	if again.IDPSSODescriptors[0].KeyDescriptors[0].KeyInfo.X509Data.X509Certificates[0].Data != d.KeyDescriptors[0].KeyInfo.X509Data.X509Certificates[0].Data {
		t.Error("the certificate changed between two requests")
	}
	if err := k.App.Services.SAML.Rotate(k.Ctx, k.Sys); err != nil {
		t.Fatal(err)
	}
	rotated := fetchMetadata(t, base).IDPSSODescriptors[0].KeyDescriptors
	if len(rotated) != 2 || rotated[1].KeyInfo.X509Data.X509Certificates[0].Data != d.KeyDescriptors[0].KeyInfo.X509Data.X509Certificates[0].Data {
		t.Errorf("after rotation: %d keys", len(rotated))
	}
	var sealed []byte
	if err := k.App.DB.QueryRowContext(k.Ctx, `SELECT private_sealed FROM saml_keys LIMIT 1`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), "RSA") || len(sealed) < 1000 {
		t.Error("the private key is not stored sealed")
	}
}

// SP-initiated sign-on, HTTP-Redirect binding, signed requests: the login form names
// the service, the service receives the chosen attributes in a signed response.
func TestSPInitiatedRedirect(t *testing.T) {
	k := kit(t)
	f := k.School
	sp := newSP(t, k, preauBase(k), true, "", false)
	sp.MW.ServiceProvider.AuthnNameIDFormat = crewsaml.PersistentNameIDFormat
	b := newBrowser(t)
	p := b.follow(b.do("GET", sp.URL+"/hello", nil, ""))
	if !strings.Contains(p.URL, "/saml/continue?r=") || !strings.Contains(html.UnescapeString(p.Body), "Connexion au service « Ressources de test »") {
		t.Fatalf("no login form for the service: %s\n%s", p.URL, p.Body)
	}
	bad := b.login(p, f.Pupil.Login, "mauvais")
	if bad.Status == 200 || !strings.Contains(html.UnescapeString(bad.Body), "Identifiant ou mot de passe incorrect") || !strings.Contains(bad.Body, `value="`+f.Pupil.Login+`"`) {
		t.Fatalf("wrong password: %d\n%s", bad.Status, bad.Body)
	}
	h := helloOf(t, b.follow(b.login(p, f.Pupil.Login, apptest.Password)))
	want := map[string]string{"uid": f.Pupil.Login, "nom": "Martin", "prenom": "Léa", "ENTPersonProfils": "National_ELV",
		"ENTPersonStructRattachRNE": "0690001A", "ENTEleveClasses": "0690001A$4e A"}
	for name, v := range want {
		if got := h.Attributes[name]; len(got) != 1 || got[0] != v {
			t.Errorf("attribute %s = %v, want %s", name, got, v)
		}
	}
	if h.NameID == "" || strings.HasPrefix(h.NameID, "_") {
		t.Errorf("persistent NameID expected: %q", h.NameID)
	}
	if _, gar := h.Attributes["GARPersonIdentifiant"]; gar {
		t.Error("GAR attributes released to a service that is not the GAR")
	}
	// Signed in to Préau now: a new sign-on from another service session asks for
	// nothing and gives the same pairwise NameID.
	b.forget(sp.URL)
	if again := helloOf(t, b.follow(b.do("GET", sp.URL+"/hello", nil, ""))); again.NameID != h.NameID {
		t.Errorf("the persistent NameID changed: %s, %s", again.NameID, h.NameID)
	}
	if n := grants(t, k); n != 2 {
		t.Errorf("grants audited: %d", n)
	}
}

// SP-initiated sign-on, HTTP-POST binding, for someone already signed in to Préau:
// the cross-site post is accepted at /saml/sso only.
func TestSPInitiatedPOST(t *testing.T) {
	k := kit(t)
	f := k.School
	base := preauBase(k)
	sp := newSP(t, k, base, true, crewsaml.HTTPPostBinding, false)
	b := newBrowser(t)
	if p := b.do("POST", base+"/connexion", url.Values{"login": {f.Teacher.Login}, "password": {apptest.Password}}, "same-origin"); p.Status != http.StatusSeeOther {
		t.Fatalf("login: %d", p.Status)
	}
	p := b.do("GET", sp.URL+"/hello", nil, "")
	if !strings.Contains(p.Body, `name="SAMLRequest"`) {
		t.Fatalf("the service did not post its request: %s", p.Body)
	}
	h := helloOf(t, b.follow(p))
	if h.Attributes["uid"][0] != f.Teacher.Login || h.Attributes["ENTPersonProfils"][0] != "National_ENS" {
		t.Errorf("attributes: %v", h.Attributes)
	}
	// The cross-origin protection still covers the rest of /saml.
	if p := b.do("POST", base+"/saml/continue?r=x", url.Values{"login": {"x"}}, "cross-site"); p.Status != http.StatusForbidden {
		t.Errorf("cross-site post to /saml/continue: %d", p.Status)
	}
}

// IdP-initiated sign-on to the GAR: transient NameID and the GAR attribute set.
func TestIdPInitiatedGAR(t *testing.T) {
	k := kit(t)
	f := k.School
	base := preauBase(k)
	sp := newSP(t, k, base, false, "", true)
	b := newBrowser(t)
	p := b.follow(b.do("GET", base+"/saml/idp-initiated?sp="+sp.Connector.ID+"&RelayState=%2Fhello", nil, ""))
	h := helloOf(t, b.follow(b.login(p, f.Teacher.Login, apptest.Password)))
	want := map[string]string{"idEnt": "PREAU-TEST", "GARPersonIdentifiant": f.Teacher.ID, "GARStructureUAI": "0690001A", "GARPersonProfils": "National_ens"}
	for name, v := range want {
		if got := h.Attributes[name]; len(got) != 1 || got[0] != v {
			t.Errorf("attribute %s = %v, want %s", name, got, v)
		}
	}
	if !strings.HasPrefix(h.NameID, "_") {
		t.Errorf("transient NameID expected: %q", h.NameID)
	}
	// The dashboard's tile starts the same sign-on.
	if d := b.do("GET", base+"/", nil, ""); !strings.Contains(d.Body, `href="/saml/idp-initiated?sp=`+sp.Connector.ID+`"`) {
		t.Errorf("no GAR tile on the dashboard:\n%s", d.Body)
	}
	// By entity ID too; an unknown one is refused with a clear page, and audited.
	p = b.follow(b.do("GET", base+"/saml/idp-initiated?sp="+url.QueryEscape(sp.Connector.EntityID)+"&RelayState=%2Fhello", nil, ""))
	if p.Status != 200 || !strings.HasPrefix(p.URL, sp.URL) {
		t.Errorf("IdP-initiated by entity ID: %s %d", p.URL, p.Status)
	}
	p = b.do("GET", base+"/saml/idp-initiated?sp=inconnu", nil, "")
	if p.Status != 400 || !strings.Contains(html.UnescapeString(p.Body), "n'est pas enregistré") {
		t.Errorf("unknown SP: %d", p.Status)
	}
	if refusals(t, k, "sso.saml.request")["unknown_sp"] != 1 {
		t.Error("unknown SP not audited")
	}
}

// The service provider (crewjam/saml) refuses tampered, replayed and expired
// responses: the signatures and conditions Préau puts in them hold.
func TestSPRefusesBadResponses(t *testing.T) {
	k := kit(t)
	f := k.School
	sp := newSP(t, k, preauBase(k), true, "", false)
	b := newBrowser(t)
	p := b.follow(b.do("GET", sp.URL+"/hello", nil, ""))
	p = b.untilResponse(b.login(p, f.Pupil.Login, apptest.Password))
	action, form := autoForm(t, p.Body)
	raw, _ := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
	tampered := strings.Replace(string(raw), ">"+f.Pupil.Login+"<", ">"+f.Teacher.Login+"<", 1)
	if tampered == string(raw) {
		t.Fatal("uid not found in the response")
	}
	bad := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString([]byte(tampered))}, "RelayState": {form.Get("RelayState")}}
	if r := b.do("POST", action, bad, "cross-site"); r.Status != http.StatusForbidden {
		t.Errorf("tampered response accepted: %d", r.Status)
	}
	if r := b.follow(b.do("POST", action, form, "cross-site")); helloOf(t, r).Attributes["uid"][0] != f.Pupil.Login {
		t.Error("the genuine response was refused")
	}
	// Replayed, by the same browser or by someone who captured it: refused.
	if r := b.do("POST", action, form, "cross-site"); r.Status != http.StatusForbidden {
		t.Errorf("replayed response accepted: %d", r.Status)
	}
	if r := newBrowser(t).do("POST", action, form, "cross-site"); r.Status != http.StatusForbidden {
		t.Errorf("replayed response accepted elsewhere: %d", r.Status)
	}

	// Expired: the service provider's clock is past the assertion's NotOnOrAfter.
	b = newBrowser(t)
	p = b.follow(b.do("GET", sp.URL+"/hello", nil, ""))
	p = b.untilResponse(b.login(p, f.Pupil.Login, apptest.Password))
	action, form = autoForm(t, p.Body)
	defer func(old func() time.Time) { crewsaml.TimeNow = old }(crewsaml.TimeNow)
	crewsaml.TimeNow = func() time.Time { return time.Now().Add(10 * time.Minute) }
	if r := b.do("POST", action, form, "cross-site"); r.Status != http.StatusForbidden {
		t.Errorf("expired response accepted: %d", r.Status)
	}
}

// Préau refuses what it must, with a French page, an audit entry and no redirection.
func TestIdPRefusals(t *testing.T) {
	k := kit(t)
	base := preauBase(k)
	sp := newSP(t, k, base, true, "", false)
	b := newBrowser(t)
	ssoURL := base + "/saml/sso"
	request := func(edit func(*crewsaml.AuthnRequest), provider *crewsaml.ServiceProvider) string {
		req, err := provider.MakeAuthenticationRequest(ssoURL, crewsaml.HTTPRedirectBinding, crewsaml.HTTPPostBinding)
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			edit(req)
		}
		u, err := req.Redirect("etat", provider)
		if err != nil {
			t.Fatal(err)
		}
		return u.String()
	}
	refused := func(what, target string, status int, text string) {
		t.Helper()
		p := b.do("GET", target, nil, "")
		if p.Status != status || p.Header.Get("Location") != "" || !strings.Contains(html.UnescapeString(p.Body), text) {
			t.Errorf("%s: %d %q\n%s", what, p.Status, p.Header.Get("Location"), p.Body)
		}
	}
	// An SP nobody registered.
	stranger := newUnregisteredSP(t, base)
	refused("unknown SP", request(nil, stranger), 400, "n'est pas enregistré auprès de l'ENT")
	// An assertion consumer address the connector did not register.
	refused("unregistered ACS", request(func(r *crewsaml.AuthnRequest) { r.AssertionConsumerServiceURL = "https://pirate.example/acs" }, &sp.MW.ServiceProvider),
		400, "n'est pas enregistrée")
	// A replayed request.
	good := request(nil, &sp.MW.ServiceProvider)
	if p := b.do("GET", good, nil, ""); p.Status != http.StatusSeeOther {
		t.Fatalf("good request: %d\n%s", p.Status, p.Body)
	}
	refused("replayed request", good, 400, "déjà été utilisée")
	// Forged or missing signatures.
	forged := request(nil, &sp.MW.ServiceProvider)
	forged = forged[:strings.LastIndex(forged, "&Signature=")] + "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(make([]byte, 256)))
	refused("forged signature", forged, 400, "signature")
	unsigned := sp.MW.ServiceProvider
	unsigned.SignatureMethod = ""
	refused("unsigned request", request(nil, &unsigned), 400, "signature")
	// Too old.
	refused("expired request", request(func(r *crewsaml.AuthnRequest) { r.IssueInstant = time.Now().Add(-time.Hour) }, &sp.MW.ServiceProvider), 400, "expiré")
	// Malformed XML, either binding.
	refused("not base64", ssoURL+"?SAMLRequest=%25%25%25", 400, "illisible")
	post := func(xml string) page {
		return b.do("POST", ssoURL, url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString([]byte(xml))}}, "cross-site")
	}
	for _, x := range []string{`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="a"`,
		`<!DOCTYPE x [<!ENTITY e "e">]><samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="a">&e;</samlp:AuthnRequest>`,
		`<AuthnRequest ID="a"/>`} {
		if p := post(x); p.Status != 400 || !strings.Contains(html.UnescapeString(p.Body), "illisible") {
			t.Errorf("malformed %q: %d", x, p.Status)
		}
	}
	got := refusals(t, k, "sso.saml.request")
	for reason, n := range map[string]int{"unknown_sp": 1, "bad_acs": 1, "replayed": 1, "bad_signature": 2, "expired": 1, "malformed": 4} {
		if got[reason] != n {
			t.Errorf("audit of %s: %d, want %d (%v)", reason, got[reason], n, got)
		}
	}
	// English too.
	req, _ := http.NewRequest("GET", ssoURL+"?SAMLRequest=x", nil)
	req.Header.Set("Accept-Language", "en")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("english: %d", resp.StatusCode)
	}
}

func newUnregisteredSP(t testing.TB, base string) *crewsaml.ServiceProvider {
	key, cert := selfSigned(t)
	root, _ := url.Parse("http://127.0.0.1:1/inconnu")
	mw, err := samlsp.New(samlsp.Options{URL: *root, Key: key, Certificate: cert, IDPMetadata: fetchMetadata(t, base)})
	if err != nil {
		t.Fatal(err)
	}
	return &mw.ServiceProvider
}

// Single logout both ways: Préau's "log out everywhere" tells the service provider
// (back-channel, signed), and the service provider's logout ends the Préau session.
func TestSingleLogout(t *testing.T) {
	k := kit(t)
	f := k.School
	base := preauBase(k)
	sp := newSP(t, k, base, true, "", false)
	b := newBrowser(t)
	p := b.follow(b.do("GET", sp.URL+"/hello", nil, ""))
	helloOf(t, b.follow(b.login(p, f.Pupil.Login, apptest.Password)))

	if p := b.do("POST", base+"/mon-compte/deconnexion-partout", url.Values{}, "same-origin"); p.Status != http.StatusSeeOther {
		t.Fatalf("logout everywhere: %d", p.Status)
	}
	sp.mu.Lock()
	n := sp.logouts
	sp.mu.Unlock()
	if n != 1 {
		t.Fatalf("the service provider received %d logout requests", n)
	}
	p = b.follow(b.do("GET", sp.URL+"/hello", nil, ""))
	if !strings.Contains(p.URL, "/saml/continue?r=") {
		t.Fatalf("still signed in to the service: %s", p.URL)
	}

	// Signed in again; the service provider's logout ends the Préau session too.
	helloOf(t, b.follow(b.login(p, f.Pupil.Login, apptest.Password)))
	p = b.follow(b.do("GET", sp.URL+"/logout", nil, ""))
	if p.Status != 200 || !strings.Contains(p.Body, `id="out"`) {
		t.Fatalf("logout from the service: %s %d\n%s", p.URL, p.Status, p.Body)
	}
	if p := b.do("GET", base+"/mon-compte", nil, ""); p.Status != http.StatusSeeOther || !strings.Contains(p.Header.Get("Location"), "/connexion") {
		t.Errorf("still signed in to Préau: %d %s", p.Status, p.Header.Get("Location"))
	}
	entries, _ := k.App.Services.Audit.Search(k.Ctx, audit.Filter{Action: "sso.saml.logout"})
	if len(entries) < 2 {
		t.Errorf("logouts audited: %d", len(entries))
	}
}
