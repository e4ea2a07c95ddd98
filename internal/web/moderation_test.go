package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/blog"
	"github.com/preau-ent/preau/internal/chat"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/news"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/rights"
)

// moderationSchool is one school's cast for the moderation tests.
type moderationSchool struct {
	Structure      directory.Structure
	Head, Teacher  directory.Person // the head administers the school
	Pupil          directory.Person
	Tag            string // in every text, to tell the schools apart
	MailID, ChatID string
}

// seedReports makes, in the school, one reported content of every kind: a news item,
// a blog post and a comment, a forum message, a mail and a discussion message (and
// a mail nobody reported).
func seedReports(t *testing.T, k *apptest.Kit, s *moderationSchool) {
	t.Helper()
	svc, tag := k.App.Services, s.Tag
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	head, teacher, pupil := who(s.Head), who(s.Teacher), who(s.Pupil)
	pupilG := rights.Grantee{Kind: "person", ID: s.Pupil.ID}

	th, err := svc.News.CreateThread(k.Ctx, head, s.Structure.ID, "Vie de l'établissement "+tag)
	must(err)
	it, err := svc.News.Save(k.Ctx, head, "", news.Input{ThreadID: th.ID, Title: "Actualité " + tag, Body: "<p>Texte de l'actualité " + tag + "</p>"})
	must(err)
	must(svc.News.Publish(k.Ctx, head, it.ID))
	must(svc.News.Report(k.Ctx, pupil, it.ID, "Motif actualité "+tag))

	b, err := svc.Blog.Create(k.Ctx, teacher, blog.Input{StructureID: s.Structure.ID, Title: "Blog " + tag})
	must(err)
	must(svc.Blog.Share(k.Ctx, teacher, b.ID, pupilG, rights.Read))
	p, err := svc.Blog.CreatePost(k.Ctx, teacher, b.ID, blog.PostInput{Title: "Billet " + tag, Body: "<p>Corps du billet " + tag + "</p>"})
	must(err)
	c, err := svc.Blog.AddComment(k.Ctx, pupil, p.ID, "Commentaire <b>"+tag+"</b>")
	must(err)
	must(svc.Blog.Report(k.Ctx, pupil, "post", p.ID, "Motif billet "+tag))
	must(svc.Blog.Report(k.Ctx, teacher, "comment", c.ID, "Motif commentaire "+tag))

	cat, err := svc.Forum.CreateCategory(k.Ctx, teacher, s.Structure.ID, "Entraide "+tag, "")
	must(err)
	must(svc.Forum.Share(k.Ctx, teacher, cat.ID, pupilG, rights.Read))
	subj, err := svc.Forum.OpenSubject(k.Ctx, teacher, cat.ID, "Sujet "+tag, "<p>Message du forum "+tag+"</p>")
	must(err)
	_, _, msgs, err := svc.Forum.Subject(k.Ctx, pupil, subj.ID)
	must(err)
	must(svc.Forum.Report(k.Ctx, pupil, msgs[0].ID, "Motif forum "+tag))

	tc := k.As(s.Teacher)
	send := func(subject, body string) string {
		resp, _ := tc.Post("/messagerie/brouillons", url.Values{"action": {"send"}, "to": {"p:" + s.Pupil.ID}, "subject": {subject}, "body": {body}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("send: %d", resp.StatusCode)
		}
		return strings.TrimPrefix(resp.Header.Get("Location"), "/messagerie/messages/")
	}
	s.MailID = send("Courrier "+tag, "Corps privé du courrier "+tag)
	send("Courrier non signalé "+tag, "Autre corps "+tag)
	must(svc.Messaging.Report(k.Ctx, pupil, s.MailID, "Motif courrier "+tag))

	conv, err := svc.Chat.Create(k.Ctx, teacher, chat.NewConversation{PersonIDs: []string{s.Pupil.ID}})
	must(err)
	m, err := svc.Chat.Send(k.Ctx, teacher, conv.ID, "Ligne de discussion "+tag)
	must(err)
	must(svc.Chat.ReportMessage(k.Ctx, pupil, m.ID, "Motif discussion "+tag))
	s.ChatID = strconv.FormatInt(m.ID, 10)
}

// reportForms finds the decision forms of the queue: source and report id by kind
// of address.
var reportForms = regexp.MustCompile(`action="/moderation/([a-z]+)/([^"]+)"`)

func formsOf(page string) map[string][]string {
	out := map[string][]string{}
	for _, m := range reportForms.FindAllStringSubmatch(page, -1) {
		out[m[1]] = append(out[m[1]], m[2])
	}
	return out
}

// The one queue shows a moderator the reports of their school from every service,
// and nothing of another school; others may not open it; decisions go through the
// services and are audited.
func TestModerationQueue(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	a := &moderationSchool{Structure: f.College, Head: f.Head, Teacher: f.Teacher, Pupil: f.Pupil, Tag: "Alpha"}
	bHead := k.Person("Inès", "Garnier", directory.Personnel, f.Lycee.ID)
	if err := k.App.Services.Rights.Grant(k.Ctx, k.Sys, bHead.ID, rights.LocalAdmin, f.Lycee.ID); err != nil {
		t.Fatal(err)
	}
	b := &moderationSchool{Structure: f.Lycee, Head: bHead, Teacher: k.Person("Marc", "Lefèvre", directory.Enseignant, f.Lycee.ID), Pupil: f.OtherPupil, Tag: "Bravo"}
	seedReports(t, k, a)
	seedReports(t, k, b)
	// A moderator of the collège (not its administrator).
	mod := k.Person("Nora", "Moreau", directory.Personnel, f.College.ID)
	if err := k.App.Services.Rights.Grant(k.Ctx, who(f.Head), mod.ID, rights.Moderator, f.College.ID); err != nil {
		t.Fatal(err)
	}

	everything := func(tag string) []string {
		return []string{"Actualité " + tag, "Texte de l&#39;actualité " + tag, "Billet " + tag, "Corps du billet " + tag, "Commentaire &lt;b&gt;" + tag + "&lt;/b&gt;",
			"Sujet " + tag, "Message du forum " + tag, "Courrier " + tag, "Ligne de discussion " + tag,
			"Motif actualité " + tag, "Motif billet " + tag, "Motif commentaire " + tag, "Motif forum " + tag, "Motif courrier " + tag, "Motif discussion " + tag}
	}
	modC, headA, headB := k.As(mod), k.As(f.Head), k.As(bHead)
	for _, c := range []*apptest.Client{modC, headA} {
		_, page := c.Get("/moderation")
		contains(t, page, everything("Alpha")...)
		contains(t, page, "Collège Jean Moulin", "Actualité", "Billet de blog", "Commentaire", "Message du forum", "Message de la messagerie", "Discussion")
		lacks(t, page, "Bravo", "Corps privé du courrier", "Courrier non signalé")
		forms := formsOf(page)
		for _, src := range []string{"actualites", "forums", "messagerie", "discussions"} {
			if len(forms[src]) != 1 {
				t.Fatalf("%s: forms %v", src, forms)
			}
		}
		if len(forms["blogs"]) != 2 {
			t.Fatalf("blog forms: %v", forms)
		}
	}
	_, page := headB.Get("/moderation")
	contains(t, page, everything("Bravo")...)
	contains(t, page, "Lycée Marie Curie")
	lacks(t, page, "Alpha")

	// Filtered by kind, with the count of each kind.
	_, page = modC.Get("/moderation?type=forum")
	contains(t, page, "Sujet Alpha", `aria-current="page">Forums <span class="badge">1</span>`, `Tous <span class="badge">6</span>`, `Billets de blog <span class="badge">1</span>`)
	lacks(t, page, "Billet Alpha", "Courrier Alpha")
	// The former queues lead to the one page.
	for old, to := range map[string]string{"/blogs/moderation": "/moderation", "/actualites/moderation": "/moderation?type=actualite",
		"/messagerie/moderation": "/moderation?type=messagerie", "/discussions/moderation": "/moderation?type=discussion"} {
		if resp, _ := modC.Get(old); resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != to {
			t.Fatalf("%s: %d %s", old, resp.StatusCode, resp.Header.Get("Location"))
		}
	}

	// Others may not open it, nor decide.
	for _, p := range []directory.Person{f.Pupil, f.Teacher, f.Parent} {
		if resp, _ := k.As(p).Get("/moderation"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%s opened the queue: %d", p.Login, resp.StatusCode)
		}
	}
	_, page = modC.Get("/moderation")
	formsA := formsOf(page)
	for src, ids := range formsA {
		if resp, _ := headB.Post("/moderation/"+src+"/"+ids[0], url.Values{"decision": {"remove"}}); resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
			t.Fatalf("the lycée's head decided on the collège's %s: %d", src, resp.StatusCode)
		}
		if resp, _ := k.As(f.Teacher).Post("/moderation/"+src+"/"+ids[0], url.Values{"decision": {"dismiss"}}); resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
			t.Fatalf("a teacher decided on %s: %d", src, resp.StatusCode)
		}
	}
	if resp, _ := modC.Post("/moderation/inconnu/x", url.Values{"decision": {"remove"}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown source: %d", resp.StatusCode)
	}

	// The messagerie's report opens the reported message alone.
	_, page = modC.Get("/messagerie/moderation/" + a.MailID)
	contains(t, page, "Corps privé du courrier Alpha")
	lacks(t, page, "Courrier non signalé")

	// Decisions from the page, each in the audit log.
	decide := func(src, id, decision, note, filter string) string {
		t.Helper()
		resp, _ := modC.Post("/moderation/"+src+"/"+id, url.Values{"decision": {decision}, "note": {note}, "type": {filter}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s %s: %d", src, decision, resp.StatusCode)
		}
		return resp.Header.Get("Location")
	}
	if to := decide("forums", formsA["forums"][0], "remove", "Hors charte", "forum"); to != "/moderation?type=forum" {
		t.Fatalf("back to %s", to)
	}
	decide("blogs", formsA["blogs"][0], "remove", "", "")
	decide("blogs", formsA["blogs"][1], "dismiss", "Rien à redire", "")
	decide("actualites", formsA["actualites"][0], "dismiss", "", "")
	decide("messagerie", a.MailID, "remove", "", "")
	decide("discussions", a.ChatID, "dismiss", "", "")
	_, page = modC.Get("/moderation")
	contains(t, page, "Aucun signalement en attente", `Tous <span class="badge">0</span>`)
	entries, err := k.App.Services.Audit.Search(k.Ctx, audit.Filter{ActorLogin: mod.Login, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	done := map[string]int{}
	for _, e := range entries {
		done[e.Action]++
	}
	for action, n := range map[string]int{"forum.moderation.remove": 1, "blog.moderation.remove": 1, "blog.report.dismiss": 1, "news.report.dismiss": 1,
		"mail.moderation.remove": 1, "chat.message.kept": 1, "mail.moderation.view": 1} {
		if done[action] != n {
			t.Errorf("audit %s: %d, want %d (%v)", action, done[action], n, done)
		}
	}
	// The lycée's reports are still there.
	_, page = headB.Get("/moderation")
	contains(t, page, `Tous <span class="badge">6</span>`)

	// The API: the same list and the same decisions.
	resp, body := headB.Get("/api/v1/moderation?type=discussion")
	var list struct {
		Reports []struct{ Source, ID, Kind, Excerpt, Reporter string }
		Counts  map[string]int
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("API list: %d %v %s", resp.StatusCode, err, body)
	}
	if len(list.Reports) != 1 || list.Reports[0].Kind != "discussion" || list.Reports[0].Excerpt != "Ligne de discussion Bravo" || list.Counts["billet"] != 1 || list.Counts["messagerie"] != 1 {
		t.Fatalf("API list: %s", body)
	}
	if resp, _ := k.As(f.Pupil).Get("/api/v1/moderation"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("API list for a pupil: %d", resp.StatusCode)
	}
	jsonH := http.Header{"Content-Type": {"application/json"}}
	decision := "/api/v1/moderation/discussions/" + list.Reports[0].ID
	if resp, body := headB.Do("POST", decision, strings.NewReader(`{"decision":"oublier"}`), jsonH); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "decision") {
		t.Fatalf("bad decision: %d %s", resp.StatusCode, body)
	}
	if resp, _ := modC.Do("POST", decision, strings.NewReader(`{"decision":"remove"}`), jsonH); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("the collège's moderator decided on the lycée's: %d", resp.StatusCode)
	}
	if resp, body := headB.Do("POST", decision, strings.NewReader(`{"decision":"remove"}`), jsonH); resp.StatusCode != http.StatusOK {
		t.Fatalf("API decision: %d %s", resp.StatusCode, body)
	}
	if entries, _ := k.App.Services.Audit.Search(k.Ctx, audit.Filter{ActorLogin: bHead.Login, Action: "chat.message.removed"}); len(entries) != 1 {
		t.Fatalf("API decision audited %d times", len(entries))
	}

	// The administration and the dashboard show the count to those who moderate.
	_, page = headB.Get("/admin")
	contains(t, page, `href="/moderation">Modération des contenus`, "5 signalements en attente")
	_, page = modC.Get("/")
	contains(t, page, `href="/moderation"`, "Aucun signalement en attente")
	_, page = k.As(f.Teacher).Get("/")
	lacks(t, page, `href="/moderation"`)
}
