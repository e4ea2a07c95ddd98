package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
)

func TestForumPages(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	teacher, pupil := k.As(f.Teacher), k.As(f.Pupil)
	_, page := teacher.Get("/forums")
	contains(t, page, "Créer une catégorie de forum")
	resp, _ := teacher.Post("/forums", url.Values{"structure": {f.College.ID}, "name": {"Entraide"}})
	catPath := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(catPath, "/forums/categories/") {
		t.Fatalf("create: %d %s", resp.StatusCode, catPath)
	}
	if resp, _ := teacher.Post(catPath+"/partage", url.Values{"share-" + f.Class.ID: {"read"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("share: %d", resp.StatusCode)
	}
	resp, _ = teacher.Post(catPath+"/sujets", url.Values{"title": {"Exercice 4"}, "body": {"<p>Vos questions</p><script>alert(1)</script>"}})
	subj := resp.Header.Get("Location")
	if !strings.HasPrefix(subj, "/forums/sujets/") {
		t.Fatalf("open: %d %s", resp.StatusCode, subj)
	}
	_, page = pupil.Get(catPath)
	contains(t, page, "Exercice 4")
	if strings.Contains(page, "Ouvrir un sujet") {
		t.Fatal("a reader may open subjects")
	}
	pupil.Post(subj+"/reponses", url.Values{"body": {"Comment factoriser ?"}})
	_, page = pupil.Get(subj)
	contains(t, page, "Comment factoriser ?", "Vos questions")
	if strings.Contains(page, "alert(1)") || strings.Contains(page, "Retirer ce message") {
		t.Fatal("script in the page, or a reader may remove")
	}
	teacher.Post(subj+"/etat", url.Values{"locked": {"on"}})
	resp, page = pupil.Post(subj+"/reponses", url.Values{"body": {"encore"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("reply in a locked subject: %d", resp.StatusCode)
	}
	contains(t, page, "verrouillé")
	// A classmate reports the pupil's message; the head sees it in the one queue.
	_, page = k.As(f.Classmate).Get(subj)
	rm := regexp.MustCompile(`/forums/messages/([a-z0-9]+)/signaler`).FindAllStringSubmatch(page, -1)
	if len(rm) != 2 {
		t.Fatalf("report buttons: %d", len(rm))
	}
	k.As(f.Classmate).Post("/forums/messages/"+rm[1][1]+"/signaler", url.Values{"reason": {"Moquerie"}, "subject": {strings.TrimPrefix(subj, "/forums/sujets/")}})
	_, page = k.As(f.Head).Get("/moderation")
	contains(t, page, "Exercice 4", "Moquerie", "Comment factoriser ?")
	_, page = teacher.Get(subj)
	m := regexp.MustCompile(`/forums/messages/([a-z0-9]+)/retirer`).FindAllStringSubmatch(page, -1)
	if len(m) != 2 {
		t.Fatalf("remove buttons: %d", len(m))
	}
	teacher.Post("/forums/messages/"+m[1][1]+"/retirer", url.Values{"subject": {strings.TrimPrefix(subj, "/forums/sujets/")}})
	_, page = pupil.Get(subj)
	if strings.Contains(page, "Comment factoriser") {
		t.Fatal("the removed message is still shown")
	}
	if resp, _ := k.As(f.OtherPupil).Get(subj); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("an outsider read the subject: %d", resp.StatusCode)
	}
}
