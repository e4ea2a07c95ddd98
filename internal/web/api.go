package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
)

// The JSON API offers the same operations as the pages, for mobile applications and
// scripts, with the same session and the same rights. Errors are
// {"error": {"code", "message", "field"}}.
func (s *Server) apiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/me", s.requireLogin(s.apiMe))
	mux.HandleFunc("GET /api/v1/me/sessions", s.requireLogin(s.apiSessions))
	mux.HandleFunc("DELETE /api/v1/me/sessions/{id}", s.requireLogin(s.apiRevokeSession))
	mux.HandleFunc("GET /api/v1/directory/persons", s.requireLogin(s.apiSearch))
	mux.HandleFunc("GET /api/v1/directory/persons/{id}", s.requireLogin(s.apiPerson))
	mux.HandleFunc("GET /api/v1/directory/groups/{id}/members", s.requireLogin(s.apiGroupMembers))
	mux.HandleFunc("GET /api/v1/communication/may-write/{id}", s.requireLogin(s.apiMayWrite))
	mux.HandleFunc("POST /api/v1/admin/groups", s.requireLogin(s.apiCreateGroup))
	mux.HandleFunc("POST /api/v1/admin/persons", s.requireLogin(s.apiCreatePerson))
	mux.HandleFunc("POST /api/v1/admin/persons/{id}/activation", s.requireLogin(s.apiIssueActivation))
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.apiError(w, r, http.StatusNotFound, "not_found", "error.not_found")
	})
}

