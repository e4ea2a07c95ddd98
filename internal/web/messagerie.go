package web

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/messaging"
	"github.com/preau-ent/preau/internal/moderation"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/i18n"
)

// The messagerie's pages. Every page works without JavaScript: the compose form
// keeps its whole state (recipients, subject, body) in the form and in the draft it
// saves at each button; a small script only saves the draft as one types.

func (s *Server) messagerieRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /messagerie", s.requireLogin(s.mailList))
	mux.HandleFunc("POST /messagerie/actions", s.requireLogin(s.mailBulk))
	mux.HandleFunc("POST /messagerie/corbeille/vider", s.requireLogin(s.mailEmptyTrash))
	mux.HandleFunc("GET /messagerie/nouveau", s.requireLogin(s.mailNew))
	mux.HandleFunc("GET /messagerie/brouillons/{id}", s.requireLogin(s.mailDraft))
	mux.HandleFunc("POST /messagerie/brouillons", s.requireLogin(s.mailCompose))
	mux.HandleFunc("POST /messagerie/brouillons/auto", s.requireLogin(s.mailAutosave))
	mux.HandleFunc("GET /messagerie/messages/{id}", s.requireLogin(s.mailRead))
	mux.HandleFunc("POST /messagerie/messages/{id}/{action}", s.requireLogin(s.mailAction))
	mux.HandleFunc("GET /messagerie/pieces-jointes/{id}", s.requireLogin(s.mailAttachment))
	mux.HandleFunc("GET /messagerie/dossiers", s.requireLogin(s.mailFolders))
	mux.HandleFunc("POST /messagerie/dossiers", s.requireLogin(s.mailFolderCreate))
	mux.HandleFunc("POST /messagerie/dossiers/{id}/{action}", s.requireLogin(s.mailFolderChange))
	mux.HandleFunc("GET /messagerie/moderation/{id}", s.requireLogin(s.mailModeration))
	mux.HandleFunc("POST /messagerie/moderation/{id}/{action}", s.requireLogin(s.mailModerationAction))
	s.messagerieAPIRoutes(mux)
}

// mailUploadLimit is the body limit of the messagerie's multipart forms: the
// attachments of one message, plus room for the text fields.
func (s *Server) mailUploadLimit() int64 {
	if s.svc.Messaging == nil {
		return 0
	}
	return s.svc.Messaging.Limits().MessageLimit + 2<<20
}

// isMailUpload tells whether a request is one of the messagerie's uploads.
func isMailUpload(r *http.Request) bool {
	return r.Method == http.MethodPost && (r.URL.Path == "/messagerie/brouillons" ||
		(strings.HasPrefix(r.URL.Path, "/api/v1/messagerie/drafts/") && strings.HasSuffix(r.URL.Path, "/attachments")))
}

type mboxNav struct {
	Folders   []messaging.Folder
	Current   string
	Moderates bool // the person moderates reported messages somewhere
}

func (s *Server) mailboxNav(r *http.Request, current string) (mboxNav, error) {
	folders, err := s.svc.Messaging.Folders(r.Context(), actorOf(r))
	if err != nil {
		return mboxNav{}, err
	}
	mod, err := s.svc.Messaging.Moderates(r.Context(), actorOf(r))
	return mboxNav{Folders: folders, Current: current, Moderates: mod}, err
}

type mailListData struct {
	Nav        mboxNav
	Folder     messaging.Folder
	Listing    messaging.Listing
	Search     string
	Searched   bool
	Results    []messaging.Summary
	Targets    []messaging.Folder // where messages may be moved
	FirstPage  bool
	FolderName string
}

var folderKeys = map[string]string{messaging.Inbox: "messagerie.folder.inbox", messaging.Sent: "messagerie.folder.sent",
	messaging.Drafts: "messagerie.folder.drafts", messaging.Trash: "messagerie.folder.trash"}

// folderLabel names a folder for pages: built-in ones through the catalog.
func folderLabel(L *i18n.Localizer, f messaging.Folder) string {
	if f.Own {
		return f.Name
	}
	return L.T(folderKeys[f.ID])
}

