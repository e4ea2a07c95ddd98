package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/preau-ent/preau/internal/chat"
	"github.com/preau-ent/preau/internal/platform/actor"
)

type apiConversation struct {
	ID            string    `json:"id"`
	Kind          string    `json:"kind"`
	Name          string    `json:"name"`
	Title         string    `json:"title,omitempty"`
	Members       int       `json:"members"`
	Unread        int       `json:"unread"`
	LastMessageID int64     `json:"lastMessageId"`
	LastMessageAt time.Time `json:"lastMessageAt"`
}

func toAPIConversation(c chat.Conversation) apiConversation {
	return apiConversation{ID: c.ID, Kind: c.Kind, Name: c.Name, Title: c.Title, Members: c.Members, Unread: c.Unread, LastMessageID: c.LastMessageID, LastMessageAt: c.LastMessageAt.UTC()}
}

func wireMessages(ms []chat.Message) []chat.WireMessage {
	out := make([]chat.WireMessage, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Wire())
	}
	return out
}

func (s *Server) apiChatList(w http.ResponseWriter, r *http.Request) {
	list, err := s.svc.Chat.Conversations(r.Context(), actorOf(r), 0)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := make([]apiConversation, 0, len(list))
	for _, c := range list {
		out = append(out, toAPIConversation(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversations": out})
}

func (s *Server) apiChatCreate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Title   string   `json:"title"`
		Persons []string `json:"persons"`
		Groups  []string `json:"groups"`
	}
	if !s.decode(w, r, &in) {
		return
	}
	c, err := s.svc.Chat.Create(r.Context(), actorOf(r), chat.NewConversation{Title: in.Title, PersonIDs: in.Persons, GroupIDs: in.Groups})
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toAPIConversation(c))
}

func (s *Server) apiChatMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	limit, _ := strconv.Atoi(q.Get("limit"))
	ms, err := s.svc.Chat.Messages(r.Context(), actorOf(r), r.PathValue("id"), before, limit)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := map[string]any{"messages": wireMessages(ms)}
	if len(ms) > 0 {
		out["before"] = ms[0].ID // the next (older) page
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiChatSend(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Body string `json:"body"`
	}
	if !s.decode(w, r, &in) {
		return
	}
	m, err := s.svc.Chat.Send(r.Context(), actorOf(r), r.PathValue("id"), in.Body)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, m.Wire())
}

func (s *Server) apiChatMembers(w http.ResponseWriter, r *http.Request) {
	ms, err := s.svc.Chat.Members(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	type member struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Profile  string `json:"profile"`
		Presence string `json:"presence"`
	}
	out := make([]member, 0, len(ms))
	for _, m := range ms {
		out = append(out, member{m.ID, m.Name(), m.Profile, m.Presence})
	}
	writeJSON(w, http.StatusOK, map[string]any{"members": out})
}

func (s *Server) apiChatAddMembers(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Persons []string `json:"persons"`
		Groups  []string `json:"groups"`
	}
	if !s.decode(w, r, &in) {
		return
	}
	n, err := s.svc.Chat.AddMembers(r.Context(), actorOf(r), r.PathValue("id"), in.Persons, in.Groups)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"added": n})
}

func (s *Server) apiChatRead(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UpTo int64 `json:"upTo"`
	}
	if r.ContentLength != 0 && !s.decode(w, r, &in) {
		return
	}
	if err := s.svc.Chat.MarkRead(r.Context(), actorOf(r), r.PathValue("id"), in.UpTo); err != nil {
		s.apiFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiChatSearch(w http.ResponseWriter, r *http.Request) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	res, err := s.svc.Chat.Search(r.Context(), actorOf(r), r.URL.Query().Get("q"), limit)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	type hit struct {
		chat.WireMessage
		ConversationName string `json:"conversationName"`
	}
	out := make([]hit, 0, len(res))
	for _, m := range res {
		out = append(out, hit{m.Wire(), m.ConversationName})
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": out})
}

func (s *Server) apiChatReport(w http.ResponseWriter, r *http.Request) {
	mid, err := strconv.ParseInt(r.PathValue("mid"), 10, 64)
	if err != nil {
		s.apiFail(w, r, actor.ErrNotFound)
		return
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 && !s.decode(w, r, &in) {
		return
	}
	if err := s.svc.Chat.ReportMessage(r.Context(), actorOf(r), mid, in.Reason); err != nil {
		s.apiFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
