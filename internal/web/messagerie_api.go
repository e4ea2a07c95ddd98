package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/preau-ent/preau/internal/messaging"
	"github.com/preau-ent/preau/internal/platform/actor"
)

// The messagerie's JSON API, for mobile applications: the same operations as the
// pages, the same rules (they are the service's).
func (s *Server) messagerieAPIRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/messagerie/folders", s.requireLogin(s.apiMailFolders))
	mux.HandleFunc("GET /api/v1/messagerie/recipients", s.requireLogin(s.apiMailRecipients))
	mux.HandleFunc("GET /api/v1/messagerie/messages", s.requireLogin(s.apiMailList))
	mux.HandleFunc("POST /api/v1/messagerie/messages", s.requireLogin(s.apiMailSend))
	mux.HandleFunc("GET /api/v1/messagerie/messages/{id}", s.requireLogin(s.apiMailMessage))
	mux.HandleFunc("DELETE /api/v1/messagerie/messages/{id}", s.requireLogin(s.apiMailDelete))
	mux.HandleFunc("POST /api/v1/messagerie/messages/{id}/move", s.requireLogin(s.apiMailMove))
	mux.HandleFunc("GET /api/v1/messagerie/messages/{id}/read-by", s.requireLogin(s.apiMailReadBy))
	mux.HandleFunc("POST /api/v1/messagerie/messages/{id}/recall", s.requireLogin(s.apiMailRecall))
	mux.HandleFunc("POST /api/v1/messagerie/messages/{id}/report", s.requireLogin(s.apiMailReport))
	mux.HandleFunc("GET /api/v1/messagerie/search", s.requireLogin(s.apiMailSearch))
	mux.HandleFunc("POST /api/v1/messagerie/drafts", s.requireLogin(s.apiMailSaveDraft))
	mux.HandleFunc("PUT /api/v1/messagerie/drafts/{id}", s.requireLogin(s.apiMailSaveDraft))
	mux.HandleFunc("POST /api/v1/messagerie/drafts/{id}/attachments", s.requireLogin(s.apiMailAttach))
	mux.HandleFunc("POST /api/v1/messagerie/drafts/{id}/send", s.requireLogin(s.apiMailSendDraft))
	mux.HandleFunc("GET /api/v1/messagerie/attachments/{id}", s.requireLogin(s.apiMailAttachment))
}

type apiRecipient struct {
	Kind    string `json:"kind"` // person or group
	ID      string `json:"id"`
	Token   string `json:"token"` // "p:<id>" or "g:<id>", what drafts take
	Name    string `json:"name"`
	Members int    `json:"members,omitempty"`
}

func toAPIRecipients(rs []messaging.Recipient) []apiRecipient {
	out := []apiRecipient{}
	for _, r := range rs {
		kind := "person"
		if r.Kind == messaging.KindGroup {
			kind = "group"
		}
		out = append(out, apiRecipient{Kind: kind, ID: r.ID, Token: r.Token(), Name: r.Name, Members: r.Members})
	}
	return out
}

type apiSummary struct {
	ID          string         `json:"id"`
	From        string         `json:"from"`
	To          []apiRecipient `json:"to"`
	Subject     string         `json:"subject"`
	At          time.Time      `json:"at"`
	Unread      bool           `json:"unread"`
	Attachments int            `json:"attachments"`
	Folder      string         `json:"folder"`
	Draft       bool           `json:"draft,omitempty"`
}

func toAPISummaries(items []messaging.Summary) []apiSummary {
	out := []apiSummary{}
	for _, m := range items {
		out = append(out, apiSummary{ID: m.ID, From: m.SenderName, To: toAPIRecipients(m.To), Subject: m.Subject, At: m.At, Unread: m.Unread,
			Attachments: m.Attachments, Folder: m.Folder, Draft: m.State == "draft"})
	}
	return out
}

func (s *Server) apiMailFolders(w http.ResponseWriter, r *http.Request) {
	folders, err := s.svc.Messaging.Folders(r.Context(), actorOf(r))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	type folder struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Unread int    `json:"unread"`
		Own    bool   `json:"own"`
	}
	out := []folder{}
	for _, f := range folders {
		out = append(out, folder{f.ID, folderLabel(st(r).L, f), f.Unread, f.Own})
	}
	writeJSON(w, http.StatusOK, map[string]any{"folders": out})
}

func (s *Server) apiMailRecipients(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	groups, err := s.svc.Messaging.GroupChoices(ctx, a)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	persons, err := s.svc.Messaging.PersonChoices(ctx, a, r.URL.Query().Get("q"), 30)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": toAPIRecipients(groups), "persons": toAPIRecipients(persons)})
}

func (s *Server) apiMailList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	folder := q.Get("folder")
	if folder == "" {
		folder = messaging.Inbox
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	l, err := s.svc.Messaging.List(r.Context(), actorOf(r), folder, q.Get("cursor"), limit)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": toAPISummaries(l.Items), "next": l.Next})
}

func (s *Server) apiMailSearch(w http.ResponseWriter, r *http.Request) {
	res, err := s.svc.Messaging.Search(r.Context(), actorOf(r), r.URL.Query().Get("q"), 100)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": toAPISummaries(res)})
}

type apiDraftInput struct {
	To      []string `json:"to"`
	Cc      []string `json:"cc"`
	Bcc     []string `json:"bcc"`
	Subject string   `json:"subject"`
	Body    string   `json:"body"`
}

