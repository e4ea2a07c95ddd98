package web

import (
	"net/http"

	"github.com/preau-ent/preau/internal/commrules"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
)

type ruleRow struct {
	commrules.Rule
	FromStructureName, ToStructureName string
}

type adminCommData struct {
	Nav       adminNav
	Structure directory.Structure
	Rules     []ruleRow
	Groups    []directory.Group // this structure's groups, every kind
	// Another structure the actor administers, whose groups the rule selects offer
	// too (rules between two schools).
	Other        *directory.Structure
	OtherGroups  []directory.Group
	Others       []option
	Relations    []option
	FromSelected string
	ToSelected   string
}

var relations = []string{commrules.Both, commrules.Incoming, commrules.Outgoing, commrules.NoneRel}

func (s *Server) adminComm(w http.ResponseWriter, r *http.Request) {
	s.commPage(w, r, r.PathValue("id"), http.StatusOK, s.page(r, "", nil))
}

func (s *Server) commPage(w http.ResponseWriter, r *http.Request, id string, status int, p Page) {
	ctx := r.Context()
	st, nav, err := s.administered(r, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := adminCommData{Nav: nav, Structure: st}
	for _, rel := range relations {
		d.Relations = append(d.Relations, option{Value: rel, Key: "admin.relation." + rel})
	}
	if d.Groups, err = s.svc.Directory.Groups(ctx, id); err != nil {
		s.fail(w, r, err)
		return
	}
	scope, err := s.scopeStructures(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names := map[string]string{}
	for _, x := range scope {
		names[x.ID] = x.Name
	}
	d.Others = structureOptions(scope, id)
	other := r.URL.Query().Get("autre")
	if other == "" {
		other = p.Form.Get("autre")
	}
	if other != "" && other != id && names[other] != "" {
		o, err := s.svc.Directory.Structure(ctx, other)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Other = &o
		if d.OtherGroups, err = s.svc.Directory.Groups(ctx, other); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	rules, err := s.svc.Comm.Rules(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, rule := range rules {
		row := ruleRow{Rule: rule}
		for _, x := range []struct {
			sid  string
			name *string
		}{{rule.FromStructure, &row.FromStructureName}, {rule.ToStructure, &row.ToStructureName}} {
			if x.sid == id {
				continue
			}
			if *x.name = names[x.sid]; *x.name == "" {
				if o, err := s.svc.Directory.Structure(ctx, x.sid); err == nil {
					*x.name = o.Name
				}
			}
		}
		d.Rules = append(d.Rules, row)
	}
	d.FromSelected, d.ToSelected = p.Form.Get("from"), p.Form.Get("to")
	p.Title = p.L.T("admin.comm.title")
	p.Path = "/admin/structures/" + id + "/communication"
	p.Data = d
	s.render(w, r, status, "admin_comm", p)
}

func (s *Server) commDone(w http.ResponseWriter, r *http.Request, err error, flashKey, anchor string, fallback string) {
	id := r.PathValue("id")
	to := "/admin/structures/" + id + "/communication"
	if o := r.PostForm.Get("autre"); o != "" {
		to += "?autre=" + urlQueryEscape(o)
	}
	s.done(w, r, err, flashKey, to+anchor, nil, fallback,
		func(p Page) { s.commPage(w, r, id, http.StatusBadRequest, p) })
}

func (s *Server) adminAddRule(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	if err := s.mustAdminister(r, r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	from, to := r.PostForm.Get("from"), r.PostForm.Get("to")
	var err error
	switch {
	case from == "":
		err = actor.Invalid("from", "admin.comm.group_required")
	case to == "":
		err = actor.Invalid("to", "admin.comm.group_required")
	case from == to:
		err = actor.Invalid("to", "admin.comm.same_group")
	default:
		err = s.svc.Comm.AddRule(r.Context(), actorOf(r), from, to)
	}
	s.commDone(w, r, err, "admin.comm.rule_added", "#regles", "from")
}

func (s *Server) adminRemoveRule(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	err := s.svc.Comm.RemoveRule(r.Context(), actorOf(r), r.PostForm.Get("from"), r.PostForm.Get("to"))
	s.commDone(w, r, err, "admin.comm.rule_removed", "#regles", "from")
}

func (s *Server) adminSetRelation(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	g := r.PostForm.Get("group")
	err := s.svc.Comm.SetRelation(r.Context(), actorOf(r), g, r.PostForm.Get("communicate"))
	s.commDone(w, r, err, "admin.comm.relation_saved", "#relations", "from")
}
