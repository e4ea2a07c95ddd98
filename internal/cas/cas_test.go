package cas_test

import (
	"encoding/json"
	"encoding/xml"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/app"
	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/cas"
	"github.com/preau-ent/preau/internal/connector"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/audit"
)

// serviceResponse is the protocol's XML, decoded the way a client would.
type serviceResponse struct {
	XMLName xml.Name `xml:"http://www.yale.edu/tp/cas serviceResponse"`
	Success *struct {
		User       string `xml:"user"`
		Attributes struct {
			Any []struct {
				XMLName xml.Name
				Value   string `xml:",chardata"`
			} `xml:",any"`
		} `xml:"attributes"`
		PGTIOU  string   `xml:"proxyGrantingTicket"`
		Proxies []string `xml:"proxies>proxy"`
	} `xml:"authenticationSuccess"`
	Failure *struct {
		Code string `xml:"code,attr"`
		Text string `xml:",chardata"`
	} `xml:"authenticationFailure"`
	ProxySuccess *struct {
		PT string `xml:"proxyTicket"`
	} `xml:"proxySuccess"`
	ProxyFailure *struct {
		Code string `xml:"code,attr"`
		Text string `xml:",chardata"`
	} `xml:"proxyFailure"`
}

func (r serviceResponse) attr(name string) string {
	var out []string
	if r.Success != nil {
		for _, a := range r.Success.Attributes.Any {
			if a.XMLName.Local == name {
				out = append(out, a.Value)
			}
		}
	}
	return strings.Join(out, "|")
}

type env struct {
	*apptest.Kit
	vs connector.Connector // the vie-scolaire service, for pupils and teachers
}

const vsURL = "https://vie-scolaire.example.org/"

func setup(t *testing.T, options ...func(*app.Options)) *env {
	k := apptest.New(t, options...)
	c, err := k.App.Services.Connectors.Create(k.Ctx, k.Sys, connector.Input{Name: "Vie scolaire", Icon: "vie-scolaire", URL: vsURL, Protocol: connector.CAS,
		Profiles: []string{directory.Eleve, directory.Enseignant},
		// No single logout: the tests do not reach the network (TestSingleLogout uses loopback services).
		Attributes: []string{"uid", "nom", "prenom", "ENTPersonProfils", "ENTPersonStructRattachRNE", "ENTEleveClasses"}})
	if err != nil {
		t.Fatal(err)
	}
	return &env{Kit: k, vs: c}
}

// ticket asks /cas/login for a ticket as a signed-in client and returns it.
func (e *env) ticket(t *testing.T, c *apptest.Client, service string) string {
	t.Helper()
	resp, body := c.Get("/cas/login?service=" + url.QueryEscape(service))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("/cas/login: %d\n%s", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	u, err := url.Parse(loc)
	if err != nil || !strings.HasPrefix(loc, service) {
		t.Fatalf("redirected to %q, want %q…", loc, service)
	}
	ticket := u.Query().Get("ticket")
	if !strings.HasPrefix(ticket, "ST-") || len(ticket) < 32 {
		t.Fatalf("ticket %q", ticket)
	}
	return ticket
}

// validate calls a validation endpoint as the service would, and decodes the XML.
func (e *env) validate(t *testing.T, endpoint string, q url.Values) serviceResponse {
	t.Helper()
	resp, body := e.Client().Get(endpoint + "?" + q.Encode())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d\n%s", endpoint, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") {
		t.Fatalf("%s: content type %q", endpoint, ct)
	}
	var r serviceResponse
	if err := xml.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("%s: %v\n%s", endpoint, err, body)
	}
	return r
}

func wantFailure(t *testing.T, r serviceResponse, code, text string) {
	t.Helper()
	if r.Failure == nil || r.Failure.Code != code || !strings.Contains(r.Failure.Text, text) {
		t.Fatalf("want failure %s %q, got %+v %+v", code, text, r.Failure, r.Success)
	}
}

