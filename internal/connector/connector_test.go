package connector_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/commrules"
	"github.com/preau-ent/preau/internal/connector"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/rights"
)

type fixture struct {
	ctx            context.Context
	cs             *connector.Service
	dir            *directory.Service
	al             *audit.Log
	sys            actor.Actor
	college, lycee directory.Structure
	class          directory.Group
	pupil, teacher directory.Person
	head           directory.Person // local administrator of the collège
}

func setup(t *testing.T) *fixture {
	ctx := context.Background()
	d := db.ForTest(t)
	if err := d.Migrate(ctx, directory.Migrations, rights.Migrations, commrules.Migrations, audit.Migrations, connector.Migrations); err != nil {
		t.Fatal(err)
	}
	al := audit.New(d)
	rs := rights.New(d, al, nil)
	dir := directory.New(d, al, rs, commrules.New(d, al, rs))
	f := &fixture{ctx: ctx, cs: connector.New(d, al, rs), dir: dir, al: al, sys: actor.System("test")}
	var err error
	f.college, err = dir.CreateStructure(ctx, f.sys, directory.StructureInput{Kind: directory.KindEtablissement, UAI: "0690001A", Name: "Collège"})
	must(t, err)
	f.lycee, err = dir.CreateStructure(ctx, f.sys, directory.StructureInput{Kind: directory.KindEtablissement, UAI: "0690002B", Name: "Lycée"})
	must(t, err)
	f.class, err = dir.CreateGroup(ctx, f.sys, directory.GroupInput{StructureID: f.college.ID, Kind: directory.GroupClass, Name: "6e A"})
	must(t, err)
	person := func(first, profile string) directory.Person {
		p, err := dir.CreatePerson(ctx, f.sys, directory.PersonInput{FirstName: first, LastName: "Test", Profile: profile, StructureIDs: []string{f.college.ID}, ExternalID: "AAF-" + first})
		must(t, err)
		return p
	}
	f.pupil, f.teacher, f.head = person("Léa", directory.Eleve), person("Paul", directory.Enseignant), person("Claire", directory.Personnel)
	must(t, dir.AddMember(ctx, f.sys, f.class.ID, f.pupil.ID))
	must(t, dir.SetFunction(ctx, f.sys, f.head.ID, directory.Function{StructureID: f.college.ID, Code: "DIR"}, true))
	must(t, rs.Grant(ctx, f.sys, f.head.ID, rights.LocalAdmin, f.college.ID))
	return f
}

