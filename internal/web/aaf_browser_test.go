package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/aaf"
	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/web/browsertest"
)

// TestBrowserAAFUpload uploads a generated académie in the console as the super
// administrator, follows the import's progress to its report and opens one of its
// classes: the first import into the fixture's directory (persons made by hand, none
// from the AAF yet), which writes the links and the automatic groups itself.
func TestBrowserAAFUpload(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	dir := t.TempDir()
	st, err := aaf.Generate(dir, aaf.GenOptions{Persons: 600, Schools: 1, Seed: 5, PerFile: 200})
	if err != nil {
		t.Fatal(err)
	}
	// A pupil of the generated school (jointure 90000) whose responsable the export
	// lacks: a warning in the report.
	date := strings.Split(filepath.Base(st.Files[0]), "_")[2]
	extra := filepath.Join(dir, "ENT_Complet_"+date+"_Eleve_9999.xml")
	if err := os.WriteFile(extra, []byte(`<?xml version="1.0" encoding="UTF-8"?><ficAlimMENESR><addRequest><operationalAttributes>`+
		`<attr name="categoriePersonne"><value>Eleve</value></attr></operationalAttributes><identifier><id>XE1</id></identifier><attributes>`+
		`<attr name="sn"><value>Garnier</value></attr><attr name="givenName"><value>Inès</value></attr>`+
		`<attr name="ENTPersonStructRattach"><value>90000</value></attr>`+
		`<attr name="ENTElevePersRelEleve"><value>XR404$10$1$1$1$1</value></attr></attributes></addRequest></ficAlimMENESR>`), 0o600); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.xml"))
	if err != nil || len(files) < 5 {
		t.Fatalf("export : %v %v", files, err)
	}

	b := browsertest.New(t)
	base := browsertest.HostURL(k.URL, "localhost")
	tab := b.NewIncognito()
	browserLogin(t, tab, base, f.Admin)

	tab.Navigate(base + "/admin/imports")
	tab.Upload("#f-fichiers", files...)
	tab.Click("#aaf-upload button[type=submit]")
	// The job's page, reloaded by its script once the import is over.
	tab.WaitVisible("#aaf-job a[href^='/admin/imports/']")
	if text := tab.Text("main"); !strings.Contains(text, "L'import est terminé.") || tab.Text("h1") != "Import terminé" {
		t.Fatalf("page de la tâche : %s", text)
	}
	tab.CheckA11y(t)
	tab.Screenshot("import-aaf-termine")

	tab.ClickAndWait("#aaf-job a[href^='/admin/imports/']")
	report := tab.Text("main")
	for _, want := range []string{"responsable XR404 introuvable", "XE1"} {
		if !strings.Contains(report, want) {
			t.Errorf("le rapport ne dit pas %q : %s", want, report)
		}
	}
	tab.CheckA11y(t)
	tab.Screenshot("import-aaf-rapport")

	// A class of the export, with its pupils, and its parents' group.
	var classID, parentsID string
	if err := k.App.DB.QueryRowContext(k.Ctx, `SELECT c.id, g.id FROM groups c JOIN groups g ON g.class_id = c.id AND g.kind = 'class_profile'
		AND g.profile = 'Responsable' JOIN structures s ON s.id = c.structure_id WHERE c.kind = 'class' AND s.external_id IS NOT NULL
		ORDER BY c.code LIMIT 1`).Scan(&classID, &parentsID); err != nil {
		t.Fatal(err)
	}
	var pupils, parents int
	if err := k.App.DB.QueryRowContext(k.Ctx, `SELECT (SELECT COUNT(*) FROM group_members WHERE group_id = $1 AND source = 'direct'),
		(SELECT COUNT(*) FROM group_members WHERE group_id = $2 AND source = 'auto')`, classID, parentsID).Scan(&pupils, &parents); err != nil {
		t.Fatal(err)
	}
	if pupils == 0 || parents == 0 {
		t.Fatalf("classe : %d élèves, %d parents dans son groupe", pupils, parents)
	}
	tab.Navigate(base + "/admin/groupes/" + classID)
	if tab.Status() != 200 || tab.Count("main li, main tr") < pupils {
		t.Fatalf("page de la classe : %d, %s", tab.Status(), tab.Text("main"))
	}
	tab.CheckA11y(t)
	tab.Screenshot("import-aaf-classe")
}
