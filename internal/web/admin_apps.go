package web

import (
	"net/http"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/rights"
)

// Values of a cell of the applications matrix.
const (
	cellDefault = "defaut"
	cellAllow   = "autorise"
	cellDeny    = "interdit"
)

type appCell struct {
	Profile string
	Name    string // the form field
	Default bool   // allowed when the structure says nothing
	Value   string // cellDefault, cellAllow or cellDeny
}

type appRow struct {
	App   rights.App
	Cells []appCell
}

type adminAppsData struct {
	Nav       adminNav
	Structure directory.Structure
	Profiles  []string
	Rows      []appRow
}

func cellName(app, profile string) string { return "droit." + app + "." + profile }

// appMatrix is, for each application and profile, what the structure's overrides say
// (administration is for administrators, whatever their profile: it has no row).
func (s *Server) appMatrix(r *http.Request, structureID string) ([]appRow, error) {
	ctx := r.Context()
	deployment, err := s.svc.Rights.AppRights(ctx, "")
	if err != nil {
		return nil, err
	}
	local, err := s.svc.Rights.AppRights(ctx, structureID)
	if err != nil {
		return nil, err
	}
	index := func(list []rights.AppRight) map[string]bool {
		m := map[string]bool{}
		for _, x := range list {
			m[x.App+"\x00"+x.Profile] = x.Allowed
		}
		return m
	}
	dep, loc := index(deployment), index(local)
	var out []appRow
	for _, app := range s.svc.Rights.Apps() {
		if app.AdminOnly {
			continue
		}
		row := appRow{App: app}
		for _, prof := range directory.Profiles {
			c := appCell{Profile: prof, Name: cellName(app.ID, prof), Value: cellDefault}
			for _, p := range app.Profiles {
				c.Default = c.Default || p == prof
			}
			if v, ok := dep[app.ID+"\x00"+prof]; ok {
				c.Default = v
			}
			if v, ok := loc[app.ID+"\x00"+prof]; ok {
				c.Value = map[bool]string{true: cellAllow, false: cellDeny}[v]
			}
			row.Cells = append(row.Cells, c)
		}
		out = append(out, row)
	}
	return out, nil
}

func (s *Server) adminApps(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	st, nav, err := s.administered(r, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows, err := s.appMatrix(r, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "admin.apps.title", adminAppsData{Nav: nav, Structure: st, Profiles: directory.Profiles, Rows: rows})
	s.render(w, r, http.StatusOK, "admin_apps", p)
}

// adminSaveApps records the cells that changed: an override set, or removed when the
// cell goes back to the default.
func (s *Server) adminSaveApps(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	id := r.PathValue("id")
	if err := s.mustAdminister(r, id); err != nil {
		s.fail(w, r, err)
		return
	}
	rows, err := s.appMatrix(r, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, row := range rows {
		for _, c := range row.Cells {
			v := r.PostForm.Get(c.Name)
			if v == c.Value || (v != cellAllow && v != cellDeny && v != cellDefault) {
				continue
			}
			right := rights.AppRight{App: row.App.ID, Profile: c.Profile, StructureID: id, Allowed: v == cellAllow}
			var err error
			if v == cellDefault {
				err = s.svc.Rights.ClearAppRight(r.Context(), actorOf(r), right)
			} else {
				err = s.svc.Rights.SetAppRight(r.Context(), actorOf(r), right)
			}
			if err != nil {
				s.fail(w, r, err)
				return
			}
		}
	}
	flash(w, "admin.apps.saved")
	http.Redirect(w, r, "/admin/structures/"+id+"/applications", http.StatusSeeOther)
}