func as(p directory.Person) actor.Actor {
	return actor.Actor{PersonID: p.ID, Login: p.Login, Profile: p.Profile, IP: "192.0.2.1"}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func input(structureID, name, url string) connector.Input {
	return connector.Input{StructureID: structureID, Name: name, Icon: "connecteur", URL: url, Protocol: connector.CAS, SingleLogout: true}
}

func wantInvalid(t *testing.T, err error, field, key string) {
	t.Helper()
	var inv *actor.InvalidError
	if !errors.As(err, &inv) || inv.Field != field || inv.Message != key {
		t.Fatalf("error %v, want invalid %s %s", err, field, key)
	}
}

func TestManagementIsAuthorizedInTheService(t *testing.T) {
	f := setup(t)
	head := as(f.head)

	// A local administrator may not add a connector for the whole deployment, nor for another school.
	if _, err := f.cs.Create(f.ctx, head, input("", "Moodle", "https://moodle.example.org/")); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("local admin created a deployment connector: %v", err)
	}
	if _, err := f.cs.Create(f.ctx, head, input(f.lycee.ID, "Moodle", "https://moodle.example.org/")); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("local admin created a connector for another school: %v", err)
	}
	if _, err := f.cs.Create(f.ctx, as(f.teacher), input(f.college.ID, "Moodle", "https://moodle.example.org/")); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("a teacher created a connector: %v", err)
	}

	// For their own school, they may; structures they name are ignored (their school only).
	in := input(f.college.ID, "Pronote", "https://pronote.example.org/")
	in.Structures = []string{f.lycee.ID}
	c, err := f.cs.Create(f.ctx, head, in)
	must(t, err)
	if c.StructureID != f.college.ID || len(c.Structures) != 0 {
		t.Fatalf("local connector %+v", c)
	}
	list, err := f.cs.List(f.ctx, head, f.college.ID)
	must(t, err)
	if len(list) != 1 || list[0].Name != "Pronote" {
		t.Fatalf("list %+v", list)
	}
	if _, err := f.cs.List(f.ctx, head, ""); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("local admin listed deployment connectors: %v", err)
	}

	lyc, err := f.cs.Create(f.ctx, f.sys, input(f.lycee.ID, "ENT lycée", "https://lycee.example.org/"))
	must(t, err)
	if _, err := f.cs.Update(f.ctx, head, lyc.ID, input("", "Pris", "https://evil.example.org/")); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("local admin changed another school's connector: %v", err)
	}
	if err := f.cs.Delete(f.ctx, head, lyc.ID); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("local admin deleted another school's connector: %v", err)
	}
	if _, err := f.cs.Get(f.ctx, head, lyc.ID); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("local admin read another school's connector: %v", err)
	}

	// Updating keeps the level even if the input says otherwise.
	up := input("", "Pronote 2", "https://pronote.example.org/eleve")
	up.Attributes = []string{"uid", "nom", "uid"}
	c, err = f.cs.Update(f.ctx, head, c.ID, up)
	must(t, err)
	if c.StructureID != f.college.ID || c.Name != "Pronote 2" || strings.Join(c.Attributes, ",") != "nom,uid" {
		t.Fatalf("updated %+v", c)
	}
	must(t, f.cs.Delete(f.ctx, head, c.ID))
	if _, err := f.cs.Get(f.ctx, head, c.ID); !errors.Is(err, actor.ErrNotFound) {
		t.Fatalf("deleted connector still there: %v", err)
	}

	entries, err := f.al.Search(f.ctx, audit.Filter{Action: "connector"})
	must(t, err)
	var actions []string
	for _, e := range entries {
		if e.ActorLogin == f.head.Login {
			actions = append(actions, e.Action)
		}
	}
	if strings.Join(actions, " ") != "connector.delete connector.update connector.create" {
		t.Fatalf("audit of the local admin: %v", actions)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	f := setup(t)
	for _, tc := range []struct {
		change      func(*connector.Input)
		field, want string
	}{
		{func(in *connector.Input) { in.Name = "  " }, "name", "connector.name_required"},
		{func(in *connector.Input) { in.URL = "javascript:alert(1)" }, "url", "connector.bad_url"},
		{func(in *connector.Input) { in.URL = "https://ent.example.org@evil.example.org/" }, "url", "connector.bad_url"},
		{func(in *connector.Input) { in.URL = "/relative" }, "url", "connector.bad_url"},
		{func(in *connector.Input) { in.URL = "http://moodle.example.org/" }, "url", "connector.https_required"},
		{func(in *connector.Input) { in.Icon = "../../etc" }, "icon", "connector.bad_icon"},
		{func(in *connector.Input) { in.Protocol = "ftp" }, "protocol", "connector.bad_protocol"},
		{func(in *connector.Input) { in.Profiles = []string{"Pirate"} }, "profiles", "connector.bad_profile"},
		{func(in *connector.Input) { in.Attributes = []string{"password"} }, "attributes", "connector.bad_attribute"},
		{func(in *connector.Input) { in.Structures = []string{"nope"} }, "structures", "connector.bad_structure"},
		{func(in *connector.Input) { in.Protocol = connector.OIDC }, "redirect_uris", "connector.redirect_required"},
		{func(in *connector.Input) {
			in.Protocol, in.RedirectURIs = connector.OIDC, []string{"https://moodle.example.org/cb#x"}
		}, "redirect_uris", "connector.bad_redirect"},
		{func(in *connector.Input) {
			in.Protocol, in.RedirectURIs = connector.OIDC, []string{"http://moodle.example.org/cb"}
		}, "redirect_uris", "connector.https_required"},
	} {
		in := input("", "Moodle", "https://moodle.example.org/")
		tc.change(&in)
		_, err := f.cs.Create(f.ctx, f.sys, in)
		wantInvalid(t, err, tc.field, tc.want)
	}
	list, err := f.cs.List(f.ctx, f.sys, "")
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("bad input stored connectors: %+v", list)
	}
	// A plain link may be http; a CAS service only on loopback.
	in := input("", "Site", "http://site.example.org/")
	in.Protocol = connector.Link
	_, err = f.cs.Create(f.ctx, f.sys, in)
	must(t, err)
	_, err = f.cs.Create(f.ctx, f.sys, input("", "Dev", "http://127.0.0.1:8081/"))
	must(t, err)

	// OpenID Connect clients: a secret on demand, shown once, checked in constant time.
	in = input("", "Moodle", "https://moodle.example.org/")
	in.Protocol, in.RedirectURIs = connector.OIDC, []string{"https://moodle.example.org/cb", "https://moodle.example.org/cb"}
	c, err := f.cs.Create(f.ctx, f.sys, in)
	must(t, err)
	if len(c.RedirectURIs) != 1 || c.HasSecret {
		t.Fatalf("client %+v", c)
	}
	secret, err := f.cs.NewClientSecret(f.ctx, f.sys, c.ID)
	must(t, err)
	c, err = f.cs.Get(f.ctx, f.sys, c.ID)
	must(t, err)
	if !c.HasSecret || !c.CheckSecret(secret) || c.CheckSecret(secret+"x") || c.CheckSecret("") {
		t.Fatal("secret check")
	}
	if _, err := f.cs.NewClientSecret(f.ctx, as(f.head), c.ID); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("a local admin made a deployment client's secret: %v", err)
	}
	plain, _ := f.cs.List(f.ctx, f.sys, "")
	for _, x := range plain {
		if x.Protocol == connector.Link {
			if _, err := f.cs.NewClientSecret(f.ctx, f.sys, x.ID); err == nil {
				t.Fatal("a plain link got a secret")
			}
		}
	}
}

