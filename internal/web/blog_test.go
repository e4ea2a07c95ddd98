package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/directory"
)

// classProfileGroup finds the group of a profile in the fixture's class.
func classProfileGroup(t *testing.T, k *apptest.Kit, profile string) string {
	t.Helper()
	gs, err := k.App.Services.Directory.Groups(k.Ctx, k.School.College.ID, directory.GroupClassProfile)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		if g.ClassID == k.School.Class.ID && g.Profile == profile {
			return g.ID
		}
	}
	t.Fatalf("no %s group", profile)
	return ""
}

// multipartPost sends a form with an optional file as a same-origin browser would.
var blogPath = regexp.MustCompile(`^/blogs/([a-z0-9]{20,})$`)

func TestBlogPages(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	teacher, parent, outsider := k.As(f.Teacher), k.As(f.Parent), k.As(f.OtherPupil)

	// The teacher creates a class blog, moderated, read by the class's parents.
	_, body := teacher.Get("/blogs/nouveau")
	contains(t, body, "Nouveau blog", "Responsables — 4e A")
	resp, body := teacher.Post("/blogs/nouveau", url.Values{"structure": {f.College.ID}, "title": {""}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("blog without a title: %d", resp.StatusCode)
	}
	contains(t, body, "Donnez un titre au blog")
	resp, _ = teacher.Post("/blogs/nouveau", url.Values{"structure": {f.College.ID}, "title": {"Blog de la 4e A"}, "moderated": {"on"},
		"share-" + classProfileGroup(t, k, directory.Responsable): {"read"}, "share-" + classProfileGroup(t, k, directory.Eleve): {"contribute"}})
	m := blogPath.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("create: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	blogID := m[1]

	// A post with an image and hostile HTML.
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1}, 300)...)
	resp, body = multipartPost(t, teacher, "/blogs/ecrire/"+blogID, url.Values{"title": {"Sortie au musée"},
		"body": {`<p>Belle journée</p><script>alert("x")</script><img src=x onerror="alert(1)"><a href="javascript:alert(2)">lien</a>`}, "alt": {"La classe devant le musée"}},
		"photo.png", png)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("post: %d\n%s", resp.StatusCode, body)
	}
	postPath := resp.Header.Get("Location")
	_, page := parent.Get(postPath)
	contains(t, page, "Sortie au musée", "Belle journée", `alt="La classe devant le musée"`, "Signaler ce billet", "Votre commentaire")
	for _, bad := range []string{`alert("x")`, "onerror", "javascript:alert"} {
		if strings.Contains(page, bad) {
			t.Fatalf("the page keeps %q", bad)
		}
	}
	img := regexp.MustCompile(`src="(/blogs/fichiers/[a-z0-9]+)"`).FindStringSubmatch(page)
	if img == nil {
		t.Fatal("no image in the post")
	}
	resp, data := parent.Get(img[1])
	if resp.StatusCode != 200 || data != string(png) || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("image: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, _ := outsider.Get(img[1]); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("an outsider got the image: %d", resp.StatusCode)
	}
	if resp, _ := outsider.Get(postPath); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("an outsider read the post: %d", resp.StatusCode)
	}
	if resp, _ := k.Client().Get(postPath); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("anonymous on a private blog: %d", resp.StatusCode)
	}
	if resp, _ := parent.Get("/blogs/ecrire/" + blogID); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a reader opened the editor: %d", resp.StatusCode)
	}

	// The parent comments (escaped, waiting); the teacher approves.
	resp, _ = parent.Post(postPath+"/commentaires", url.Values{"comment": {`Merci ! <script>alert(3)</script>`}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("comment: %d", resp.StatusCode)
	}
	_, page = parent.Get(postPath)
	contains(t, page, "En attente de validation", "Merci ! &lt;script&gt;alert(3)&lt;/script&gt;")
	_, page = k.As(f.Pupil).Get(postPath)
	if strings.Contains(page, "Merci !") {
		t.Fatal("a pending comment is shown to other readers")
	}
	_, page = teacher.Get(postPath)
	cid := regexp.MustCompile(`/blogs/commentaires/([a-z0-9]+)/approuver`).FindStringSubmatch(page)
	if cid == nil {
		t.Fatal("no approve button for the owner")
	}
	resp, _ = teacher.Post("/blogs/commentaires/"+cid[1]+"/approuver", url.Values{"retour": {postPath}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != postPath {
		t.Fatalf("approve: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = k.As(f.Pupil).Get(postPath)
	contains(t, page, "Merci !")

	// Report the comment; the head moderates it away.
	resp, _ = k.As(f.Classmate).Post("/blogs/commentaires/"+cid[1]+"/signaler", url.Values{"reason": {"Hors sujet"}, "retour": {postPath}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("report: %d", resp.StatusCode)
	}
	if resp, _ := teacher.Get("/moderation"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a teacher opened the moderation queue: %d", resp.StatusCode)
	}
	head := k.As(f.Head)
	_, page = head.Get("/moderation")
	contains(t, page, "Hors sujet", "Commentaire", "Merci !")
	rid := regexp.MustCompile(`action="/moderation/blogs/([a-z0-9]+)"`).FindStringSubmatch(page)
	if rid == nil {
		t.Fatal("no report in the queue")
	}
	head.Post("/moderation/blogs/"+rid[1], url.Values{"decision": {"remove"}, "note": {"hors sujet"}})
	_, page = parent.Get(postPath)
	if strings.Contains(page, "Merci !") {
		t.Fatal("the removed comment is still shown")
	}
	_, page = head.Get("/moderation")
	contains(t, page, "Aucun signalement en attente")

	// The list, and the API.
	_, page = parent.Get("/blogs")
	contains(t, page, "Blog de la 4e A", "Lecture")
	resp, body = parent.Get("/api/v1/blogs")
	var list struct {
		Blogs []struct{ ID, Level string }
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || resp.StatusCode != 200 || len(list.Blogs) != 1 || list.Blogs[0].Level != "read" {
		t.Fatalf("API list: %d %s", resp.StatusCode, body)
	}
	resp, body = parent.Do("POST", "/api/v1/blogs/"+blogID+"/billets", strings.NewReader(`{"title":"x","body":"<p>y</p>"}`), http.Header{"Content-Type": {"application/json"}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `"forbidden"`) {
		t.Fatalf("API post by a reader: %d %s", resp.StatusCode, body)
	}
	resp, body = teacher.Do("POST", "/api/v1/blogs/"+blogID+"/billets", strings.NewReader(`{"title":"","body":""}`), http.Header{"Content-Type": {"application/json"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"invalid"`) {
		t.Fatalf("API invalid post: %d %s", resp.StatusCode, body)
	}
	resp, body = teacher.Do("POST", "/api/v1/blogs/"+blogID+"/billets", strings.NewReader(`{"title":"Par l'API","body":"<p>ok</p><script>x</script>"}`), http.Header{"Content-Type": {"application/json"}})
	if resp.StatusCode != http.StatusCreated || strings.Contains(body, "<script>") || strings.Contains(body, `\u003cscript`) {
		t.Fatalf("API post: %d %s", resp.StatusCode, body)
	}
	resp, body = outsider.Get("/api/v1/blogs/" + blogID)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `"not_found"`) {
		t.Fatalf("API outsider: %d %s", resp.StatusCode, body)
	}

	// Public: readable without signing in.
	resp, _ = teacher.Post("/blogs/reglages/"+blogID, url.Values{"title": {"Blog de la 4e A"}, "public": {"on"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("settings: %d", resp.StatusCode)
	}
	resp, page = k.Client().Get(postPath)
	if resp.StatusCode != 200 {
		t.Fatalf("anonymous on a public blog: %d", resp.StatusCode)
	}
	contains(t, page, "Sortie au musée", "Connectez-vous pour commenter")
	portalClient := k.Client()
	portalClient.Host = "0690001a.localhost"
	_, page = portalClient.Get("/blogs/publics")
	contains(t, page, "Blogs publics de l&#39;établissement", "Blog de la 4e A")
	// The shares were kept by the settings form (not sent: unchanged).
	_, page = parent.Get("/blogs")
	contains(t, page, "Blog de la 4e A")
}

// TestBlogPersonShares: the settings page shares a blog with persons found in the
// directory, in two steps without script (search, then tick), lists the shares and
// removes one.
func TestBlogPersonShares(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	teacher, pupil := k.As(f.Teacher), k.As(f.Pupil)
	resp, _ := teacher.Post("/blogs/nouveau", url.Values{"structure": {f.College.ID}, "title": {"Club théâtre"}})
	m := blogPath.FindStringSubmatch(resp.Header.Get("Location"))
	if m == nil {
		t.Fatalf("create: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	settings := "/blogs/reglages/" + m[1]
	if resp, _ := pupil.Get("/blogs/" + m[1]); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the pupil reads the blog before any share: %d", resp.StatusCode)
	}
	_, body := teacher.Get(settings)
	contains(t, body, "Partager avec des personnes", "Le blog n&#39;est encore partagé avec personne.", `name="personne"`)

	// Step 1: search (a GET form); a pupil of another school is not found.
	resp, body = teacher.Get(settings + "?personne=mart")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("search: %d", resp.StatusCode)
	}
	contains(t, body, "Personnes trouvées", `value="`+f.Pupil.ID+`"`, "Léa MARTIN", `value="mart"`)
	_, body = teacher.Get(settings + "?personne=roux")
	contains(t, body, "Aucune personne trouvée")
	if strings.Contains(body, f.OtherPupil.ID) {
		t.Error("a pupil of another school is offered")
	}
	// Step 2: tick and share; nothing ticked is an error that keeps the list.
	resp, body = teacher.Post(settings+"/partages", url.Values{"personne": {"mart"}, "add_level": {"contribute"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("nothing ticked: %d", resp.StatusCode)
	}
	contains(t, body, "Cochez au moins une personne.", `href="#f-add_person"`, "Léa MARTIN", `<option value="contribute" selected>`)
	// A person outside the blog's school cannot be shared with, even by a forged form.
	resp, body = teacher.Post(settings+"/partages", url.Values{"personne": {"mart"}, "add_person": {f.OtherPupil.ID}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("share outside the school: %d", resp.StatusCode)
	}
	contains(t, body, "de son établissement")
	resp, _ = teacher.Post(settings+"/partages", url.Values{"personne": {"mart"}, "add_person": {f.Pupil.ID}, "add_level": {"contribute"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != settings+"#partages" {
		t.Fatalf("add: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body = teacher.Get(settings)
	contains(t, body, "Léa MARTIN <span class=\"muted\">(personne)</span>", "Contribution", `value="person:`+f.Pupil.ID+`"`)
	if resp, body := pupil.Get("/blogs/ecrire/" + m[1]); resp.StatusCode != http.StatusOK {
		t.Fatalf("the contributor cannot write: %d %s", resp.StatusCode, body)
	}
	// Only a manager shares.
	if resp, _ := pupil.Post(settings+"/partages", url.Values{"add_person": {f.Classmate.ID}}); resp.StatusCode == http.StatusSeeOther {
		t.Fatal("a contributor shared the blog")
	}

	// Removing the share takes the access away.
	resp, _ = teacher.Post(settings+"/partages/retirer", url.Values{"grantee": {"person:" + f.Pupil.ID}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", resp.StatusCode)
	}
	if resp, _ := pupil.Get("/blogs/" + m[1]); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the pupil reads the blog after the share was removed: %d", resp.StatusCode)
	}
	// Only a manager removes shares.
	if resp, _ := pupil.Post(settings+"/partages/retirer", url.Values{"grantee": {"person:" + f.Teacher.ID}}); resp.StatusCode == http.StatusSeeOther {
		t.Fatal("a stranger removed a share")
	}
}
