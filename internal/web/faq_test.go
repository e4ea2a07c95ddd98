package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/faq"
	"github.com/preau-ent/preau/internal/platform/audit"
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

// Editors edit questions and sections in place, reorder and delete them; forms keep
// what was typed on error; the administrator shares the editing.
func TestFAQEditInPlace(t *testing.T) {
	k := apptest.New(t)
	f, svc := k.School, k.App.Services.FAQ
	cat := faqEntry(t, k, who(f.Head), f.College.ID, "Cantine", "Prix du repas ?", true)
	second, err := svc.SaveEntry(k.Ctx, who(f.Head), "", faq.EntryInput{CategoryID: cat.ID, Question: "Menus de la semaine ?", Answer: "<p>Sur le site.</p>", Public: true})
	if err != nil {
		t.Fatal(err)
	}
	head := k.As(f.Head)
	_, page := head.Get("/faq")
	contains(t, page, "/faq/questions/"+second.ID+"/modifier", "Monter", "Partager la gestion de la FAQ", "/faq/categories/"+cat.ID+"/modifier")

	edit := "/faq/questions/" + second.ID + "/modifier"
	_, page = head.Get(edit)
	contains(t, page, "Modifier la question", `value="Menus de la semaine ?"`, "Sur le site.", `<option value="`+cat.ID+`" selected>`)
	resp, page := head.Post(edit, url.Values{"category": {cat.ID}, "question": {" "}, "answer": {"<p>Le menu change chaque lundi.</p>"}, "public": {"on"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("empty question: %d", resp.StatusCode)
	}
	contains(t, page, "Écrivez la question", "Le menu change chaque lundi.", `id="f-public" name="public" checked`)
	resp, _ = head.Post(edit, url.Values{"category": {cat.ID}, "question": {"Où lire les menus ?"}, "answer": {`<p>Le menu change chaque lundi.</p><script>alert(1)</script>`}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d", resp.StatusCode)
	}
	_, page = k.As(f.Parent).Get("/faq")
	contains(t, page, "Où lire les menus ?", "Le menu change chaque lundi.")
	lacks(t, page, "alert(1)", "Menus de la semaine ?", "/modifier", "Monter")
	// It is internal now: gone from the public site.
	v := k.Client()
	v.Host = "0690001a.localhost"
	_, page = v.Get("/faq")
	lacks(t, page, "Où lire les menus ?")

	// Reorder: the second question goes up.
	if resp, _ := head.Post("/faq/questions/"+second.ID+"/deplacer", url.Values{"structure": {f.College.ID}, "direction": {"up"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("move: %d", resp.StatusCode)
	}
	_, page = head.Get("/faq")
	if i, j := strings.Index(page, "Où lire les menus ?"), strings.Index(page, "Prix du repas ?"); i < 0 || j < 0 || i > j {
		t.Fatal("the question did not move up")
	}

	// Rename a section: the form keeps what was typed.
	rename := "/faq/categories/" + cat.ID + "/modifier"
	resp, page = head.Post(rename, url.Values{"name": {strings.Repeat("x", 130)}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("long name: %d", resp.StatusCode)
	}
	contains(t, page, "Donnez un nom à la rubrique", strings.Repeat("x", 130))
	if resp, _ := head.Post(rename, url.Values{"name": {"Restauration"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("rename: %d", resp.StatusCode)
	}

	// The teacher does not edit, until the head shares the editing with them.
	teacher := k.As(f.Teacher)
	for _, path := range []string{edit, rename, "/faq/partage?structure=" + f.College.ID} {
		if resp, _ := teacher.Get(path); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("a teacher opened %s: %d", path, resp.StatusCode)
		}
	}
	if resp, _ := teacher.Post("/faq/questions/"+second.ID+"/deplacer", url.Values{"structure": {f.College.ID}, "direction": {"down"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a teacher moved a question: %d", resp.StatusCode)
	}
	share := "/faq/partage"
	_, page = head.Get(share + "?structure=" + f.College.ID)
	contains(t, page, "Partager la gestion de la FAQ", "4e A", "Personne d&#39;autre")
	resp, page = head.Post(share, url.Values{"structure": {f.College.ID}, "login": {"hugo.roux"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a person of another school: %d", resp.StatusCode)
	}
	contains(t, page, "appartient pas à l&#39;établissement", `value="hugo.roux"`)
	if resp, _ := head.Post(share, url.Values{"structure": {f.College.ID}, "login": {f.Teacher.Login}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("share: %d", resp.StatusCode)
	}
	_, page = head.Get(share + "?structure=" + f.College.ID)
	contains(t, page, "Paul DURAND")
	if resp, _ := teacher.Get(edit); resp.StatusCode != http.StatusOK {
		t.Fatalf("a shared editor: %d", resp.StatusCode)
	}
	if resp, _ := teacher.Post("/faq/questions/"+second.ID+"/supprimer", url.Values{"structure": {f.College.ID}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a shared editor deletes: %d", resp.StatusCode)
	}
	if resp, _ := head.Post(share, url.Values{"structure": {f.College.ID}, "person": {f.Teacher.ID}, "level": {"none"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("unshare: %d", resp.StatusCode)
	}
	if resp, _ := teacher.Get("/faq/questions/" + cat.ID + "/modifier"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown question: %d", resp.StatusCode)
	}
	if resp, _ := teacher.Post(rename, url.Values{"name": {"x"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("editing taken back: %d", resp.StatusCode)
	}
	entries, err := k.App.Services.Audit.Search(k.Ctx, audit.Filter{Action: "faq.entry.delete"})
	if err != nil || len(entries) != 1 || entries[0].ActorID != f.Teacher.ID || entries[0].Details["question"] != "Où lire les menus ?" {
		t.Fatalf("delete not audited: %v %+v", err, entries)
	}
}
