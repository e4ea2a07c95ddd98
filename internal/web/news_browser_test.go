package web_test

import (
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/news"
	"github.com/preau-ent/preau/internal/web/browsertest"
)

// TestBrowserNews: a Département creates a thread and publishes to its collèges
// with the editor's toolbar; a parent of the collège reads it from the dashboard; an
// anonymous visitor reads the collège's public site. Every page passes axe-core.
func TestBrowserNews(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	p := k.Partners()
	b := browsertest.New(t)
	partnerBase := browsertest.HostURL(k.URL, "localhost")
	schoolBase := browsertest.HostURL(k.URL, "0690001a.localhost")
	login := func(tab *browsertest.Tab, base, who string) {
		tab.Navigate(base + "/connexion")
		tab.Fill("#f-login", who)
		tab.Fill("#f-password", apptest.Password)
		tab.Submit("form[action='/connexion']")
	}
	check := func(tab *browsertest.Tab, shot string, want ...string) { t.Helper(); checkPage(t, tab, shot, want...) }

	dep := b.NewIncognito()
	login(dep, partnerBase, p.DepartementAdmin.Login)
	dep.Navigate(partnerBase + "/actualites/fils")
	check(dep, "fils", "Nouveau fil")
	dep.Fill("#f-structure", p.Departement.ID)
	dep.Fill("#f-name", "Le Département informe")
	dep.Submit("form[action='/actualites/fils']")
	check(dep, "fil-cree", "Le Département informe")

	dep.Navigate(partnerBase + "/actualites/nouvelle")
	check(dep, "formulaire", "Collèges", f.College.Name)
	dep.Fill("#f-title", "Transport scolaire : nouvelles lignes")
	dep.Fill("#f-body", "Nouveaux horaires")
	// The toolbar (shown by the script) wraps the selection in HTML.
	dep.Eval(`(() => { const a = document.querySelector("#f-body"); a.setSelectionRange(0, 8); return true })()`, nil)
	dep.Click(".toolbar button[data-tag='strong']")
	if v := dep.Value("#f-body"); v != "<strong>Nouveaux</strong> horaires" {
		t.Fatalf("toolbar: %q", v)
	}
	dep.Click("#t-college")
	dep.Click("#f-public")
	dep.Submit("button[value='publish']")
	check(dep, "actualite-publiee", "Transport scolaire : nouvelles lignes", "Nouveaux horaires")
	if !strings.Contains(dep.HTML(), "<strong>Nouveaux</strong>") {
		t.Error("the bold text is not in the page")
	}

	parent := b.NewIncognito()
	login(parent, schoolBase, f.Parent.Login)
	check(parent, "tableau-de-bord-parent", "Actualités", "Transport scolaire : nouvelles lignes")
	parent.ClickAndWait("main a[href^='/actualites/']")
	check(parent, "actualite-parent", "Nouveaux horaires", "Signaler ce contenu")
	parent.Click(".report summary")
	parent.Fill("#f-reason", "Les horaires de la ligne 12 sont faux.")
	parent.Submit("form[action$='/signaler']")
	check(parent, "signalement-envoye", "signalement est transmis")

	// The Département's administrator moderates its content.
	dep.Navigate(partnerBase + "/actualites/moderation")
	check(dep, "moderation", "Les horaires de la ligne 12 sont faux.")
	dep.Submit("form[action^='/moderation/actualites/'] button[value='dismiss']")
	check(dep, "moderation-traitee", "Aucun signalement")
	dep.Navigate(partnerBase + "/actualites/mes-articles")
	check(dep, "mes-articles", "Transport scolaire : nouvelles lignes")

	// The collège's public site, for a visitor.
	s := k.App.Services.News
	if _, err := s.SavePage(k.Ctx, who(f.Head), f.College.ID, "", news.PageInput{Title: "Restauration scolaire", Body: "<h2>Menus</h2><p>Les menus de la semaine.</p>", Published: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveInfo(k.Ctx, who(f.Head), f.College.ID, news.InfoInput{Address: "12 rue des Écoles\n69100 Villeurbanne", Phone: "04 72 00 00 00", Email: "ce.0690001a@ac-lyon.fr",
		Hours: "Lundi au vendredi, 7 h 45 – 17 h 30", Practical: "<p>Le secrétariat est fermé le mercredi après-midi.</p>"}); err != nil {
		t.Fatal(err)
	}
	th, err := s.CreateThread(k.Ctx, who(f.Head), f.College.ID, "Vie du collège")
	if err != nil {
		t.Fatal(err)
	}
	it, err := s.Save(k.Ctx, who(f.Head), "", news.Input{ThreadID: th.ID, Title: "Journée portes ouvertes", Body: "<p>Samedi 14 mars, de 9 h à 12 h.</p>", Public: true, Headline: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Publish(k.Ctx, who(f.Head), it.ID); err != nil {
		t.Fatal(err)
	}
	visitor := b.NewIncognito()
	visitor.Navigate(schoolBase + "/")
	check(visitor, "site-public", f.College.Name, "Journée portes ouvertes", "Restauration scolaire", "04 72 00 00 00", "Se connecter")
	visitor.ClickAndWait("a[href='/site/restauration-scolaire']")
	check(visitor, "site-page", "Les menus de la semaine.")
	visitor.Navigate(schoolBase + "/actualites/" + it.ID)
	check(visitor, "site-actualite", "Samedi 14 mars")
	visitor.Navigate(schoolBase + "/mentions-legales")
	check(visitor, "site-mentions")

	// The collège's head edits the public site.
	head := b.NewIncognito()
	login(head, schoolBase, f.Head.Login)
	head.Navigate(schoolBase + "/site/gestion")
	check(head, "site-gestion", "Restauration scolaire", "Contact et informations pratiques")
	head.ClickAndWait("a[href^='/site/gestion/pages/nouvelle']")
	check(head, "site-nouvelle-page", "Adresse de la page")
	head.Fill("#f-title", "Fournitures scolaires")
	head.Fill("#f-body", "<p>La liste des fournitures par niveau.</p>")
	head.Submit("form[action^='/site/gestion/pages/nouvelle'] button[type='submit']")
	check(head, "site-page-creee", "Fournitures scolaires")
}
