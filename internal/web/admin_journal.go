package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
)

const journalPage = 100

type journalRow struct {
	audit.Entry
	ActionLabel   string
	TargetLabel   string
	TargetHref    string
	StructureName string
}

type adminJournalData struct {
	Nav      adminNav
	Rows     []journalRow
	OlderURL string
	Filtered bool
}

// adminJournal shows the audit log, newest first: everything to a super
// administrator, the entries of their structures to a local administrator.
func (s *Server) adminJournal(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	all, scope, err := s.svc.Rights.AdminScope(ctx, a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !all && len(scope) == 0 {
		s.fail(w, r, actor.ErrForbidden)
		return
	}
	nav, err := s.nav(r, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "admin.journal.title", nil)
	q := r.URL.Query()
	f := audit.Filter{ActorLogin: strings.TrimSpace(q.Get("login")), Action: strings.TrimSpace(q.Get("action")), Limit: journalPage + 1}
	if !all {
		f.StructureIDs = scope
	}
	f.BeforeID, _ = strconv.ParseInt(q.Get("avant"), 10, 64)
	p.Errors = map[string]string{}
	for _, x := range []struct {
		field string
		into  *time.Time
		shift int
	}{{"du", &f.Since, 0}, {"au", &f.Until, 1}} {
		v := strings.TrimSpace(q.Get(x.field))
		if v == "" {
			continue
		}
		t, err := time.ParseInLocation("2006-01-02", v, time.Local)
		if err != nil {
			p.Errors[x.field] = p.L.T("directory.bad_date")
			continue
		}
		*x.into = t.AddDate(0, 0, x.shift) // "au" is inclusive: up to the end of that day
	}
	for _, k := range []string{"login", "action", "du", "au"} {
		p.Form.Set(k, strings.TrimSpace(q.Get(k)))
	}
	d := adminJournalData{Nav: nav, Filtered: f.ActorLogin != "" || f.Action != "" || q.Get("du") != "" || q.Get("au") != ""}
	status := http.StatusOK
	if len(p.Errors) > 0 {
		status = http.StatusBadRequest
		p.Data = d
		s.render(w, r, status, "admin_journal", p)
		return
	}
	p.Errors = nil
	entries, err := s.svc.Audit.Search(ctx, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(entries) > journalPage {
		entries = entries[:journalPage]
		older := url.Values{}
		for _, k := range []string{"login", "action", "du", "au"} {
			if v := p.Form.Get(k); v != "" {
				older.Set(k, v)
			}
		}
		older.Set("avant", strconv.FormatInt(entries[len(entries)-1].ID, 10))
		d.OlderURL = "/admin/journal?" + older.Encode()
	}
	if d.Rows, err = s.journalRows(r, entries); err != nil {
		s.fail(w, r, err)
		return
	}
	p.Data = d
	s.render(w, r, status, "admin_journal", p)
}

// journalRows names what the entries are about: actions through the catalog (the raw
// action when it has no label), persons, groups and structures by name.
func (s *Server) journalRows(r *http.Request, entries []audit.Entry) ([]journalRow, error) {
	ctx, L := r.Context(), st(r).L
	var sids []string
	seen := map[string]bool{}
	for _, e := range entries {
		if e.StructureID != "" && !seen[e.StructureID] {
			seen[e.StructureID] = true
			sids = append(sids, e.StructureID)
		}
	}
	structures, err := s.svc.Directory.Structures(ctx, sids)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, x := range structures {
		names[x.ID] = x.Name
	}
	targets := map[string]string{}
	out := make([]journalRow, 0, len(entries))
	for _, e := range entries {
		row := journalRow{Entry: e, ActionLabel: e.Action, StructureName: names[e.StructureID]}
		if key := "admin.action." + e.Action; s.svc.Catalog.Has(L.Lang, key) {
			row.ActionLabel = L.T(key)
		}
		if e.TargetID != "" {
			label, ok := targets[e.TargetType+e.TargetID]
			if !ok {
				label = s.targetName(r, e.TargetType, e.TargetID)
				targets[e.TargetType+e.TargetID] = label
			}
			row.TargetLabel = label
			switch e.TargetType {
			case "person":
				row.TargetHref = "/admin/personnes/" + e.TargetID
			case "group":
				row.TargetHref = "/admin/groupes/" + e.TargetID
			case "structure":
				row.TargetHref = "/admin/structures/" + e.TargetID
			}
		}
		out = append(out, row)
	}
	return out, nil
}

func (s *Server) targetName(r *http.Request, kind, id string) string {
	ctx := r.Context()
	switch kind {
	case "person":
		if p, err := s.svc.Directory.Person(ctx, id); err == nil {
			return p.DisplayName()
		}
	case "group":
		if g, err := s.svc.Directory.Group(ctx, id); err == nil {
			return g.Name
		}
	case "structure":
		if x, err := s.svc.Directory.Structure(ctx, id); err == nil {
			return x.Name
		}
	}
	return kind + " " + id
}
