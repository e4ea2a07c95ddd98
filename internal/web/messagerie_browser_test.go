package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/web/browsertest"
)

// TestBrowserMessagerie: a teacher writes to the parents of a class with an
// attachment; a parent reads it, downloads the attachment and replies; the teacher
// sees that it was read. Accessibility is checked on each page, screenshots kept.
func TestBrowserMessagerie(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	parents := groupID(t, k, "Responsable")
	b := browsertest.New(t)
	base := browsertest.HostURL(k.URL, "0690001a.localhost")
	file := filepath.Join(t.TempDir(), "autorisation-sortie.txt")
	if err := os.WriteFile(file, []byte("Autorisation de sortie au musée, à signer."), 0o600); err != nil {
		t.Fatal(err)
	}
	login := func(tab *browsertest.Tab, login string) {
		tab.Navigate(base + "/connexion")
		tab.Fill("#f-login", login)
		tab.Fill("#f-password", apptest.Password)
		tab.Submit("form[action='/connexion']")
	}

	teacher := b.NewIncognito().WithT(t)
	login(teacher, f.Teacher.Login)
	teacher.ClickAndWait("nav a[href='/messagerie']")
	teacher.CheckA11y(t)
	teacher.Screenshot("messagerie-vide")
	teacher.ClickAndWait("a[href='/messagerie/nouveau']")
	teacher.Fill("#f-add_group", parents)
	teacher.Fill("#f-subject", "Sortie au musée jeudi")
	teacher.Fill("#f-body", "Bonjour,\n\nLa classe de 4e A visite le musée jeudi. Merci de signer l'autorisation jointe.\n\nPaul Durand")
	teacher.Submit("#add-recipients")
	if txt := teacher.Text("#f-to"); !strings.Contains(txt, "Responsables — 4e A") {
		t.Fatalf("group not added: %q", txt)
	}
	teacher.Upload("#f-files", file)
	teacher.CheckA11y(t)
	teacher.Screenshot("redaction")
	teacher.Submit("#send")
	if txt := teacher.Text(".flash"); !strings.Contains(txt, "envoyé") {
		t.Fatalf("not sent: %q", txt)
	}
	msgURL := teacher.Location()

	parent := b.NewIncognito().WithT(t)
	login(parent, f.Parent.Login)
	if txt := strings.Join(strings.Fields(parent.Text("nav a[href='/messagerie']")), " "); !strings.HasPrefix(txt, "Messagerie (1 non lus") {
		t.Fatalf("header link: %q", txt)
	}
	parent.ClickAndWait("nav a[href='/messagerie']")
	parent.CheckA11y(t)
	parent.Screenshot("boite-de-reception")
	parent.ClickAndWait("table a[href^='/messagerie/messages/']")
	text := parent.Text("main")
	for _, w := range []string{"Paul DURAND", "Responsables — 4e A", "autorisation-sortie.txt", "Merci de signer"} {
		if !strings.Contains(text, w) {
			t.Errorf("message page lacks %q:\n%s", w, text)
		}
	}
	parent.CheckA11y(t)
	parent.Screenshot("lecture")
	var got string
	parent.Eval(`(() => { const a = document.querySelector("a[href^='/messagerie/pieces-jointes/']"); const x = new XMLHttpRequest(); x.open("GET", a.href, false); x.send(); return x.status + " " + x.responseText; })()`, &got)
	if got != "200 Autorisation de sortie au musée, à signer." {
		t.Fatalf("download: %q", got)
	}
	parent.Submit("form[action$='/repondre'] button")
	parent.Fill("#f-body", "Bonjour, c'est signé. Sophie Martin")
	// The script saves the draft as one types.
	var status string
	parent.Eval(`new Promise(done => { const t0 = Date.now(); (function poll() {
		const s = document.getElementById("autosave-status").textContent;
		if (s.includes("enregistré à") || Date.now() - t0 > 10000) done(s); else setTimeout(poll, 100); })(); })`, &status)
	if !strings.Contains(status, "Brouillon enregistré à") {
		t.Fatalf("no autosave: %q", status)
	}
	parent.CheckA11y(t)
	parent.Screenshot("reponse")
	parent.Submit("#send")

	teacher.Navigate(msgURL)
	if txt := teacher.Text("#read-count"); !strings.Contains(txt, "Lu par 1 destinataire(s) sur 1") {
		t.Fatalf("read by: %q", txt)
	}
	teacher.CheckA11y(t)
	teacher.Screenshot("lu-par")
	teacher.ClickAndWait("nav a[href='/messagerie']")
	if txt := teacher.Text("main"); !strings.Contains(txt, "Re : Sortie au musée jeudi") {
		t.Fatalf("reply not in the teacher's inbox:\n%s", txt)
	}
	teacher.Screenshot("reponse-recue")
}
