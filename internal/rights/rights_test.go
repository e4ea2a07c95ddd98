package rights_test

import (
	"context"
	"errors"
	"testing"

	"github.com/preau-ent/preau/internal/commrules"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/rights"
)

var catalog = []rights.App{
	{ID: "annuaire", Profiles: directory.Profiles},
	{ID: "cahier", Profiles: []string{directory.Eleve, directory.Enseignant, directory.Responsable}},
	{ID: "administration", AdminOnly: true},
}

type fixture struct {
	ctx                    context.Context
	rs                     *rights.Service
	dir                    *directory.Service
	college, lycee         directory.Structure
	class                  directory.Group
	pupil, teacher, parent directory.Person
	head                   directory.Person
}

func setup(t *testing.T) *fixture {
	ctx := context.Background()
	d := db.ForTest(t)
	if err := d.Migrate(ctx, directory.Migrations, rights.Migrations, commrules.Migrations, audit.Migrations); err != nil {
		t.Fatal(err)
	}
	al := audit.New(d)
	rs := rights.New(d, al, catalog)
	dir := directory.New(d, al, rs, commrules.New(d, al, rs))
	sys := actor.System("test")
	f := &fixture{ctx: ctx, rs: rs, dir: dir}
	var err error
	f.college, err = dir.CreateStructure(ctx, sys, directory.StructureInput{Kind: directory.KindEtablissement, UAI: "0690001A", Name: "Collège"})
	must(t, err)
	f.lycee, err = dir.CreateStructure(ctx, sys, directory.StructureInput{Kind: directory.KindEtablissement, UAI: "0690002B", Name: "Lycée"})
	must(t, err)
	f.class, err = dir.CreateGroup(ctx, sys, directory.GroupInput{StructureID: f.college.ID, Kind: directory.GroupClass, Name: "6e A"})
	must(t, err)
	person := func(first, profile string) directory.Person {
		p, err := dir.CreatePerson(ctx, sys, directory.PersonInput{FirstName: first, LastName: "Test", Profile: profile, StructureIDs: []string{f.college.ID}})
		must(t, err)
		return p
	}
	f.pupil, f.teacher, f.parent, f.head = person("Léa", directory.Eleve), person("Paul", directory.Enseignant), person("Sophie", directory.Responsable), person("Claire", directory.Personnel)
	must(t, dir.AddMember(ctx, sys, f.class.ID, f.pupil.ID))
	must(t, rs.Grant(ctx, sys, f.head.ID, rights.LocalAdmin, f.college.ID))
	return f
}

func as(p directory.Person) actor.Actor {
	return actor.Actor{PersonID: p.ID, Login: p.Login, Profile: p.Profile}
}

func TestSharesThroughGroups(t *testing.T) {
	f := setup(t)
	doc := rights.Resource{Type: "blog", ID: "b1", OwnerID: f.teacher.ID}
	level := func(p directory.Person) rights.Level {
		l, err := f.rs.LevelOf(f.ctx, p.ID, doc)
		must(t, err)
		return l
	}
	if level(f.teacher) != rights.Manage || level(f.pupil) != rights.None {
		t.Fatal("owner manages, others have nothing")
	}
	// Only a manager may share.
	if err := f.rs.SetShare(f.ctx, as(f.pupil), doc, rights.Grantee{Kind: "person", ID: f.pupil.ID}, rights.Manage); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("pupil shares to themself: %v", err)
	}
	must(t, f.rs.SetShare(f.ctx, as(f.teacher), doc, rights.Grantee{Kind: "group", ID: f.class.ID}, rights.Read))
	must(t, f.rs.SetShare(f.ctx, as(f.teacher), doc, rights.Grantee{Kind: "person", ID: f.pupil.ID}, rights.Contribute))
	if level(f.pupil) != rights.Contribute {
		t.Fatalf("the highest of the person's and their groups' levels: %v", level(f.pupil))
	}
	ids, err := f.rs.SharedWith(f.ctx, f.dir.DB(), f.pupil.ID, "blog", rights.Read)
	must(t, err)
	if len(ids) != 1 || ids[0] != "b1" {
		t.Fatalf("shared with pupil: %v", ids)
	}
	must(t, f.rs.SetShare(f.ctx, as(f.teacher), doc, rights.Grantee{Kind: "person", ID: f.pupil.ID}, rights.None))
	if level(f.pupil) != rights.Read {
		t.Fatalf("after removing the personal share, the class share remains: %v", level(f.pupil))
	}
	// Leaving the class removes what came through it.
	must(t, f.dir.RemoveMember(f.ctx, actor.System("test"), f.class.ID, f.pupil.ID))
	if level(f.pupil) != rights.None {
		t.Fatalf("after leaving the class: %v", level(f.pupil))
	}
	shares, err := f.rs.Shares(f.ctx, doc)
	must(t, err)
	if len(shares) != 1 || shares[0].Kind != "group" {
		t.Fatalf("shares: %+v", shares)
	}
}

