package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/blog"
	"github.com/preau-ent/preau/internal/rights"
	"github.com/preau-ent/preau/internal/web/browsertest"
)

// TestBrowserModeration: a pupil reports a forum message and a blog comment from
// their pages; the head of school finds both on the one moderation page (from the
// dashboard), removes one, and the other stays; axe-core on each page.
func TestBrowserModeration(t *testing.T) {
	k := apptest.New(t)
	f, svc := k.School, k.App.Services
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	class := rights.Grantee{Kind: "group", ID: f.Class.ID}
	b0, err := svc.Blog.Create(k.Ctx, who(f.Teacher), blog.Input{StructureID: f.College.ID, Title: "Le blog de la 4e A"})
	must(err)
	must(svc.Blog.Share(k.Ctx, who(f.Teacher), b0.ID, class, rights.Read))
	post, err := svc.Blog.CreatePost(k.Ctx, who(f.Teacher), b0.ID, blog.PostInput{Title: "Sortie au musée", Body: "<p>Nous avons visité le musée des Confluences.</p>"})
	must(err)
	_, err = svc.Blog.AddComment(k.Ctx, who(f.Classmate), post.ID, "Ce musée est nul, comme ceux qui l'ont aimé.")
	must(err)
	cat, err := svc.Forum.CreateCategory(k.Ctx, who(f.Teacher), f.College.ID, "Entraide en mathématiques", "")
	must(err)
	must(svc.Forum.Share(k.Ctx, who(f.Teacher), cat.ID, class, rights.Read))
	subj, err := svc.Forum.OpenSubject(k.Ctx, who(f.Teacher), cat.ID, "Exercice 4 page 112", "<p>Posez vos questions ici.</p>")
	must(err)
	msg, err := svc.Forum.Reply(k.Ctx, who(f.Classmate), subj.ID, "<p>Les réponses sont sur un site de triche, je vous donne le lien.</p>")
	must(err)

	// A parent reports a mail too: the queue shows its subject only.
	resp, _ := k.As(f.Teacher).Post("/messagerie/brouillons", url.Values{"action": {"send"}, "to": {"p:" + f.Parent.ID}, "subject": {"Sortie de jeudi"}, "body": {"Texte privé du courrier."}})
	must(svc.Messaging.Report(k.Ctx, who(f.Parent), strings.TrimPrefix(resp.Header.Get("Location"), "/messagerie/messages/"), "Ton déplacé."))

	b := browsertest.New(t)
	base := browsertest.HostURL(k.URL, "0690001a.localhost")
	pupil := b.NewIncognito().WithT(t)
	blogLogin(pupil, base, f.Pupil)
	pupil.Navigate(base + "/blogs/billets/" + post.ID)
	pupil.Click(".blog-comments details.report summary")
	pupil.Fill(".blog-comments details.report textarea", "Commentaire blessant.")
	pupil.Submit(".blog-comments details.report button")
	waitText(t, pupil, ".flash", "signal")
	pupil.Navigate(base + "/forums/sujets/" + subj.ID)
	reported := "#m-" + msg.ID + " details.report"
	pupil.Click(reported + " summary")
	pupil.Fill(reported+" textarea", "Lien vers des réponses toutes faites.")
	pupil.Submit(reported + " button")
	waitText(t, pupil, ".flash", "signal")

	head := b.NewIncognito().WithT(t)
	blogLogin(head, base, f.Head)
	waitText(t, head, ".dashboard-moderation", "3 signalements en attente")
	head.CheckA11y(t)
	head.Screenshot("tableau-de-bord")
	head.ClickAndWait(".dashboard-moderation a[href='/moderation']")
	txt := head.Text("main")
	for _, want := range []string{"Commentaire", "Message du forum", "Ce musée est nul", "Les réponses sont sur un site de triche", "Commentaire blessant.",
		"Lien vers des réponses toutes faites.", "Léa MARTIN", "Tom PETIT", "Collège Jean Moulin", "Sortie de jeudi", "Ton déplacé.", "Envoyé par Paul DURAND", "Lire le message signalé"} {
		if !strings.Contains(txt, want) {
			t.Errorf("the queue lacks %q:\n%s", want, txt)
		}
	}
	if strings.Contains(txt, "Texte privé du courrier.") {
		t.Error("the queue shows a reported mail's text")
	}
	head.CheckA11y(t)
	head.Screenshot("file")
	head.Fill("form[action^='/moderation/forums/'] input[name='note']", "Lien de triche retiré.")
	head.Submit("form[action^='/moderation/forums/'] button.danger")
	waitText(t, head, ".flash", "Le contenu est retiré.")
	if n := head.Count("form[action^='/moderation/']"); n != 2 {
		t.Fatalf("%d reports left, want 2", n)
	}
	head.CheckA11y(t)
	head.Screenshot("apres-retrait")
	head.ClickAndWait("nav.subnav a[href='/moderation?type=commentaire']")
	waitText(t, head, "main", "Ce musée est nul")
	head.Navigate(base + "/admin")
	waitText(t, head, ".admin-nav", "Modération des contenus")
	head.CheckA11y(t)
	head.Screenshot("administration")

	pupil.Navigate(base + "/forums/sujets/" + subj.ID)
	if strings.Contains(pupil.Text("main"), "site de triche") {
		t.Fatal("the removed message is still shown")
	}
}
