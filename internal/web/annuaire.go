package web

import (
	"net/http"
	"strconv"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
)

type searchData struct {
	Query      directory.SearchQuery
	Results    []directory.Person
	Structures []directory.Structure
	Profiles   []string
	Searched   bool
	NextOffset int
	PrevOffset int
}

const pageSize = 50

func (s *Server) directorySearch(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	q := r.URL.Query()
	offset, _ := strconv.Atoi(q.Get("debut"))
	if offset < 0 {
		offset = 0
	}
	query := directory.SearchQuery{Text: q.Get("q"), StructureID: q.Get("structure"), Profile: q.Get("profil"), Limit: pageSize + 1, Offset: offset}
	if query.Profile != "" && !directory.ValidProfile(query.Profile) {
		query.Profile = ""
	}
	sids, err := s.svc.Directory.PersonStructureIDs(ctx, a.PersonID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	structures, err := s.svc.Directory.Structures(ctx, sids)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := searchData{Query: query, Structures: structures, Profiles: directory.Profiles, Searched: q.Has("q"), PrevOffset: -1}
	if data.Searched {
		res, err := s.svc.Directory.Search(ctx, a, query)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(res) > pageSize {
			res, data.NextOffset = res[:pageSize], offset+pageSize
		}
		if offset > 0 {
			data.PrevOffset = max(0, offset-pageSize)
		}
		data.Results = res
	}
	p := s.page(r, "directory.title", data)
	for k := range q {
		p.Form.Set(k, q.Get(k))
	}
	s.render(w, r, http.StatusOK, "directory", p)
}

type personCardData struct {
	Person    directory.Person
	Situation directory.Situation
	CanAdmin  bool
	MayWrite  bool
}

// directoryPerson shows a person's card to whoever may see it. Children's data is
// kept to the minimum: no birth date, no e-mail unless the viewer administers them.
func (s *Server) directoryPerson(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	id := r.PathValue("id")
	ok, err := s.svc.Directory.MayView(ctx, a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		// Whether the person exists is not the viewer's business either.
		s.fail(w, r, actor.ErrNotFound)
		return
	}
	p, err := s.svc.Directory.Person(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sit, err := s.svc.Directory.SituationOf(ctx, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	canAdmin, err := s.svc.Directory.CanAdminPerson(ctx, a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mayWrite, err := s.svc.Comm.MayWrite(ctx, a.PersonID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !canAdmin && a.PersonID != id {
		p.BirthDate = ""
		if p.Profile == directory.Eleve {
			p.Email = ""
		}
	}
	s.render(w, r, http.StatusOK, "person", s.page(r, "", personCardData{Person: p, Situation: sit, CanAdmin: canAdmin, MayWrite: mayWrite}))
}

type groupPageData struct {
	Group     directory.Group
	Structure directory.Structure
	Members   []directory.Person
}

func (s *Server) directoryGroup(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	g, err := s.svc.Directory.Group(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	members, err := s.svc.Directory.Members(ctx, a, g.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// A group page is for its members, the people who reach them and administrators:
	// an outsider who reaches nobody in it learns nothing, not even that it exists.
	if len(members) == 0 {
		if ok, err := s.svc.Rights.CanAdminStructure(ctx, a, g.StructureID); err != nil || !ok {
			s.fail(w, r, actor.ErrNotFound)
			return
		}
	}
	structure, err := s.svc.Directory.Structure(ctx, g.StructureID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "group", s.page(r, "", groupPageData{Group: g, Structure: structure, Members: members}))
}
