package web_test

import (
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/web/browsertest"
)

// TestBrowserForumAndFAQ: the head writes the FAQ, a teacher opens a forum subject
// for the class, a pupil replies, the teacher locks and pins it; axe-core on each page.
func TestBrowserForumAndFAQ(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	b := browsertest.New(t)
	base := browsertest.HostURL(k.URL, "0690001a.localhost")

	head := b.NewIncognito().WithT(t)
	blogLogin(head, base, f.Head)
	head.Navigate(base + "/faq")
	head.Fill("#f-name", "Cantine")
	head.Submit("form[action='/faq/categories']")
	head.Fill("#f-question", "Combien coûte un repas ?")
	head.Fill("#f-answer", "<p>3,50 € le repas.</p>")
	head.Click("#f-public")
	head.Submit("form[action='/faq/questions']")
	head.Click("details.faq-entry summary")
	head.CheckA11y(t)
	head.Screenshot("faq")

	teacher := b.NewIncognito().WithT(t)
	blogLogin(teacher, base, f.Teacher)
	teacher.Navigate(base + "/forums")
	teacher.Fill("#f-name", "Entraide en mathématiques")
	teacher.Submit("form[action='/forums']")
	teacher.Fill("select[name='share-"+f.Class.ID+"']", "read")
	teacher.Submit("form[action$='/partage']")
	teacher.Fill("#f-title", "Exercice 4 page 112")
	teacher.Fill("#f-body", "<p>Posez vos questions ici.</p>")
	teacher.Submit("form[action$='/sujets']")
	subject := teacher.Location()

	pupil := b.NewIncognito().WithT(t)
	blogLogin(pupil, base, f.Pupil)
	pupil.Navigate(subject)
	pupil.Fill("#f-body", "Comment factoriser la deuxième expression ?")
	pupil.Submit("form[action$='/reponses']")
	pupil.CheckA11y(t)

	teacher.Navigate(subject)
	teacher.Click("#f-locked")
	teacher.Click("#f-pinned")
	teacher.Submit("form[action$='/etat']")
	if txt := teacher.Text("h1 + p"); !strings.Contains(txt, "Verrouillé") || !strings.Contains(txt, "Épinglé") {
		t.Errorf("badges: %q", txt)
	}
	teacher.CheckA11y(t)
	teacher.Screenshot("forum-sujet")
	teacher.ClickAndWait("p.back a")
	teacher.CheckA11y(t)
	teacher.Screenshot("forum-categorie")
}