func (s *Server) mailList(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	q := r.URL.Query()
	folder := q.Get("dossier")
	if folder == "" {
		folder = messaging.Inbox
	}
	nav, err := s.mailboxNav(r, folder)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := mailListData{Nav: nav, Search: strings.TrimSpace(q.Get("q")), FirstPage: q.Get("apres") == ""}
	for _, f := range nav.Folders {
		if f.ID == folder {
			d.Folder = f
		}
		if ((f.ID == messaging.Inbox && folder != messaging.Sent) || f.Own) && f.ID != folder {
			d.Targets = append(d.Targets, f)
		}
	}
	if d.Folder.ID == "" {
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	L := st(r).L
	d.FolderName = folderLabel(L, d.Folder)
	title := d.FolderName
	if d.Search != "" {
		d.Searched = true
		if d.Results, err = s.svc.Messaging.Search(ctx, a, d.Search, 100); err != nil {
			s.fail(w, r, err)
			return
		}
		title = L.T("messagerie.search_results")
	} else if d.Listing, err = s.svc.Messaging.List(ctx, a, folder, q.Get("apres"), 50); err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "", d)
	p.Title = title + " — " + L.T("messagerie.title")
	p.Form.Set("q", d.Search)
	s.render(w, r, http.StatusOK, "messagerie_list", p)
}

// back returns to the listing a form came from (a same-site path only).
func mailBack(r *http.Request) string {
	if v := r.FormValue("retour"); strings.HasPrefix(v, "/messagerie") {
		return safeReturn(v)
	}
	return "/messagerie"
}

func (s *Server) mailBulk(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	ids := r.Form["id"]
	if len(ids) == 0 {
		flash(w, "messagerie.none_selected")
		http.Redirect(w, r, mailBack(r), http.StatusSeeOther)
		return
	}
	var err error
	msg := ""
	switch r.FormValue("action") {
	case "trash":
		err, msg = s.svc.Messaging.Move(ctx, a, ids, messaging.Trash), "messagerie.moved_trash"
	case "restore":
		err, msg = s.svc.Messaging.Restore(ctx, a, ids), "messagerie.restored"
	case "delete":
		err, msg = s.svc.Messaging.Delete(ctx, a, ids), "messagerie.deleted"
	case "move":
		err, msg = s.svc.Messaging.Move(ctx, a, ids, r.FormValue("vers")), "messagerie.moved"
	default:
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, msg)
	http.Redirect(w, r, mailBack(r), http.StatusSeeOther)
}