func names(list []connector.Connector) string {
	var out []string
	for _, c := range list {
		out = append(out, c.Name)
	}
	return strings.Join(out, ",")
}

func TestVisibility(t *testing.T) {
	f := setup(t)
	all := input("", "A tous", "https://all.example.org/")
	teachers := input("", "Enseignants", "https://ens.example.org/")
	teachers.Profiles = []string{directory.Enseignant}
	lyceeOnly := input("", "Lycée seulement", "https://lycee.example.org/")
	lyceeOnly.Structures = []string{f.lycee.ID}
	collegeToo := input("", "Collège et lycée", "https://both.example.org/")
	collegeToo.Structures = []string{f.lycee.ID, f.college.ID}
	local := input(f.college.ID, "Local", "https://local.example.org/")
	otherLocal := input(f.lycee.ID, "Autre local", "https://other.example.org/")
	for _, in := range []connector.Input{all, teachers, lyceeOnly, collegeToo, local, otherLocal} {
		_, err := f.cs.Create(f.ctx, f.sys, in)
		must(t, err)
	}
	got, err := f.cs.VisibleTo(f.ctx, directory.Eleve, []string{f.college.ID})
	must(t, err)
	if names(got) != "A tous,Collège et lycée,Local" {
		t.Errorf("pupil of the collège sees %s", names(got))
	}
	got, err = f.cs.VisibleTo(f.ctx, directory.Enseignant, []string{f.college.ID})
	must(t, err)
	if names(got) != "A tous,Collège et lycée,Enseignants,Local" {
		t.Errorf("teacher of the collège sees %s", names(got))
	}
	got, err = f.cs.VisibleTo(f.ctx, directory.Eleve, []string{f.lycee.ID})
	must(t, err)
	if names(got) != "A tous,Autre local,Collège et lycée,Lycée seulement" {
		t.Errorf("pupil of the lycée sees %s", names(got))
	}
	got, err = f.cs.VisibleTo(f.ctx, directory.Invite, nil)
	must(t, err)
	if names(got) != "A tous" {
		t.Errorf("a guest without structure sees %s", names(got))
	}
}

