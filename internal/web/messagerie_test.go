package web_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app"
	"github.com/preau-ent/preau/internal/app/apptest"
)

// multipartForm encodes fields and one file (field fileField) as a browser's
// multipart form would; the news and blog tests post it with multipartPost.
func multipartForm(t *testing.T, fields url.Values, fileField, fileName string, content []byte) (*bytes.Buffer, http.Header) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	if fileName != "" {
		fw, err := mw.CreateFormFile(fileField, fileName)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(content)
	}
	mw.Close()
	return &buf, http.Header{"Content-Type": {mw.FormDataContentType()}, "Sec-Fetch-Site": {"same-origin"}}
}

func groupID(t *testing.T, k *apptest.Kit, profile string) string {
	t.Helper()
	var id string
	if err := k.App.DB.QueryRowContext(k.Ctx, `SELECT id FROM groups WHERE class_id=$1 AND profile=$2`, k.School.Class.ID, profile).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestMessageriePages(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	teacher, parent := k.As(f.Teacher), k.As(f.Parent)
	parents := groupID(t, k, "Responsable")

	// The compose page offers the parents of the class as a group.
	_, body := teacher.Get("/messagerie/nouveau")
	contains(t, body, "Responsables — 4e A", `name="add_group"`, "Enregistrer le brouillon")

	// Add the group, then send with an attachment.
	form := url.Values{"action": {"add"}, "add_group": {parents}, "add_field": {"to"}, "subject": {"Sortie au musée"}, "body": {"Bonjour,\nla sortie a lieu jeudi."}}
	buf, h := multipartForm(t, form, "files", "", nil)
	resp, _ := teacher.Do("POST", "/messagerie/brouillons", buf, h)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/messagerie/brouillons/") {
		t.Fatalf("add group: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	draftID := strings.TrimSuffix(strings.TrimPrefix(resp.Header.Get("Location"), "/messagerie/brouillons/"), "#compose")
	_, body = teacher.Get("/messagerie/brouillons/" + draftID)
	contains(t, body, `value="g:`+parents+`"`, "Sortie au musée")
	form = url.Values{"id": {draftID}, "action": {"send"}, "to": {"g:" + parents}, "subject": {"Sortie au musée"}, "body": {"Bonjour,\nla sortie a lieu jeudi."}}
	buf, h = multipartForm(t, form, "files", "autorisation.pdf", []byte("%PDF-1.4 autorisation"))
	resp, _ = teacher.Do("POST", "/messagerie/brouillons", buf, h)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/messagerie/messages/") {
		t.Fatalf("send: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	msgID := strings.TrimPrefix(resp.Header.Get("Location"), "/messagerie/messages/")

	// The parent sees the unread count in the header and the message in the inbox.
	_, body = parent.Get("/messagerie")
	contains(t, body, `Messagerie (1<span class="visually-hidden"> non lus</span>)`, "Sortie au musée", "Paul DURAND")
	_, body = parent.Get("/messagerie/messages/" + msgID)
	contains(t, body, "Responsables — 4e A", "autorisation.pdf", "la sortie a lieu jeudi.", "Signaler ce message")
	lacks(t, body, "Lu par", "Cci")
	att := regexp.MustCompile(`/messagerie/pieces-jointes/([a-z2-7]+)`).FindStringSubmatch(body)
	if att == nil {
		t.Fatal("no attachment link")
	}
	resp, data := parent.Get(att[0])
	if resp.StatusCode != http.StatusOK || data != "%PDF-1.4 autorisation" || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: %d %q %s", resp.StatusCode, data, resp.Header.Get("Content-Disposition"))
	}
	// Someone else gets nothing, a super administrator included.
	for _, p := range []*apptest.Client{k.As(f.Classmate), k.As(f.Admin)} {
		if resp, _ := p.Get(att[0]); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("attachment open to another: %d", resp.StatusCode)
		}
		if resp, _ := p.Get("/messagerie/messages/" + msgID); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("message open to another: %d", resp.StatusCode)
		}
	}

	// The parent replies.
	resp, _ = parent.Post("/messagerie/messages/"+msgID+"/repondre", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply: %d", resp.StatusCode)
	}
	replyDraft := strings.TrimSuffix(strings.TrimPrefix(resp.Header.Get("Location"), "/messagerie/brouillons/"), "#compose")
	_, body = parent.Get("/messagerie/brouillons/" + replyDraft)
	contains(t, body, "Re : Sortie au musée", "Paul DURAND")
	resp, _ = parent.Post("/messagerie/brouillons", url.Values{"id": {replyDraft}, "action": {"send"}, "to": {"p:" + f.Teacher.ID}, "subject": {"Re : Sortie au musée"}, "body": {"C'est noté, merci."}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply send: %d", resp.StatusCode)
	}

	// The teacher sees who read it.
	_, body = teacher.Get("/messagerie/messages/" + msgID)
	contains(t, body, "Lu par 1 destinataire(s) sur 1.")
	_, body = teacher.Get("/messagerie")
	contains(t, body, "Re : Sortie au musée")

	// A form with a forbidden recipient comes back with the error and what was typed.
	resp, body = parent.Post("/messagerie/brouillons", url.Values{"action": {"send"}, "to": {"p:" + f.Classmate.ID}, "subject": {"Coucou"}, "body": {"Texte gardé"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("forbidden recipient: %d", resp.StatusCode)
	}
	contains(t, body, "règles de communication", "Texte gardé", "Coucou")

	// Search, folders, trash.
	_, body = parent.Get("/messagerie?q=musee")
	contains(t, body, "Sortie au musée")
	resp, _ = parent.Post("/messagerie/dossiers", url.Values{"name": {"Sorties"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("folder: %d", resp.StatusCode)
	}
	resp, _ = parent.Post("/messagerie/actions", url.Values{"id": {msgID}, "action": {"trash"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("trash: %d", resp.StatusCode)
	}
	_, body = parent.Get("/messagerie?dossier=trash")
	contains(t, body, "Sortie au musée", "Vider la corbeille")

	// The autosave answers JSON.
	resp, body = teacher.Post("/messagerie/brouillons/auto", url.Values{"subject": {"Brouillon tapé"}, "body": {"…"}})
	var saved struct{ ID string }
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &saved) != nil || saved.ID == "" {
		t.Fatalf("autosave: %d %s", resp.StatusCode, body)
	}
	_, body = teacher.Get("/messagerie?dossier=drafts")
	contains(t, body, "Brouillon tapé")
}

func TestMessagerieUploadLimit(t *testing.T) {
	k := apptest.New(t, func(o *app.Options) { o.Mailbox.FileLimit, o.Mailbox.MessageLimit = 3<<20, 3<<20 })
	teacher := k.As(k.School.Teacher)
	// Beyond the default 2 MiB of multipart forms, within the messagerie's limit.
	buf, h := multipartForm(t, url.Values{"action": {"save"}, "subject": {"Gros fichier"}}, "files", "cours.pdf", bytes.Repeat([]byte("x"), 5<<19))
	resp, body := teacher.Do("POST", "/messagerie/brouillons", buf, h)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("2.5 MiB attachment: %d %s", resp.StatusCode, body)
	}
	// Beyond the per-file limit: a clear error on the form.
	buf, h = multipartForm(t, url.Values{"action": {"save"}, "subject": {"Trop gros"}}, "files", "film.mp4", bytes.Repeat([]byte("x"), 3<<20+1))
	resp, body = teacher.Do("POST", "/messagerie/brouillons", buf, h)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "taille maximale") {
		t.Fatalf("too large: %d", resp.StatusCode)
	}
}

func TestMessagerieAPI(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	teacher, parent, pupil := k.As(f.Teacher), k.As(f.Parent), k.As(f.Pupil)
	jsonH := http.Header{"Content-Type": {"application/json"}, "Sec-Fetch-Site": {"same-origin"}}
	post := func(c *apptest.Client, path string, v any) (*http.Response, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(v)
		resp, body := c.Do("POST", path, bytes.NewReader(b), jsonH)
		var out map[string]any
		json.Unmarshal([]byte(body), &out)
		return resp, out
	}
	apiErr := func(out map[string]any) map[string]any {
		e, _ := out["error"].(map[string]any)
		return e
	}

	// Recipients offered to the teacher include the class's parents as a group.
	resp, body := teacher.Get("/api/v1/messagerie/recipients?q=mart")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"Responsables — 4e A"`) || !strings.Contains(body, `"Sophie MARTIN"`) {
		t.Fatalf("recipients: %d %s", resp.StatusCode, body)
	}
	// A pupil writing to a pupil of another school: a JSON error naming the field.
	resp, out := post(pupil, "/api/v1/messagerie/messages", map[string]any{"to": []string{"p:" + f.OtherPupil.ID}, "subject": "Salut"})
	if e := apiErr(out); resp.StatusCode != http.StatusBadRequest || e["code"] != "invalid" || e["field"] != "to" || !strings.Contains(e["message"].(string), "règles de communication") {
		t.Fatalf("forbidden recipient: %d %v", resp.StatusCode, out)
	}
	resp, out = post(pupil, "/api/v1/messagerie/messages", map[string]any{"to": []string{"x:1"}})
	if resp.StatusCode != http.StatusBadRequest || apiErr(out)["field"] != "to" {
		t.Fatalf("bad token: %d %v", resp.StatusCode, out)
	}
	resp, _ = pupil.Do("POST", "/api/v1/messagerie/messages", strings.NewReader("{"), jsonH)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad JSON: %d", resp.StatusCode)
	}

	// A draft with an attachment, sent with bcc.
	resp, out = post(teacher, "/api/v1/messagerie/drafts", map[string]any{"to": []string{"g:" + groupID(t, k, "Responsable")}, "bcc": []string{"p:" + f.Head.ID}, "subject": "Conseil de classe", "body": "Le 12."})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("draft: %d %v", resp.StatusCode, out)
	}
	draft := out["id"].(string)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "ordre-du-jour.txt")
	fw.Write([]byte("1. Bilan"))
	mw.Close()
	resp, body = teacher.Do("POST", "/api/v1/messagerie/drafts/"+draft+"/attachments", &buf, http.Header{"Content-Type": {mw.FormDataContentType()}, "Sec-Fetch-Site": {"same-origin"}})
	if resp.StatusCode != http.StatusCreated || !strings.Contains(body, `"ordre-du-jour.txt"`) {
		t.Fatalf("attach: %d %s", resp.StatusCode, body)
	}
	resp, out = post(teacher, "/api/v1/messagerie/drafts/"+draft+"/send", nil)
	if resp.StatusCode != http.StatusCreated || out["recipients"] != float64(2) {
		t.Fatalf("send: %d %v", resp.StatusCode, out)
	}

	// The parent lists, reads (no bcc shown), downloads.
	_, body = parent.Get("/api/v1/messagerie/messages")
	var list struct {
		Messages []struct {
			ID     string
			Unread bool
		}
	}
	json.Unmarshal([]byte(body), &list)
	if len(list.Messages) != 1 || list.Messages[0].ID != draft || !list.Messages[0].Unread {
		t.Fatalf("parent's list: %s", body)
	}
	_, body = parent.Get("/api/v1/messagerie/messages/" + draft)
	var msg struct {
		Bcc         []any
		To          []struct{ Kind, Name string }
		Attachments []struct{ URL string }
	}
	json.Unmarshal([]byte(body), &msg)
	if len(msg.Bcc) != 0 || len(msg.To) != 1 || msg.To[0].Kind != "group" || len(msg.Attachments) != 1 {
		t.Fatalf("parent's message: %s", body)
	}
	if resp, data := parent.Get(msg.Attachments[0].URL); resp.StatusCode != http.StatusOK || data != "1. Bilan" {
		t.Fatalf("download: %d %q", resp.StatusCode, data)
	}
	if resp, body := k.As(f.Admin).Get("/api/v1/messagerie/messages/" + draft); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `"not_found"`) {
		t.Fatalf("admin reads: %d %s", resp.StatusCode, body)
	}

	// Read by, recall.
	_, body = teacher.Get("/api/v1/messagerie/messages/" + draft + "/read-by")
	if !strings.Contains(body, `"read":1`) || !strings.Contains(body, `"recipients":2`) {
		t.Fatalf("read-by: %s", body)
	}
	resp, out = post(teacher, "/api/v1/messagerie/messages/"+draft+"/recall", nil)
	if resp.StatusCode != http.StatusOK || out["recalled"] != float64(1) {
		t.Fatalf("recall: %d %v", resp.StatusCode, out)
	}
	if resp, _ := parent.Get("/api/v1/messagerie/messages/" + draft + "/read-by"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("recipient's read-by: %d", resp.StatusCode)
	}
	// Search and folders.
	_, body = parent.Get("/api/v1/messagerie/search?q=conseil")
	if !strings.Contains(body, "Conseil de classe") {
		t.Fatalf("search: %s", body)
	}
	_, body = parent.Get("/api/v1/messagerie/folders")
	if !strings.Contains(body, `"Boîte de réception"`) {
		t.Fatalf("folders: %s", body)
	}
	if resp, body := k.Client().Get("/api/v1/messagerie/folders"); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "unauthenticated") {
		t.Fatalf("anonymous: %d %s", resp.StatusCode, body)
	}
}

func TestMessagerieModerationPages(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	teacher, parent, head, pupil := k.As(f.Teacher), k.As(f.Parent), k.As(f.Head), k.As(f.Pupil)
	resp, _ := teacher.Post("/messagerie/brouillons", url.Values{"action": {"send"}, "to": {"p:" + f.Parent.ID, "p:" + f.Pupil.ID}, "subject": {"Message déplacé"}, "body": {"Propos à retirer."}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("send: %d", resp.StatusCode)
	}
	msgID := strings.TrimPrefix(resp.Header.Get("Location"), "/messagerie/messages/")
	// Not reported yet: the head of school sees nothing of it.
	_, body := head.Get("/moderation?type=messagerie")
	lacks(t, body, "Message déplacé")
	contains(t, body, "Aucun signalement en attente")
	if resp, _ := head.Get("/messagerie/moderation/" + msgID); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unreported message open to the moderator: %d", resp.StatusCode)
	}
	if resp, _ := pupil.Get("/moderation?type=messagerie"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("pupil's moderation page: %d", resp.StatusCode)
	}
	resp, _ = parent.Post("/messagerie/messages/"+msgID+"/signaler", url.Values{"reason": {"Propos blessants"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("report: %d", resp.StatusCode)
	}
	_, body = head.Get("/moderation?type=messagerie")
	contains(t, body, "Message déplacé", "Propos blessants")
	lacks(t, body, "Propos à retirer.") // the body is read on its own, audited page
	_, body = head.Get("/messagerie/moderation/" + msgID)
	contains(t, body, "Propos à retirer.", "Retirer de toutes les boîtes")
	resp, _ = head.Post("/messagerie/moderation/"+msgID+"/retirer", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", resp.StatusCode)
	}
	_, body = head.Get("/moderation?type=messagerie")
	contains(t, body, "retiré de 3 boîte(s)")
	for _, c := range []*apptest.Client{teacher, parent, pupil} {
		if resp, _ := c.Get("/messagerie/messages/" + msgID); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("removed message still there: %d", resp.StatusCode)
		}
	}
}
