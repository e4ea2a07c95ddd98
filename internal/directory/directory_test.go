package directory_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/commrules"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/rights"
)

type env struct {
	ctx  context.Context
	dir  *directory.Service
	comm *commrules.Engine
	rs   *rights.Service
	al   *audit.Log
	sys  actor.Actor
}

func setup(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	d := db.ForTest(t)
	if err := d.Migrate(ctx, directory.Migrations, rights.Migrations, commrules.Migrations, audit.Migrations); err != nil {
		t.Fatal(err)
	}
	al := audit.New(d)
	rs := rights.New(d, al, nil)
	comm := commrules.New(d, al, rs)
	return &env{ctx: ctx, dir: directory.New(d, al, rs, comm), comm: comm, rs: rs, al: al, sys: actor.System("test")}
}

func (e *env) structure(t *testing.T, name, uai string) directory.Structure {
	t.Helper()
	st, err := e.dir.CreateStructure(e.ctx, e.sys, directory.StructureInput{Kind: directory.KindEtablissement, UAI: uai, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (e *env) class(t *testing.T, st directory.Structure, name string) directory.Group {
	t.Helper()
	g, err := e.dir.CreateGroup(e.ctx, e.sys, directory.GroupInput{StructureID: st.ID, Kind: directory.GroupClass, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func (e *env) person(t *testing.T, first, last, profile string, st directory.Structure) directory.Person {
	t.Helper()
	p, err := e.dir.CreatePerson(e.ctx, e.sys, directory.PersonInput{FirstName: first, LastName: last, Profile: profile, StructureIDs: []string{st.ID}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) mayWrite(t *testing.T, a, b directory.Person) bool {
	t.Helper()
	ok, err := e.comm.MayWrite(e.ctx, a.ID, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestLoginsAreFoldedAndDeduplicated(t *testing.T) {
	e := setup(t)
	st := e.structure(t, "Collège Jean Moulin", "0690001A")
	a := e.person(t, "Éloïse", "D'Àrc-Dupré", directory.Eleve, st)
	b := e.person(t, "Eloise", "d'Arc Dupre", directory.Eleve, st)
	c := e.person(t, "ÉLOÏSE", "DARC-DUPRÉ", directory.Eleve, st)
	if a.Login != "eloise.darc-dupre" || b.Login != "eloise.darc-dupre2" || c.Login != "eloise.darc-dupre3" {
		t.Fatalf("logins: %q %q %q", a.Login, b.Login, c.Login)
	}
	if got := directory.LoginBase("Œdipe", "Straße"); got != "oedipe.strasse" {
		t.Fatalf("ligatures: %q", got)
	}
}

func TestDefaultCommunicationRules(t *testing.T) {
	e := setup(t)
	college := e.structure(t, "Collège Jean Moulin", "0690001A")
	lycee := e.structure(t, "Lycée Marie Curie", "0690002B")
	c4a := e.class(t, college, "4e A")
	c4b := e.class(t, college, "4e B")
	ly2 := e.class(t, lycee, "2de 1")

	pupilA := e.person(t, "Léa", "Martin", directory.Eleve, college)
	pupilA2 := e.person(t, "Tom", "Petit", directory.Eleve, college)
	pupilB := e.person(t, "Inès", "Roux", directory.Eleve, college)
	pupilLycee := e.person(t, "Hugo", "Martin", directory.Eleve, lycee)
	parentA := e.person(t, "Sophie", "Martin", directory.Responsable, college)
	parentB := e.person(t, "Karim", "Roux", directory.Responsable, college)
	teacherA := e.person(t, "Paul", "Durand", directory.Enseignant, college)
	teacherB := e.person(t, "Anne", "Lefèvre", directory.Enseignant, college)
	teacherLycee := e.person(t, "Marc", "Girard", directory.Enseignant, lycee)
	head := e.person(t, "Claire", "Bernard", directory.Personnel, college)

	for _, m := range []struct{ g, p string }{{c4a.ID, pupilA.ID}, {c4a.ID, pupilA2.ID}, {c4b.ID, pupilB.ID}, {ly2.ID, pupilLycee.ID}} {
		if err := e.dir.AddMember(e.ctx, e.sys, m.g, m.p); err != nil {
			t.Fatal(err)
		}
	}
	must(t, e.dir.LinkParent(e.ctx, e.sys, parentA.ID, pupilA.ID))
	must(t, e.dir.LinkParent(e.ctx, e.sys, parentA.ID, pupilLycee.ID)) // one parent, children in two schools
	must(t, e.dir.LinkParent(e.ctx, e.sys, parentB.ID, pupilB.ID))
	must(t, e.dir.SetTeaching(e.ctx, e.sys, teacherA.ID, c4a.ID, ""))
	must(t, e.dir.SetTeaching(e.ctx, e.sys, teacherB.ID, c4b.ID, ""))
	must(t, e.dir.SetTeaching(e.ctx, e.sys, teacherLycee.ID, ly2.ID, ""))
	must(t, e.dir.SetFunction(e.ctx, e.sys, head.ID, directory.Function{StructureID: college.ID, Code: "DIR", Label: "Principale"}, true))

	cases := []struct {
		name string
		a, b directory.Person
		want bool
	}{
		{"pupil → classmate", pupilA, pupilA2, true},
		{"pupil → pupil of another class", pupilA, pupilB, false},
		{"pupil → pupil of another school", pupilA, pupilLycee, false},
		{"pupil → own class's teacher", pupilA, teacherA, true},
		{"pupil → other class's teacher", pupilA, teacherB, false},
		{"pupil → head of school", pupilA, head, true},
		{"pupil → own parent", pupilA, parentA, true},
		{"pupil → other parent", pupilA, parentB, false},
		{"parent → own child", parentA, pupilA, true},
		{"parent → child's teacher", parentA, teacherA, true},
		{"parent → teacher of another class", parentA, teacherB, false},
		{"parent → child's teacher in the other school", parentA, teacherLycee, true},
		{"parent → head of school", parentA, head, true},
		{"parent → other parent", parentA, parentB, false},
		{"parent → other pupil", parentA, pupilB, false},
		{"teacher → any pupil of the structure", teacherA, pupilB, true},
		{"teacher → parents of the structure", teacherA, parentB, true},
		{"teacher → colleague", teacherA, teacherB, true},
		{"teacher → teacher of another school", teacherA, teacherLycee, false},
		{"teacher → pupil of another school", teacherA, pupilLycee, false},
		{"head → parent", head, parentB, true},
	}
	for _, c := range cases {
		if got := e.mayWrite(t, c.a, c.b); got != c.want {
			t.Errorf("%s: MayWrite = %v, want %v", c.name, got, c.want)
		}
	}

	// A rule added by administrators of both schools lets pupils of the two schools reach each other.
	groups, err := e.dir.Groups(e.ctx, college.ID, directory.GroupClassProfile)
	must(t, err)
	lgroups, err := e.dir.Groups(e.ctx, lycee.ID, directory.GroupClassProfile)
	must(t, err)
	from, to := findGroup(groups, c4a.ID, directory.Eleve), findGroup(lgroups, ly2.ID, directory.Eleve)
	// A local administrator of only one of the two schools may not add it.
	must(t, e.rs.Grant(e.ctx, e.sys, head.ID, rights.LocalAdmin, college.ID))
	headActor := actor.Actor{PersonID: head.ID, Login: head.Login}
	if err := e.comm.AddRule(e.ctx, headActor, from, to); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("cross-school rule by one school's admin: %v", err)
	}
	must(t, e.comm.AddRule(e.ctx, e.sys, from, to))
	if !e.mayWrite(t, pupilA, pupilLycee) {
		t.Fatal("the cross-school rule should let the pupil write")
	}
	must(t, e.comm.RemoveRule(e.ctx, e.sys, from, to))
	if e.mayWrite(t, pupilA, pupilLycee) {
		t.Fatal("removing the rule should forbid again")
	}

	// Moving a pupil to another class moves their parent's reach too.
	must(t, e.dir.AddMember(e.ctx, e.sys, c4b.ID, pupilA.ID))
	if e.mayWrite(t, parentA, teacherA) || !e.mayWrite(t, parentA, teacherB) {
		t.Fatal("after the move the parent should reach the new class's teacher only")
	}
	if e.mayWrite(t, pupilA, pupilA2) || !e.mayWrite(t, pupilA, pupilB) {
		t.Fatal("after the move the pupil should reach the new classmates only")
	}
}

func TestSearchFollowsVisibility(t *testing.T) {
	e := setup(t)
	college := e.structure(t, "Collège Jean Moulin", "0690001A")
	lycee := e.structure(t, "Lycée Marie Curie", "0690002B")
	c := e.class(t, college, "6e A")
	pupil := e.person(t, "Léa", "Martin", directory.Eleve, college)
	mate := e.person(t, "Lucas", "Martinez", directory.Eleve, college)
	other := e.person(t, "Hugo", "Martin", directory.Eleve, lycee)
	teacher := e.person(t, "Paul", "Durand", directory.Enseignant, college)
	must(t, e.dir.AddMember(e.ctx, e.sys, c.ID, pupil.ID))
	must(t, e.dir.AddMember(e.ctx, e.sys, c.ID, mate.ID))
	must(t, e.dir.SetTeaching(e.ctx, e.sys, teacher.ID, c.ID, ""))

	pa := actor.Actor{PersonID: pupil.ID, Login: pupil.Login, Profile: pupil.Profile}
	res, err := e.dir.Search(e.ctx, pa, directory.SearchQuery{Text: "mart"})
	must(t, err)
	if got := logins(res); got != "lea.martin,lucas.martinez" {
		t.Fatalf("pupil search 'mart' = %s", got)
	}
	res, err = e.dir.Search(e.ctx, pa, directory.SearchQuery{Text: "Lucas Mart"})
	must(t, err)
	if got := logins(res); got != "lucas.martinez" {
		t.Fatalf("two words = %s", got)
	}
	// A super administrator sees everyone.
	res, err = e.dir.Search(e.ctx, e.sys, directory.SearchQuery{Text: "martin"})
	must(t, err)
	if got := logins(res); got != "hugo.martin,lea.martin,lucas.martinez" {
		t.Fatalf("admin search = %s", got)
	}
	if ok, _ := e.dir.MayView(e.ctx, pa, other.ID); ok {
		t.Fatal("a pupil must not see a pupil of another school")
	}
	if ok, _ := e.dir.MayView(e.ctx, pa, teacher.ID); !ok {
		t.Fatal("a pupil sees their teacher")
	}
}

func TestAuthorizationInService(t *testing.T) {
	e := setup(t)
	college := e.structure(t, "Collège Jean Moulin", "0690001A")
	lycee := e.structure(t, "Lycée Marie Curie", "0690002B")
	admin := e.person(t, "Claire", "Bernard", directory.Personnel, college)
	must(t, e.rs.Grant(e.ctx, e.sys, admin.ID, rights.LocalAdmin, college.ID))
	a := actor.Actor{PersonID: admin.ID, Login: admin.Login}
	if _, err := e.dir.CreateGroup(e.ctx, a, directory.GroupInput{StructureID: college.ID, Kind: directory.GroupClass, Name: "3e C"}); err != nil {
		t.Fatalf("local admin creates a class in their school: %v", err)
	}
	if _, err := e.dir.CreateGroup(e.ctx, a, directory.GroupInput{StructureID: lycee.ID, Kind: directory.GroupClass, Name: "2de 9"}); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("local admin in another school: %v", err)
	}
	if _, err := e.dir.CreateStructure(e.ctx, a, directory.StructureInput{Kind: directory.KindEcole, UAI: "0690009Z", Name: "École"}); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("local admin creates a structure: %v", err)
	}
	if _, err := e.dir.CreatePerson(e.ctx, a, directory.PersonInput{FirstName: "X", LastName: "Y", Profile: directory.Eleve, StructureIDs: []string{lycee.ID}}); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("local admin creates a person elsewhere: %v", err)
	}
	var inv *actor.InvalidError
	if _, err := e.dir.CreateStructure(e.ctx, e.sys, directory.StructureInput{Kind: directory.KindEtablissement, UAI: "12", Name: "Bad"}); !errors.As(err, &inv) || inv.Field != "uai" {
		t.Fatalf("bad UAI: %v", err)
	}
	if _, err := e.dir.CreateStructure(e.ctx, e.sys, directory.StructureInput{Kind: directory.KindEtablissement, UAI: "0690001A", Name: "Dup"}); !errors.As(err, &inv) || inv.Message != "directory.uai_taken" {
		t.Fatalf("duplicate UAI: %v", err)
	}
	// School types: an école is typed école, others may not be; only schools have one.
	ecole, err := e.dir.CreateStructure(e.ctx, e.sys, directory.StructureInput{Kind: directory.KindEcole, UAI: "0690008Y", Name: "Les Lilas"})
	if err != nil || ecole.Type != directory.TypeEcole {
		t.Fatalf("école: %+v %v", ecole, err)
	}
	for _, in := range []directory.StructureInput{{Kind: directory.KindEcole, UAI: "0690007X", Name: "x", Type: directory.TypeCollege},
		{Kind: directory.KindEtablissement, UAI: "0690007X", Name: "x", Type: directory.TypeEcole},
		{Kind: directory.KindEtablissement, UAI: "0690007X", Name: "x", Type: "ufo"},
		{Kind: directory.KindRegion, Name: "x", Type: directory.TypeLycee}} {
		if _, err := e.dir.CreateStructure(e.ctx, e.sys, in); !errors.As(err, &inv) || inv.Field != "type" {
			t.Errorf("%+v: %v", in, err)
		}
	}
	// The type is the super administrator's to change, like the kind; the AAF code
	// stays while the type does.
	must(t, e.dir.UpdateStructure(e.ctx, e.sys, college.ID, directory.StructureInput{Kind: college.Kind, UAI: college.UAI, Name: college.Name, Type: directory.TypeCollege, TypeCode: "CLG"}))
	if err := e.dir.UpdateStructure(e.ctx, a, college.ID, directory.StructureInput{Kind: college.Kind, UAI: college.UAI, Name: college.Name, Type: directory.TypeLycee}); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("local admin changes the type: %v", err)
	}
	must(t, e.dir.UpdateStructure(e.ctx, a, college.ID, directory.StructureInput{Kind: college.Kind, UAI: college.UAI, Name: "Collège J. Moulin", Type: directory.TypeCollege}))
	if st, err := e.dir.Structure(e.ctx, college.ID); err != nil || st.Type != directory.TypeCollege || st.TypeCode != "CLG" || st.Name != "Collège J. Moulin" {
		t.Fatalf("after renaming: %+v %v", st, err)
	}
	must(t, e.dir.UpdateStructure(e.ctx, e.sys, college.ID, directory.StructureInput{Kind: college.Kind, UAI: college.UAI, Name: college.Name, Type: directory.TypeAutre}))
	if st, _ := e.dir.Structure(e.ctx, college.ID); st.Type != directory.TypeAutre || st.TypeCode != "" {
		t.Fatalf("type changed by hand: %+v", st)
	}
	// Every administrative action is audited.
	entries, err := e.al.Search(e.ctx, audit.Filter{Action: "group"})
	must(t, err)
	if len(entries) != 1 || entries[0].ActorLogin != admin.Login || entries[0].Action != "group.create" {
		t.Fatalf("audit: %+v", entries)
	}

	// A local administrator cannot pull a person of another school into theirs: that
	// would open the person's data to them. A super administrator can.
	class := e.class(t, college, "4e B")
	theirs := e.person(t, "Inès", "Roux", directory.Eleve, college)
	other := e.person(t, "Hugo", "Petit", directory.Eleve, lycee)
	otherParent := e.person(t, "Anne", "Petit", directory.Responsable, lycee)
	otherTeacher := e.person(t, "Marc", "Blanc", directory.Enseignant, lycee)
	must(t, e.dir.AddMember(e.ctx, a, class.ID, theirs.ID))
	for what, err := range map[string]error{
		"class":     e.dir.AddMember(e.ctx, a, class.ID, other.ID),
		"structure": e.dir.AddToStructure(e.ctx, a, other.ID, college.ID),
		"teaching":  e.dir.SetTeaching(e.ctx, a, otherTeacher.ID, class.ID, ""),
		"function":  e.dir.SetFunction(e.ctx, a, otherTeacher.ID, directory.Function{StructureID: college.ID, Code: "DOC"}, true),
		"parent":    e.dir.LinkParent(e.ctx, a, otherParent.ID, theirs.ID),
	} {
		if !errors.Is(err, actor.ErrForbidden) {
			t.Errorf("local admin attaches a person of another school (%s): %v", what, err)
		}
	}
	if ok, err := e.dir.CanAdminPerson(e.ctx, a, other.ID); ok || err != nil {
		t.Fatalf("local admin administers a pupil of another school: %v %v", ok, err)
	}
	// Changes to a person are journaled under the structure the administrator holds,
	// so that the local journal shows them.
	must(t, e.dir.UpdatePerson(e.ctx, a, theirs.ID, directory.PersonInput{FirstName: "Inès", LastName: "Roux-Martin"}))
	entries, err = e.al.Search(e.ctx, audit.Filter{Action: "person.update", StructureIDs: []string{college.ID}})
	must(t, err)
	if len(entries) != 1 || entries[0].TargetID != theirs.ID {
		t.Fatalf("update not in the local journal: %+v", entries)
	}
	// The last super administrator cannot be removed.
	must(t, e.rs.Grant(e.ctx, e.sys, admin.ID, rights.SuperAdmin, ""))
	if err := e.rs.Revoke(e.ctx, e.sys, admin.ID, rights.SuperAdmin, ""); !errors.As(err, &inv) {
		t.Fatalf("revoking the last super admin: %v", err)
	}
}

func TestRebuildAllMatchesIncremental(t *testing.T) {
	e := setup(t)
	college := e.structure(t, "Collège Jean Moulin", "0690001A")
	c := e.class(t, college, "5e A")
	p := e.person(t, "Léa", "Martin", directory.Eleve, college)
	par := e.person(t, "Sophie", "Martin", directory.Responsable, college)
	tea := e.person(t, "Paul", "Durand", directory.Enseignant, college)
	must(t, e.dir.AddMember(e.ctx, e.sys, c.ID, p.ID))
	must(t, e.dir.LinkParent(e.ctx, e.sys, par.ID, p.ID))
	must(t, e.dir.SetTeaching(e.ctx, e.sys, tea.ID, c.ID, ""))
	before := memberships(t, e)
	must(t, e.dir.RebuildAll(e.ctx, e.dir.DB()))
	if after := memberships(t, e); after != before {
		t.Fatalf("RebuildAll differs:\n%s\n%s", before, after)
	}

	// A feed's bulk writes, then RebuildPersons for the persons they touched: the
	// pupil changes class, the teacher teaches the other class and becomes head of
	// school; a second pupil, untouched, keeps what they have.
	other := e.class(t, college, "5e B")
	p2 := e.person(t, "Hugo", "Petit", directory.Eleve, college)
	must(t, e.dir.AddMember(e.ctx, e.sys, c.ID, p2.ID))
	d := e.dir.DB()
	for _, st := range []struct {
		q    string
		args []any
	}{
		{`UPDATE group_members SET group_id = $1 WHERE group_id = $2 AND person_id = $3`, []any{other.ID, c.ID, p.ID}},
		{`UPDATE teaching SET group_id = $1 WHERE teacher_id = $2`, []any{other.ID, tea.ID}},
		{`INSERT INTO person_functions(person_id, structure_id, code, label) VALUES ($1, $2, 'DIR', 'Principal')`, []any{tea.ID, college.ID}},
	} {
		if _, err := d.ExecContext(e.ctx, st.q, st.args...); err != nil {
			t.Fatal(err)
		}
	}
	must(t, e.dir.RebuildPersons(e.ctx, d, `SELECT id FROM persons WHERE id IN ($1, $2, $3)`, p.ID, par.ID, tea.ID))
	partial := memberships(t, e)
	if !strings.Contains(partial, "Élèves — 5e B:lea.martin:auto") || strings.Contains(partial, "Élèves — 5e A:lea.martin") ||
		!strings.Contains(partial, "Élèves — 5e A:hugo.petit:auto") {
		t.Fatalf("RebuildPersons did not follow the changes:\n%s", partial)
	}
	must(t, e.dir.RebuildAll(e.ctx, d))
	if all := memberships(t, e); all != partial {
		t.Fatalf("RebuildPersons and RebuildAll differ:\n%s\n%s", partial, all)
	}
	// Persons without automatic memberships yet (a first import) get them directly.
	if _, err := d.ExecContext(e.ctx, `DELETE FROM group_members WHERE source = 'auto'`); err != nil {
		t.Fatal(err)
	}
	must(t, e.dir.RebuildPersons(e.ctx, d, `SELECT id FROM persons`))
	if fresh := memberships(t, e); fresh != partial {
		t.Fatalf("RebuildPersons on persons without memberships differs:\n%s\n%s", partial, fresh)
	}
	if _, err := d.ExecContext(e.ctx, `DELETE FROM group_members WHERE source = 'auto'`); err != nil {
		t.Fatal(err)
	}
	must(t, e.dir.RebuildAll(e.ctx, d))
	if fresh := memberships(t, e); fresh != partial {
		t.Fatalf("RebuildAll on a directory without memberships differs:\n%s\n%s", partial, fresh)
	}
	var left int
	must(t, d.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM group_members_wanted`).Scan(&left))
	if left != 0 {
		t.Fatalf("%d rows left in the work table", left)
	}

	// Inside a transaction, as an import runs it: a parent of two pupils of one
	// class is in its parents group once, and a row already there (a direct
	// membership in the teachers' group, as old data may hold) stays as it is
	// while the others are written.
	p3 := e.person(t, "Zoé", "Martin", directory.Eleve, college)
	must(t, e.dir.AddMember(e.ctx, e.sys, other.ID, p3.ID))
	must(t, e.dir.LinkParent(e.ctx, e.sys, par.ID, p3.ID))
	must(t, e.dir.RebuildAll(e.ctx, d))
	want := memberships(t, e)
	if !strings.Contains(want, "Responsables — 5e B:sophie.martin:auto") || !strings.Contains(want, "Enseignants — 5e B:paul.durand:auto") {
		t.Fatalf("memberships:\n%s", want)
	}
	for _, q := range []string{`DELETE FROM group_members WHERE source = 'auto'`,
		`INSERT INTO group_members(group_id, person_id, source) SELECT g.id, t.teacher_id, 'direct' FROM teaching t JOIN groups g
			ON g.class_id = t.group_id AND g.kind = 'class_profile' AND g.profile = 'Enseignant'`} {
		if _, err := d.ExecContext(e.ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	must(t, d.Tx(e.ctx, func(tx *sql.Tx) error { return e.dir.RebuildPersons(e.ctx, tx, "") }))
	got := memberships(t, e)
	if want = strings.Replace(want, "Enseignants — 5e B:paul.durand:auto", "Enseignants — 5e B:paul.durand:direct", 1); got != want {
		t.Fatalf("RebuildPersons in a transaction, over a membership already there:\n%s\nwant:\n%s", got, want)
	}
}

func memberships(t *testing.T, e *env) string {
	rows, err := e.dir.DB().QueryContext(e.ctx, `SELECT g.name || ':' || p.login || ':' || m.source FROM group_members m JOIN groups g ON g.id=m.group_id JOIN persons p ON p.id=m.person_id ORDER BY 1`)
	must(t, err)
	defer rows.Close()
	var out string
	for rows.Next() {
		var s string
		must(t, rows.Scan(&s))
		out += s + "\n"
	}
	return out
}

func findGroup(gs []directory.Group, classID, profile string) string {
	for _, g := range gs {
		if g.ClassID == classID && g.Profile == profile {
			return g.ID
		}
	}
	return ""
}

func logins(ps []directory.Person) string {
	var out string
	for i, p := range ps {
		if i > 0 {
			out += ","
		}
		out += p.Login
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
