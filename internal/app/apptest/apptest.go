// Package apptest starts the whole application on a fresh test database behind a
// real HTTP server on loopback, with a small school community, for the web, API and
// browser tests.
package apptest

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/account"
	"github.com/preau-ent/preau/internal/app"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/rights"
)

// Password is the password of every fixture account.
const Password = "Cartable-2026"

// Kit is a running application.
type Kit struct {
	T      testing.TB
	App    *app.App
	Server *httptest.Server
	URL    string
	Sys    actor.Actor
	Ctx    context.Context
	School School
	opts   app.Options // how App was built, for Instance
}

// School is the fixture: one collège with a class, and a second school.
type School struct {
	College, Lycee       directory.Structure
	Class                directory.Group
	Pupil, Classmate     directory.Person
	Parent               directory.Person
	Teacher, Head, Admin directory.Person
	OtherPupil           directory.Person // in the lycée
}

// New starts the application with fast password hashing and the fixture loaded;
// options may change how the application is built (a CAS HTTP client, say).
func New(t testing.TB, options ...func(*app.Options)) *Kit {
	t.Helper()
	ctx := context.Background()
	d := db.ForTest(t)
	if err := d.Migrate(ctx, app.Migrations...); err != nil {
		t.Fatal(err)
	}
	o := app.Options{Name: "Préau test", BaseHost: "localhost", SpoolDir: filepath.Join(t.TempDir(), "spool"), FilesDir: filepath.Join(t.TempDir(), "files"),
		Account: account.Config{Argon: account.ArgonParams{MemoryKiB: 64, Time: 1, Threads: 1}}}
	o.OIDC.SecretKey = make([]byte, 32)
	if _, err := rand.Read(o.OIDC.SecretKey); err != nil {
		t.Fatal(err)
	}
	for _, f := range options {
		f(&o)
	}
	a, err := app.Build(d, o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Server.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(a.Stop) // before the server closes: live streams end first
	k := &Kit{T: t, App: a, Server: srv, URL: srv.URL, Sys: actor.System("test"), Ctx: ctx, opts: o}
	k.School = k.fixture()
	return k
}

func (k *Kit) must(err error) {
	k.T.Helper()
	if err != nil {
		k.T.Fatal(err)
	}
}

// Person creates an active person with the fixture password.
func (k *Kit) Person(first, last, profile string, structureIDs ...string) directory.Person {
	k.T.Helper()
	s := k.App.Services
	p, err := s.Directory.CreatePerson(k.Ctx, k.Sys, directory.PersonInput{FirstName: first, LastName: last, Profile: profile, StructureIDs: structureIDs})
	k.must(err)
	k.must(s.Accounts.SetPassword(k.Ctx, k.Sys, p.ID, Password))
	p, err = s.Directory.Person(k.Ctx, p.ID)
	k.must(err)
	return p
}

func (k *Kit) fixture() School {
	s := k.App.Services
	var f School
	var err error
	f.College, err = s.Directory.CreateStructure(k.Ctx, k.Sys, directory.StructureInput{Kind: directory.KindEtablissement, UAI: "0690001A", Name: "Collège Jean Moulin", City: "Villeurbanne", Type: directory.TypeCollege})
	k.must(err)
	f.Lycee, err = s.Directory.CreateStructure(k.Ctx, k.Sys, directory.StructureInput{Kind: directory.KindEtablissement, UAI: "0690002B", Name: "Lycée Marie Curie", City: "Lyon", Type: directory.TypeLycee})
	k.must(err)
	f.Class, err = s.Directory.CreateGroup(k.Ctx, k.Sys, directory.GroupInput{StructureID: f.College.ID, Kind: directory.GroupClass, Name: "4e A"})
	k.must(err)
	f.Pupil = k.Person("Léa", "Martin", directory.Eleve, f.College.ID)
	f.Classmate = k.Person("Tom", "Petit", directory.Eleve, f.College.ID)
	f.Parent = k.Person("Sophie", "Martin", directory.Responsable, f.College.ID)
	f.Teacher = k.Person("Paul", "Durand", directory.Enseignant, f.College.ID)
	f.Head = k.Person("Claire", "Bernard", directory.Personnel, f.College.ID)
	f.Admin = k.Person("Alex", "Admin", directory.Personnel, f.College.ID)
	f.OtherPupil = k.Person("Hugo", "Roux", directory.Eleve, f.Lycee.ID)
	k.must(s.Directory.AddMember(k.Ctx, k.Sys, f.Class.ID, f.Pupil.ID))
	k.must(s.Directory.AddMember(k.Ctx, k.Sys, f.Class.ID, f.Classmate.ID))
	k.must(s.Directory.LinkParent(k.Ctx, k.Sys, f.Parent.ID, f.Pupil.ID))
	k.must(s.Directory.SetTeaching(k.Ctx, k.Sys, f.Teacher.ID, f.Class.ID, ""))
	k.must(s.Directory.SetFunction(k.Ctx, k.Sys, f.Head.ID, directory.Function{StructureID: f.College.ID, Code: "DIR", Label: "Principale"}, true))
	k.must(s.Rights.Grant(k.Ctx, k.Sys, f.Head.ID, rights.LocalAdmin, f.College.ID))
	k.must(s.Rights.Grant(k.Ctx, k.Sys, f.Admin.ID, rights.SuperAdmin, ""))
	return f
}

// Client is a browser-like HTTP client with its own cookies; it does not follow
// redirects, so that tests see them.
type Client struct {
	k    *Kit
	HTTP *http.Client
	Host string // Host header to send; "" for the server's own
}

// Client returns a new anonymous client.
func (k *Kit) Client() *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{k: k, HTTP: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Do sends a request and returns the response with its body read.
func (c *Client) Do(method, path string, body io.Reader, header http.Header) (*http.Response, string) {
	c.k.T.Helper()
	req, err := http.NewRequest(method, c.k.URL+path, body)
	c.k.must(err)
	for k, v := range header {
		req.Header[k] = v
	}
	if c.Host != "" {
		req.Host = c.Host
	}
	resp, err := c.HTTP.Do(req)
	c.k.must(err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	c.k.must(err)
	return resp, string(b)
}

// Get fetches a path.
func (c *Client) Get(path string) (*http.Response, string) {
	c.k.T.Helper()
	return c.Do("GET", path, nil, nil)
}

// Post sends a form as a same-origin browser would.
func (c *Client) Post(path string, form url.Values) (*http.Response, string) {
	c.k.T.Helper()
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Sec-Fetch-Site": {"same-origin"}}
	return c.Do("POST", path, strings.NewReader(form.Encode()), h)
}

// Login logs the client in, failing the test if it does not work.
func (c *Client) Login(login, password string) {
	c.k.T.Helper()
	resp, body := c.Post("/connexion", url.Values{"login": {login}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		c.k.T.Fatalf("connexion de %s : %d\n%s", login, resp.StatusCode, body)
	}
}

// As returns a client logged in as p with the fixture password.
func (k *Kit) As(p directory.Person) *Client {
	k.T.Helper()
	c := k.Client()
	c.Login(p.Login, Password)
	return c
}