type apiPerson struct {
	ID        string `json:"id"`
	Login     string `json:"login,omitempty"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Profile   string `json:"profile"`
	Email     string `json:"email,omitempty"`
	State     string `json:"state,omitempty"`
}

func toAPIPerson(p directory.Person, full bool) apiPerson {
	out := apiPerson{ID: p.ID, FirstName: p.FirstName, LastName: p.LastName, Profile: p.Profile}
	if full {
		out.Login, out.Email, out.State = p.Login, p.Email, p.State
	}
	return out
}

type apiGroupRef struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Kind      string   `json:"kind"`
	Structure string   `json:"structure"`
	Subjects  []string `json:"subjects,omitempty"`
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	me := *st(r).person
	sit, err := s.svc.Directory.SituationOf(r.Context(), me)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	type structure struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		UAI  string `json:"uai,omitempty"`
		Kind string `json:"kind"`
		Type string `json:"type,omitempty"` // school type (college, lycee...), if known
	}
	type child struct {
		apiPerson
		Classes []apiGroupRef `json:"classes"`
	}
	out := struct {
		apiPerson
		Structures []structure          `json:"structures"`
		Classes    []apiGroupRef        `json:"classes"`
		Children   []child              `json:"children,omitempty"`
		Apps       []string             `json:"apps"`
		Functions  []directory.Function `json:"functions,omitempty"`
	}{apiPerson: toAPIPerson(me, true), Structures: []structure{}, Classes: []apiGroupRef{}, Apps: []string{}, Functions: sit.Functions}
	var sids []string
	for _, s := range sit.Structures {
		out.Structures = append(out.Structures, structure{s.ID, s.Name, s.UAI, s.Kind, s.Type})
		sids = append(sids, s.ID)
	}
	ref := func(c directory.ClassRef) apiGroupRef {
		return apiGroupRef{ID: c.ID, Name: c.Name, Kind: c.Kind, Structure: c.StructureName, Subjects: c.Subjects}
	}
	for _, c := range sit.Classes {
		out.Classes = append(out.Classes, ref(c))
	}
	for _, c := range sit.Children {
		ch := child{apiPerson: toAPIPerson(c.Person, false), Classes: []apiGroupRef{}}
		for _, cl := range c.Classes {
			ch.Classes = append(ch.Classes, ref(cl))
		}
		out.Children = append(out.Children, ch)
	}
	apps, err := s.svc.Rights.AppsFor(r.Context(), actorOf(r), sids)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	for _, a := range apps {
		out.Apps = append(out.Apps, a.ID)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiSessions(w http.ResponseWriter, r *http.Request) {
	sessions, err := s.svc.Accounts.Sessions(r.Context(), actorOf(r))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	type session struct {
		ID        string    `json:"id"`
		CreatedAt time.Time `json:"createdAt"`
		SeenAt    time.Time `json:"seenAt"`
		IP        string    `json:"ip"`
		UserAgent string    `json:"userAgent"`
		Current   bool      `json:"current"`
	}
	out := []session{}
	for _, x := range sessions {
		out = append(out, session{x.ID, x.CreatedAt, x.SeenAt, x.IP, x.UserAgent, x.ID == st(r).session.ID})
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

func (s *Server) apiRevokeSession(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Accounts.Revoke(r.Context(), actorOf(r), r.PathValue("id")); err != nil {
		s.apiFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	offset, _ := strconv.Atoi(q.Get("offset"))
	res, err := s.svc.Directory.Search(r.Context(), actorOf(r), directory.SearchQuery{Text: q.Get("q"), StructureID: q.Get("structure"), Profile: q.Get("profile"), Limit: limit, Offset: max(0, offset)})
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := []apiPerson{}
	for _, p := range res {
		out = append(out, toAPIPerson(p, false))
	}
	writeJSON(w, http.StatusOK, map[string]any{"persons": out})
}

func (s *Server) apiPerson(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	id := r.PathValue("id")
	ok, err := s.svc.Directory.MayView(ctx, a, id)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	if !ok {
		s.apiFail(w, r, actor.ErrNotFound)
		return
	}
	p, err := s.svc.Directory.Person(ctx, id)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	full, err := s.svc.Directory.CanAdminPerson(ctx, a, id)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAPIPerson(p, full || id == a.PersonID))
}

func (s *Server) apiGroupMembers(w http.ResponseWriter, r *http.Request) {
	members, err := s.svc.Directory.Members(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := []apiPerson{}
	for _, p := range members {
		out = append(out, toAPIPerson(p, false))
	}
	writeJSON(w, http.StatusOK, map[string]any{"members": out})
}

func (s *Server) apiMayWrite(w http.ResponseWriter, r *http.Request) {
	ok, err := s.svc.Comm.MayWrite(r.Context(), actorOf(r).PersonID, r.PathValue("id"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"mayWrite": ok})
}

// decode reads a JSON body strictly: unknown fields are an error, so that a typo in
// a script does not silently drop data.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.apiError(w, r, http.StatusRequestEntityTooLarge, "too_large", "error.too_large")
			return false
		}
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{"code": "invalid", "message": st(r).L.T("error.bad_json") + " " + err.Error()}})
		return false
	}
	return true
}

func (s *Server) apiCreateGroup(w http.ResponseWriter, r *http.Request) {
	var in struct {
		StructureID string `json:"structureId"`
		Kind        string `json:"kind"`
		Code        string `json:"code"`
		Name        string `json:"name"`
	}
	if !s.decode(w, r, &in) {
		return
	}
	g, err := s.svc.Directory.CreateGroup(r.Context(), actorOf(r), directory.GroupInput{StructureID: in.StructureID, Kind: in.Kind, Code: in.Code, Name: in.Name})
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": g.ID, "name": g.Name, "kind": g.Kind, "schoolYear": g.SchoolYear})
}

func (s *Server) apiCreatePerson(w http.ResponseWriter, r *http.Request) {
	var in struct {
		FirstName   string `json:"firstName"`
		LastName    string `json:"lastName"`
		Profile     string `json:"profile"`
		Email       string `json:"email"`
		BirthDate   string `json:"birthDate"`
		StructureID string `json:"structureId"`
		ClassID     string `json:"classId"`
	}
	if !s.decode(w, r, &in) {
		return
	}
	p, code, err := s.createPerson(r, directory.PersonInput{FirstName: in.FirstName, LastName: in.LastName, Profile: in.Profile, Email: in.Email, BirthDate: in.BirthDate, StructureIDs: nonEmpty(in.StructureID)}, in.ClassID)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": p.ID, "login": p.Login, "activationCode": code})
}

func (s *Server) apiIssueActivation(w http.ResponseWriter, r *http.Request) {
	code, err := s.svc.Accounts.IssueActivation(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"activationCode": code})
}

// createPerson creates a person, puts them in a class when asked, and issues their
// activation code: the one path for the console and the API.
func (s *Server) createPerson(r *http.Request, in directory.PersonInput, classID string) (directory.Person, string, error) {
	ctx, a := r.Context(), actorOf(r)
	if classID != "" {
		g, err := s.svc.Directory.Group(ctx, classID)
		if err != nil {
			return directory.Person{}, "", actor.Invalid("class", "directory.unknown_class")
		}
		if len(in.StructureIDs) == 0 || g.StructureID != in.StructureIDs[0] {
			return directory.Person{}, "", actor.Invalid("class", "directory.unknown_class")
		}
	}
	p, err := s.svc.Directory.CreatePerson(ctx, a, in)
	if err != nil {
		return p, "", err
	}
	if classID != "" {
		if err := s.svc.Directory.AddMember(ctx, a, classID, p.ID); err != nil {
			return p, "", err
		}
	}
	code, err := s.svc.Accounts.IssueActivation(ctx, a, p.ID)
	return p, code, err
}

func nonEmpty(v string) []string {
	if v == "" {
		return nil
	}
	return []string{v}
}
