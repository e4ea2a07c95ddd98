package web_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/web/browsertest"
)

// login signs a tab in on the college's portal.
func blogLogin(tab *browsertest.Tab, base string, p directory.Person) {
	tab.Navigate(base + "/connexion")
	tab.Fill("#f-login", p.Login)
	tab.Fill("#f-password", apptest.Password)
	tab.Submit("form[action='/connexion']")
}

// TestBrowserBlog: a teacher creates the class blog from the dashboard, writes a post
// with an image, a parent comments, the teacher approves the comment; every page is
// checked with axe-core.
func TestBrowserBlog(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	b := browsertest.New(t)
	base := browsertest.HostURL(k.URL, "0690001a.localhost")

	img := image.NewRGBA(image.Rect(0, 0, 320, 180))
	for y := range 180 {
		for x := range 320 {
			img.Set(x, y, color.RGBA{uint8(x * 255 / 320), 0x80, uint8(y * 255 / 180), 0xff})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	photo := filepath.Join(t.TempDir(), "sortie.png")
	if err := os.WriteFile(photo, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	teacher := b.NewIncognito().WithT(t)
	blogLogin(teacher, base, f.Teacher)
	teacher.ClickAndWait("main a[href='/blogs']")
	teacher.CheckA11y(t)
	teacher.ClickAndWait("a[href='/blogs/nouveau']")
	teacher.Fill("#f-title", "Le blog de la 4e A")
	teacher.Fill("#f-description", "Nos sorties et nos projets.")
	teacher.Click("#f-moderated")
	teacher.Fill("select[name='share-"+classProfileGroup(t, k, directory.Responsable)+"']", "read")
	teacher.Fill("select[name='share-"+classProfileGroup(t, k, directory.Eleve)+"']", "contribute")
	teacher.CheckA11y(t)
	teacher.Screenshot("blog-reglages")
	teacher.Submit("form.blog-form button[type='submit']")
	if txt := teacher.Text("h1"); txt != "Le blog de la 4e A" {
		t.Fatalf("after creation: %q", txt)
	}

	// Sharing with a person, in two steps (search, then tick), and taking it away.
	blogURL := teacher.Location()
	teacher.Navigate(strings.Replace(blogURL, "/blogs/", "/blogs/reglages/", 1))
	teacher.Fill("#f-personne", "mart")
	teacher.Submit("#f-personne")
	teacher.Click("input[name='add_person'][value='" + f.Pupil.ID + "']")
	teacher.Fill("#f-add_level", "contribute")
	teacher.CheckA11y(t)
	teacher.Screenshot("blog-partage-recherche")
	teacher.Submit("form.share-persons button[type='submit']")
	if txt := teacher.Text("#partages table"); !strings.Contains(txt, "Léa MARTIN") || !strings.Contains(txt, "Contribution") || !strings.Contains(txt, "Responsables — 4e A") {
		t.Fatalf("current shares: %q", txt)
	}
	teacher.CheckA11y(t)
	teacher.Screenshot("blog-partages")
	teacher.Submit("input[name='grantee'][value='person:" + f.Pupil.ID + "']")
	if txt := teacher.Text("#partages table"); strings.Contains(txt, "Léa MARTIN") {
		t.Fatalf("the share was not removed: %q", txt)
	}
	teacher.Navigate(blogURL)

	teacher.ClickAndWait("main a.button[href^='/blogs/ecrire/']")
	teacher.Fill("#f-title", "Sortie au musée")
	teacher.Fill("#f-body", "<p>Nous avons visité le musée des Confluences.</p><script>alert(1)</script>")
	teacher.Upload("#f-image", photo)
	teacher.Fill("#f-alt", "La classe devant le musée")
	teacher.CheckA11y(t)
	teacher.Screenshot("blog-editeur")
	teacher.Submit("form.blog-editor button[type='submit']")
	if !teacher.Exists(".blog-post img[alt='La classe devant le musée']") {
		t.Fatal("the image is not in the post")
	}
	var loaded bool
	teacher.Eval(`document.querySelector(".blog-post img").naturalWidth === 320`, &loaded)
	if !loaded {
		t.Error("the image does not load")
	}
	if teacher.Exists(".blog-post script") {
		t.Error("a script reached the page")
	}
	postURL := teacher.Location()

	parent := b.NewIncognito().WithT(t)
	blogLogin(parent, base, f.Parent)
	parent.Navigate(postURL)
	parent.Fill("#f-comment", "Merci pour ces photos !")
	parent.Submit("textarea#f-comment")
	if txt := parent.Text(".blog-comments"); !strings.Contains(txt, "Merci pour ces photos") || !strings.Contains(txt, "En attente de validation") {
		t.Errorf("the parent's pending comment: %q", txt)
	}
	parent.CheckA11y(t)
	parent.Screenshot("blog-commentaire-en-attente")

	teacher.Navigate(postURL)
	teacher.Submit(".blog-comments form[action$='/approuver'] button")
	if teacher.Exists(".blog-comments .badge.warn") {
		t.Error("the comment still waits after approval")
	}
	teacher.CheckA11y(t)
	teacher.Screenshot("blog-billet")

	parent.Navigate(postURL)
	if txt := parent.Text(".blog-comments"); strings.Contains(txt, "En attente") || !strings.Contains(txt, "Merci pour ces photos") {
		t.Errorf("after approval: %q", txt)
	}
	parent.Click("details.report summary")
	parent.CheckA11y(t)
}
