package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/news"
	"github.com/preau-ent/preau/internal/news/newstest"
	"github.com/preau-ent/preau/internal/platform/actor"
)

func who(p directory.Person) actor.Actor {
	return actor.Actor{PersonID: p.ID, Login: p.Login, Profile: p.Profile}
}

var itemLink = regexp.MustCompile(`/actualites/([0-9a-zA-Z_-]{10,})`)

// multipartPost sends a multipart form (with an optional file) as a same-origin browser would.
func multipartPost(t *testing.T, c *apptest.Client, path string, fields url.Values, file string, content []byte) (*http.Response, string) {
	t.Helper()
	buf, h := multipartForm(t, fields, "image", file, content)
	return c.Do("POST", path, buf, h)
}

// collegeThread starts the application with a news thread of the collège, managed by its head.
func collegeThread(t *testing.T) (*apptest.Kit, news.Thread) {
	k := apptest.New(t)
	th, err := k.App.Services.News.CreateThread(k.Ctx, who(k.School.Head), k.School.College.ID, "Vie du collège")
	if err != nil {
		t.Fatal(err)
	}
	return k, th
}

// A Département publishes through the form to its collèges: the collège's parent
// sees it on the dashboard and in the news, the lycée's pupil does not.
func TestNewsPartnerToColleges(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	p := k.Partners()
	if _, err := k.App.Services.News.CreateThread(k.Ctx, who(p.DepartementAdmin), p.Departement.ID, "Le Département informe"); err != nil {
		t.Fatal(err)
	}
	dep := k.As(p.DepartementAdmin)
	resp, body := dep.Get("/actualites/nouvelle")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Collèges") || !strings.Contains(body, f.College.Name) || strings.Contains(body, f.Lycee.Name) {
		t.Fatalf("form: %d\n%s", resp.StatusCode, body)
	}
	thread := regexp.MustCompile(`name="thread" value="([^"]+)"`).FindStringSubmatch(body)[1]
	// An error keeps what was typed.
	resp, body = multipartPost(t, dep, "/actualites/nouvelle", url.Values{"thread": {thread}, "title": {""}, "body": {"<p>Horaires des cars</p>"}, "types": {"college"}, "action": {"publish"}}, "", nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Horaires des cars") || !regexp.MustCompile(`id="t-college" name="types" value="college" checked`).MatchString(body) {
		t.Fatalf("form error: %d\n%s", resp.StatusCode, body)
	}
	resp, body = multipartPost(t, dep, "/actualites/nouvelle", url.Values{"thread": {thread}, "title": {"Transport scolaire des collégiens"}, "body": {"<p>Horaires des cars</p>"},
		"types": {"college"}, "action": {"publish"}, "image_alt": {"Plan des lignes"}}, "plan.png", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("publish: %d\n%s", resp.StatusCode, body)
	}
	parent := k.As(f.Parent)
	_, dash := parent.Get("/")
	if !strings.Contains(dash, "Transport scolaire des collégiens") {
		t.Fatalf("parent's dashboard lacks the Département's news:\n%s", dash)
	}
	_, list := parent.Get("/actualites")
	m := itemLink.FindStringSubmatch(list)
	if m == nil || !strings.Contains(list, "Transport scolaire des collégiens") {
		t.Fatalf("parent's news:\n%s", list)
	}
	_, item := parent.Get(resp.Header.Get("Location"))
	img := regexp.MustCompile(`<img src="(/contenus/fichiers/[^"]+)" alt="Plan des lignes">`).FindStringSubmatch(item)
	if img == nil {
		t.Fatalf("item page lacks its image:\n%s", item)
	}
	if r, _ := parent.Get(img[1]); r.StatusCode != http.StatusOK || r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("image for the parent: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	lyc := k.As(f.OtherPupil)
	if _, body := lyc.Get("/actualites"); strings.Contains(body, "Transport scolaire des collégiens") {
		t.Fatal("the lycée's pupil sees the news for collèges")
	}
	if r, _ := lyc.Get(img[1]); r.StatusCode != http.StatusNotFound {
		t.Fatalf("image for the lycée's pupil: %d", r.StatusCode)
	}
	if r, _ := k.Client().Get(resp.Header.Get("Location")); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("a visitor reading a news item that is not public: %d", r.StatusCode)
	}
}

