package account

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/commrules"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/mail"
	"github.com/preau-ent/preau/internal/rights"
)

// fastArgon keeps tests quick; the format and the code path are the same.
var fastArgon = ArgonParams{MemoryKiB: 64, Time: 1, Threads: 1}

const goodPassword = "Cartable-2024"

var sys = actor.System("test")

// clock is the injectable time of the tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t      testing.TB
	ctx    context.Context
	db     *db.DB
	audit  *audit.Log
	rights *rights.Service
	dir    *directory.Service
	acc    *Service
	spool  *mail.Spool
	clock  *clock
	school directory.Structure
	other  directory.Structure
}

func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	ctx := context.Background()
	d := db.ForTest(t)
	if err := d.Migrate(ctx, directory.Migrations, Migrations, rights.Migrations, commrules.Migrations, audit.Migrations); err != nil {
		t.Fatal(err)
	}
	a := audit.New(d)
	r := rights.New(d, a, nil)
	dir := directory.New(d, a, r, commrules.New(d, a, r))
	sp := mail.NewSpool(filepath.Join(t.TempDir(), "spool"), "Préau <ne-pas-repondre@ent.example.fr>")
	if cfg.Argon == (ArgonParams{}) {
		cfg.Argon = fastArgon
	}
	e := &env{t: t, ctx: ctx, db: d, audit: a, rights: r, dir: dir, spool: sp,
		clock: &clock{t: time.Date(2025, 9, 1, 7, 55, 0, 0, time.UTC)}}
	e.acc = New(d, a, dir, r, sp, cfg)
	e.acc.now = e.clock.Now
	var err error
	if e.school, err = dir.CreateStructure(ctx, sys, directory.StructureInput{Kind: directory.KindEtablissement, UAI: "0750001A", Name: "Collège Jean Moulin", City: "Paris"}); err != nil {
		t.Fatal(err)
	}
	if e.other, err = dir.CreateStructure(ctx, sys, directory.StructureInput{Kind: directory.KindEtablissement, UAI: "0690002B", Name: "Collège Louise Labé", City: "Lyon"}); err != nil {
		t.Fatal(err)
	}
	return e
}

// person creates a pending person in the school.
func (e *env) person(first, last, profile, email string) directory.Person {
	e.t.Helper()
	return e.personIn(e.school.ID, first, last, profile, email)
}

func (e *env) personIn(structureID, first, last, profile, email string) directory.Person {
	e.t.Helper()
	p, err := e.dir.CreatePerson(e.ctx, sys, directory.PersonInput{FirstName: first, LastName: last, Profile: profile, Email: email, StructureIDs: []string{structureID}})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// active creates a person and activates the account with goodPassword.
func (e *env) active(first, last, profile, email string) directory.Person {
	e.t.Helper()
	p := e.person(first, last, profile, email)
	if err := e.acc.SetPassword(e.ctx, sys, p.ID, goodPassword); err != nil {
		e.t.Fatal(err)
	}
	p.State = directory.StateActive
	return p
}

// admin creates a local administrator of the school.
func (e *env) admin() actor.Actor {
	e.t.Helper()
	p := e.active("Claire", "Directrice", directory.Personnel, "")
	if err := e.rights.Grant(e.ctx, sys, p.ID, rights.LocalAdmin, e.school.ID); err != nil {
		e.t.Fatal(err)
	}
	return actorOf(p, "10.0.0.1")
}

func actorOf(p directory.Person, ip string) actor.Actor {
	return actor.Actor{PersonID: p.ID, Login: p.Login, Profile: p.Profile, IP: ip}
}

func (e *env) login(p directory.Person, password string) (string, error) {
	e.t.Helper()
	tok, _, err := e.acc.Login(e.ctx, p.Login, password, "192.0.2.1", "Firefox")
	return tok, err
}

func (e *env) mustLogin(p directory.Person, password string) string {
	e.t.Helper()
	tok, err := e.login(p, password)
	if err != nil {
		e.t.Fatalf("connexion de %s : %v", p.Login, err)
	}
	return tok
}

// audited returns the audit entries of an action (exact), newest first.
func (e *env) audited(action string) []audit.Entry {
	e.t.Helper()
	all, err := e.audit.Search(e.ctx, audit.Filter{Action: action, Limit: 500})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []audit.Entry
	for _, x := range all {
		if x.Action == action {
			out = append(out, x)
		}
	}
	return out
}

// wantAudit checks that the newest entry of action has the given outcome, target and
// (when not empty) reason.
func (e *env) wantAudit(action string, success bool, targetID, why string) audit.Entry {
	e.t.Helper()
	got := e.audited(action)
	if len(got) == 0 {
		e.t.Fatalf("aucune entrée d'audit %q", action)
	}
	x := got[0]
	if x.Success != success || (targetID != "" && x.TargetID != targetID) || (why != "" && x.Details["reason"] != why) {
		e.t.Fatalf("audit %q : %+v ; voulu succès=%v cible=%q raison=%q", action, x, success, targetID, why)
	}
	return x
}

func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("erreur %v, voulu %v", err, want)
	}
}

func wantInvalid(t testing.TB, err error, field, key string) {
	t.Helper()
	var inv *actor.InvalidError
	if !errors.As(err, &inv) || inv.Field != field || inv.Message != key {
		t.Fatalf("erreur %v, voulu %s: %s", err, field, key)
	}
}