func (in apiDraftInput) draft() (messaging.Draft, error) {
	d := messaging.Draft{Subject: in.Subject, Body: in.Body}
	for _, f := range []struct {
		field  string
		tokens []string
		out    *[]messaging.Recipient
	}{{"to", in.To, &d.To}, {"cc", in.Cc, &d.Cc}, {"bcc", in.Bcc, &d.Bcc}} {
		for _, t := range f.tokens {
			rc, ok := messaging.ParseToken(t)
			if !ok {
				return d, actor.Invalid(f.field, "messagerie.error.recipient_unknown")
			}
			*f.out = append(*f.out, rc)
		}
	}
	return d, nil
}

func (s *Server) readDraftJSON(w http.ResponseWriter, r *http.Request) (messaging.Draft, bool) {
	var in apiDraftInput
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		s.apiError(w, r, http.StatusBadRequest, "invalid", "error.bad_request")
		return messaging.Draft{}, false
	}
	d, err := in.draft()
	if err != nil {
		s.apiFail(w, r, err)
		return d, false
	}
	return d, true
}

func (s *Server) apiMailSaveDraft(w http.ResponseWriter, r *http.Request) {
	d, ok := s.readDraftJSON(w, r)
	if !ok {
		return
	}
	d.ID = r.PathValue("id")
	id, err := s.svc.Messaging.SaveDraft(r.Context(), actorOf(r), d)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	status := http.StatusOK
	if d.ID == "" {
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string]string{"id": id})
}

// apiMailSend writes and sends a message in one call.
func (s *Server) apiMailSend(w http.ResponseWriter, r *http.Request) {
	d, ok := s.readDraftJSON(w, r)
	if !ok {
		return
	}
	id, err := s.svc.Messaging.SaveDraft(r.Context(), actorOf(r), d)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.apiSend(w, r, id)
}

func (s *Server) apiMailSendDraft(w http.ResponseWriter, r *http.Request) {
	s.apiSend(w, r, r.PathValue("id"))
}

func (s *Server) apiSend(w http.ResponseWriter, r *http.Request, id string) {
	res, err := s.svc.Messaging.Send(r.Context(), actorOf(r), id)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": res.ID, "recipients": res.Recipients})
}

func (s *Server) apiMailAttach(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		s.apiFail(w, r, tooLargeOr(err))
		return
	}
	defer r.MultipartForm.RemoveAll()
	f, fh, err := r.FormFile("file")
	if err != nil {
		s.apiFail(w, r, actor.Invalid("file", "error.bad_request"))
		return
	}
	defer f.Close()
	at, err := s.svc.Messaging.AddAttachment(r.Context(), actorOf(r), r.PathValue("id"), fh.Filename, fh.Header.Get("Content-Type"), f)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, at)
}

// tooLargeOr turns a body over the limit into the clear error it is.
func tooLargeOr(err error) error {
	if err != nil && err.Error() == "http: request body too large" {
		return actor.Invalid("file", "messagerie.error.message_too_large")
	}
	return err
}

func (s *Server) apiMailMessage(w http.ResponseWriter, r *http.Request) {
	m, err := s.svc.Messaging.Message(r.Context(), actorOf(r), r.PathValue("id"), r.URL.Query().Get("peek") == "")
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	type attachment struct {
		messaging.Attachment
		URL string `json:"url"`
	}
	atts := []attachment{}
	for _, at := range m.Attachments {
		atts = append(atts, attachment{at, "/api/v1/messagerie/attachments/" + at.ID})
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": m.ID, "from": map[string]string{"id": m.SenderID, "name": m.SenderName},
		"to": toAPIRecipients(m.To), "cc": toAPIRecipients(m.Cc), "bcc": toAPIRecipients(m.Bcc), "subject": m.Subject, "body": m.Body,
		"sentAt": m.SentAt, "folder": m.Folder, "role": m.Role, "attachments": atts, "parentId": m.ParentID})
}

func (s *Server) apiMailDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Messaging.Delete(r.Context(), actorOf(r), []string{r.PathValue("id")}); err != nil {
		s.apiFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiMailMove(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Folder string `json:"folder"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		s.apiError(w, r, http.StatusBadRequest, "invalid", "error.bad_request")
		return
	}
	if err := s.svc.Messaging.Move(r.Context(), actorOf(r), []string{r.PathValue("id")}, in.Folder); err != nil {
		s.apiFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiMailReadBy(w http.ResponseWriter, r *http.Request) {
	read, readers, err := s.svc.Messaging.ReadBy(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	type reader struct {
		ID     string     `json:"id"`
		Name   string     `json:"name"`
		ReadAt *time.Time `json:"readAt"`
	}
	out := []reader{}
	for _, x := range readers {
		rd := reader{ID: x.PersonID, Name: x.Name}
		if !x.ReadAt.IsZero() {
			t := x.ReadAt
			rd.ReadAt = &t
		}
		out = append(out, rd)
	}
	writeJSON(w, http.StatusOK, map[string]any{"read": read, "recipients": len(readers), "readers": out})
}

func (s *Server) apiMailRecall(w http.ResponseWriter, r *http.Request) {
	n, err := s.svc.Messaging.Recall(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"recalled": n})
}

func (s *Server) apiMailReport(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Reason string `json:"reason"`
	}
	_ = json.NewDecoder(r.Body).Decode(&in)
	if err := s.svc.Messaging.Report(r.Context(), actorOf(r), r.PathValue("id"), in.Reason); err != nil {
		s.apiFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiMailAttachment(w http.ResponseWriter, r *http.Request) {
	at, f, err := s.svc.Messaging.OpenAttachment(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	defer f.Close()
	serveAttachment(w, r, at, f)
}
