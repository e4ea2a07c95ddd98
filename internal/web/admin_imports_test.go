package web_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/directory"
)

// importSmallExport imports, as the system, an export that adopts the fixture's collège
// (by its UAI) and holds one good pupil and one with an impossible birth date.
func importSmallExport(t *testing.T, k *apptest.Kit) {
	t.Helper()
	dir := t.TempDir()
	head := `<?xml version="1.0" encoding="UTF-8"?><ficAlimMENESR>`
	files := map[string]string{
		"ENT_Complet_20260901_EtabEducNat_0000.xml": head + `<addRequest><operationalAttributes><attr name="categorieStructure"><value>EtabEducNat</value></attr></operationalAttributes>
			<identifier><id>100</id></identifier><attributes><attr name="ENTStructureUAI"><value>0690001A</value></attr>
			<attr name="ENTStructureNomCourant"><value>COLLEGE$Jean Moulin$Villeurbanne</value></attr></attributes></addRequest></ficAlimMENESR>`,
		"ENT_Complet_20260901_Eleve_0000.xml": head + `<addRequest><operationalAttributes><attr name="categoriePersonne"><value>Eleve</value></attr></operationalAttributes>
			<identifier><id>E1</id></identifier><attributes><attr name="sn"><value>Garnier</value></attr><attr name="givenName"><value>Inès</value></attr>
			<attr name="ENTPersonStructRattach"><value>100</value></attr><attr name="ENTEleveClasses"><value>100$3A</value></attr></attributes></addRequest>
			<addRequest><operationalAttributes><attr name="categoriePersonne"><value>Eleve</value></attr></operationalAttributes>
			<identifier><id>E2</id></identifier><attributes><attr name="sn"><value>Morel</value></attr><attr name="givenName"><value>Timéo</value></attr>
			<attr name="ENTPersonDateNaissance"><value>31/02/2013</value></attr><attr name="ENTPersonStructRattach"><value>100</value></attr></attributes></addRequest></ficAlimMENESR>`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := k.App.Services.AAF.ImportDir(k.Ctx, k.Sys, dir); err != nil {
		t.Fatal(err)
	}
}

func TestImportReportsInConsole(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	importSmallExport(t, k)

	super := k.As(f.Admin)
	resp, body := super.Get("/admin/imports")
	status(t, resp, body, http.StatusOK)
	has(t, body, "Imports de l'annuaire", "Export complet", "Réussi", "Clore l'année scolaire")
	link := regexp.MustCompile(`href="(/admin/imports/[a-z0-9]+)"`).FindStringSubmatch(body)
	if link == nil {
		t.Fatal("pas de lien vers le rapport")
	}
	resp, body = super.Get(link[1])
	status(t, resp, body, http.StatusOK)
	has(t, body, "Rapport d'import", "Rejeté", "E2", "date de naissance invalide : 31/02/2013", "ENT_Complet_20260901_Eleve_0000.xml",
		"ENT_Complet_20260901_Eleve_0000.xml</code> — 2 enregistrements<", "ENT_Complet_20260901_EtabEducNat_0000.xml</code> — 1 enregistrement<")

	// The collège's head (a local administrator) sees the import that covered it,
	// without the deployment-wide rollover.
	head := k.As(f.Head)
	resp, body = head.Get(link[1])
	status(t, resp, body, http.StatusOK)
	has(t, body, "date de naissance invalide")
	resp, body = head.Get("/admin/imports")
	status(t, resp, body, http.StatusOK)
	hasNot(t, body, "Clore l'année scolaire")
	resp, body = head.Post("/admin/annee/cloture", url.Values{"confirmer": {"oui"}})
	status(t, resp, body, http.StatusForbidden)

	// Not an administrator: nothing.
	resp, body = k.As(f.Teacher).Get("/admin/imports")
	status(t, resp, body, http.StatusForbidden)
}

func TestCloseSchoolYearFromConsole(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	super := k.As(f.Admin)
	resp, body := super.Post("/admin/annee/cloture", url.Values{})
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "Cochez la case de confirmation")

	resp, body = super.Post("/admin/annee/cloture", url.Values{"confirmer": {"oui"}})
	redirected(t, resp, body, "/admin/imports")
	g, err := k.App.Services.Directory.Group(k.Ctx, f.Class.ID)
	if err != nil || !g.Archived {
		t.Fatalf("classe après la clôture : %+v %v", g, err)
	}
	var n int
	if err := k.App.DB.QueryRowContext(k.Ctx, `SELECT COUNT(*) FROM group_members WHERE person_id = $1`+
		` AND group_id IN (SELECT id FROM groups WHERE class_id = $2 OR id = $2)`, f.Pupil.ID, f.Class.ID).Scan(&n); err != nil || n != 0 {
		t.Errorf("l'élève reste dans la classe archivée : %d %v", n, err)
	}
	// The pupil's account is untouched.
	k.As(f.Pupil)
}

