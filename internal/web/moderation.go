package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/preau-ent/preau/internal/moderation"
	"github.com/preau-ent/preau/internal/platform/actor"
)

// The one moderation queue: the open reports of every service (news, blogs, forums,
// messagerie, discussions) that the actor may act on, as each service allows.

// moderationLimit is how many open reports each source gives the page at most.
const moderationLimit = 500

// moderationPerPage is how many reports one page shows.
const moderationPerPage = 20

func (s *Server) moderationRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /moderation", s.requireLogin(s.moderationQueue))
	mux.HandleFunc("POST /moderation/{source}/{id}", s.requireLogin(s.moderationResolve))
	mux.HandleFunc("GET /api/v1/moderation", s.requireLogin(s.apiModeration))
	mux.HandleFunc("POST /api/v1/moderation/{source}/{id}", s.requireLogin(s.apiModerationResolve))
	// The former queues of each service lead to the one page, filtered.
	for path, kind := range map[string]string{"/blogs/moderation": "", "/actualites/moderation": moderation.KindNews,
		"/messagerie/moderation": moderation.KindMail, "/discussions/moderation": moderation.KindChat} {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, moderationURL(kind, 0), http.StatusMovedPermanently)
		})
	}
}

// moderationURL is the address of the queue filtered by kind ("" for all), at a page (from 1; 0 or 1: the first).
func moderationURL(kind string, page int) string {
	q := url.Values{}
	if kind != "" {
		q.Set("type", kind)
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	if len(q) == 0 {
		return "/moderation"
	}
	return "/moderation?" + q.Encode()
}

type moderationRow struct {
	moderation.Item
	StructureName string
}

type moderationKind struct {
	Kind    string // "" for all
	Count   int
	URL     string
	Current bool
}

type queueData struct {
	Kinds      []moderationKind
	Type       string
	Rows       []moderationRow
	Total      int // of the chosen kind
	Page       int
	Pages      int
	Prev, Next string
	Limited    bool // a source had more open reports than the page reads
}

// moderates tells whether the actor handles reports in any structure (local
// administrators and moderators), and how many are waiting.
func (s *Server) moderates(r *http.Request) (bool, []moderation.Item, error) {
	all, sids, err := s.svc.Rights.ModeratedStructures(r.Context(), actorOf(r))
	if err != nil || (!all && len(sids) == 0) {
		return false, nil, err
	}
	items, err := s.svc.Moderation.Collect(r.Context(), actorOf(r), moderationLimit)
	return true, items, err
}

func (s *Server) moderationQueue(w http.ResponseWriter, r *http.Request) {
	ok, items, err := s.moderates(r)
	if err == nil && !ok {
		err = actor.ErrForbidden
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	d := queueData{Type: q.Get("type")}
	if !slices.Contains(moderation.Kinds, d.Type) {
		d.Type = ""
	}
	counts := map[string]int{}
	perSource := map[string]int{}
	for _, it := range items {
		counts[it.Kind]++
		perSource[it.Source]++
	}
	for _, n := range perSource {
		d.Limited = d.Limited || n >= moderationLimit
	}
	d.Kinds = append(d.Kinds, moderationKind{Count: len(items), URL: moderationURL("", 0), Current: d.Type == ""})
	for _, k := range moderation.Kinds {
		d.Kinds = append(d.Kinds, moderationKind{Kind: k, Count: counts[k], URL: moderationURL(k, 0), Current: d.Type == k})
	}
	var chosen []moderation.Item
	for _, it := range items {
		if d.Type == "" || it.Kind == d.Type {
			chosen = append(chosen, it)
		}
	}
	d.Total = len(chosen)
	d.Pages = max(1, (d.Total+moderationPerPage-1)/moderationPerPage)
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = min(max(d.Page, 1), d.Pages)
	if d.Page > 1 {
		d.Prev = moderationURL(d.Type, d.Page-1)
	}
	if d.Page < d.Pages {
		d.Next = moderationURL(d.Type, d.Page+1)
	}
	chosen = chosen[(d.Page-1)*moderationPerPage : min(d.Page*moderationPerPage, d.Total)]
	var sids []string
	for _, it := range chosen {
		if it.StructureID != "" && !slices.Contains(sids, it.StructureID) {
			sids = append(sids, it.StructureID)
		}
	}
	names := map[string]string{}
	if len(sids) > 0 {
		sts, err := s.svc.Directory.Structures(r.Context(), sids)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, st := range sts {
			names[st.ID] = st.Name
		}
	}
	for _, it := range chosen {
		d.Rows = append(d.Rows, moderationRow{Item: it, StructureName: names[it.StructureID]})
	}
	s.render(w, r, http.StatusOK, "moderation", s.page(r, "moderation.title", d))
}

// moderationResolve takes the decision on one report through its service, which
// checks that the actor moderates it and writes the audit entry.
func (s *Server) moderationResolve(w http.ResponseWriter, r *http.Request) {
	src, ok := s.svc.Moderation[r.PathValue("source")]
	if !ok {
		s.fail(w, r, actor.ErrNotFound)
		return
	}
	remove := r.PostFormValue("decision") == "remove"
	if err := src.Resolve(r.Context(), actorOf(r), r.PathValue("id"), remove, r.PostFormValue("note")); err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, map[bool]string{true: "moderation.removed", false: "moderation.dismissed"}[remove])
	kind := r.PostFormValue("type")
	if !slices.Contains(moderation.Kinds, kind) {
		kind = ""
	}
	http.Redirect(w, r, moderationURL(kind, 0), http.StatusSeeOther)
}

// ---- API ----

type apiReport struct {
	Source      string `json:"source"` // with id, the address of the decision
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	StructureID string `json:"structureId"`
	Title       string `json:"title,omitempty"`
	Excerpt     string `json:"excerpt,omitempty"`
	Author      string `json:"author,omitempty"`
	Reporter    string `json:"reporter"`
	Reporters   int    `json:"reporters"`
	Reason      string `json:"reason"`
	At          string `json:"at"`
	Link        string `json:"link,omitempty"`
	Note        bool   `json:"note"` // the decision keeps a note
}

// apiModeration lists the open reports the actor may act on, newest first
// (?type= a kind; ?limite= at most 500).
func (s *Server) apiModeration(w http.ResponseWriter, r *http.Request) {
	ok, items, err := s.moderates(r)
	if err == nil && !ok {
		err = actor.ErrForbidden
	}
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	kind := r.URL.Query().Get("type")
	limit, _ := strconv.Atoi(r.URL.Query().Get("limite"))
	if limit <= 0 || limit > moderationLimit {
		limit = moderationLimit
	}
	counts := map[string]int{}
	out := []apiReport{}
	for _, it := range items {
		counts[it.Kind]++
		if (kind == "" || it.Kind == kind) && len(out) < limit {
			out = append(out, apiReport{Source: it.Source, ID: it.ReportID, Kind: it.Kind, StructureID: it.StructureID, Title: it.Title, Excerpt: it.Excerpt,
				Author: it.Author, Reporter: it.ReporterName, Reporters: it.Reporters, Reason: it.Reason, At: it.At.UTC().Format(time.RFC3339), Link: it.Link, Note: it.Note})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"reports": out, "counts": counts})
}

// apiModerationResolve takes a decision: {"decision": "remove"|"dismiss", "note"}.
func (s *Server) apiModerationResolve(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Decision string `json:"decision"`
		Note     string `json:"note"`
	}
	if !s.decode(w, r, &in) {
		return
	}
	src, ok := s.svc.Moderation[r.PathValue("source")]
	if !ok {
		s.apiFail(w, r, actor.ErrNotFound)
		return
	}
	if in.Decision != "remove" && in.Decision != "dismiss" {
		s.apiFail(w, r, actor.Invalid("decision", "moderation.bad_decision"))
		return
	}
	if err := src.Resolve(r.Context(), actorOf(r), r.PathValue("id"), in.Decision == "remove", in.Note); err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"decision": in.Decision})
}
