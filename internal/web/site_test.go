package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/blog"
	"github.com/preau-ent/preau/internal/faq"
	"github.com/preau-ent/preau/internal/news"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/portal"
)

// faqEntry adds a section with one question to a structure's FAQ.
func faqEntry(t *testing.T, k *apptest.Kit, editor actor.Actor, structureID, section, question string, public bool) faq.Category {
	t.Helper()
	s := k.App.Services.FAQ
	cat, err := s.AddCategory(k.Ctx, editor, structureID, section, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveEntry(k.Ctx, editor, "", faq.EntryInput{CategoryID: cat.ID, Question: question, Answer: "<p>Réponse à « " + question + " »</p>", Public: public}); err != nil {
		t.Fatal(err)
	}
	return cat
}

// The public site links the school's public FAQ and public blogs; a visitor reads
// them in the site's layout, and nothing internal shows.
func TestPublicSiteFAQAndBlogs(t *testing.T) {
	k := apptest.New(t)
	f, sv := k.School, k.App.Services
	v := k.Client()
	v.Host = "0690001a.localhost"
	_, home := v.Get("/")
	lacks(t, home, `href="/faq"`, `href="/blogs/publics"`) // nothing public yet

	cantine := faqEntry(t, k, who(f.Head), f.College.ID, "Cantine", "Combien coûte un repas ?", true)
	if _, err := sv.FAQ.SaveEntry(k.Ctx, who(f.Head), "", faq.EntryInput{CategoryID: cantine.ID, Question: "Qui prévenir en cas de fièvre ?", Answer: "<p>L'infirmière</p>"}); err != nil {
		t.Fatal(err)
	}
	faqEntry(t, k, who(f.Head), f.College.ID, "Conseils de classe", "Quand ont lieu les conseils ?", false)
	faqEntry(t, k, k.Sys, f.Lycee.ID, "Internat", "Le lycée a-t-il un internat ?", true)
	journal, err := sv.Blog.Create(k.Ctx, who(f.Teacher), blog.Input{StructureID: f.College.ID, Title: "Journal du collège", Description: "Les reportages des élèves", Public: true})
	if err != nil {
		t.Fatal(err)
	}
	class, err := sv.Blog.Create(k.Ctx, who(f.Teacher), blog.Input{StructureID: f.College.ID, Title: "Blog de la 4e A"})
	if err != nil {
		t.Fatal(err)
	}

	// The home page changed with them (its cached copy is renewed).
	_, home = v.Get("/")
	contains(t, home, `href="/faq"`, `href="/blogs/publics"`, "Journal du collège", `href="/blogs/`+journal.ID+`"`, "Foire aux questions")
	lacks(t, home, "Blog de la 4e A")

	resp, page := v.Get("/faq")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("public FAQ: %d", resp.StatusCode)
	}
	contains(t, page, "Combien coûte un repas ?", "Réponse à « Combien coûte un repas ? »", "Cantine", "Sur le site", `href="/connexion"`, `href="/site"`, `aria-current="page"`)
	lacks(t, page, "Qui prévenir en cas de fièvre ?", "Conseils de classe", "Quand ont lieu les conseils ?", "Internat", "Ajouter une rubrique")

	resp, page = v.Get("/blogs/publics")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("public blogs: %d", resp.StatusCode)
	}
	contains(t, page, "Journal du collège", "Les reportages des élèves", "Sur le site", `href="/faq"`)
	lacks(t, page, "Blog de la 4e A")
	if resp, _ := v.Get("/blogs/" + journal.ID); resp.StatusCode != http.StatusOK {
		t.Fatalf("a public blog: %d", resp.StatusCode)
	}
	if resp, _ := v.Get("/blogs/" + class.ID); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/connexion") {
		t.Fatalf("a blog that is not public: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A page of the site links them too.
	if _, err := sv.News.SavePage(k.Ctx, who(f.Head), f.College.ID, "", news.PageInput{Title: "Transport scolaire", Body: "<p>Ligne 12</p>", Published: true}); err != nil {
		t.Fatal(err)
	}
	_, page = v.Get("/site/transport-scolaire")
	contains(t, page, `href="/faq"`, `href="/blogs/publics"`)

	// Making the blog private takes it off the site at once.
	if _, err := sv.Blog.Update(k.Ctx, who(f.Teacher), journal.ID, blog.Input{Title: "Journal du collège"}); err != nil {
		t.Fatal(err)
	}
	_, home = v.Get("/")
	lacks(t, home, "Journal du collège", `href="/blogs/publics"`)

	// The lycée's site shows the lycée's questions only.
	ly := k.Client()
	ly.Host = "0690002b.localhost"
	_, page = ly.Get("/faq")
	contains(t, page, "Le lycée a-t-il un internat ?")
	lacks(t, page, "Combien coûte un repas ?")

	// A signed-in parent reads the internal questions on the usual FAQ page.
	_, page = k.As(f.Parent).Get("/faq")
	contains(t, page, "Qui prévenir en cas de fièvre ?", "Quand ont lieu les conseils ?")
}

// A partner's portal has its public FAQ too.
func TestPartnerPublicFAQ(t *testing.T) {
	k := apptest.New(t)
	p := k.Partners()
	if _, err := k.App.Services.Portals.Save(k.Ctx, k.Sys, "", portal.Input{Host: "region.localhost", Kind: portal.KindPartner, StructureID: p.Region.ID, Name: "Région — ENT",
		ColorPrimary: "#5b2a86", ColorAccent: "#a3361b"}); err != nil {
		t.Fatal(err)
	}
	faqEntry(t, k, who(p.RegionAdmin), p.Region.ID, "Transport scolaire", "Comment inscrire mon enfant au car ?", true)
	faqEntry(t, k, who(p.RegionAdmin), p.Region.ID, "Agents", "Quel est le planning des agents ?", false)
	v := k.Client()
	v.Host = "region.localhost"
	_, home := v.Get("/")
	contains(t, home, `href="/faq"`)
	resp, page := v.Get("/faq")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("partner FAQ: %d", resp.StatusCode)
	}
	contains(t, page, "Comment inscrire mon enfant au car ?", "Région — ENT")
	lacks(t, page, "Quel est le planning des agents ?", "Agents")
}
