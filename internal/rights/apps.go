package rights

import (
	"context"
	"database/sql"
	"time"

	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
)

// App is an application of the deployment as the dashboard shows it.
type App struct {
	ID       string   // "annuaire", "moncompte", ...
	Path     string   // where it lives, e.g. "/annuaire"
	Icon     string   // name of an icon in the static sprite
	Profiles []string // profiles that may use it by default
	// AdminOnly apps are shown to administrators whatever their profile.
	AdminOnly bool
}

// Apps returns the catalog.
func (s *Service) Apps() []App { return s.apps }

// AppsFor returns the applications a person may use: the defaults of their profile,
// corrected by the deployment-wide and then the structure's overrides (a structure's
// override wins over the deployment's).
func (s *Service) AppsFor(ctx context.Context, a actor.Actor, structureIDs []string) ([]App, error) {
	isAdmin, err := s.IsAdmin(ctx, a)
	if err != nil {
		return nil, err
	}
	overrides, err := s.overrides(ctx, a.Profile)
	if err != nil {
		return nil, err
	}
	var out []App
	for _, app := range s.apps {
		if app.AdminOnly {
			if isAdmin {
				out = append(out, app)
			}
			continue
		}
		allowed := contains(app.Profiles, a.Profile)
		if v, ok := overrides[app.ID][""]; ok {
			allowed = v
		}
		// Any structure of the person that allows it, allows it; if every one of
		// them forbids it, it is forbidden.
		var any, allForbid bool
		allForbid = len(structureIDs) > 0
		for _, sid := range structureIDs {
			v, ok := overrides[app.ID][sid]
			if !ok {
				allForbid = false
				continue
			}
			if v {
				any = true
				allForbid = false
			}
		}
		if any {
			allowed = true
		} else if allForbid {
			allowed = false
		}
		if allowed {
			out = append(out, app)
		}
	}
	return out, nil
}

// MayUse tells whether the actor may use one application.
func (s *Service) MayUse(ctx context.Context, a actor.Actor, structureIDs []string, appID string) (bool, error) {
	apps, err := s.AppsFor(ctx, a, structureIDs)
	if err != nil {
		return false, err
	}
	for _, app := range apps {
		if app.ID == appID {
			return true, nil
		}
	}
	return false, nil
}

func (s *Service) overrides(ctx context.Context, profile string) (map[string]map[string]bool, error) {
	s.omu.Lock()
	c, ok := s.overrideC[profile]
	s.omu.Unlock()
	if ok && time.Since(c.at) < overridesTTL {
		return c.m, nil
	}
	m, err := s.loadOverrides(ctx, profile)
	if err != nil {
		return nil, err
	}
	s.omu.Lock()
	if s.overrideC == nil {
		s.overrideC = map[string]cachedOverrides{}
	}
	s.overrideC[profile] = cachedOverrides{m: m, at: time.Now()}
	s.omu.Unlock()
	return m, nil
}

func (s *Service) loadOverrides(ctx context.Context, profile string) (map[string]map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT app, structure_id, allowed FROM app_rights WHERE profile=$1`, profile)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]map[string]bool{}
	for rows.Next() {
		var app, sid string
		var allowed bool
		if err := rows.Scan(&app, &sid, &allowed); err != nil {
			return nil, err
		}
		if out[app] == nil {
			out[app] = map[string]bool{}
		}
		out[app][sid] = allowed
	}
	return out, rows.Err()
}

// AppRight is one override, for the administration console.
type AppRight struct {
	App, Profile, StructureID string
	Allowed                   bool
}

// SetAppRight records an override; structureID "" needs a super administrator.
func (s *Service) SetAppRight(ctx context.Context, a actor.Actor, r AppRight) error {
	if err := s.mustOverride(ctx, a, r); err != nil {
		return err
	}
	defer s.forgetOverrides()
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO app_rights(app, profile, structure_id, allowed) VALUES ($1,$2,$3,$4)
			ON CONFLICT (app, profile, structure_id) DO UPDATE SET allowed=excluded.allowed`, r.App, r.Profile, r.StructureID, r.Allowed); err != nil {
			return err
		}
		details := map[string]string{"app": r.App, "profile": r.Profile, "allowed": map[bool]string{true: "oui", false: "non"}[r.Allowed]}
		return s.audit.WriteTx(ctx, tx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: "app_right.set", TargetType: "app", TargetID: r.App, StructureID: r.StructureID, Success: true, Details: details})
	})
}

// ClearAppRight removes an override: the profile gets back what the level above says
// (the deployment's override, or the catalog's default).
func (s *Service) ClearAppRight(ctx context.Context, a actor.Actor, r AppRight) error {
	if err := s.mustOverride(ctx, a, r); err != nil {
		return err
	}
	defer s.forgetOverrides()
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM app_rights WHERE app=$1 AND profile=$2 AND structure_id=$3`, r.App, r.Profile, r.StructureID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // nothing to clear: not worth a journal entry
		}
		details := map[string]string{"app": r.App, "profile": r.Profile}
		return s.audit.WriteTx(ctx, tx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: "app_right.clear", TargetType: "app", TargetID: r.App, StructureID: r.StructureID, Success: true, Details: details})
	})
}

// mustOverride checks that the application exists and that the actor may change its
// rights at that level: a super administrator for the deployment, an administrator of
// the structure for a structure.
func (s *Service) mustOverride(ctx context.Context, a actor.Actor, r AppRight) error {
	if !s.knownApp(r.App) {
		return actor.Invalid("app", "rights.unknown_app")
	}
	if r.StructureID == "" {
		if ok, err := s.IsSuperAdmin(ctx, a); err != nil || !ok {
			return forbidden(err)
		}
	} else if ok, err := s.CanAdminStructure(ctx, a, r.StructureID); err != nil || !ok {
		return forbidden(err)
	}
	return nil
}

// forgetOverrides drops this instance's cache of overrides after a change (other
// instances see it when their cache expires).
func (s *Service) forgetOverrides() {
	s.omu.Lock()
	s.overrideC = nil
	s.omu.Unlock()
}

// AppRights lists the overrides of one structure ("" for the deployment).
func (s *Service) AppRights(ctx context.Context, structureID string) ([]AppRight, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT app, profile, allowed FROM app_rights WHERE structure_id=$1 ORDER BY app, profile`, structureID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AppRight
	for rows.Next() {
		r := AppRight{StructureID: structureID}
		if err := rows.Scan(&r.App, &r.Profile, &r.Allowed); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Service) knownApp(id string) bool {
	for _, a := range s.apps {
		if a.ID == id {
			return true
		}
	}
	return false
}

func forbidden(err error) error {
	if err != nil {
		return err
	}
	return actor.ErrForbidden
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
