package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/preau-ent/preau/internal/news"
)

type apiNewsItem struct {
	ID        string      `json:"id"`
	Thread    string      `json:"thread"`
	Structure string      `json:"structure"`
	Title     string      `json:"title"`
	Body      string      `json:"body"` // sanitized HTML
	Summary   string      `json:"summary"`
	Headline  bool        `json:"headline"`
	Public    bool        `json:"public"`
	State     string      `json:"state"`
	Author    string      `json:"author,omitempty"`
	PublishAt *time.Time  `json:"publishAt,omitempty"`
	ExpireAt  *time.Time  `json:"expireAt,omitempty"`
	Target    news.Target `json:"target"`
}

func toAPINews(it news.Item) apiNewsItem {
	out := apiNewsItem{ID: it.ID, Thread: it.ThreadID, Structure: it.StructureName, Title: it.Title, Body: string(it.Body), Summary: it.Summary(),
		Headline: it.Headline, Public: it.Public, State: it.State, Author: it.AuthorName, Target: it.Target}
	if !it.PublishAt.IsZero() {
		out.PublishAt = &it.PublishAt
	}
	if !it.ExpireAt.IsZero() {
		out.ExpireAt = &it.ExpireAt
	}
	return out
}

// apiNewsList is the news the person may read, headlines first.
func (s *Server) apiNewsList(w http.ResponseWriter, r *http.Request) {
	items, err := s.svc.News.Feed(r.Context(), actorOf(r), 100)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := make([]apiNewsItem, 0, len(items))
	for _, it := range items {
		out = append(out, toAPINews(it))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (s *Server) apiNewsGet(w http.ResponseWriter, r *http.Request) {
	it, _, err := s.svc.News.Get(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAPINews(it))
}

// apiNewsCreate writes an item: {"thread", "title", "body", "headline", "public",
// "publishAt", "expireAt", "target", "action": "draft"|"submit"|"publish"}.
func (s *Server) apiNewsCreate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Thread    string      `json:"thread"`
		Title     string      `json:"title"`
		Body      string      `json:"body"`
		Headline  bool        `json:"headline"`
		Public    bool        `json:"public"`
		PublishAt *time.Time  `json:"publishAt"`
		ExpireAt  *time.Time  `json:"expireAt"`
		Target    news.Target `json:"target"`
		Action    string      `json:"action"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		s.apiError(w, r, http.StatusBadRequest, "invalid", "error.bad_request")
		return
	}
	ni := news.Input{ThreadID: in.Thread, Title: in.Title, Body: in.Body, Headline: in.Headline, Public: in.Public, Target: in.Target}
	if in.PublishAt != nil {
		ni.PublishAt = *in.PublishAt
	}
	if in.ExpireAt != nil {
		ni.ExpireAt = *in.ExpireAt
	}
	ctx, a := r.Context(), actorOf(r)
	it, err := s.svc.News.Save(ctx, a, "", ni)
	if err == nil {
		switch in.Action {
		case "submit":
			err = s.svc.News.Submit(ctx, a, it.ID)
		case "publish":
			err = s.svc.News.Publish(ctx, a, it.ID)
		}
	}
	if err == nil {
		it, _, err = s.svc.News.Get(ctx, a, it.ID)
	}
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toAPINews(it))
}

// apiNewsAction runs submit, publish, reject ({"note"}) and unpublish.
func (s *Server) apiNewsAction(w http.ResponseWriter, r *http.Request) {
	ctx, a, id := r.Context(), actorOf(r), r.PathValue("id")
	var body struct {
		Note string `json:"note"`
	}
	if r.ContentLength > 0 {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			s.apiError(w, r, http.StatusBadRequest, "invalid", "error.bad_request")
			return
		}
	}
	var err error
	switch r.PathValue("action") {
	case "submit":
		err = s.svc.News.Submit(ctx, a, id)
	case "publish":
		err = s.svc.News.Publish(ctx, a, id)
	case "reject":
		err = s.svc.News.Reject(ctx, a, id, body.Note)
	case "unpublish":
		err = s.svc.News.Unpublish(ctx, a, id)
	default:
		s.apiError(w, r, http.StatusNotFound, "not_found", "error.not_found")
		return
	}
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	it, _, err := s.svc.News.Get(ctx, a, id)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAPINews(it))
}