// Hostile HTML written through the form never produces script in the item page,
// the dashboard, the public site or the feed.
func TestNewsHostileHTML(t *testing.T) {
	k, th := collegeThread(t)
	f := k.School
	head := k.As(f.Head)
	for i, h := range newstest.Hostile {
		resp, body := head.Post("/actualites/nouvelle", url.Values{"thread": {th.ID}, "title": {"Essai " + h}, "body": {"<p>Texte</p>" + h}, "public": {"on"}, "action": {"publish"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%d: %d\n%s", i, resp.StatusCode, body)
		}
		_, page := k.As(f.Pupil).Get(resp.Header.Get("Location"))
		if bad := newstest.UnsafePage(page); bad != "" {
			t.Errorf("item page with %s: %s", h, bad)
		}
	}
	if _, err := k.App.Services.News.SavePage(k.Ctx, who(f.Head), f.College.ID, "", news.PageInput{Title: "Piège", Body: strings.Join(newstest.Hostile, ""), Published: true}); err != nil {
		t.Fatal(err)
	}
	pupil := k.As(f.Pupil)
	visitor := k.Client()
	visitor.Host = "0690001a.localhost"
	for _, c := range []struct {
		c    *apptest.Client
		path string
	}{{pupil, "/"}, {pupil, "/actualites"}, {visitor, "/"}, {visitor, "/site/piege"}, {visitor, "/actualites.atom"}} {
		resp, body := c.c.Get(c.path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", c.path, resp.StatusCode)
		}
		if strings.HasSuffix(c.path, ".atom") {
			// The feed carries the content as escaped HTML: what a reader shows is the sanitized HTML.
			feed, err := gofeed.NewParser().ParseString(body)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range feed.Items {
				if bad := newstest.Unsafe(it.Content); bad != "" {
					t.Errorf("feed entry %q: %s", it.Title, bad)
				}
			}
			continue
		}
		if bad := newstest.UnsafePage(body); bad != "" {
			t.Errorf("%s: %s", c.path, bad)
		}
	}
}

// An anonymous visitor reads a school's public site: home, pages, public news,
// contact, legal notice, and the Atom feed; caches get validators.
func TestPublicSite(t *testing.T) {
	k, th := collegeThread(t)
	f, s := k.School, k.App.Services.News
	pub := func(title string, public bool) string {
		it, err := s.Save(k.Ctx, who(f.Head), "", news.Input{ThreadID: th.ID, Title: title, Body: "<p>" + title + " : détails</p>", Public: public})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Publish(k.Ctx, who(f.Head), it.ID); err != nil {
			t.Fatal(err)
		}
		return it.ID
	}
	openID := pub("Portes ouvertes samedi", true)
	pub("Conseil de classe (interne)", false)
	if _, err := s.SavePage(k.Ctx, who(f.Head), f.College.ID, "", news.PageInput{Title: "Transport scolaire", Body: "<p>Ligne 12</p>", Published: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveInfo(k.Ctx, who(f.Head), f.College.ID, news.InfoInput{Address: "1 rue de l'École\n69100 Villeurbanne", Phone: "04 00 00 00 00", Email: "ce.0690001a@ac-lyon.fr", Hours: "8 h – 17 h"}); err != nil {
		t.Fatal(err)
	}

	v := k.Client()
	v.Host = "0690001a.localhost"
	resp, home := v.Get("/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("public home: %d", resp.StatusCode)
	}
	for _, want := range []string{f.College.Name, "Portes ouvertes samedi", `href="/site/transport-scolaire"`, "04 00 00 00 00", "ce.0690001a@ac-lyon.fr", `href="/connexion"`, `href="/mentions-legales"`, `href="/actualites.atom"`} {
		if !strings.Contains(home, want) {
			t.Errorf("public home lacks %q", want)
		}
	}
	if strings.Contains(home, "Conseil de classe") {
		t.Error("public home shows a news item that is not public")
	}
	etag := resp.Header.Get("ETag")
	if etag == "" || resp.Header.Get("Last-Modified") == "" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age") {
		t.Fatalf("validators: %v", resp.Header)
	}
	if r, _ := v.Do("GET", "/", nil, http.Header{"If-None-Match": {etag}}); r.StatusCode != http.StatusNotModified {
		t.Fatalf("conditional request: %d", r.StatusCode)
	}
	// A change shows at once (the version moves), with a new validator.
	pub("Remise des prix", true)
	resp, home = v.Get("/")
	if !strings.Contains(home, "Remise des prix") || resp.Header.Get("ETag") == etag {
		t.Fatal("public home did not change after a publication")
	}
	r, body := v.Get("/site/transport-scolaire")
	if r.StatusCode != http.StatusOK || !strings.Contains(body, "Ligne 12") || r.Header.Get("Cache-Control") != "public, max-age=60" {
		t.Fatalf("public page: %d %v", r.StatusCode, r.Header)
	}
	if r, _ := v.Do("GET", "/site/transport-scolaire", nil, http.Header{"If-Modified-Since": {r.Header.Get("Last-Modified")}}); r.StatusCode != http.StatusNotModified {
		t.Fatalf("conditional page request: %d", r.StatusCode)
	}
	if r, body := v.Get("/actualites/" + openID); r.StatusCode != http.StatusOK || !strings.Contains(body, "Portes ouvertes samedi : détails") || strings.Contains(body, "Signaler") {
		t.Fatalf("public item: %d\n%s", r.StatusCode, body)
	}
	if r, _ := v.Get("/connexion"); r.StatusCode != http.StatusOK {
		t.Fatalf("login page: %d", r.StatusCode)
	}
	// The default portal has no public site: visitors go to the login page.
	if r, _ := k.Client().Get("/"); r.Header.Get("Location") != "/connexion" {
		t.Fatalf("default portal: %d %s", r.StatusCode, r.Header.Get("Location"))
	}

	// Atom 1.0, read by an independent parser.
	resp, body = v.Get("/actualites.atom")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/atom+xml") {
		t.Fatalf("feed: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	feed, err := (&atom.Parser{}).Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if feed.ID == "" || feed.Updated == "" || feed.UpdatedParsed == nil || len(feed.Entries) != 2 {
		t.Fatalf("feed: %+v", feed)
	}
	for _, e := range feed.Entries {
		if e.ID == "" || e.UpdatedParsed == nil || e.Title == "" || len(e.Links) == 0 || !strings.HasPrefix(e.Links[0].Href, "http://0690001a.localhost") {
			t.Errorf("entry: %+v", e)
		}
		if e.Title == "Conseil de classe (interne)" {
			t.Error("feed carries a news item that is not public")
		}
	}
	uf, err := gofeed.NewParser().ParseString(body)
	if err != nil || uf.FeedType != "atom" || uf.FeedVersion != "1.0" {
		t.Fatalf("universal parser: %v %s %s", err, uf.FeedType, uf.FeedVersion)
	}
}

// The API: list, read, create with publication rights checked, JSON errors.
func TestNewsAPI(t *testing.T) {
	k, th := collegeThread(t)
	f := k.School
	post := func(c *apptest.Client, path string, v any) (*http.Response, map[string]any) {
		b, _ := json.Marshal(v)
		resp, body := c.Do("POST", path, bytes.NewReader(b), http.Header{"Content-Type": {"application/json"}, "Sec-Fetch-Site": {"same-origin"}})
		var out map[string]any
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatalf("%s: %v\n%s", path, err, body)
		}
		return resp, out
	}
	resp, out := post(k.As(f.Teacher), "/api/v1/actualites", map[string]any{"thread": th.ID, "title": "Essai", "body": "<p>x</p>", "action": "publish"})
	if resp.StatusCode != http.StatusForbidden || out["error"].(map[string]any)["code"] != "forbidden" {
		t.Fatalf("teacher publishing through the API: %d %v", resp.StatusCode, out)
	}
	head := k.As(f.Head)
	resp, out = post(head, "/api/v1/actualites", map[string]any{"thread": th.ID, "title": "", "body": "<p>x</p>"})
	if resp.StatusCode != http.StatusBadRequest || out["error"].(map[string]any)["field"] != "title" {
		t.Fatalf("no title: %d %v", resp.StatusCode, out)
	}
	resp, out = post(head, "/api/v1/actualites", map[string]any{"thread": th.ID, "title": "Menu de la cantine", "body": "<p>Frites<script>x()</script></p>",
		"target": map[string]any{"profiles": []string{"Responsable"}}, "action": "publish"})
	if resp.StatusCode != http.StatusCreated || out["state"] != "published" || strings.Contains(out["body"].(string), "script") {
		t.Fatalf("create: %d %v", resp.StatusCode, out)
	}
	id := out["id"].(string)
	_, body := k.As(f.Parent).Get("/api/v1/actualites")
	var list struct {
		Items []struct{ ID, Title string }
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || len(list.Items) != 1 || list.Items[0].ID != id {
		t.Fatalf("parent's list: %v %s", err, body)
	}
	if r, _ := k.As(f.Pupil).Get("/api/v1/actualites/" + id); r.StatusCode != http.StatusNotFound {
		t.Fatalf("pupil reading the parents' news: %d", r.StatusCode)
	}
	if r, body := k.Client().Get("/api/v1/actualites"); r.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "unauthenticated") {
		t.Fatalf("anonymous: %d %s", r.StatusCode, body)
	}
}
