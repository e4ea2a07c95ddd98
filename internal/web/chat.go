package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/preau-ent/preau/internal/chat"
	"github.com/preau-ent/preau/internal/moderation"
	"github.com/preau-ent/preau/internal/platform/actor"
)

// chatStreamPath is the live stream of discussions: long-lived, so the admission
// control does not count it and the server's read and write time limits do not cut it.
const chatStreamPath = "/discussions/flux"

// chatHeartbeat is how often an idle stream sends a comment, so that proxies and
// load balancers keep it open and dead clients are found out.
var chatHeartbeat = 25 * time.Second

func (s *Server) chatRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /discussions", s.requireLogin(s.chatList))
	mux.HandleFunc("POST /discussions", s.requireLogin(s.chatCreate))
	mux.HandleFunc("GET "+chatStreamPath, s.requireLogin(s.chatStream))
	mux.HandleFunc("GET /discussions/recherche", s.requireLogin(s.chatSearch))
	mux.HandleFunc("POST /discussions/moderation/{mid}/decision", s.requireLogin(s.chatModerate))
	mux.HandleFunc("GET /discussions/{id}", s.requireLogin(s.chatConversation))
	mux.HandleFunc("POST /discussions/{id}", s.requireLogin(s.chatSend))
	mux.HandleFunc("POST /discussions/{id}/quitter", s.requireLogin(s.chatLeave))
	mux.HandleFunc("POST /discussions/{id}/membres", s.requireLogin(s.chatAddMembers))
	mux.HandleFunc("POST /discussions/messages/{mid}/signaler", s.requireLogin(s.chatReport))

	mux.HandleFunc("GET /api/v1/discussions", s.requireLogin(s.apiChatList))
	mux.HandleFunc("POST /api/v1/discussions", s.requireLogin(s.apiChatCreate))
	mux.HandleFunc("GET /api/v1/discussions/search", s.requireLogin(s.apiChatSearch))
	mux.HandleFunc("GET /api/v1/discussions/{id}/messages", s.requireLogin(s.apiChatMessages))
	mux.HandleFunc("POST /api/v1/discussions/{id}/messages", s.requireLogin(s.apiChatSend))
	mux.HandleFunc("GET /api/v1/discussions/{id}/members", s.requireLogin(s.apiChatMembers))
	mux.HandleFunc("POST /api/v1/discussions/{id}/members", s.requireLogin(s.apiChatAddMembers))
	mux.HandleFunc("POST /api/v1/discussions/{id}/read", s.requireLogin(s.apiChatRead))
	mux.HandleFunc("POST /api/v1/discussions/messages/{mid}/report", s.requireLogin(s.apiChatReport))
}

// mayChat answers for the person who may not use the application.
func (s *Server) mayChat(w http.ResponseWriter, r *http.Request) bool {
	ok, err := s.svc.Chat.MayUse(r.Context(), actorOf(r))
	if err == nil && !ok {
		err = actor.ErrForbidden
	}
	if err != nil {
		s.fail(w, r, err)
		return false
	}
	return true
}

type chatListData struct {
	Last          int64 // the latest message the page knows of: where its live stream starts
	Conversations []chat.Conversation
	Groups        []chat.GroupRef
	Persons       []chat.PersonRef
	Searched      bool
	Chosen        map[string]bool
	Moderator     bool
}

func (s *Server) chatList(w http.ResponseWriter, r *http.Request) {
	s.renderChatList(w, r, http.StatusOK, r.URL.Query(), nil)
}

// renderChatList shows the conversations and the form to start one, keeping what
// was typed and chosen (form) after an error.
func (s *Server) renderChatList(w http.ResponseWriter, r *http.Request, status int, form url.Values, errs map[string]string) {
	ctx, a := r.Context(), actorOf(r)
	if !s.mayChat(w, r) {
		return
	}
	d := chatListData{Chosen: map[string]bool{}}
	var err error
	if d.Conversations, err = s.svc.Chat.Conversations(ctx, a, 0); err != nil {
		s.fail(w, r, err)
		return
	}
	for _, c := range d.Conversations {
		d.Last = max(d.Last, c.LastMessageID)
	}
	if d.Groups, err = s.svc.Chat.Pickable(ctx, a); err != nil {
		s.fail(w, r, err)
		return
	}
	chosen := append(form["personne"], form["groupe"]...)
	for _, id := range chosen {
		d.Chosen[id] = true
	}
	if q := form.Get("q"); q != "" {
		d.Searched = true
		if d.Persons, err = s.svc.Chat.FindPersons(ctx, a, q, 30); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	// Persons chosen before a new search or an error stay on the form.
	for _, id := range form["personne"] {
		if p, err := s.svc.Directory.Person(ctx, id); err == nil && !containsPerson(d.Persons, id) {
			d.Persons = append([]chat.PersonRef{{ID: p.ID, FirstName: p.FirstName, LastName: p.LastName, Profile: p.Profile}}, d.Persons...)
		}
	}
	if d.Moderator, err = s.svc.Chat.IsModerator(ctx, a); err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "chat.title", d)
	p.Errors = errs
	p.Form = form
	s.render(w, r, status, "chat_list", p)
}