func (s *Server) mailEmptyTrash(w http.ResponseWriter, r *http.Request) {
	if _, err := s.svc.Messaging.EmptyTrash(r.Context(), actorOf(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "messagerie.trash_emptied")
	http.Redirect(w, r, "/messagerie?dossier=trash", http.StatusSeeOther)
}

type composeData struct {
	Nav       mboxNav
	Draft     messaging.Draft
	Groups    []messaging.Recipient
	Found     []messaging.Recipient // persons matching the search
	Searched  bool
	FileMB    int64
	MessageMB int64
	Fields    []string // to, cc, bcc
}

func (s *Server) renderCompose(w http.ResponseWriter, r *http.Request, status int, d messaging.Draft, errs map[string]string, found []messaging.Recipient, searched bool) {
	ctx, a := r.Context(), actorOf(r)
	nav, err := s.mailboxNav(r, messaging.Drafts)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	groups, err := s.svc.Messaging.GroupChoices(ctx, a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lim := s.svc.Messaging.Limits()
	data := composeData{Nav: nav, Draft: d, Groups: groups, Found: found, Searched: searched, Fields: []string{"to", "cc", "bcc"},
		FileMB: lim.FileLimit / messaging.MiB, MessageMB: lim.MessageLimit / messaging.MiB}
	p := s.page(r, "messagerie.compose", data)
	p.Errors = errs
	p.Form.Set("subject", d.Subject)
	p.Form.Set("body", d.Body)
	if r.Method == http.MethodPost {
		p.Form.Set("person_q", r.FormValue("person_q"))
		p.Form.Set("add_field", r.FormValue("add_field"))
	}
	s.render(w, r, status, "messagerie_compose", p)
}

func (s *Server) mailNew(w http.ResponseWriter, r *http.Request) {
	var d messaging.Draft
	// ?a=<person> starts a message to someone (from the directory, say).
	if id := r.URL.Query().Get("a"); id != "" {
		d.To = s.svc.Messaging.Describe(r.Context(), []messaging.Recipient{{Kind: messaging.KindPerson, ID: id}})
	}
	s.renderCompose(w, r, http.StatusOK, d, nil, nil, false)
}

func (s *Server) mailDraft(w http.ResponseWriter, r *http.Request) {
	d, err := s.svc.Messaging.Draft(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderCompose(w, r, http.StatusOK, d, nil, nil, false)
}

// draftFromForm reads the compose form: recipients are tokens ("p:<id>", "g:<id>").
func draftFromForm(r *http.Request) messaging.Draft {
	d := messaging.Draft{ID: r.FormValue("id"), Subject: r.FormValue("subject"), Body: r.FormValue("body")}
	read := func(name string) []messaging.Recipient {
		var out []messaging.Recipient
		for _, t := range r.Form[name] {
			if rc, ok := messaging.ParseToken(t); ok {
				out = append(out, rc)
			}
		}
		return out
	}
	d.To, d.Cc, d.Bcc = read("to"), read("cc"), read("bcc")
	return d
}

func (s *Server) parseMailForm(r *http.Request) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		return r.ParseMultipartForm(1 << 20)
	}
	return r.ParseForm()
}

// mailCompose handles every button of the compose form: each saves the draft
// (and joins the chosen files), then sends, searches, adds recipients, or stays.
func (s *Server) mailCompose(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	if err := s.parseMailForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
	}
	d := draftFromForm(r)
	action := r.FormValue("action")
	if action == "add" {
		field := r.FormValue("add_field")
		var add []messaging.Recipient
		if g := r.FormValue("add_group"); g != "" {
			add = append(add, messaging.Recipient{Kind: messaging.KindGroup, ID: g})
		}
		for _, t := range r.Form["add_person"] {
			if rc, ok := messaging.ParseToken(t); ok {
				add = append(add, rc)
			}
		}
		switch field {
		case "cc":
			d.Cc = append(d.Cc, add...)
		case "bcc":
			d.Bcc = append(d.Bcc, add...)
		default:
			d.To = append(d.To, add...)
		}
	}
	showError := func(err error) {
		errs, ok := formErrors(r, err)
		if !ok {
			s.fail(w, r, err)
			return
		}
		d.To, d.Cc, d.Bcc = s.svc.Messaging.Describe(ctx, d.To), s.svc.Messaging.Describe(ctx, d.Cc), s.svc.Messaging.Describe(ctx, d.Bcc)
		if d.ID != "" {
			if saved, err := s.svc.Messaging.Draft(ctx, a, d.ID); err == nil {
				d.Attachments = saved.Attachments
			}
		}
		s.renderCompose(w, r, http.StatusBadRequest, d, errs, nil, false)
	}
	if action == "delete" {
		if d.ID != "" {
			if err := s.svc.Messaging.DeleteDraft(ctx, a, d.ID); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		flash(w, "messagerie.draft_deleted")
		http.Redirect(w, r, "/messagerie?dossier=drafts", http.StatusSeeOther)
		return
	}
	id, err := s.svc.Messaging.SaveDraft(ctx, a, d)
	if err != nil {
		showError(err)
		return
	}
	d.ID = id
	if r.MultipartForm != nil {
		for _, fh := range r.MultipartForm.File["files"] {
			f, err := fh.Open()
			if err != nil {
				s.fail(w, r, err)
				return
			}
			_, err = s.svc.Messaging.AddAttachment(ctx, a, id, fh.Filename, fh.Header.Get("Content-Type"), f)
			f.Close()
			if err != nil {
				showError(err)
				return
			}
		}
	}
	switch {
	case strings.HasPrefix(action, "remove:"):
		if err := s.svc.Messaging.RemoveAttachment(ctx, a, id, strings.TrimPrefix(action, "remove:")); err != nil {
			s.fail(w, r, err)
			return
		}
	case action == "send":
		res, err := s.svc.Messaging.Send(ctx, a, id)
		if err != nil {
			showError(err)
			return
		}
		flash(w, "messagerie.sent")
		http.Redirect(w, r, "/messagerie/messages/"+res.ID, http.StatusSeeOther)
		return
	case action == "search":
		found, err := s.svc.Messaging.PersonChoices(ctx, a, r.FormValue("person_q"), 30)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		saved, err := s.svc.Messaging.Draft(ctx, a, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.renderCompose(w, r, http.StatusOK, saved, nil, found, true)
		return
	case action == "save":
		flash(w, "messagerie.draft_saved")
	}
	http.Redirect(w, r, "/messagerie/brouillons/"+id+"#compose", http.StatusSeeOther)
}

// mailAutosave saves the draft as one types (the script's POST); it answers the
// draft's id in JSON, so that the next saves update the same draft.
func (s *Server) mailAutosave(w http.ResponseWriter, r *http.Request) {
	if err := s.parseMailForm(r); err != nil {
		s.apiFail(w, r, err)
		return
	}
	id, err := s.svc.Messaging.SaveDraft(r.Context(), actorOf(r), draftFromForm(r))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "savedAt": time.Now().UTC()})
}

