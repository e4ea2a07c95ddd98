package web_test

import (
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/blog"
	"github.com/preau-ent/preau/internal/faq"
	"github.com/preau-ent/preau/internal/web/browsertest"
)

// TestBrowserSiteFAQ: an anonymous visitor of the collège's portal opens its public
// FAQ and its public blogs from the public site; every page passes axe-core.
func TestBrowserSiteFAQ(t *testing.T) {
	k := apptest.New(t)
	f, sv := k.School, k.App.Services
	cat, err := sv.FAQ.AddCategory(k.Ctx, who(f.Head), f.College.ID, "Cantine et restauration", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []faq.EntryInput{
		{Question: "Combien coûte un repas ?", Answer: "<p>Le repas coûte <strong>3,50 €</strong> ; le tarif social commence à 1 €.</p>", Public: true},
		{Question: "Comment payer la cantine ?", Answer: "<ul><li>par prélèvement,</li><li>en ligne,</li><li>par chèque au secrétariat.</li></ul>", Public: true},
		{Question: "Qui gère les régimes alimentaires ?", Answer: "<p>L'infirmière, avec la famille.</p>"},
	} {
		e.CategoryID = cat.ID
		if _, err := sv.FAQ.SaveEntry(k.Ctx, who(f.Head), "", e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sv.Blog.Create(k.Ctx, who(f.Teacher), blog.Input{StructureID: f.College.ID, Title: "Journal du collège", Description: "Les reportages des élèves de 4e.", Public: true}); err != nil {
		t.Fatal(err)
	}

	b := browsertest.New(t)
	base := browsertest.HostURL(k.URL, "0690001a.localhost")
	check := func(tab *browsertest.Tab, shot string, want ...string) { t.Helper(); checkPage(t, tab, shot, want...) }
	visitor := b.NewIncognito()
	visitor.Navigate(base + "/")
	check(visitor, "site-accueil", f.College.Name, "Foire aux questions", "Journal du collège", "Se connecter")
	visitor.ClickAndWait(".site-nav a[href='/faq']")
	check(visitor, "site-faq", "Foire aux questions", "Cantine et restauration", "Combien coûte un repas ?", "Comment payer la cantine ?")
	if strings.Contains(visitor.Text("main"), "régimes alimentaires") {
		t.Error("an internal question is on the public site")
	}
	visitor.Click("details.faq-entry summary")
	visitor.WaitVisible("details.faq-entry[open] .rich")
	check(visitor, "site-faq-reponse", "3,50 €")
	visitor.ClickAndWait(".site-nav a[href='/blogs/publics']")
	check(visitor, "site-blogs", "Journal du collège", "Les reportages des élèves de 4e.")
	visitor.ClickAndWait("main a[href^='/blogs/']")
	check(visitor, "site-blog", "Journal du collège")

	// The head edits the FAQ in place and shares its management.
	head := b.NewIncognito()
	head.Navigate(base + "/connexion")
	head.Fill("#f-login", f.Head.Login)
	head.Fill("#f-password", apptest.Password)
	head.Submit("form[action='/connexion']")
	head.Navigate(base + "/faq")
	head.Eval(`(() => { document.querySelectorAll("details.faq-entry").forEach(d => d.open = true); return true })()`, nil)
	check(head, "faq-gestion", "Partager la gestion de la FAQ", "Qui gère les régimes alimentaires ?", "Interne", "Renommer")
	head.ClickAndWait("details.faq-entry .faq-tools a")
	check(head, "faq-modifier", "Modifier la question")
	head.Fill("#f-question", "Combien coûte un repas au collège ?")
	head.Submit("form[action$='/modifier'] button[type='submit']")
	check(head, "faq-modifiee", "Combien coûte un repas au collège ?")
	head.Navigate(base + "/faq/partage?structure=" + f.College.ID)
	check(head, "faq-partage", "Ils gèrent la FAQ")
	head.Fill("#f-login", f.Teacher.Login)
	head.Submit("form[action='/faq/partage'] button.primary")
	check(head, "faq-partagee", "Paul DURAND")
}

// checkPage checks that a page loaded, shows what is wanted in its main part and
// passes axe-core, and takes its screenshot.
func checkPage(t *testing.T, tab *browsertest.Tab, shot string, want ...string) {
	t.Helper()
	if tab.Status() != 200 {
		t.Fatalf("%s: status %d at %s", shot, tab.Status(), tab.Location())
	}
	text := tab.Text("main")
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", shot, w, text)
		}
	}
	tab.CheckA11y(t)
	tab.Screenshot(shot)
}