func TestMatchService(t *testing.T) {
	for _, tc := range []struct {
		registered, service string
		want                bool
	}{
		{"https://moodle.example.org/", "https://moodle.example.org/login/index.php?authCAS=CAS", true},
		{"https://moodle.example.org", "https://moodle.example.org/", true},
		{"https://moodle.example.org/", "https://MOODLE.example.org:443/x", true},
		{"https://ex.org/app", "https://ex.org/app", true},
		{"https://ex.org/app", "https://ex.org/app/cas", true},
		{"https://ex.org/app", "https://ex.org/app?x=1", true},
		{"https://ex.org/app", "https://ex.org/application", false},
		{"https://ex.org/app/", "https://ex.org/app/../admin", false},
		{"https://ex.org/app/", "https://ex.org/app/%2e%2e/admin", false},
		{"https://ex.org/app/", "https://ex.org/app/..%2fadmin", false},
		{"https://ex.org/", "http://ex.org/", false},
		{"https://ex.org/", "https://ex.org:8443/", false},
		{"https://ex.org/", "https://ex.org.evil.example/", false},
		{"https://ex.org/", "https://ex.org@evil.example/", false},
		{"https://ex.org/", "https://evil.example/?https://ex.org/", false},
		{"https://ex.org/", "//ex.org/", false},
		{"https://ex.org/", "/relative", false},
		{"https://ex.org/", "https://ex.org/#frag", false},
		{"https://ex.org/", "https://ex.org/\\evil", false},
		{"https://ex.org/", "javascript:alert(1)", false},
		{"https://ex.org/", "", false},
	} {
		if got := connector.MatchService(tc.registered, tc.service); got != tc.want {
			t.Errorf("MatchService(%q, %q) = %v, want %v", tc.registered, tc.service, got, tc.want)
		}
	}
}

func TestForServicePicksTheLongestRegistration(t *testing.T) {
	f := setup(t)
	general, err := f.cs.Create(f.ctx, f.sys, input("", "Général", "https://apps.example.org/"))
	must(t, err)
	specific, err := f.cs.Create(f.ctx, f.sys, input("", "Spécifique", "https://apps.example.org/vie-scolaire/"))
	must(t, err)
	c, err := f.cs.ForService(f.ctx, connector.CAS, "https://apps.example.org/vie-scolaire/login")
	must(t, err)
	if c.ID != specific.ID {
		t.Errorf("got %s", c.Name)
	}
	c, err = f.cs.ForService(f.ctx, connector.CAS, "https://apps.example.org/lms/")
	must(t, err)
	if c.ID != general.ID {
		t.Errorf("got %s", c.Name)
	}
	if _, err := f.cs.ForService(f.ctx, connector.CAS, "https://evil.example.org/"); !errors.Is(err, actor.ErrNotFound) {
		t.Errorf("unknown service: %v", err)
	}
	if _, err := f.cs.ForService(f.ctx, connector.Link, "https://apps.example.org/lms/"); !errors.Is(err, actor.ErrNotFound) {
		t.Errorf("other protocol: %v", err)
	}
}

func TestRelease(t *testing.T) {
	f := setup(t)
	in := input("", "Vie scolaire", "https://vs.example.org/")
	in.Attributes = []string{"uid", "nom", "prenom", "ENTPersonProfils", "ENTPersonStructRattachRNE", "ENTEleveClasses", "ENTPersonJointure", "mail"}
	c, err := f.cs.Create(f.ctx, f.sys, in)
	must(t, err)
	sit, err := f.dir.SituationOf(f.ctx, f.pupil)
	must(t, err)
	got := connector.Release(c, f.pupil, sit)
	want := map[string]string{"uid": f.pupil.Login, "nom": "Test", "prenom": "Léa", "ENTPersonProfils": "National_ELV",
		"ENTPersonStructRattachRNE": "0690001A", "ENTEleveClasses": "0690001A$6e A", "ENTPersonJointure": "AAF-Léa"}
	for k, v := range want {
		if strings.Join(got[k], "|") != v {
			t.Errorf("%s = %v, want %s", k, got[k], v)
		}
	}
	if _, ok := got["mail"]; ok {
		t.Errorf("empty mail released")
	}
	if len(got) != len(want) {
		t.Errorf("released %v", got)
	}
	headSit, err := f.dir.SituationOf(f.ctx, f.head)
	must(t, err)
	if p := connector.NationalProfile(f.head, headSit.Functions); p != "National_DIR" {
		t.Errorf("head: %s", p)
	}
}