type readData struct {
	Nav      mboxNav
	Message  messaging.Message
	Read     int
	Readers  []messaging.Reader
	Unread   int
	Targets  []messaging.Folder
	Moderate bool
}

func (s *Server) mailRead(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	m, err := s.svc.Messaging.Message(ctx, a, r.PathValue("id"), true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if m.State == "draft" {
		http.Redirect(w, r, "/messagerie/brouillons/"+m.ID, http.StatusSeeOther)
		return
	}
	nav, err := s.mailboxNav(r, m.Folder)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := readData{Nav: nav, Message: m}
	for _, f := range nav.Folders {
		if ((f.ID == messaging.Inbox && !m.IsSender()) || f.Own) && f.ID != m.Folder {
			d.Targets = append(d.Targets, f)
		}
	}
	if m.IsSender() {
		if d.Read, d.Readers, err = s.svc.Messaging.ReadBy(ctx, a, m.ID); err != nil {
			s.fail(w, r, err)
			return
		}
		d.Unread = len(d.Readers) - d.Read
	}
	p := s.page(r, "", d)
	p.Title = m.Subject
	if p.Title == "" {
		p.Title = st(r).L.T("messagerie.no_subject")
	}
	s.render(w, r, http.StatusOK, "messagerie_read", p)
}

func (s *Server) mailAction(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	id := r.PathValue("id")
	var err error
	switch r.PathValue("action") {
	case "repondre", "repondre-a-tous", "transferer":
		var did string
		switch r.PathValue("action") {
		case "transferer":
			did, err = s.svc.Messaging.Forward(ctx, a, id)
		default:
			did, err = s.svc.Messaging.Reply(ctx, a, id, r.PathValue("action") == "repondre-a-tous")
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/messagerie/brouillons/"+did+"#compose", http.StatusSeeOther)
		return
	case "signaler":
		err = s.svc.Messaging.Report(ctx, a, id, r.FormValue("reason"))
		flash(w, "messagerie.reported")
	case "rappeler":
		var n int
		n, err = s.svc.Messaging.Recall(ctx, a, id)
		if err == nil {
			flash(w, fmt.Sprintf("messagerie.recalled|%d", n))
		}
	case "non-lu":
		err = s.svc.Messaging.MarkUnread(ctx, a, id)
		if err == nil {
			http.Redirect(w, r, "/messagerie", http.StatusSeeOther)
			return
		}
	case "corbeille":
		err = s.svc.Messaging.Move(ctx, a, []string{id}, messaging.Trash)
		if err == nil {
			flash(w, "messagerie.moved_trash")
			http.Redirect(w, r, "/messagerie", http.StatusSeeOther)
			return
		}
	case "deplacer":
		err = s.svc.Messaging.Move(ctx, a, []string{id}, r.FormValue("vers"))
		flash(w, "messagerie.moved")
	default:
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/messagerie/messages/"+id, http.StatusSeeOther)
}

func (s *Server) mailAttachment(w http.ResponseWriter, r *http.Request) {
	at, f, err := s.svc.Messaging.OpenAttachment(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer f.Close()
	serveAttachment(w, r, at, f)
}

// serveAttachment sends a file as a download (never rendered in the page's origin).
func serveAttachment(w http.ResponseWriter, r *http.Request, at messaging.Attachment, f io.ReadSeeker) {
	w.Header().Set("Content-Type", at.ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": at.Name}))
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'")
	w.Header().Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, "", time.Time{}, f)
}

type foldersData struct {
	Nav mboxNav
}

func (s *Server) mailFolders(w http.ResponseWriter, r *http.Request) {
	nav, err := s.mailboxNav(r, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "messagerie_folders", s.page(r, "messagerie.folders_title", foldersData{Nav: nav}))
}

func (s *Server) mailFolderCreate(w http.ResponseWriter, r *http.Request) {
	if _, err := s.svc.Messaging.CreateFolder(r.Context(), actorOf(r), r.FormValue("name")); err != nil {
		s.folderError(w, r, err)
		return
	}
	flash(w, "messagerie.folder_created")
	http.Redirect(w, r, "/messagerie/dossiers", http.StatusSeeOther)
}

func (s *Server) folderError(w http.ResponseWriter, r *http.Request, err error) {
	errs, ok := formErrors(r, err)
	if !ok {
		s.fail(w, r, err)
		return
	}
	nav, err := s.mailboxNav(r, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "messagerie.folders_title", foldersData{Nav: nav})
	p.Errors = errs
	p.Form = r.PostForm
	s.render(w, r, http.StatusBadRequest, "messagerie_folders", p)
}

func (s *Server) mailFolderChange(w http.ResponseWriter, r *http.Request) {
	ctx, a, id := r.Context(), actorOf(r), r.PathValue("id")
	var err error
	msg := ""
	switch r.PathValue("action") {
	case "renommer":
		err, msg = s.svc.Messaging.RenameFolder(ctx, a, id, r.FormValue("name")), "messagerie.folder_renamed"
	case "supprimer":
		err, msg = s.svc.Messaging.DeleteFolder(ctx, a, id), "messagerie.folder_deleted"
	default:
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	if err != nil {
		s.folderError(w, r, err)
		return
	}
	flash(w, msg)
	http.Redirect(w, r, "/messagerie/dossiers", http.StatusSeeOther)
}

type moderationData struct {
	Nav     mboxNav
	Message messaging.Message
}

// mailModeration shows a reported message to a moderator of it (the queue is the
// one moderation page).
func (s *Server) mailModeration(w http.ResponseWriter, r *http.Request) {
	d := moderationData{}
	var err error
	d.Message, err = s.svc.Messaging.ReportedMessage(r.Context(), actorOf(r), r.PathValue("id"))
	if err == nil {
		d.Nav, err = s.mailboxNav(r, "")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "messagerie_moderation", s.page(r, "messagerie.moderation_title", d))
}

func (s *Server) mailModerationAction(w http.ResponseWriter, r *http.Request) {
	ctx, a, id := r.Context(), actorOf(r), r.PathValue("id")
	var err error
	switch r.PathValue("action") {
	case "retirer":
		var n int
		n, err = s.svc.Messaging.Remove(ctx, a, id)
		if err == nil {
			flash(w, "messagerie.removed|"+strconv.Itoa(n))
		}
	case "classer":
		err = s.svc.Messaging.Dismiss(ctx, a, id)
		if err == nil {
			flash(w, "messagerie.dismissed")
		}
	default:
		err = actor.ErrNotFound
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, moderationURL(moderation.KindMail, 0), http.StatusSeeOther)
}

// sizeLabel writes a size for people: "12 Ko", "3,4 Mo".
func sizeLabel(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d o", n)
	case n < 1000*1000:
		return fmt.Sprintf("%d Ko", (n+500)/1000)
	}
	return strings.Replace(fmt.Sprintf("%.1f Mo", float64(n)/1e6), ".", ",", 1)
}

func init() {
	funcs["size"] = sizeLabel
	funcs["folderLabel"] = folderLabel
}
