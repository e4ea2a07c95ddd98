package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/preau-ent/preau/internal/forum"
)

// The forums' JSON API, for mobile applications and scripts: the operations of the
// pages, with the same rules (they are the service's).
func (s *Server) forumAPIRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/forums", s.requireLogin(s.apiForumCategories))
	mux.HandleFunc("POST /api/v1/forums", s.requireLogin(s.apiForumCreate))
	mux.HandleFunc("GET /api/v1/forums/categories/{id}", s.requireLogin(s.apiForumCategory))
	mux.HandleFunc("POST /api/v1/forums/categories/{id}/subjects", s.requireLogin(s.apiForumOpen))
	mux.HandleFunc("GET /api/v1/forums/subjects/{id}", s.requireLogin(s.apiForumSubject))
	mux.HandleFunc("POST /api/v1/forums/subjects/{id}/messages", s.requireLogin(s.apiForumReply))
	mux.HandleFunc("POST /api/v1/forums/subjects/{id}/flags", s.requireLogin(s.apiForumFlags))
	mux.HandleFunc("PUT /api/v1/forums/subjects/{id}/follow", s.requireLogin(s.apiForumFollow))
}

type apiForumCategory struct {
	ID          string `json:"id"`
	StructureID string `json:"structureId"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Level       string `json:"level"` // read, contribute or manage: the caller's
}

type apiForumSubject struct {
	ID         string    `json:"id"`
	CategoryID string    `json:"categoryId"`
	Title      string    `json:"title"`
	Author     string    `json:"author"`
	Locked     bool      `json:"locked"`
	Pinned     bool      `json:"pinned"`
	Messages   int       `json:"messages"`
	CreatedAt  time.Time `json:"createdAt"`
	LastAt     time.Time `json:"lastAt"`
}

type apiForumMessage struct {
	ID        string    `json:"id"`
	SubjectID string    `json:"subjectId"`
	Author    string    `json:"author"`
	AuthorID  string    `json:"authorId"`
	Body      string    `json:"body"` // sanitized HTML
	CreatedAt time.Time `json:"createdAt"`
}

func toAPIForumCategory(c forum.Category) apiForumCategory {
	return apiForumCategory{ID: c.ID, StructureID: c.StructureID, Name: c.Name, Description: c.Description, Level: c.Level.String()}
}

func toAPIForumSubject(o forum.Subject) apiForumSubject {
	return apiForumSubject{ID: o.ID, CategoryID: o.CategoryID, Title: o.Title, Author: o.AuthorName, Locked: o.Locked, Pinned: o.Pinned, Messages: o.Messages,
		CreatedAt: o.CreatedAt, LastAt: o.LastAt}
}

func toAPIForumMessage(m forum.Message) apiForumMessage {
	return apiForumMessage{ID: m.ID, SubjectID: m.SubjectID, Author: m.AuthorName, AuthorID: m.AuthorID, Body: string(m.Body), CreatedAt: m.CreatedAt}
}

// decodeAPI reads a JSON body into v, answering the error itself.
func (s *Server) decodeAPI(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		s.apiError(w, r, http.StatusBadRequest, "invalid", "error.bad_request")
		return false
	}
	return true
}

// apiForumCategories lists the categories the caller reads.
func (s *Server) apiForumCategories(w http.ResponseWriter, r *http.Request) {
	cats, err := s.svc.Forum.Categories(r.Context(), actorOf(r))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := make([]apiForumCategory, 0, len(cats))
	for _, c := range cats {
		out = append(out, toAPIForumCategory(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"categories": out})
}

// apiForumCreate creates a category: {"structure", "name", "description"}.
func (s *Server) apiForumCreate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Structure   string `json:"structure"`
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if !s.decodeAPI(w, r, &in) {
		return
	}
	c, err := s.svc.Forum.CreateCategory(r.Context(), actorOf(r), in.Structure, in.Name, in.Description)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toAPIForumCategory(c))
}

// apiForumCategory is a category with its subjects, pinned first.
func (s *Server) apiForumCategory(w http.ResponseWriter, r *http.Request) {
	c, subjects, err := s.svc.Forum.Subjects(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := make([]apiForumSubject, 0, len(subjects))
	for _, o := range subjects {
		out = append(out, toAPIForumSubject(o))
	}
	writeJSON(w, http.StatusOK, map[string]any{"category": toAPIForumCategory(c), "subjects": out})
}

// apiForumOpen opens a subject with its first message: {"title", "body"}.
func (s *Server) apiForumOpen(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Title string `json:"title"`
		Body  string `json:"body"`
	}
	if !s.decodeAPI(w, r, &in) {
		return
	}
	o, err := s.svc.Forum.OpenSubject(r.Context(), actorOf(r), r.PathValue("id"), in.Title, in.Body)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.apiForumSubjectOut(w, r, http.StatusCreated, o.ID)
}

// apiForumSubject is a subject with its messages and whether the caller follows it.
func (s *Server) apiForumSubject(w http.ResponseWriter, r *http.Request) {
	s.apiForumSubjectOut(w, r, http.StatusOK, r.PathValue("id"))
}

func (s *Server) apiForumSubjectOut(w http.ResponseWriter, r *http.Request, status int, id string) {
	ctx, a := r.Context(), actorOf(r)
	c, o, msgs, err := s.svc.Forum.Subject(ctx, a, id)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	following, err := s.svc.Forum.Following(ctx, a, o.ID)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := make([]apiForumMessage, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, toAPIForumMessage(m))
	}
	writeJSON(w, status, map[string]any{"category": toAPIForumCategory(c), "subject": toAPIForumSubject(o), "messages": out, "following": following})
}

// apiForumReply posts a message in a subject: {"body"}.
func (s *Server) apiForumReply(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Body string `json:"body"`
	}
	if !s.decodeAPI(w, r, &in) {
		return
	}
	m, err := s.svc.Forum.Reply(r.Context(), actorOf(r), r.PathValue("id"), in.Body)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	me := st(r).person
	m.AuthorName = me.FirstName + " " + me.LastName
	writeJSON(w, http.StatusCreated, toAPIForumMessage(m))
}

// apiForumFlags locks or unlocks, pins or unpins a subject (its category's managers):
// {"locked", "pinned"}, each optional (unchanged when left out).
func (s *Server) apiForumFlags(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Locked *bool `json:"locked"`
		Pinned *bool `json:"pinned"`
	}
	if !s.decodeAPI(w, r, &in) {
		return
	}
	ctx, a, id := r.Context(), actorOf(r), r.PathValue("id")
	_, o, _, err := s.svc.Forum.Subject(ctx, a, id)
	if err == nil {
		if in.Locked != nil {
			o.Locked = *in.Locked
		}
		if in.Pinned != nil {
			o.Pinned = *in.Pinned
		}
		err = s.svc.Forum.SetFlags(ctx, a, id, o.Locked, o.Pinned)
	}
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.apiForumSubjectOut(w, r, http.StatusOK, id)
}

// apiForumFollow follows a subject or stops following it: {"following"}.
func (s *Server) apiForumFollow(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Following bool `json:"following"`
	}
	if !s.decodeAPI(w, r, &in) {
		return
	}
	if err := s.svc.Forum.Follow(r.Context(), actorOf(r), r.PathValue("id"), in.Following); err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"following": in.Following})
}
