package web

import (
	"net/http"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
)

type teacherRow struct {
	directory.Person
	Subjects []string
}

type adminGroupData struct {
	Nav            adminNav
	Group          directory.Group
	Structure      directory.Structure
	Members        []directory.Person
	Teachers       []teacherRow
	Editable       bool // a class or group of this year whose members are chosen by hand
	Teaching       bool // a class or teaching group: teachers teach it, with a subject
	TeacherOptions []option
	SubjectOptions []option
}

func (s *Server) adminGroup(w http.ResponseWriter, r *http.Request) {
	s.groupPage(w, r, r.PathValue("id"), http.StatusOK, s.page(r, "", nil))
}

func (s *Server) groupPage(w http.ResponseWriter, r *http.Request, id string, status int, p Page) {
	ctx, a := r.Context(), actorOf(r)
	g, err := s.svc.Directory.Group(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st, nav, err := s.administered(r, g.StructureID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	members, err := s.svc.Directory.Members(ctx, a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := adminGroupData{Nav: nav, Group: g, Structure: st,
		Editable: !g.Archived && (g.Kind == directory.GroupClass || g.Kind == directory.GroupTeaching || g.Kind == directory.GroupManual),
		Teaching: g.Kind == directory.GroupClass || g.Kind == directory.GroupTeaching}
	for _, m := range members {
		if !d.Teaching || m.Profile != directory.Enseignant {
			d.Members = append(d.Members, m)
			continue
		}
		// What a teacher teaches here comes with their situation.
		sit, err := s.svc.Directory.SituationOf(ctx, m)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		row := teacherRow{Person: m}
		for _, c := range sit.Classes {
			if c.ID == id {
				row.Subjects = c.Subjects
			}
		}
		d.Teachers = append(d.Teachers, row)
	}
	if d.Editable && d.Teaching {
		teachers, err := s.svc.Directory.Search(ctx, a, directory.SearchQuery{StructureID: g.StructureID, Profile: directory.Enseignant, Limit: 200})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, t := range teachers {
			d.TeacherOptions = append(d.TeacherOptions, option{Value: t.ID, Label: t.DisplayName() + " (" + t.Login + ")"})
		}
		subjects, err := s.svc.Directory.Subjects(ctx, g.StructureID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, sub := range subjects {
			d.SubjectOptions = append(d.SubjectOptions, option{Value: sub.ID, Label: sub.Name})
		}
	}
	p.Title = g.Name
	p.Path = "/admin/groupes/" + id
	p.Data = d
	s.render(w, r, status, "admin_group", p)
}

func (s *Server) groupDone(w http.ResponseWriter, r *http.Request, err error, flashKey, anchor string, fields map[string]string, fallback string) {
	id := r.PathValue("id")
	s.done(w, r, err, flashKey, "/admin/groupes/"+id+anchor, fields, fallback,
		func(p Page) { s.groupPage(w, r, id, http.StatusBadRequest, p) })
}

// adminAddMember adds a person of the structure by login. A teacher added to a class
// becomes one of its teachers (the directory records a teaching link).
func (s *Server) adminAddMember(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	g, err := s.svc.Directory.Group(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.mustAdminister(r, g.StructureID); err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.personByLogin(r, r.PostForm.Get("login"), "login")
	if err == nil {
		err = s.svc.Directory.AddMember(ctx, actorOf(r), id, p.ID)
	}
	s.groupDone(w, r, err, "admin.member_added", "#membres", nil, "login")
}

func (s *Server) adminRemoveMember(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	err := s.svc.Directory.RemoveMember(r.Context(), actorOf(r), r.PathValue("id"), r.PostForm.Get("person"))
	s.groupDone(w, r, err, "admin.member_removed", "#membres", nil, "login")
}

func (s *Server) adminSetTeaching(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	f := r.PostForm
	ok, err := s.svc.Directory.CanAdminPerson(r.Context(), actorOf(r), f.Get("teacher"))
	switch {
	case err != nil:
	case f.Get("teacher") == "" || !ok:
		err = actor.Invalid("teacher", "admin.teacher_required")
	default:
		err = s.svc.Directory.SetTeaching(r.Context(), actorOf(r), f.Get("teacher"), r.PathValue("id"), f.Get("subject"))
	}
	s.groupDone(w, r, err, "admin.teaching_added", "#enseignants", same("teacher", "subject"), "teacher")
}
