package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/rights"
)

// apiCall sends a JSON request as a same-origin script would and decodes the answer.
func apiCall(t *testing.T, c *apptest.Client, method, path string, v any) (int, map[string]any) {
	t.Helper()
	var body *bytes.Reader
	if s, ok := v.(string); ok {
		body = bytes.NewReader([]byte(s))
	} else {
		b, _ := json.Marshal(v)
		body = bytes.NewReader(b)
	}
	if v == nil {
		body = bytes.NewReader(nil)
	}
	resp, text := c.Do(method, path, body, http.Header{"Content-Type": {"application/json"}, "Sec-Fetch-Site": {"same-origin"}})
	var out map[string]any
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatalf("%s %s: %d %v\n%s", method, path, resp.StatusCode, err, text)
	}
	return resp.StatusCode, out
}

func errCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// The forums' API: the same operations and the same rights as the pages, JSON errors;
// a reply notifies the subject's followers.
func TestForumAPI(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	teacher, pupil, other := k.As(f.Teacher), k.As(f.Pupil), k.As(f.OtherPupil)
	if code, out := apiCall(t, k.Client(), "GET", "/api/v1/forums", nil); code != http.StatusUnauthorized || errCode(out) != "unauthenticated" {
		t.Fatalf("anonymous: %d %v", code, out)
	}
	if code, out := apiCall(t, pupil, "POST", "/api/v1/forums", map[string]string{"structure": f.College.ID, "name": "Pas moi"}); code != http.StatusForbidden {
		t.Fatalf("a pupil created a category: %d %v", code, out)
	}
	if code, out := apiCall(t, teacher, "POST", "/api/v1/forums", map[string]string{"structure": f.College.ID, "name": " "}); code != http.StatusBadRequest || out["error"].(map[string]any)["field"] != "name" {
		t.Fatalf("no name: %d %v", code, out)
	}
	code, out := apiCall(t, teacher, "POST", "/api/v1/forums", map[string]string{"structure": f.College.ID, "name": "Entraide", "description": "Questions de maths"})
	if code != http.StatusCreated || out["level"] != "manage" {
		t.Fatalf("create: %d %v", code, out)
	}
	cat := out["id"].(string)
	if err := k.App.Services.Forum.Share(k.Ctx, who(f.Teacher), cat, rights.Grantee{Kind: "group", ID: f.Class.ID}, rights.Read); err != nil {
		t.Fatal(err)
	}
	_, out = apiCall(t, pupil, "GET", "/api/v1/forums", nil)
	if cats := out["categories"].([]any); len(cats) != 1 || cats[0].(map[string]any)["level"] != "read" {
		t.Fatalf("the pupil's categories: %v", out)
	}
	// A pupil of another school sees nothing of it.
	if _, out := apiCall(t, other, "GET", "/api/v1/forums", nil); len(out["categories"].([]any)) != 0 {
		t.Fatalf("another school's pupil lists: %v", out)
	}
	if code, out := apiCall(t, other, "GET", "/api/v1/forums/categories/"+cat, nil); code != http.StatusNotFound || errCode(out) != "not_found" {
		t.Fatalf("another school's pupil reads the category: %d %v", code, out)
	}
	if code, _ := apiCall(t, pupil, "POST", "/api/v1/forums/categories/"+cat+"/subjects", map[string]string{"title": "Moi", "body": "<p>x</p>"}); code != http.StatusForbidden {
		t.Fatalf("a reader opened a subject: %d", code)
	}
	code, out = apiCall(t, teacher, "POST", "/api/v1/forums/categories/"+cat+"/subjects", map[string]string{"title": "Exercice 4", "body": "<p>Vos questions</p>"})
	if code != http.StatusCreated || out["following"] != true || len(out["messages"].([]any)) != 1 {
		t.Fatalf("open: %d %v", code, out)
	}
	subj := out["subject"].(map[string]any)["id"].(string)
	_, out = apiCall(t, pupil, "GET", "/api/v1/forums/categories/"+cat, nil)
	if subs := out["subjects"].([]any); len(subs) != 1 || subs[0].(map[string]any)["title"] != "Exercice 4" {
		t.Fatalf("subjects: %v", out)
	}
	for _, c := range []struct{ method, path string }{{"GET", "/api/v1/forums/subjects/" + subj}, {"POST", "/api/v1/forums/subjects/" + subj + "/messages"}, {"PUT", "/api/v1/forums/subjects/" + subj + "/follow"}} {
		if code, _ := apiCall(t, other, c.method, c.path, map[string]any{"body": "<p>intrus</p>", "following": true}); code != http.StatusNotFound {
			t.Fatalf("another school's pupil: %s %s: %d", c.method, c.path, code)
		}
	}
	if code, _ := apiCall(t, pupil, "POST", "/api/v1/forums/subjects/"+subj+"/messages", `{"body": `); code != http.StatusBadRequest {
		t.Fatalf("bad JSON: %d", code)
	}
	code, out = apiCall(t, pupil, "POST", "/api/v1/forums/subjects/"+subj+"/messages", map[string]string{"body": `<p onclick="x()">Comment factoriser ?</p><script>alert(1)</script>`})
	if code != http.StatusCreated || strings.Contains(out["body"].(string), "script") || strings.Contains(out["body"].(string), "onclick") || out["author"] != "Léa Martin" {
		t.Fatalf("reply: %d %v", code, out)
	}
	// The teacher, who opened the subject, is told (in the background).
	k.App.SettleNotifications()
	_, out = apiCall(t, teacher, "GET", "/api/v1/notifications", nil)
	items, _ := out["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["kind"] != "forum.message" || items[0].(map[string]any)["link"] != "/forums/sujets/"+subj {
		t.Fatalf("the teacher's notifications: %v", out)
	}
	if _, out := apiCall(t, pupil, "GET", "/api/v1/notifications", nil); len(out["items"].([]any)) != 0 {
		t.Fatalf("the author is told of their own message: %v", out)
	}

	// Lock and pin: the category's managers only.
	if code, out := apiCall(t, pupil, "POST", "/api/v1/forums/subjects/"+subj+"/flags", map[string]bool{"locked": true}); code != http.StatusForbidden || errCode(out) != "forbidden" {
		t.Fatalf("a reader locked: %d %v", code, out)
	}
	code, out = apiCall(t, teacher, "POST", "/api/v1/forums/subjects/"+subj+"/flags", map[string]bool{"locked": true})
	if s := out["subject"].(map[string]any); code != http.StatusOK || s["locked"] != true || s["pinned"] != false {
		t.Fatalf("lock: %d %v", code, out)
	}
	if code, out := apiCall(t, teacher, "POST", "/api/v1/forums/subjects/"+subj+"/flags", map[string]bool{"pinned": true}); code != http.StatusOK || out["subject"].(map[string]any)["locked"] != true || out["subject"].(map[string]any)["pinned"] != true {
		t.Fatalf("pin: %d %v", code, out)
	}
	if code, out := apiCall(t, pupil, "POST", "/api/v1/forums/subjects/"+subj+"/messages", map[string]string{"body": "<p>encore</p>"}); code != http.StatusBadRequest || out["error"].(map[string]any)["field"] != "body" {
		t.Fatalf("a reply in a locked subject: %d %v", code, out)
	}

	// Follow and stop following.
	if code, out := apiCall(t, pupil, "PUT", "/api/v1/forums/subjects/"+subj+"/follow", map[string]bool{"following": false}); code != http.StatusOK || out["following"] != false {
		t.Fatalf("unfollow: %d %v", code, out)
	}
	if _, out := apiCall(t, pupil, "GET", "/api/v1/forums/subjects/"+subj, nil); out["following"] != false {
		t.Fatalf("still following: %v", out)
	}
}

