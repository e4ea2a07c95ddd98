// Package rights holds the authorization core every service uses: roles (super
// administrator, local administrator and moderator of a structure), which
// applications each profile may use, and per-resource shares to persons and groups.
package rights

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the rights tables.
var Migrations = db.Embedded("rights", migrations)

// Roles.
const (
	SuperAdmin = "superadmin"
	LocalAdmin = "localadmin"
	Moderator  = "moderator"
)

// Service answers and changes roles, application rights and shares.
type Service struct {
	db    *db.DB
	audit *audit.Log
	apps  []App

	// Application-right overrides are read by every dashboard and change a few times a
	// year: each instance keeps them overridesTTL, so another instance's change shows
	// within that time, this instance's at once.
	omu       sync.Mutex
	overrideC map[string]cachedOverrides
}

type cachedOverrides struct {
	m  map[string]map[string]bool
	at time.Time
}

const overridesTTL = 30 * time.Second

// New returns the rights service; apps is the catalog of the deployment's applications.
func New(d *db.DB, a *audit.Log, apps []App) *Service {
	return &Service{db: d, audit: a, apps: apps}
}

// Assignment is one role held by a person.
type Assignment struct {
	PersonID    string
	Role        string
	StructureID string // "" for superadmin
	GrantedAt   time.Time
}

// RolesOf returns every role a person holds.
func (s *Service) RolesOf(ctx context.Context, personID string) ([]Assignment, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT role, structure_id, granted_at FROM role_assignments WHERE person_id=$1 ORDER BY role, structure_id`, personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Assignment
	for rows.Next() {
		a := Assignment{PersonID: personID}
		var at int64
		if err := rows.Scan(&a.Role, &a.StructureID, &at); err != nil {
			return nil, err
		}
		a.GrantedAt = time.UnixMilli(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// IsSuperAdmin tells whether the actor administers the whole deployment.
func (s *Service) IsSuperAdmin(ctx context.Context, a actor.Actor) (bool, error) {
	if a.System {
		return true, nil
	}
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM role_assignments WHERE person_id=$1 AND role=$2`, a.PersonID, SuperAdmin).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// MustSuperAdmin is actor.ErrForbidden unless the actor administers the deployment.
func (s *Service) MustSuperAdmin(ctx context.Context, a actor.Actor) error {
	ok, err := s.IsSuperAdmin(ctx, a)
	if err != nil {
		return err
	}
	if !ok {
		return actor.ErrForbidden
	}
	return nil
}

// AdminScope tells which structures the actor administers: all of them (super
// administrator), or the listed ones and every structure below them in the tree.
func (s *Service) AdminScope(ctx context.Context, a actor.Actor) (all bool, structureIDs []string, err error) {
	if a.System {
		return true, nil, nil
	}
	if m, ok := ctx.Value(memoKey{}).(*memo); ok {
		m.mu.Lock()
		defer m.mu.Unlock()
		if sc, ok := m.scopes[a.PersonID]; ok {
			return sc.all, sc.ids, nil
		}
		all, structureIDs, err = s.adminScope(ctx, a)
		if err == nil {
			m.scopes[a.PersonID] = scope{all, structureIDs}
		}
		return all, structureIDs, err
	}
	return s.adminScope(ctx, a)
}

// memo keeps, for one request, the administration scopes already computed: a page
// asks "is this person an administrator" from several places.
type memo struct {
	mu     sync.Mutex
	scopes map[string]scope
}

type scope struct {
	all bool
	ids []string
}

type memoKey struct{}

// WithMemo returns a context in which AdminScope answers are computed once. The web
// layer uses one per request; Grant and Revoke forget what it holds.
func WithMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, memoKey{}, &memo{scopes: map[string]scope{}})
}

// WithoutRoles records in the request's memo (see WithMemo) that the person holds no
// role, as the session lookup found out in its own query: AdminScope then answers
// without a round trip. Grant and Revoke still forget it.
func WithoutRoles(ctx context.Context, personID string) {
	if m, ok := ctx.Value(memoKey{}).(*memo); ok {
		m.mu.Lock()
		m.scopes[personID] = scope{}
		m.mu.Unlock()
	}
}

func forgetScopes(ctx context.Context) {
	if m, ok := ctx.Value(memoKey{}).(*memo); ok {
		m.mu.Lock()
		m.scopes = map[string]scope{}
		m.mu.Unlock()
	}
}