func TestServiceTicketLifecycle(t *testing.T) {
	e := setup(t)
	f := e.School
	pupil := e.As(f.Pupil)
	service := vsURL + "login?from=ent"

	// CAS 3.0: the user and the connector's attributes.
	st := e.ticket(t, pupil, service)
	r := e.validate(t, "/cas/p3/serviceValidate", url.Values{"service": {service}, "ticket": {st}})
	if r.Success == nil || r.Success.User != f.Pupil.Login {
		t.Fatalf("p3/serviceValidate: %+v", r.Failure)
	}
	for name, want := range map[string]string{"uid": f.Pupil.Login, "nom": "Martin", "prenom": "Léa", "ENTPersonProfils": "National_ELV",
		"ENTPersonStructRattachRNE": "0690001A", "ENTEleveClasses": "0690001A$4e A", "isFromNewLogin": "false",
		"longTermAuthenticationRequestTokenUsed": "false"} {
		if got := r.attr(name); got != want {
			t.Errorf("attribute %s = %q, want %q", name, got, want)
		}
	}
	if r.attr("authenticationDate") == "" || r.attr("ENTPersonJointure") != "" {
		t.Errorf("attributes: %+v", r.Success.Attributes)
	}

	// Single use: the replay is refused, clearly.
	r = e.validate(t, "/cas/p3/serviceValidate", url.Values{"service": {service}, "ticket": {st}})
	wantFailure(t, r, cas.InvalidTicket, "déjà été présenté")

	// CAS 2.0: no attributes; JSON on request.
	st = e.ticket(t, pupil, service)
	resp, body := e.Client().Get("/cas/serviceValidate?" + url.Values{"service": {service}, "ticket": {st}, "format": {"JSON"}}.Encode())
	var j struct {
		ServiceResponse struct {
			AuthenticationSuccess struct {
				User       string
				Attributes map[string][]string
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &j); err != nil || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("JSON: %v %s", err, body)
	}
	if j.ServiceResponse.AuthenticationSuccess.User != f.Pupil.Login || j.ServiceResponse.AuthenticationSuccess.Attributes != nil {
		t.Fatalf("JSON answer: %s", body)
	}

	// CAS 1.0.
	st = e.ticket(t, pupil, service)
	_, body = e.Client().Get("/cas/validate?" + url.Values{"service": {service}, "ticket": {st}}.Encode())
	if body != "yes\n"+f.Pupil.Login+"\n" {
		t.Fatalf("/validate: %q", body)
	}
	_, body = e.Client().Get("/cas/validate?" + url.Values{"service": {service}, "ticket": {st}}.Encode())
	if body != "no\n" {
		t.Fatalf("/validate replayed: %q", body)
	}

	// Another service's ticket: refused, and the ticket is spent anyway.
	st = e.ticket(t, pupil, service)
	r = e.validate(t, "/cas/serviceValidate", url.Values{"service": {vsURL + "autre"}, "ticket": {st}})
	wantFailure(t, r, cas.InvalidService, "autre service")
	r = e.validate(t, "/cas/serviceValidate", url.Values{"service": {service}, "ticket": {st}})
	wantFailure(t, r, cas.InvalidTicket, "déjà été présenté")

	// renew asks for a ticket from a password just typed.
	st = e.ticket(t, pupil, service)
	r = e.validate(t, "/cas/serviceValidate", url.Values{"service": {service}, "ticket": {st}, "renew": {"true"}})
	wantFailure(t, r, cas.InvalidTicket, "renew")

	// Malformed, forged and missing.
	r = e.validate(t, "/cas/serviceValidate", url.Values{"service": {service}, "ticket": {"ST-<script>alert(1)</script>"}})
	wantFailure(t, r, cas.InvalidTicket, "inconnu")
	r = e.validate(t, "/cas/serviceValidate", url.Values{"service": {service}, "ticket": {"ST-" + strings.Repeat("a", 52)}})
	wantFailure(t, r, cas.InvalidTicket, "inconnu")
	r = e.validate(t, "/cas/serviceValidate", url.Values{"service": {service}, "ticket": {"PT-" + strings.Repeat("a", 52)}})
	wantFailure(t, r, cas.InvalidTicketSpec, "proxy")
	r = e.validate(t, "/cas/serviceValidate", url.Values{"service": {service}, "ticket": {strings.Repeat("x", 300)}})
	wantFailure(t, r, cas.InvalidTicket, "inconnu")
	r = e.validate(t, "/cas/serviceValidate", url.Values{"service": {service}})
	wantFailure(t, r, cas.InvalidRequest, "obligatoires")

	// Every grant and every validation, good or bad, is in the audit log.
	entries, err := e.App.Services.Audit.Search(e.Ctx, audit.Filter{Action: "sso.cas"})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, en := range entries {
		count[en.Action+map[bool]string{true: ".ok", false: ".refus"}[en.Success]]++
	}
	if count["sso.cas.grant.ok"] != 5 || count["sso.cas.validate.ok"] != 3 || count["sso.cas.validate.refus"] != 10 {
		t.Errorf("audit: %v", count)
	}
}

func TestExpiredTicket(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := setup(t, func(o *app.Options) { o.CAS.Now = clock; o.CAS.TicketTTL = 30 * time.Second })
	service := vsURL + "login"
	st := e.ticket(t, e.As(e.School.Teacher), service)
	mu.Lock()
	now = now.Add(31 * time.Second)
	mu.Unlock()
	r := e.validate(t, "/cas/p3/serviceValidate", url.Values{"service": {service}, "ticket": {st}})
	wantFailure(t, r, cas.InvalidTicket, "expiré")
}

func TestLoginPageAndRedirections(t *testing.T) {
	e := setup(t)
	f := e.School
	service := vsURL + "login"
	c := e.Client()

	// Anonymous: the login form names the service and may lead to it.
	resp, body := c.Get("/cas/login?service=" + url.QueryEscape(service))
	if resp.StatusCode != 200 || !strings.Contains(html.UnescapeString(body), "Connexion au service « Vie scolaire »") || !strings.Contains(body, `action="/cas/login"`) {
		t.Fatalf("login form: %d\n%s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://vie-scolaire.example.org;") {
		t.Errorf("CSP %q", csp)
	}

	// A cross-site post to the login form is refused (login CSRF).
	form := url.Values{"service": {service}, "login": {f.Pupil.Login}, "password": {apptest.Password}}
	resp, _ = c.Do("POST", "/cas/login", strings.NewReader(form.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Sec-Fetch-Site": {"cross-site"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site login post: %d", resp.StatusCode)
	}

	// A wrong password: the form again, no ticket.
	resp, body = c.Post("/cas/login", url.Values{"service": {service}, "login": {f.Pupil.Login}, "password": {"nope"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(html.UnescapeString(body), "Identifiant ou mot de passe incorrect") {
		t.Fatalf("bad password: %d", resp.StatusCode)
	}

	// The right one: the ticket, from a new login.
	resp, _ = c.Post("/cas/login", form)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, service+"?ticket=ST-") {
		t.Fatalf("login: %d %q", resp.StatusCode, loc)
	}
	u, _ := url.Parse(loc)
	r := e.validate(t, "/cas/p3/serviceValidate", url.Values{"service": {service}, "ticket": {u.Query().Get("ticket")}, "renew": {"true"}})
	if r.Success == nil || r.attr("isFromNewLogin") != "true" {
		t.Fatalf("ticket of a new login: %+v", r.Failure)
	}

	// Signed in, renew shows the form again; without renew the ticket comes at once.
	resp, body = c.Get("/cas/login?renew=true&service=" + url.QueryEscape(service))
	if resp.StatusCode != 200 || !strings.Contains(body, `name="renew" value="true"`) {
		t.Fatalf("renew: %d", resp.StatusCode)
	}
	e.ticket(t, c, service)

	// No open redirection: unregistered, look-alike and odd addresses get a clear page.
	for _, bad := range []string{"https://evil.example.org/", "https://vie-scolaire.example.org.evil.example/", "https://vie-scolaire.example.org@evil.example/",
		"//evil.example/", "javascript:alert(1)", "https://vie-scolaire.example.org/../admin", "http://vie-scolaire.example.org/"} {
		for _, who := range []*apptest.Client{c, e.Client()} {
			resp, body := who.Get("/cas/login?gateway=true&service=" + url.QueryEscape(bad))
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(html.UnescapeString(body), "n'est pas enregistré") {
				t.Errorf("service %q: %d %q", bad, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
	}

	entries, _ := e.App.Services.Audit.Search(e.Ctx, audit.Filter{Action: "sso.cas.grant"})
	unknown := 0
	for _, en := range entries {
		if en.Details["reason"] == "unknown_service" && !en.Success {
			unknown++
		}
	}
	if unknown != 14 {
		t.Errorf("%d refusals of unknown services audited, want 14", unknown)
	}

	// gateway, anonymous: back to the service without a ticket.
	resp, _ = e.Client().Get("/cas/login?gateway=true&service=" + url.QueryEscape(service))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != service {
		t.Fatalf("gateway: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// A parent may not use the service: refused and audited.
	resp, body = e.As(f.Parent).Get("/cas/login?service=" + url.QueryEscape(service))
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(html.UnescapeString(body), "Vous n'avez pas accès à ce service") {
		t.Fatalf("parent: %d", resp.StatusCode)
	}
	entries, _ = e.App.Services.Audit.Search(e.Ctx, audit.Filter{Action: "sso.cas.grant", ActorLogin: f.Parent.Login})
	if len(entries) != 1 || entries[0].Success || entries[0].Details["reason"] != "not_allowed" {
		t.Errorf("refusal not audited: %+v", entries)
	}

	// Logout goes back to a registered service only.
	resp, _ = c.Get("/cas/logout?service=" + url.QueryEscape("https://evil.example.org/"))
	if resp.Header.Get("Location") != "/connexion" {
		t.Errorf("logout to an unknown service: %q", resp.Header.Get("Location"))
	}
	c = e.As(f.Pupil)
	resp, _ = c.Get("/cas/logout?service=" + url.QueryEscape(service))
	if resp.Header.Get("Location") != service {
		t.Errorf("logout to the service: %q", resp.Header.Get("Location"))
	}
	resp, _ = c.Get("/")
	if resp.Header.Get("Location") != "/connexion" {
		t.Errorf("still signed in after /cas/logout")
	}
}

// Proxy tickets: the service's HTTPS callback receives the PGT, and a proxy ticket
// lets it reach another service in the person's name.
func TestProxyTickets(t *testing.T) {
	var mu sync.Mutex
	pgts := map[string]string{} // IOU → PGT
	callback := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/refuse" {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		pgts[r.URL.Query().Get("pgtIou")] = r.URL.Query().Get("pgtId")
		mu.Unlock()
	}))
	t.Cleanup(callback.Close)
	e := setup(t, func(o *app.Options) { o.CAS.HTTPClient = callback.Client() })
	portal, err := e.App.Services.Connectors.Create(e.Ctx, e.Sys, connector.Input{Name: "Portail proxy", Icon: "connecteur", URL: callback.URL + "/", Protocol: connector.CAS})
	if err != nil {
		t.Fatal(err)
	}
	_ = portal
	pupil := e.As(e.School.Pupil)
	service := callback.URL + "/app"

	// Callbacks that are not HTTPS, not the service's, or that do not answer 200: no PGT.
	for _, bad := range []struct{ url, text string }{
		{"http://127.0.0.1:1/cb", "https"},
		{"https://evil.example.org/cb", "https"},
		{callback.URL + "/refuse", "200"},
	} {
		st := e.ticket(t, pupil, service)
		r := e.validate(t, "/cas/serviceValidate", url.Values{"service": {service}, "ticket": {st}, "pgtUrl": {bad.url}})
		wantFailure(t, r, cas.InvalidProxyCallback, bad.text)
	}

	st := e.ticket(t, pupil, service)
	pgtURL := callback.URL + "/pgt"
	r := e.validate(t, "/cas/serviceValidate", url.Values{"service": {service}, "ticket": {st}, "pgtUrl": {pgtURL}})
	if r.Success == nil || !strings.HasPrefix(r.Success.PGTIOU, "PGTIOU-") {
		t.Fatalf("no PGT IOU: %+v", r.Failure)
	}
	mu.Lock()
	pgt := pgts[r.Success.PGTIOU]
	mu.Unlock()
	if !strings.HasPrefix(pgt, "PGT-") {
		t.Fatalf("callback got %q", pgt)
	}

	target := vsURL + "api/notes"
	r = e.validate(t, "/cas/proxy", url.Values{"pgt": {pgt}, "targetService": {target}})
	if r.ProxySuccess == nil || !strings.HasPrefix(r.ProxySuccess.PT, "PT-") {
		t.Fatalf("proxy: %+v", r.ProxyFailure)
	}
	pt := r.ProxySuccess.PT
	r = e.validate(t, "/cas/serviceValidate", url.Values{"service": {target}, "ticket": {pt}})
	wantFailure(t, r, cas.InvalidTicketSpec, "proxyValidate")
	r = e.validate(t, "/cas/proxy", url.Values{"pgt": {pgt}, "targetService": {target}})
	pt = r.ProxySuccess.PT
	r = e.validate(t, "/cas/p3/proxyValidate", url.Values{"service": {target}, "ticket": {pt}})
	if r.Success == nil || r.Success.User != e.School.Pupil.Login || strings.Join(r.Success.Proxies, " ") != pgtURL || r.attr("nom") != "Martin" {
		t.Fatalf("proxyValidate: %+v %+v", r.Success, r.Failure)
	}
	r = e.validate(t, "/cas/p3/proxyValidate", url.Values{"service": {target}, "ticket": {pt}})
	wantFailure(t, r, cas.InvalidTicket, "déjà")

	// Bad proxy requests.
	r = e.validate(t, "/cas/proxy", url.Values{"pgt": {"PGT-forged"}, "targetService": {target}})
	if r.ProxyFailure == nil || r.ProxyFailure.Code != cas.InvalidTicket {
		t.Fatalf("forged PGT: %+v", r)
	}
	r = e.validate(t, "/cas/proxy", url.Values{"pgt": {pgt}, "targetService": {"https://evil.example.org/"}})
	if r.ProxyFailure == nil || r.ProxyFailure.Code != cas.UnauthorizedService {
		t.Fatalf("unregistered target: %+v", r)
	}
	r = e.validate(t, "/cas/proxy", url.Values{"targetService": {target}})
	if r.ProxyFailure == nil || r.ProxyFailure.Code != cas.InvalidRequest {
		t.Fatalf("no PGT: %+v", r)
	}

	// Logging out ends the PGT.
	if resp, _ := pupil.Post("/deconnexion", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("logout")
	}
	r = e.validate(t, "/cas/proxy", url.Values{"pgt": {pgt}, "targetService": {target}})
	if r.ProxyFailure == nil || r.ProxyFailure.Code != cas.InvalidTicket {
		t.Fatalf("PGT alive after logout: %+v", r)
	}
}

// Logging out of Préau tells each service the session signed in to, with the ticket
// it validated as the SessionIndex; services that did not ask are not told.
func TestSingleLogout(t *testing.T) {
	var mu sync.Mutex
	var got []string
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		v, err := url.ParseQuery(string(b))
		mu.Lock()
		defer mu.Unlock()
		if r.Method != http.MethodPost || err != nil {
			got = append(got, "bad request: "+r.Method+" "+string(b))
			return
		}
		got = append(got, r.URL.Path+" "+v.Get("logoutRequest"))
	}))
	t.Cleanup(rp.Close)
	e := setup(t)
	for _, c := range []connector.Input{
		{Name: "Avec", Icon: "connecteur", URL: rp.URL + "/avec/", Protocol: connector.CAS, SingleLogout: true},
		{Name: "Sans", Icon: "connecteur", URL: rp.URL + "/sans/", Protocol: connector.CAS},
	} {
		if _, err := e.App.Services.Connectors.Create(e.Ctx, e.Sys, c); err != nil {
			t.Fatal(err)
		}
	}
	teacher := e.As(e.School.Teacher)
	with, without := rp.URL+"/avec/cas", rp.URL+"/sans/cas"
	st := e.ticket(t, teacher, with)
	e.validate(t, "/cas/serviceValidate", url.Values{"service": {with}, "ticket": {st}})
	st2 := e.ticket(t, teacher, without)
	e.validate(t, "/cas/serviceValidate", url.Values{"service": {without}, "ticket": {st2}})
	unused := e.ticket(t, teacher, with) // never validated: nothing to tell, and dead after logout

	if resp, _ := teacher.Post("/deconnexion", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("logout")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || !strings.HasPrefix(got[0], "/avec/cas <samlp:LogoutRequest ") || !strings.Contains(got[0], "<samlp:SessionIndex>"+st+"</samlp:SessionIndex>") {
		t.Fatalf("logout messages: %q", got)
	}
	r := e.validate(t, "/cas/serviceValidate", url.Values{"service": {with}, "ticket": {unused}})
	wantFailure(t, r, cas.InvalidTicket, "inconnu")
}
