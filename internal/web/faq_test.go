package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
)

func TestFAQPage(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	head := k.As(f.Head)
	_, page := head.Get("/faq")
	contains(t, page, "Foire aux questions", "Collège Jean Moulin", "Ajouter une rubrique", "Créez d&#39;abord une rubrique.")
	resp, page := head.Post("/faq/categories", url.Values{"structure": {f.College.ID}, "name": {""}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("empty category: %d", resp.StatusCode)
	}
	contains(t, page, "Donnez un nom à la rubrique")
	if resp, _ := head.Post("/faq/categories", url.Values{"structure": {f.College.ID}, "name": {"Cantine"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("category: %d", resp.StatusCode)
	}
	_, page = head.Get("/faq")
	cat := regexp.MustCompile(`<option value="([a-z0-9]+)">Cantine</option>`).FindStringSubmatch(page)
	if cat == nil {
		t.Fatal("no category to choose")
	}
	head.Post("/faq/questions", url.Values{"structure": {f.College.ID}, "category": {cat[1]}, "question": {"Prix du repas ?"}, "answer": {"<p>3,50 €</p><script>alert(1)</script>"}, "public": {"on"}})
	head.Post("/faq/questions", url.Values{"structure": {f.College.ID}, "category": {cat[1]}, "question": {"Menu des allergies ?"}, "answer": {"<p>Voir l'infirmière</p>"}})

	_, page = k.As(f.Parent).Get("/faq")
	contains(t, page, "Prix du repas ?", "3,50 €", "Menu des allergies ?")
	if strings.Contains(page, "alert(1)") || strings.Contains(page, "Ajouter une rubrique") {
		t.Fatal("script in the page, or a parent sees the editor's forms")
	}
	anon := k.Client()
	anon.Host = "0690001a.localhost"
	resp, page = anon.Get("/faq")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("anonymous on the portal: %d", resp.StatusCode)
	}
	contains(t, page, "Prix du repas ?")
	if strings.Contains(page, "Menu des allergies") {
		t.Fatal("an internal question is public")
	}
	if resp, _ := k.As(f.Teacher).Post("/faq/categories", url.Values{"structure": {f.College.ID}, "name": {"x"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a teacher added a category: %d", resp.StatusCode)
	}
}