func (s *Service) adminScope(ctx context.Context, a actor.Actor) (all bool, structureIDs []string, err error) {
	// One query for the usual case (no role at all); the tree walk only for local administrators.
	rows, err := s.db.QueryContext(ctx, `SELECT role, structure_id FROM role_assignments WHERE person_id=$1`, a.PersonID)
	if err != nil {
		return false, nil, err
	}
	var roots []string
	for rows.Next() {
		var role, id string
		if err := rows.Scan(&role, &id); err != nil {
			rows.Close()
			return false, nil, err
		}
		switch role {
		case SuperAdmin:
			all = true
		case LocalAdmin:
			roots = append(roots, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || all || len(roots) == 0 {
		return all, nil, err
	}
	// Walk down the tree: a local administrator of a collectivité administers the
	// établissements attached to it.
	seen := map[string]bool{}
	frontier := roots
	for len(frontier) > 0 {
		var next []string
		for _, id := range frontier {
			if seen[id] {
				continue
			}
			seen[id] = true
			structureIDs = append(structureIDs, id)
			children, err := db.Strings(ctx, s.db, `SELECT id FROM structures WHERE parent_id=$1`, id)
			if err != nil {
				return false, nil, err
			}
			next = append(next, children...)
		}
		frontier = next
	}
	sort.Strings(structureIDs)
	return false, structureIDs, nil
}

// CanAdminStructure tells whether the actor administers the structure.
func (s *Service) CanAdminStructure(ctx context.Context, a actor.Actor, structureID string) (bool, error) {
	all, ids, err := s.AdminScope(ctx, a)
	if err != nil || all {
		return all, err
	}
	for _, id := range ids {
		if id == structureID {
			return true, nil
		}
	}
	return false, nil
}

// IsAdmin tells whether the actor administers anything (to show the console).
func (s *Service) IsAdmin(ctx context.Context, a actor.Actor) (bool, error) {
	all, ids, err := s.AdminScope(ctx, a)
	return all || len(ids) > 0, err
}

// IsModerator tells whether the actor moderates the structure's publication spaces;
// local administrators of the structure moderate too.
func (s *Service) IsModerator(ctx context.Context, a actor.Actor, structureID string) (bool, error) {
	if ok, err := s.CanAdminStructure(ctx, a, structureID); ok || err != nil {
		return ok, err
	}
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM role_assignments WHERE person_id=$1 AND role=$2 AND structure_id=$3`, a.PersonID, Moderator, structureID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Grant gives a role. Only a super administrator grants superadmin; a local
// administrator grants localadmin and moderator on the structures they administer.
func (s *Service) Grant(ctx context.Context, a actor.Actor, personID, role, structureID string) error {
	if err := s.checkRoleChange(ctx, a, role, structureID); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO role_assignments(person_id, role, structure_id, granted_at) VALUES ($1,$2,$3,$4)
		ON CONFLICT (person_id, role, structure_id) DO NOTHING`, personID, role, structureID, time.Now().UnixMilli())
	if err != nil {
		return err
	}
	forgetScopes(ctx)
	s.audit.Write(ctx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: "role.grant", TargetType: "person", TargetID: personID, StructureID: structureID, Success: true, Details: map[string]string{"role": role}})
	return nil
}

// Revoke takes a role back, under the same rule as Grant. The last super
// administrator cannot be removed, so that the deployment is never left without one.
func (s *Service) Revoke(ctx context.Context, a actor.Actor, personID, role, structureID string) error {
	if err := s.checkRoleChange(ctx, a, role, structureID); err != nil {
		return err
	}
	defer forgetScopes(ctx)
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if role == SuperAdmin {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM role_assignments WHERE role=$1`, SuperAdmin).Scan(&n); err != nil {
				return err
			}
			if n <= 1 {
				return actor.Invalid("role", "rights.last_superadmin")
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM role_assignments WHERE person_id=$1 AND role=$2 AND structure_id=$3`, personID, role, structureID); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: "role.revoke", TargetType: "person", TargetID: personID, StructureID: structureID, Success: true, Details: map[string]string{"role": role}})
	})
}

func (s *Service) checkRoleChange(ctx context.Context, a actor.Actor, role, structureID string) error {
	switch role {
	case SuperAdmin:
		if structureID != "" {
			return actor.Invalid("structure", "rights.superadmin_no_structure")
		}
		ok, err := s.IsSuperAdmin(ctx, a)
		if err != nil {
			return err
		}
		if !ok {
			return actor.ErrForbidden
		}
		return nil
	case LocalAdmin, Moderator:
		if structureID == "" {
			return actor.Invalid("structure", "rights.structure_required")
		}
		ok, err := s.CanAdminStructure(ctx, a, structureID)
		if err != nil {
			return err
		}
		if !ok {
			return actor.ErrForbidden
		}
		return nil
	}
	return actor.Invalid("role", "rights.unknown_role")
}

// Holders lists who holds roles on the given structures ("" included for super administrators).
func (s *Service) Holders(ctx context.Context, structureIDs []string) ([]Assignment, error) {
	if len(structureIDs) == 0 {
		return nil, nil
	}
	args := make([]any, len(structureIDs))
	for i, id := range structureIDs {
		args[i] = id
	}
	rows, err := s.db.QueryContext(ctx, `SELECT person_id, role, structure_id, granted_at FROM role_assignments WHERE structure_id IN (`+db.In(1, len(args))+`) ORDER BY structure_id, role`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Assignment
	for rows.Next() {
		var a Assignment
		var at int64
		if err := rows.Scan(&a.PersonID, &a.Role, &a.StructureID, &at); err != nil {
			return nil, err
		}
		a.GrantedAt = time.UnixMilli(at)
		out = append(out, a)
	}
	return out, rows.Err()
}