func containsPerson(list []chat.PersonRef, id string) bool {
	for _, p := range list {
		if p.ID == id {
			return true
		}
	}
	return false
}

func (s *Server) chatCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.svc.Chat.Create(r.Context(), actorOf(r), chat.NewConversation{Title: r.PostForm.Get("titre"), PersonIDs: r.PostForm["personne"], GroupIDs: r.PostForm["groupe"]})
	if errs, ok := formErrors(r, err); ok {
		s.renderChatList(w, r, http.StatusBadRequest, r.PostForm, errs)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/discussions/"+c.ID, http.StatusSeeOther)
}

type chatConversationData struct {
	Conversation chat.Conversation
	Members      []chat.Member
	Messages     []chat.Message
	Older        int64 // "avant" of the older page; 0: none
	Latest       bool  // the page ends with the latest message
	Online       int
	// For the creator of a group conversation: what they may add.
	CanAdd   bool
	Groups   []chat.GroupRef
	Persons  []chat.PersonRef
	Searched bool
}

const chatPageSize = 50

func (s *Server) chatConversation(w http.ResponseWriter, r *http.Request) {
	s.renderConversation(w, r, http.StatusOK, nil)
}

func (s *Server) renderConversation(w http.ResponseWriter, r *http.Request, status int, errs map[string]string) {
	ctx, a, id := r.Context(), actorOf(r), r.PathValue("id")
	c, err := s.svc.Chat.Conversation(ctx, a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	before, _ := strconv.ParseInt(r.URL.Query().Get("avant"), 10, 64)
	d := chatConversationData{Conversation: c}
	if d.Members, err = s.svc.Chat.Members(ctx, a, id); err != nil {
		s.fail(w, r, err)
		return
	}
	for i, m := range d.Members {
		if m.ID == a.PersonID {
			// The page's own stream may not be open yet: whoever reads it is here.
			d.Members[i].Presence, m.Presence = chat.Online, chat.Online
		}
		if m.Presence == chat.Online {
			d.Online++
		}
	}
	msgs, err := s.svc.Chat.Messages(ctx, a, id, before, chatPageSize+1)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(msgs) > chatPageSize {
		msgs = msgs[1:]
		d.Older = msgs[0].ID
	}
	d.Messages = msgs
	d.Latest = before <= 0 || (len(msgs) > 0 && msgs[len(msgs)-1].ID == c.LastMessageID)
	if d.Latest && c.Unread > 0 {
		if err := s.svc.Chat.MarkRead(ctx, a, id, 0); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if d.CanAdd = c.Kind == chat.Group && c.CreatedBy == a.PersonID; d.CanAdd {
		if d.Groups, err = s.svc.Chat.Pickable(ctx, a); err != nil {
			s.fail(w, r, err)
			return
		}
		if q := r.URL.Query().Get("q"); q != "" {
			d.Searched = true
			if d.Persons, err = s.svc.Chat.FindPersons(ctx, a, q, 30); err != nil {
				s.fail(w, r, err)
				return
			}
		}
	}
	p := s.page(r, "", d)
	p.Title = c.Name
	p.Form.Set("q", r.URL.Query().Get("q"))
	p.Errors = errs
	if r.Method == http.MethodPost {
		p.Form.Set("message", r.PostForm.Get("message"))
	}
	s.render(w, r, status, "chat_conversation", p)
}

func (s *Server) chatSend(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.svc.Chat.Send(r.Context(), actorOf(r), r.PathValue("id"), r.PostForm.Get("message"))
	if errs, ok := formErrors(r, err); ok {
		if msg, ok := errs["body"]; ok {
			errs = map[string]string{"message": msg} // the form's name for the text
		}
		s.renderConversation(w, r, http.StatusBadRequest, errs)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/discussions/%s#m-%d", m.ConversationID, m.ID), http.StatusSeeOther)
}

func (s *Server) chatAddMembers(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	n, err := s.svc.Chat.AddMembers(r.Context(), actorOf(r), id, r.PostForm["personne"], r.PostForm["groupe"])
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if n == 0 {
		flash(w, "chat.nobody_added")
	} else {
		flash(w, "chat.members_added")
	}
	http.Redirect(w, r, "/discussions/"+url.PathEscape(id), http.StatusSeeOther)
}

func (s *Server) chatLeave(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Chat.Leave(r.Context(), actorOf(r), r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "chat.left")
	http.Redirect(w, r, "/discussions", http.StatusSeeOther)
}

// messageForm parses a form posted about message {mid}.
func (s *Server) messageForm(w http.ResponseWriter, r *http.Request) (int64, bool) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return 0, false
	}
	mid, err := strconv.ParseInt(r.PathValue("mid"), 10, 64)
	if err != nil {
		s.fail(w, r, actor.ErrNotFound)
		return 0, false
	}
	return mid, true
}

func (s *Server) chatReport(w http.ResponseWriter, r *http.Request) {
	mid, ok := s.messageForm(w, r)
	if !ok {
		return
	}
	a := actorOf(r)
	if err := s.svc.Chat.ReportMessage(r.Context(), a, mid, r.PostForm.Get("motif")); err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "chat.reported")
	back := "/discussions"
	if conv := r.PostForm.Get("conversation"); conv != "" {
		if _, err := s.svc.Chat.Conversation(r.Context(), a, conv); err == nil {
			back = fmt.Sprintf("/discussions/%s#m-%d", url.PathEscape(conv), mid)
		}
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

type chatSearchData struct {
	Query   string
	Results []chatHit
}

// chatHit is a search result with the "avant" of the page that ends with it.
type chatHit struct {
	chat.Message
	Before int64
}

func (s *Server) chatSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	res, err := s.svc.Chat.Search(r.Context(), actorOf(r), q, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := chatSearchData{Query: q}
	for _, m := range res {
		d.Results = append(d.Results, chatHit{m, m.ID + 1})
	}
	p := s.page(r, "chat.search_title", d)
	p.Form.Set("q", q)
	s.render(w, r, http.StatusOK, "chat_search", p)
}

func (s *Server) chatModerate(w http.ResponseWriter, r *http.Request) {
	mid, ok := s.messageForm(w, r)
	if !ok {
		return
	}
	outcome := r.PostForm.Get("decision")
	if err := s.svc.Chat.Moderate(r.Context(), actorOf(r), mid, outcome); err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "chat.moderated_"+outcome)
	http.Redirect(w, r, moderationURL(moderation.KindChat, 0), http.StatusSeeOther)
}

// chatStream is a person's live stream of discussion events (server-sent events).
// A client that reconnects with Last-Event-ID first gets, from the database, the
// messages it missed, then the live ones.
func (s *Server) chatStream(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	if !s.mayChat(w, r) {
		return
	}
	var last int64
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		last, _ = strconv.ParseInt(v, 10, 64)
	} else if v := r.URL.Query().Get("depuis"); v != "" {
		last, _ = strconv.ParseInt(v, 10, 64)
	}
	rc := http.NewResponseController(w)
	// The server's time limits are for ordinary requests; this one lasts.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	// Subscribe before reading what was missed, so that nothing falls in between.
	stream, err := s.svc.ChatHub.Connect(ctx, a.PersonID)
	if errors.Is(err, chat.ErrTooManyStreams) {
		w.Header().Set("Retry-After", "30")
		s.errorPage(w, r, http.StatusTooManyRequests, "chat.too_many_streams")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer s.svc.ChatHub.Disconnect(stream)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // tell reverse proxies not to buffer
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, "retry: 3000\n: ok\n\n"); err != nil {
		return
	}
	for last > 0 {
		missed, err := s.svc.Chat.Since(ctx, a.PersonID, last, 500)
		if err != nil {
			slog.Error("reprise d'un flux de discussions", "err", err)
			return
		}
		for _, m := range missed {
			if writeEvent(w, chat.MessageEvent(m)) != nil {
				return
			}
			last = m.ID
		}
		if len(missed) < 500 {
			break
		}
	}
	if rc.Flush() != nil {
		return
	}
	beat := time.NewTicker(chatHeartbeat)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-stream.Lost():
			return // the client reconnects and resumes from its last id
		case <-beat.C:
			// A session that ended (logout, revocation, idle time) ends its streams;
			// checking does not count as activity.
			if ok, err := s.svc.Accounts.Alive(ctx, st(r).token); err != nil || !ok {
				return
			}
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case ev := <-stream.C:
			if ev.ID > 0 && ev.ID <= last {
				continue // already sent from the database
			}
			if writeEvent(w, ev) != nil {
				return
			}
			// Write what else is waiting before one flush.
			for more := true; more; {
				select {
				case ev := <-stream.C:
					if ev.ID == 0 || ev.ID > last {
						if writeEvent(w, ev) != nil {
							return
						}
					}
				default:
					more = false
				}
			}
			if rc.Flush() != nil {
				return
			}
		}
	}
}

func writeEvent(w http.ResponseWriter, ev chat.StreamEvent) error {
	var err error
	if ev.ID > 0 {
		_, err = fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ev.ID, ev.Name, ev.Data)
	} else {
		_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Name, ev.Data)
	}
	return err
}