func TestAppsPerProfileAndOverrides(t *testing.T) {
	f := setup(t)
	apps := func(p directory.Person) string {
		list, err := f.rs.AppsFor(f.ctx, as(p), []string{f.college.ID})
		must(t, err)
		var out string
		for _, a := range list {
			out += a.ID + " "
		}
		return out
	}
	if got := apps(f.pupil); got != "annuaire cahier " {
		t.Fatalf("pupil apps: %q", got)
	}
	if got := apps(f.head); got != "annuaire administration " {
		t.Fatalf("head apps: %q", got)
	}
	// The head of school takes the cahier away from the school's pupils, and may not
	// touch the deployment-wide setting or another school.
	must(t, f.rs.SetAppRight(f.ctx, as(f.head), rights.AppRight{App: "cahier", Profile: directory.Eleve, StructureID: f.college.ID, Allowed: false}))
	if got := apps(f.pupil); got != "annuaire " {
		t.Fatalf("after the override: %q", got)
	}
	if err := f.rs.SetAppRight(f.ctx, as(f.head), rights.AppRight{App: "cahier", Profile: directory.Eleve, Allowed: false}); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("deployment-wide by a local admin: %v", err)
	}
	if err := f.rs.SetAppRight(f.ctx, as(f.head), rights.AppRight{App: "cahier", Profile: directory.Eleve, StructureID: f.lycee.ID, Allowed: true}); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("other school: %v", err)
	}
	// A deployment-wide grant gives the staff an app they did not have.
	must(t, f.rs.SetAppRight(f.ctx, actor.System("t"), rights.AppRight{App: "cahier", Profile: directory.Personnel, Allowed: true}))
	if got := apps(f.head); got != "annuaire cahier administration " {
		t.Fatalf("head after deployment grant: %q", got)
	}
	var inv *actor.InvalidError
	if err := f.rs.SetAppRight(f.ctx, actor.System("t"), rights.AppRight{App: "nope", Profile: directory.Eleve, Allowed: true}); !errors.As(err, &inv) {
		t.Fatalf("unknown app: %v", err)
	}
}

func TestLocalAdminScopeFollowsTree(t *testing.T) {
	f := setup(t)
	sys := actor.System("test")
	dept, err := f.dir.CreateStructure(f.ctx, sys, directory.StructureInput{Kind: directory.KindDepartement, Name: "Département"})
	must(t, err)
	ecole, err := f.dir.CreateStructure(f.ctx, sys, directory.StructureInput{Kind: directory.KindEcole, UAI: "0690003C", Name: "École", ParentID: dept.ID})
	must(t, err)
	must(t, f.rs.Grant(f.ctx, sys, f.teacher.ID, rights.LocalAdmin, dept.ID))
	ok, err := f.rs.CanAdminStructure(f.ctx, as(f.teacher), ecole.ID)
	must(t, err)
	if !ok {
		t.Fatal("an administrator of the département administers its écoles")
	}
	ok, err = f.rs.CanAdminStructure(f.ctx, as(f.teacher), f.college.ID)
	must(t, err)
	if ok {
		t.Fatal("but not a collège outside it")
	}
	// A local administrator may not make anyone a super administrator.
	if err := f.rs.Grant(f.ctx, as(f.head), f.pupil.ID, rights.SuperAdmin, ""); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("local admin grants superadmin: %v", err)
	}
	if err := f.rs.Grant(f.ctx, as(f.head), f.teacher.ID, rights.Moderator, f.college.ID); err != nil {
		t.Fatal(err)
	}
	ok, err = f.rs.IsModerator(f.ctx, as(f.teacher), f.college.ID)
	must(t, err)
	if !ok {
		t.Fatal("moderator role")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestMemoWithoutRoles: a request that learnt "no role" from the session lookup answers
// without asking the database, and a grant within the request is still seen.
func TestMemoWithoutRoles(t *testing.T) {
	f := setup(t)
	ctx := rights.WithMemo(f.ctx)
	rights.WithoutRoles(ctx, f.teacher.ID)
	all, ids, err := f.rs.AdminScope(ctx, as(f.teacher))
	if err != nil || all || len(ids) != 0 {
		t.Fatalf("scope of a person without roles: %v %v %v", all, ids, err)
	}
	must(t, f.rs.Grant(ctx, actor.System("test"), f.teacher.ID, rights.LocalAdmin, f.college.ID))
	ok, err := f.rs.CanAdminStructure(ctx, as(f.teacher), f.college.ID)
	if err != nil || !ok {
		t.Fatalf("a grant within the request is forgotten: %v %v", ok, err)
	}
}