func TestActivationLettersFromConsole(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	s := k.App.Services
	p, err := s.Directory.CreatePerson(k.Ctx, k.Sys, directory.PersonInput{FirstName: "Chloé", LastName: "Lefèvre", Profile: directory.Eleve, StructureIDs: []string{f.College.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Directory.AddMember(k.Ctx, k.Sys, f.Class.ID, p.ID); err != nil {
		t.Fatal(err)
	}
	head := k.As(f.Head)
	resp, body := head.Get("/admin/structures/" + f.College.ID + "/lettres")
	status(t, resp, body, http.StatusOK)
	has(t, body, "Lettres d'activation", "4e A", "Chaque impression délivre de nouveaux codes")
	resp, body = head.Post("/admin/structures/"+f.College.ID+"/lettres", url.Values{"pour": {"personne"}})
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "Choisissez pour qui imprimer les lettres.")
	resp, body = head.Post("/admin/structures/"+f.College.ID+"/lettres", url.Values{"pour": {"tous"}, "classe": {f.Class.ID}})
	status(t, resp, body, http.StatusOK)
	if resp.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(body, "%PDF-") {
		t.Fatalf("pas de PDF : %s", resp.Header.Get("Content-Type"))
	}
	resp, body = k.As(f.Teacher).Post("/admin/structures/"+f.College.ID+"/lettres", url.Values{"pour": {"tous"}})
	status(t, resp, body, http.StatusForbidden)
}

// uploadExport posts files to the console's upload as a browser would.
func uploadExport(t *testing.T, c *apptest.Client, files map[string]string) (*http.Response, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for name, body := range files {
		part, err := w.CreateFormFile("fichiers", name)
		if err != nil {
			t.Fatal(err)
		}
		part.Write([]byte(body))
	}
	w.Close()
	return c.Do("POST", "/admin/imports/televersement", &buf, http.Header{"Content-Type": {w.FormDataContentType()}, "Sec-Fetch-Site": {"same-origin"}})
}

func TestUploadedExportIsImportedInTheBackground(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	head := `<?xml version="1.0" encoding="UTF-8"?><ficAlimMENESR>`
	files := map[string]string{
		"ENT_Complet_20260901_EtabEducNat_0000.xml": head + `<addRequest><operationalAttributes><attr name="categorieStructure"><value>EtabEducNat</value></attr></operationalAttributes>
			<identifier><id>100</id></identifier><attributes><attr name="ENTStructureUAI"><value>0690001A</value></attr></attributes></addRequest></ficAlimMENESR>`,
		"ENT_Complet_20260901_Eleve_0000.xml": head + `<addRequest><operationalAttributes><attr name="categoriePersonne"><value>Eleve</value></attr></operationalAttributes>
			<identifier><id>E1</id></identifier><attributes><attr name="sn"><value>Garnier</value></attr><attr name="givenName"><value>Inès</value></attr>
			<attr name="ENTPersonStructRattach"><value>100</value></attr></attributes></addRequest></ficAlimMENESR>`,
	}
	// Only super administrators import.
	resp, body := uploadExport(t, k.As(f.Head), files)
	status(t, resp, body, http.StatusForbidden)

	super := k.As(f.Admin)
	resp, body = uploadExport(t, super, map[string]string{"notes.txt": "pas un export"})
	status(t, resp, body, http.StatusBadRequest)
	has(t, body, "ne forment pas un export AAF")

	resp, body = uploadExport(t, super, files)
	job := redirected(t, resp, body, "/admin/imports/taches/")
	var state struct {
		Status string `json:"status"`
		Report string `json:"report"`
		Done   int    `json:"files_done"`
		Total  int    `json:"files_total"`
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, body = super.Get(job + "/etat")
		status(t, resp, body, http.StatusOK)
		if err := json.Unmarshal([]byte(body), &state); err != nil {
			t.Fatal(err)
		}
		if state.Status != "running" || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if state.Status != "done" || state.Done != 2 || state.Total != 2 || state.Report == "" {
		t.Fatalf("tâche : %+v", state)
	}
	resp, body = super.Get(job)
	status(t, resp, body, http.StatusOK)
	has(t, body, "L'import est terminé.", "/admin/imports/"+state.Report)
	if _, err := k.App.Services.Directory.PersonByLogin(k.Ctx, "ines.garnier"); err != nil {
		t.Errorf("élève importée : %v", err)
	}
}
