package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/rights"
)

// ---- Overview ----

type structureRow struct {
	directory.Structure
	ParentName                                string
	Pupils, Parents, Teachers, Staff, Classes int
}

type holder struct {
	rights.Assignment
	Person directory.Person
}

type adminHomeData struct {
	Nav           adminNav
	Rows          []structureRow
	Supers        []holder
	KindOptions   []option
	TypeOptions   []option
	ParentOptions []option
}

func kindOptions() []option {
	var out []option
	for _, k := range directory.StructureKinds {
		out = append(out, option{Value: k, Key: "admin.kind." + k})
	}
	return out
}

// typeOptions are the school types a structure form offers (besides "not known").
func typeOptions() []option {
	var out []option
	for _, t := range directory.StructureTypes {
		out = append(out, option{Value: t, Key: "admin.type." + t})
	}
	return out
}

func (s *Server) adminHome(w http.ResponseWriter, r *http.Request) {
	s.adminHomePage(w, r, http.StatusOK, s.page(r, "", nil))
}

// adminHomePage lists the structures the actor administers with their counts (taken
// from the member counts of their profile groups); a super administrator also gets
// the list of super administrators and the form that creates a structure.
func (s *Server) adminHomePage(w http.ResponseWriter, r *http.Request, status int, p Page) {
	ctx := r.Context()
	list, err := s.scopeStructures(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	nav, err := s.nav(r, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	all := list
	if !nav.Super {
		// Parent names may lie outside the scope: they are public facts.
		if all, err = s.svc.Directory.Structures(ctx, nil); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	names := map[string]string{}
	for _, st := range all {
		names[st.ID] = st.Name
	}
	d := adminHomeData{Nav: nav, KindOptions: kindOptions(), TypeOptions: typeOptions(), ParentOptions: structureOptions(list)}
	for _, st := range list {
		row := structureRow{Structure: st, ParentName: names[st.ParentID]}
		groups, err := s.svc.Directory.Groups(ctx, st.ID, directory.GroupProfile, directory.GroupClass)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, g := range groups {
			switch {
			case g.Kind == directory.GroupClass && !g.Archived:
				row.Classes++
			case g.Profile == directory.Eleve:
				row.Pupils = g.Members
			case g.Profile == directory.Responsable:
				row.Parents = g.Members
			case g.Profile == directory.Enseignant:
				row.Teachers = g.Members
			case g.Profile == directory.Personnel:
				row.Staff = g.Members
			}
		}
		d.Rows = append(d.Rows, row)
	}
	if nav.Super {
		if d.Supers, err = s.holders(r, []string{""}); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	p.Title = p.L.T("admin.home.title")
	p.Path = "/admin"
	p.Data = d
	s.render(w, r, status, "admin_home", p)
}

func (s *Server) holders(r *http.Request, structureIDs []string) ([]holder, error) {
	list, err := s.svc.Rights.Holders(r.Context(), structureIDs)
	if err != nil {
		return nil, err
	}
	var out []holder
	for _, a := range list {
		p, err := s.svc.Directory.Person(r.Context(), a.PersonID)
		if errors.Is(err, actor.ErrNotFound) {
			p = directory.Person{ID: a.PersonID, LastName: a.PersonID}
		} else if err != nil {
			return nil, err
		}
		out = append(out, holder{Assignment: a, Person: p})
	}
	return out, nil
}

func (s *Server) adminCreateStructure(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	f := r.PostForm
	st, err := s.svc.Directory.CreateStructure(r.Context(), actorOf(r), directory.StructureInput{
		Kind: f.Get("kind"), Type: f.Get("type"), Name: f.Get("name"), UAI: f.Get("uai"), City: f.Get("city"), ParentID: f.Get("parent")})
	s.done(w, r, err, "admin.structure_created", "/admin/structures/"+st.ID, same("kind", "type", "name", "uai", "city", "parent"), "name",
		func(p Page) { s.adminHomePage(w, r, http.StatusBadRequest, p) })
}

// personByLogin finds the person a form names by login, among those the actor may
// designate: anyone for a super administrator, the persons of the structures they
// administer for the others. Both "unknown" and "not yours" read the same, so that
// the form does not tell which logins exist elsewhere.
func (s *Server) personByLogin(r *http.Request, login, field string) (directory.Person, error) {
	ctx, a := r.Context(), actorOf(r)
	login = strings.TrimSpace(login)
	if login == "" {
		return directory.Person{}, actor.Invalid(field, "admin.login_required")
	}
	p, err := s.svc.Directory.PersonByLogin(ctx, login)
	if errors.Is(err, actor.ErrNotFound) {
		return p, actor.Invalid(field, "admin.unknown_login")
	}
	if err != nil {
		return p, err
	}
	ok, err := s.svc.Directory.CanAdminPerson(ctx, a, p.ID)
	if err != nil {
		return p, err
	}
	if !ok {
		return p, actor.Invalid(field, "admin.unknown_login")
	}
	return p, nil
}

func (s *Server) adminGrantSuper(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	p, err := s.personByLogin(r, r.PostForm.Get("super_login"), "super_login")
	if err == nil {
		err = s.svc.Rights.Grant(r.Context(), actorOf(r), p.ID, rights.SuperAdmin, "")
	}
	s.done(w, r, err, "admin.role_granted", "/admin#super", nil, "super_login",
		func(p Page) { s.adminHomePage(w, r, http.StatusBadRequest, p) })
}

func (s *Server) adminRevokeSuper(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	err := s.svc.Rights.Revoke(r.Context(), actorOf(r), r.PostForm.Get("person"), rights.SuperAdmin, "")
	s.done(w, r, err, "admin.role_revoked", "/admin#super", nil, "super_login",
		func(p Page) { s.adminHomePage(w, r, http.StatusBadRequest, p) })
}

// ---- One structure ----

type adminStructureData struct {
	Nav              adminNav
	Structure        directory.Structure
	ParentName       string
	IsSchool         bool
	Groups           []directory.Group
	Subjects         []directory.Subject
	Persons          []directory.Person
	Query            string
	Profile          string
	ProfileOptions   []option
	PrevURL, NextURL string
	Holders          []holder
	KindOptions      []option
	TypeOptions      []option
	ParentOptions    []option
	GroupKindOptions []option
	RoleOptions      []option
}

func (s *Server) adminStructure(w http.ResponseWriter, r *http.Request) {
	s.structurePage(w, r, r.PathValue("id"), http.StatusOK, s.page(r, "", nil))
}

func (s *Server) structurePage(w http.ResponseWriter, r *http.Request, id string, status int, p Page) {
	ctx, a := r.Context(), actorOf(r)
	st, nav, err := s.administered(r, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := adminStructureData{Nav: nav, Structure: st, IsSchool: directory.IsSchool(st.Kind), KindOptions: kindOptions(), TypeOptions: typeOptions(),
		RoleOptions: []option{{Value: rights.LocalAdmin, Key: "role.localadmin"}, {Value: rights.Moderator, Key: "role.moderator"}}}
	for _, k := range []string{directory.GroupClass, directory.GroupTeaching, directory.GroupManual} {
		if k == directory.GroupClass && !d.IsSchool {
			continue
		}
		d.GroupKindOptions = append(d.GroupKindOptions, option{Value: k, Key: "group.kind." + k})
	}
	if st.ParentID != "" {
		if parent, err := s.svc.Directory.Structure(ctx, st.ParentID); err == nil {
			d.ParentName = parent.Name
		}
	}
	if nav.Super {
		all, err := s.svc.Directory.Structures(ctx, nil)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.ParentOptions = structureOptions(all, st.ID)
	}
	if d.Groups, err = s.svc.Directory.Groups(ctx, id, directory.GroupClass, directory.GroupTeaching, directory.GroupManual); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Subjects, err = s.svc.Directory.Subjects(ctx, id); err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	d.Query = strings.TrimSpace(q.Get("q"))
	if directory.ValidProfile(q.Get("profil")) {
		d.Profile = q.Get("profil")
	}
	d.ProfileOptions = profileOptions()
	offset, _ := strconv.Atoi(q.Get("debut"))
	offset = max(0, offset)
	persons, err := s.svc.Directory.Search(ctx, a, directory.SearchQuery{Text: d.Query, StructureID: id, Profile: d.Profile, Limit: pageSize + 1, Offset: offset})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(persons) > pageSize {
		persons, d.NextURL = persons[:pageSize], personsURL(id, d.Query, d.Profile, offset+pageSize)
	}
	if offset > 0 {
		d.PrevURL = personsURL(id, d.Query, d.Profile, max(0, offset-pageSize))
	}
	d.Persons = persons
	if d.Holders, err = s.holders(r, []string{id}); err != nil {
		s.fail(w, r, err)
		return
	}
	setDefault(p.Form, "name", st.Name)
	setDefault(p.Form, "city", st.City)
	setDefault(p.Form, "kind", st.Kind)
	setDefault(p.Form, "type", st.Type)
	setDefault(p.Form, "uai", st.UAI)
	setDefault(p.Form, "parent", st.ParentID)
	setDefault(p.Form, "q", d.Query)
	setDefault(p.Form, "profil", d.Profile)
	p.Title = st.Name
	p.Path = "/admin/structures/" + id
	p.Data = d
	s.render(w, r, status, "admin_structure", p)
}

func (s *Server) adminUpdateStructure(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	ctx, a, id := r.Context(), actorOf(r), r.PathValue("id")
	old, nav, err := s.administered(r, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	in := directory.StructureInput{Name: f.Get("name"), City: f.Get("city"), Kind: old.Kind, Type: old.Type, UAI: old.UAI, ParentID: old.ParentID}
	if nav.Super {
		in.Kind, in.Type, in.UAI, in.ParentID = f.Get("kind"), f.Get("type"), f.Get("uai"), f.Get("parent")
	}
	err = s.svc.Directory.UpdateStructure(ctx, a, id, in)
	s.done(w, r, err, "admin.structure_saved", "/admin/structures/"+id, same("name", "city", "kind", "type", "uai", "parent"), "name",
		func(p Page) { s.structurePage(w, r, id, http.StatusBadRequest, p) })
}

func (s *Server) adminCreateGroup(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	id, f := r.PathValue("id"), r.PostForm
	g, err := s.svc.Directory.CreateGroup(r.Context(), actorOf(r), directory.GroupInput{StructureID: id, Kind: f.Get("group_kind"), Code: f.Get("group_code"), Name: f.Get("group_name")})
	s.done(w, r, err, "admin.group_created", "/admin/groupes/"+g.ID, map[string]string{"kind": "group_kind", "code": "group_code", "name": "group_name"}, "group_name",
		func(p Page) { s.structurePage(w, r, id, http.StatusBadRequest, p) })
}

func (s *Server) adminCreateSubject(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	id, f := r.PathValue("id"), r.PostForm
	_, err := s.svc.Directory.CreateSubject(r.Context(), actorOf(r), directory.Subject{StructureID: id, Code: f.Get("subject_code"), Name: f.Get("subject_name")})
	s.done(w, r, err, "admin.subject_created", "/admin/structures/"+id+"#matieres", map[string]string{"code": "subject_code", "name": "subject_name"}, "subject_name",
		func(p Page) { s.structurePage(w, r, id, http.StatusBadRequest, p) })
}

func (s *Server) adminGrant(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	id, f := r.PathValue("id"), r.PostForm
	if err := s.mustAdminister(r, id); err != nil {
		s.fail(w, r, err)
		return
	}
	role := f.Get("grant_role")
	p, err := s.personByLogin(r, f.Get("grant_login"), "grant_login")
	if err == nil && role != rights.LocalAdmin && role != rights.Moderator {
		err = actor.Invalid("grant_role", "rights.unknown_role")
	}
	if err == nil {
		err = s.svc.Rights.Grant(r.Context(), actorOf(r), p.ID, role, id)
	}
	s.done(w, r, err, "admin.role_granted", "/admin/structures/"+id+"#roles", same("grant_login", "grant_role"), "grant_login",
		func(p Page) { s.structurePage(w, r, id, http.StatusBadRequest, p) })
}

func (s *Server) adminRevoke(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	id, f := r.PathValue("id"), r.PostForm
	err := s.svc.Rights.Revoke(r.Context(), actorOf(r), f.Get("person"), f.Get("role"), id)
	s.done(w, r, err, "admin.role_revoked", "/admin/structures/"+id+"#roles", nil, "grant_login",
		func(p Page) { s.structurePage(w, r, id, http.StatusBadRequest, p) })
}

// personsURL is the link to a page of the structure's persons.
func personsURL(id, q, profile string, offset int) string {
	v := url.Values{}
	if q != "" {
		v.Set("q", q)
	}
	if profile != "" {
		v.Set("profil", profile)
	}
	if offset > 0 {
		v.Set("debut", strconv.Itoa(offset))
	}
	u := "/admin/structures/" + id
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u + "#personnes"
}
