package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
)

// ---- Creation ----

type adminNewPersonData struct {
	Nav            adminNav
	Structure      directory.Structure
	ProfileOptions []option
	ClassOptions   []option
}

func profileOptions() []option {
	var out []option
	for _, p := range directory.Profiles {
		out = append(out, option{Value: p, Key: "profile." + p})
	}
	return out
}

func (s *Server) adminNewPerson(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("structure") == "" {
		// A person is created in a structure: choose it on the overview first.
		http.Redirect(w, r, "/admin", http.StatusSeeOther)
		return
	}
	p := s.page(r, "", nil)
	p.Form.Set("class", q.Get("classe"))
	p.Form.Set("profile", q.Get("profil"))
	s.newPersonPage(w, r, q.Get("structure"), http.StatusOK, p)
}

func (s *Server) newPersonPage(w http.ResponseWriter, r *http.Request, structureID string, status int, p Page) {
	st, nav, err := s.administered(r, structureID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	classes, err := s.svc.Directory.Groups(r.Context(), st.ID, directory.GroupClass)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := adminNewPersonData{Nav: nav, Structure: st, ProfileOptions: profileOptions()}
	for _, c := range classes {
		if !c.Archived {
			d.ClassOptions = append(d.ClassOptions, option{Value: c.ID, Label: c.Name})
		}
	}
	setDefault(p.Form, "profile", directory.Eleve)
	p.Title = p.L.T("admin.person_new.title")
	p.Path = "/admin/personnes/nouvelle"
	p.Data = d
	s.render(w, r, status, "admin_person_new", p)
}

// adminCreatePerson creates the person, puts them in the class and shows their
// activation code, once: the answer is the page itself, not a redirect, since the
// code is never stored in clear and cannot be shown again.
func (s *Server) adminCreatePerson(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	f := r.PostForm
	sid := f.Get("structure")
	in := directory.PersonInput{FirstName: f.Get("first_name"), LastName: f.Get("last_name"), Profile: f.Get("profile"),
		Email: f.Get("email"), BirthDate: f.Get("birth_date"), StructureIDs: nonEmpty(sid)}
	person, code, err := s.createPerson(r, in, f.Get("class"))
	if err != nil {
		s.done(w, r, err, "", "", same("first_name", "last_name", "profile", "email", "birth_date", "class"), "first_name",
			func(p Page) { s.newPersonPage(w, r, sid, http.StatusBadRequest, p) })
		return
	}
	s.codePage(w, r, person, code, sid, false)
}

type adminCodeData struct {
	Nav         adminNav
	Person      directory.Person
	Code        string
	Until       time.Time
	Reissued    bool
	StructureID string
	URL         string
}

func (s *Server) codePage(w http.ResponseWriter, r *http.Request, person directory.Person, code, structureID string, reissued bool) {
	var stp *directory.Structure
	if structureID != "" {
		if st, err := s.svc.Directory.Structure(r.Context(), structureID); err == nil {
			stp = &st
		}
	}
	nav, err := s.nav(r, stp)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	scheme := "http"
	if s.opt.SecureCookies || r.TLS != nil {
		scheme = "https"
	}
	p := s.page(r, "admin.code.title", adminCodeData{Nav: nav, Person: person, Code: code, Reissued: reissued, StructureID: structureID,
		Until: time.Now().Add(s.svc.Accounts.Config().ActivationValidity), URL: scheme + "://" + r.Host + "/activation"})
	s.render(w, r, http.StatusOK, "admin_code", p)
}

// ---- One person ----

type roleRow struct {
	Role, StructureName string
}

type adminPersonData struct {
	Nav         adminNav
	Person      directory.Person
	Situation   directory.Situation
	Locked      bool
	LockedUntil time.Time
	Roles       []roleRow
	Names       map[string]string
	// Structures of the person that the actor administers (for functions), and the
	// ones the actor administers that the person is not attached to.
	MineOptions   []option
	AttachOptions []option
	IsSelf        bool
}

func (s *Server) adminPerson(w http.ResponseWriter, r *http.Request) {
	s.personPage(w, r, r.PathValue("id"), http.StatusOK, s.page(r, "", nil))
}

// personPage shows a person's record to an administrator of one of their
// structures. Showing a pupil's record to anyone else is an access to a minor's
// personal data: it is written to the audit log.
func (s *Server) personPage(w http.ResponseWriter, r *http.Request, id string, status int, p Page) {
	ctx, a := r.Context(), actorOf(r)
	ok, err := s.svc.Directory.CanAdminPerson(ctx, a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		s.fail(w, r, actor.ErrForbidden)
		return
	}
	person, err := s.svc.Directory.Person(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sit, err := s.svc.Directory.SituationOf(ctx, person)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := adminPersonData{Person: person, Situation: sit, Names: map[string]string{}, IsSelf: a.PersonID == id}
	var home *directory.Structure
	for i, st := range sit.Structures {
		d.Names[st.ID] = st.Name
		mine, err := s.svc.Rights.CanAdminStructure(ctx, a, st.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if mine {
			d.MineOptions = append(d.MineOptions, option{Value: st.ID, Label: st.Name})
			if home == nil {
				home = &sit.Structures[i]
			}
		}
	}
	if d.Nav, err = s.nav(r, home); err != nil {
		s.fail(w, r, err)
		return
	}
	scope, err := s.scopeStructures(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var skip []string
	for _, st := range sit.Structures {
		skip = append(skip, st.ID)
	}
	d.AttachOptions = structureOptions(scope, skip...)
	if d.Locked, d.LockedUntil, err = s.svc.Accounts.IsLocked(ctx, id); err != nil {
		s.fail(w, r, err)
		return
	}
	roles, err := s.svc.Rights.RolesOf(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, role := range roles {
		name := ""
		if role.StructureID != "" {
			if name = d.Names[role.StructureID]; name == "" {
				if st, err := s.svc.Directory.Structure(ctx, role.StructureID); err == nil {
					name = st.Name
				}
			}
		}
		d.Roles = append(d.Roles, roleRow{Role: role.Role, StructureName: name})
	}
	if person.Profile == directory.Eleve && !d.IsSelf {
		sid := ""
		if home != nil {
			sid = home.ID
		}
		s.svc.Audit.Write(ctx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: "person.view",
			TargetType: "person", TargetID: id, StructureID: sid, Success: true})
	}
	setDefault(p.Form, "first_name", person.FirstName)
	setDefault(p.Form, "last_name", person.LastName)
	setDefault(p.Form, "email", person.Email)
	setDefault(p.Form, "birth_date", person.BirthDate)
	p.Title = person.DisplayName()
	p.Path = "/admin/personnes/" + id
	p.Data = d
	s.render(w, r, status, "admin_person", p)
}

func (s *Server) personDone(w http.ResponseWriter, r *http.Request, err error, flashKey, anchor string, fields map[string]string, fallback string) {
	id := r.PathValue("id")
	s.done(w, r, err, flashKey, "/admin/personnes/"+id+anchor, fields, fallback,
		func(p Page) { s.personPage(w, r, id, http.StatusBadRequest, p) })
}

func (s *Server) adminUpdatePerson(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	f := r.PostForm
	err := s.svc.Directory.UpdatePerson(r.Context(), actorOf(r), r.PathValue("id"), directory.PersonInput{
		FirstName: f.Get("first_name"), LastName: f.Get("last_name"), Email: f.Get("email"), BirthDate: f.Get("birth_date")})
	s.personDone(w, r, err, "admin.person_saved", "", same("first_name", "last_name", "email", "birth_date"), "first_name")
}

func (s *Server) adminSetState(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	state := r.PostForm.Get("state")
	err := s.svc.Directory.SetState(r.Context(), actorOf(r), r.PathValue("id"), state)
	key := "admin.person_unblocked"
	if state == directory.StateBlocked {
		key = "admin.person_blocked"
	}
	s.personDone(w, r, err, key, "#compte", nil, "state")
}

func (s *Server) adminUnlock(w http.ResponseWriter, r *http.Request) {
	err := s.svc.Accounts.Unlock(r.Context(), actorOf(r), r.PathValue("id"))
	s.personDone(w, r, err, "admin.person_unlocked", "#compte", nil, "state")
}

// adminIssueActivation gives a new activation code, which is also how an
// administrator resets a forgotten password, and shows it once.
func (s *Server) adminIssueActivation(w http.ResponseWriter, r *http.Request) {
	ctx, a, id := r.Context(), actorOf(r), r.PathValue("id")
	code, err := s.svc.Accounts.IssueActivation(ctx, a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	person, err := s.svc.Directory.Person(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sid := ""
	if sids, err := s.svc.Directory.PersonStructureIDs(ctx, id); err == nil {
		for _, x := range sids {
			if ok, _ := s.svc.Rights.CanAdminStructure(ctx, a, x); ok {
				sid = x
				break
			}
		}
	}
	s.codePage(w, r, person, code, sid, true)
}

// adminLink links a responsable and a pupil, from either side: a responsable's record
// names a child, a pupil's record names a responsable.
func (s *Server) adminLink(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	ctx, a, id := r.Context(), actorOf(r), r.PathValue("id")
	person, err := s.svc.Directory.Person(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	login := strings.TrimSpace(r.PostForm.Get("link_login"))
	other, err := s.svc.Directory.PersonByLogin(ctx, login)
	switch {
	case login == "":
		err = actor.Invalid("link_login", "admin.login_required")
	case err != nil:
		err = actor.Invalid("link_login", "admin.unknown_login")
	case person.Profile == directory.Responsable:
		// The child must be someone the actor administers.
		if ok, cerr := s.svc.Directory.CanAdminPerson(ctx, a, other.ID); cerr != nil {
			err = cerr
		} else if !ok {
			err = actor.Invalid("link_login", "admin.unknown_login")
		} else {
			err = s.svc.Directory.LinkParent(ctx, a, id, other.ID)
		}
	default:
		err = s.svc.Directory.LinkParent(ctx, a, other.ID, id)
	}
	s.personDone(w, r, err, "admin.link_added", "#famille", nil, "link_login")
}

func (s *Server) adminUnlink(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	ctx, a, id := r.Context(), actorOf(r), r.PathValue("id")
	person, err := s.svc.Directory.Person(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	other := r.PostForm.Get("other")
	if person.Profile == directory.Responsable {
		err = s.svc.Directory.UnlinkParent(ctx, a, id, other)
	} else {
		err = s.svc.Directory.UnlinkParent(ctx, a, other, id)
	}
	s.personDone(w, r, err, "admin.link_removed", "#famille", nil, "link_login")
}

func (s *Server) adminAddFunction(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	f := r.PostForm
	var err error
	if f.Get("function_structure") == "" {
		err = actor.Invalid("function_structure", "directory.structure_required")
	} else {
		err = s.svc.Directory.SetFunction(r.Context(), actorOf(r), r.PathValue("id"),
			directory.Function{StructureID: f.Get("function_structure"), Code: f.Get("function_code"), Label: strings.TrimSpace(f.Get("function_label"))}, true)
	}
	s.personDone(w, r, err, "admin.function_added", "#fonctions", map[string]string{"code": "function_code"}, "function_code")
}

func (s *Server) adminRemoveFunction(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	f := r.PostForm
	err := s.svc.Directory.SetFunction(r.Context(), actorOf(r), r.PathValue("id"),
		directory.Function{StructureID: f.Get("structure"), Code: f.Get("code")}, false)
	s.personDone(w, r, err, "admin.function_removed", "#fonctions", nil, "function_code")
}

func (s *Server) adminAttachStructure(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	sid := r.PostForm.Get("attach_structure")
	var err error
	if sid == "" {
		err = actor.Invalid("attach_structure", "directory.structure_required")
	} else {
		err = s.svc.Directory.AddToStructure(r.Context(), actorOf(r), r.PathValue("id"), sid)
	}
	s.personDone(w, r, err, "admin.structure_attached", "#structures", nil, "attach_structure")
}