// The subject page has a "Suivre ce sujet" toggle.
func TestForumFollowToggle(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	c, err := k.App.Services.Forum.CreateCategory(k.Ctx, who(f.Teacher), f.College.ID, "Entraide", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := k.App.Services.Forum.Share(k.Ctx, who(f.Teacher), c.ID, rights.Grantee{Kind: "group", ID: f.Class.ID}, rights.Read); err != nil {
		t.Fatal(err)
	}
	o, err := k.App.Services.Forum.OpenSubject(k.Ctx, who(f.Teacher), c.ID, "Exercice 4", "<p>Vos questions</p>")
	if err != nil {
		t.Fatal(err)
	}
	pupil := k.As(f.Pupil)
	path := "/forums/sujets/" + o.ID
	_, page := pupil.Get(path)
	contains(t, page, "Suivre ce sujet", `action="`+path+`/suivi"`)
	if resp, _ := pupil.Post(path+"/suivi", url.Values{"following": {"on"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("follow: %d", resp.StatusCode)
	}
	_, page = pupil.Get(path)
	contains(t, page, "Ne plus suivre ce sujet", "Vous suivez ce sujet")
	if resp, _ := k.As(f.Parent).Post(path+"/suivi", url.Values{"following": {"on"}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("someone who does not read the subject follows it: %d", resp.StatusCode)
	}
	// The follower hears of the teacher's reply.
	if _, err := k.App.Services.Forum.Reply(k.Ctx, who(f.Teacher), o.ID, "<p>Factorisez.</p>"); err != nil {
		t.Fatal(err)
	}
	k.App.SettleNotifications()
	_, page = pupil.Get("/notifications")
	contains(t, page, "Exercice 4", "Nouveau message dans un sujet de forum suivi")
}
