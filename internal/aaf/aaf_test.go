package aaf_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/preau-ent/preau/internal/aaf"
	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
)

// ---- writing hand-made exports ----

type a = [2]string // attribute name, values separated by "|"

func rec(op, cat, id string, attrs ...a) string {
	opAttr := "categoriePersonne"
	switch cat {
	case "EtabEducNat":
		opAttr = "categorieStructure"
	case "MatEducNat":
		opAttr = "categorieMatiere"
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "<%s><operationalAttributes><attr name=\"%s\"><value>%s</value></attr></operationalAttributes><identifier><id>%s</id></identifier>", op, opAttr, cat, id)
	if op == "deleteRequest" {
		return sb.String() + "</deleteRequest>\n"
	}
	container, item, extra := "attributes", "attr", ""
	if op == "modifyRequest" {
		container, item, extra = "modifications", "modification", ` operation="replace"`
	}
	sb.WriteString("<" + container + ">")
	for _, x := range attrs {
		fmt.Fprintf(&sb, "<%s name=\"%s\"%s>", item, x[0], extra)
		for _, v := range strings.Split(x[1], "|") {
			sb.WriteString("<value>" + v + "</value>")
		}
		sb.WriteString("</" + item + ">")
	}
	return sb.String() + "</" + container + "></" + op + ">\n"
}

func doc(records ...string) string {
	return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE ficAlimMENESR SYSTEM \"ficAlimMENESR.dtd\">\n<!-- versionAF: 2.0\n degre: 2D -->\n<ficAlimMENESR>\n" +
		strings.Join(records, "") + "</ficAlimMENESR>\n"
}

// latin returns doc in ISO-8859-15, declared so.
func latin(t *testing.T, d string) string {
	t.Helper()
	d = strings.Replace(d, `encoding="UTF-8"`, `encoding="ISO-8859-15"`, 1)
	out, err := charmap.ISO8859_15.NewEncoder().String(d)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func write(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func etab(jointure, uai, name string, classes ...string) string {
	attrs := []a{{"ENTStructureJointure", jointure}, {"ENTStructureUAI", uai}, {"ENTStructureNomCourant", name},
		{"ENTStructureTypeStruct", "COLLEGE"}, {"l", "LYON"}}
	if len(classes) > 0 {
		attrs = append(attrs, a{"ENTStructureClasses", strings.Join(classes, "|")})
	}
	return rec("addRequest", "EtabEducNat", jointure, attrs...)
}

func pupil(op, j, first, last, school, class, parents string, extra ...a) string {
	attrs := []a{{"ENTPersonJointure", j}, {"sn", last}, {"givenName", first}, {"ENTPersonDateNaissance", "14/03/2012"},
		{"ENTPersonStructRattach", school}, {"ENTEleveClasses", school + "$" + class}}
	if parents != "" {
		var rel []string
		for _, p := range strings.Split(parents, ",") {
			rel = append(rel, p+"$10$1$1$1$1")
		}
		attrs = append(attrs, a{"ENTElevePersRelEleve", strings.Join(rel, "|")})
	}
	return rec(op, "Eleve", j, append(attrs, extra...)...)
}

func resp(j, first, last, children string) string {
	return rec("addRequest", "PersRelEleve", j, a{"ENTPersonJointure", j}, a{"sn", last}, a{"givenName", first},
		a{"ENTAuxPersRelEleveEleve", strings.ReplaceAll(children, ",", "|")})
}

func teacher(j, first, last, school, classesSubjects string) string {
	return rec("addRequest", "PersEducNat", j, a{"ENTPersonJointure", j}, a{"sn", last}, a{"givenName", first},
		a{"ENTPersonStructRattach", school}, a{"ENTPersonCategorieEnseignant", "O"},
		a{"ENTPersonFonctions", school + "$ENS$ENSEIGNEMENT$L1300$MATHEMATIQUES"},
		a{"ENTAuxEnsClassesMatieres", classesSubjects})
}

// baseExport is a small académie: the fixture's collège (adopted by UAI) and a new
// lycée declared in ISO-8859-15, two families, a teacher and a head of school.
func baseExport(t *testing.T, date string, skip ...string) map[string]string {
	t.Helper()
	skipped := map[string]bool{}
	for _, s := range skip {
		skipped[s] = true
	}
	pick := func(id, r string) string {
		if skipped[id] {
			return ""
		}
		return r
	}
	return map[string]string{
		"ENT_Complet_" + date + "_EtabEducNat_0000.xml": latin(t, doc(
			etab("100", "0690001A", "COLLEGE$Jean Moulin$Villeurbanne", "3A$3e A", "3B$3e B"),
			etab("200", "0690099Z", "LYCEE$Évariste Galois$Lyon", "2NDE1$Seconde 1"))),
		"ENT_Complet_" + date + "_MatiereEducNat_0000.xml": doc(
			rec("addRequest", "MatEducNat", "061300", a{"ENTMatJointure", "061300"}, a{"ENTLibelleMatiere", "MATHEMATIQUES"})),
		"ENT_Complet_" + date + "_Eleve_0000.xml": doc(
			pick("E1", pupil("addRequest", "E1", "Éloïse", "Dupré", "100", "3A", "R1,R2")),
			pick("E2", pupil("addRequest", "E2", "Noé", "Lefèvre", "100", "3B", "R9")),
			pick("E3", pupil("addRequest", "E3", "Jules", "Dupré", "200", "2NDE1", "R1"))),
		"ENT_Complet_" + date + "_PersRelEleve_0000.xml": doc(
			pick("R1", resp("R1", "Anne", "Dupré", "E1,E3")),
			pick("R2", resp("R2", "Marc", "Dupré", "E1"))),
		"ENT_Complet_" + date + "_PersEducNat_0000.xml": doc(
			pick("T1", teacher("T1", "Paul", "Durand", "100", "100$3A$061300|100$3B$061300")),
			pick("S1", rec("addRequest", "PersEducNat", "S1", a{"ENTPersonJointure", "S1"}, a{"sn", "Bernard"}, a{"givenName", "Claire"},
				a{"ENTPersonStructRattach", "100"}, a{"ENTPersonCategorieEnseignant", "N"}, a{"ENTPersonFonctions", "100$DIR$DIRECTION$$"}))),
	}
}

// ---- reading the directory back ----

type env struct {
	k   *apptest.Kit
	ctx context.Context
	d   *db.DB
	now time.Time
	im  *aaf.Importer
	// prescanFrom is the importer's option: 1 reads every full export before
	// its transaction once the directory has persons, as large directories do.
	prescanFrom int
	bulkFrom    int // the importer's Options.BulkFrom (0: the default)
}

func setup(t *testing.T) *env {
	k := apptest.New(t)
	e := &env{k: k, ctx: k.Ctx, d: k.App.DB, now: time.Date(2026, 9, 2, 8, 0, 0, 0, time.UTC), prescanFrom: 1}
	e.importer(e.now)
	return e
}

// importer makes an importer whose clock says now (the grace period runs on it).
func (e *env) importer(now time.Time) {
	s := e.k.App.Services
	e.im = aaf.New(e.d, s.Directory, s.Audit, s.Rights, aaf.Options{Grace: 90 * 24 * time.Hour, PurgeAfter: 90 * 24 * time.Hour, PrescanFrom: e.prescanFrom, BulkFrom: e.bulkFrom,
		Now: func() time.Time { return now }})
}

func (e *env) importDir(t *testing.T, dir string) *aaf.Report {
	t.Helper()
	rep, err := e.im.ImportDir(e.ctx, e.k.Sys, dir)
	if err != nil {
		t.Fatalf("import : %v", err)
	}
	return rep
}

func (e *env) str(t *testing.T, q string, args ...any) string {
	t.Helper()
	out, err := db.Strings(e.ctx, e.d, q, args...)
	if err != nil {
		t.Fatalf("%s : %v", q, err)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func (e *env) person(t *testing.T, jointure string) directory.Person {
	t.Helper()
	p, err := e.k.App.Services.Directory.PersonByExternalID(e.ctx, jointure)
	if err != nil {
		t.Fatalf("personne %s : %v", jointure, err)
	}
	return p
}

// situation is a person's structures (UAI), classes, links and teaching, as text.
func (e *env) situation(t *testing.T, jointure string) string {
	t.Helper()
	id := e.person(t, jointure).ID
	return strings.Join([]string{
		"structures=" + e.str(t, `SELECT s.uai FROM person_structures ps JOIN structures s ON s.id = ps.structure_id WHERE ps.person_id = $1`, id),
		"classes=" + e.str(t, `SELECT g.code FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.person_id = $1 AND m.source = 'direct' AND NOT g.archived`, id),
		"parents=" + e.str(t, `SELECT p.external_id FROM person_links l JOIN persons p ON p.id = l.parent_id WHERE l.child_id = $1`, id),
		"children=" + e.str(t, `SELECT p.external_id FROM person_links l JOIN persons p ON p.id = l.child_id WHERE l.parent_id = $1`, id),
		"teaching=" + e.str(t, `SELECT g.code || '/' || COALESCE(sub.name, '') FROM teaching te JOIN groups g ON g.id = te.group_id
			LEFT JOIN subjects sub ON sub.id = te.subject_id WHERE te.teacher_id = $1`, id),
		"auto=" + e.str(t, `SELECT g.kind || ':' || g.profile || ':' || g.code FROM group_members m JOIN groups g ON g.id = m.group_id
			WHERE m.person_id = $1 AND m.source = 'auto' AND g.kind = 'class_profile'`, id),
	}, " ")
}

func (e *env) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.d.QueryRowContext(e.ctx, q, args...).Scan(&n); err != nil {
		t.Fatalf("%s : %v", q, err)
	}
	return n
}

func hasIssue(rep *aaf.Report, sev, jointure, reason string) bool {
	for _, x := range rep.Issues {
		if x.Severity == sev && x.Jointure == jointure && strings.Contains(x.Reason, reason) {
			return true
		}
	}
	return false
}

// ---- tests ----

func TestFullImportBuildsTheDirectory(t *testing.T) {
	e := setup(t)
	dir := write(t, baseExport(t, "20260901"))
	rep := e.importDir(t, dir)

	if rep.Status != aaf.StatusOK || rep.Kind != aaf.KindFull {
		t.Fatalf("rapport : %+v", rep)
	}
	if rep.Created != 7 || rep.StructuresCreated != 1 || rep.StructuresUpdated != 1 || rep.ClassesCreated != 3 {
		t.Errorf("créés %d, établissements créés %d mis à jour %d, classes %d", rep.Created, rep.StructuresCreated, rep.StructuresUpdated, rep.ClassesCreated)
	}
	// The lycée's name came through ISO-8859-15.
	if got := e.str(t, `SELECT name FROM structures WHERE uai = '0690099Z'`); got != "LYCEE Évariste Galois" {
		t.Errorf("nom du lycée : %q", got)
	}
	// The fixture's collège, made by hand, was adopted rather than duplicated.
	if got := e.str(t, `SELECT COALESCE(external_id, '') FROM structures WHERE uai = '0690001A'`); got != "100" {
		t.Errorf("jointure du collège : %q", got)
	}
	p := e.person(t, "E1")
	if p.Login != "eloise.dupre" || p.Profile != directory.Eleve || p.BirthDate != "2012-03-14" || p.State != directory.StatePending {
		t.Errorf("élève : %+v", p)
	}
	// Logins are unique across the deployment: the brother gets his own.
	if got := e.person(t, "E3").Login; got != "jules.dupre" {
		t.Errorf("identifiant : %s", got)
	}
	if got := e.situation(t, "E1"); got != "structures=0690001A classes=3A parents=R1,R2 children= teaching= auto=class_profile:Eleve:3A" {
		t.Errorf("E1 : %s", got)
	}
	// A responsable belongs to their children's schools and classes' parents groups.
	if got := e.situation(t, "R1"); got != "structures=0690001A,0690099Z classes= parents= children=E1,E3 teaching= auto=class_profile:Responsable:2NDE1,class_profile:Responsable:3A" {
		t.Errorf("R1 : %s", got)
	}
	if got := e.situation(t, "T1"); got != "structures=0690001A classes= parents= children= teaching=3A/MATHEMATIQUES,3B/MATHEMATIQUES auto=class_profile:Enseignant:3A,class_profile:Enseignant:3B" {
		t.Errorf("T1 : %s", got)
	}
	if e.person(t, "T1").Profile != directory.Enseignant || e.person(t, "S1").Profile != directory.Personnel {
		t.Error("profils des personnels")
	}
	if n := e.count(t, `SELECT COUNT(*) FROM person_functions f JOIN persons p ON p.id = f.person_id WHERE p.external_id = 'S1' AND f.code = 'DIR'`); n != 1 {
		t.Errorf("fonction DIR : %d", n)
	}
	// The pupil whose responsable is missing is imported, with a warning.
	if !hasIssue(rep, aaf.SeverityWarning, "E2", "responsable R9 introuvable") {
		t.Errorf("avertissement attendu : %+v", rep.Issues)
	}
	if got := e.situation(t, "E2"); got != "structures=0690001A classes=3B parents= children= teaching= auto=class_profile:Eleve:3B" {
		t.Errorf("E2 : %s", got)
	}
	if rep.Files[0].Header["degre"] != "2D" {
		t.Errorf("en-tête : %+v", rep.Files[0])
	}
	// Audited.
	if n := e.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'aaf.import'`); n != 1 {
		t.Errorf("audit : %d", n)
	}

	// The same export again changes nothing.
	rep = e.importDir(t, dir)
	if rep.Created != 0 || rep.Updated != 1 || rep.Marked != 0 || rep.Unchanged != 6 {
		// E2 is read again (its responsable was missing), the six others are skipped.
		t.Errorf("réimport : créés %d, modifiés %d, marqués %d, inchangés %d", rep.Created, rep.Updated, rep.Marked, rep.Unchanged)
	}
}

func TestPersonKeepsAccountAcrossImportsAndMoves(t *testing.T) {
	e := setup(t)
	e.importDir(t, write(t, baseExport(t, "20260901")))
	s := e.k.App.Services
	before := e.person(t, "T1")
	if err := s.Accounts.SetPassword(e.ctx, e.k.Sys, before.ID, apptest.Password); err != nil {
		t.Fatal(err)
	}
	// The teacher moves to the lycée and gets married: new school, new name.
	files := baseExport(t, "20261001")
	files["ENT_Complet_20261001_PersEducNat_0000.xml"] = doc(
		teacher("T1", "Paul", "Durand-Roux", "200", "200$2NDE1$061300"),
		rec("addRequest", "PersEducNat", "S1", a{"ENTPersonJointure", "S1"}, a{"sn", "Bernard"}, a{"givenName", "Claire"},
			a{"ENTPersonStructRattach", "100"}, a{"ENTPersonCategorieEnseignant", "N"}, a{"ENTPersonFonctions", "100$DIR$DIRECTION$$"}))
	rep := e.importDir(t, write(t, files))
	// Updated: the teacher, and E2 read again because its responsable is still missing.
	if rep.Moved != 1 || rep.Updated != 2 || rep.Created != 0 {
		t.Errorf("déplacés %d, modifiés %d, créés %d", rep.Moved, rep.Updated, rep.Created)
	}
	after := e.person(t, "T1")
	if after.ID != before.ID || after.Login != before.Login || after.LastName != "Durand-Roux" || after.State != directory.StateActive {
		t.Errorf("avant %+v après %+v", before, after)
	}
	if got := e.situation(t, "T1"); got != "structures=0690099Z classes= parents= children= teaching=2NDE1/MATHEMATIQUES auto=class_profile:Enseignant:2NDE1" {
		t.Errorf("T1 : %s", got)
	}
	if _, _, err := s.Accounts.Login(e.ctx, after.Login, apptest.Password, "192.0.2.1", "test"); err != nil {
		t.Errorf("connexion après déménagement : %v", err)
	}
}

func TestMissingPersonsAreMarkedThenLoseAccessThenPurged(t *testing.T) {
	e := setup(t)
	e.importDir(t, write(t, baseExport(t, "20260901")))
	s := e.k.App.Services
	e2 := e.person(t, "E2")
	if err := s.Accounts.SetPassword(e.ctx, e.k.Sys, e2.ID, apptest.Password); err != nil {
		t.Fatal(err)
	}
	rep := e.importDir(t, write(t, baseExport(t, "20260915", "E2")))
	if rep.Marked != 1 {
		t.Fatalf("marqués : %d", rep.Marked)
	}
	// Still there and still able to log in during the grace period.
	if _, _, err := s.Accounts.Login(e.ctx, e2.Login, apptest.Password, "192.0.2.1", "test"); err != nil {
		t.Errorf("connexion pendant le délai de grâce : %v", err)
	}
	// 91 days later the access ends; the account and its password are kept.
	e.importer(e.now.Add(91 * 24 * time.Hour))
	rep = e.importDir(t, write(t, baseExport(t, "20261201", "E2")))
	if rep.AccessEnded != 1 || e.person(t, "E2").State != directory.StateRemoved {
		t.Errorf("fin d'accès : %d, état %s", rep.AccessEnded, e.person(t, "E2").State)
	}
	if _, _, err := s.Accounts.Login(e.ctx, e2.Login, apptest.Password, "192.0.2.1", "test"); err == nil {
		t.Error("un compte retiré ne doit plus se connecter")
	}
	// Back in the export: the account comes back as it was, password included.
	rep = e.importDir(t, write(t, baseExport(t, "20261202")))
	if rep.Restored != 1 || e.person(t, "E2").State != directory.StateActive {
		t.Errorf("retour : %d, état %s", rep.Restored, e.person(t, "E2").State)
	}
	if _, _, err := s.Accounts.Login(e.ctx, e2.Login, apptest.Password, "192.0.2.1", "test"); err != nil {
		t.Errorf("connexion après retour : %v", err)
	}
	// Gone again, and 181 days later purged.
	e.importDir(t, write(t, baseExport(t, "20261203", "E2")))
	e.importer(e.now.Add(91*24*time.Hour + 182*24*time.Hour))
	rep = e.importDir(t, write(t, baseExport(t, "20270601", "E2")))
	if rep.Purged != 1 {
		t.Errorf("purgés : %d", rep.Purged)
	}
	if _, err := s.Directory.PersonByExternalID(e.ctx, "E2"); !errors.Is(err, actor.ErrNotFound) {
		t.Errorf("E2 après la purge : %v", err)
	}
}

func TestDeltaAppliesModificationsAndDeleteThenReAdd(t *testing.T) {
	e := setup(t)
	e.importDir(t, write(t, baseExport(t, "20260901")))
	e1 := e.person(t, "E1")
	dir := write(t, map[string]string{
		// E1 changes class (only the modified attribute is sent); E2 leaves; a new
		// pupil arrives with a known responsable.
		"ENT_Delta_20260910_Eleve_0000.xml": doc(
			rec("modifyRequest", "Eleve", "E1", a{"ENTEleveClasses", "100$3B"}),
			rec("deleteRequest", "Eleve", "E2"),
			rec("deleteRequest", "Eleve", "E3"),
			pupil("addRequest", "E4", "Zoé", "Dupré", "100", "3B", "R2")),
		// The next day E3's deletion is undone.
		"ENT_Delta_20260911_Eleve_0000.xml": doc(pupil("addRequest", "E3", "Jules", "Dupré", "200", "2NDE1", "R1")),
	})
	// The next day: a person whose class only changes keeps its row as it was.
	e.importer(e.now.Add(24 * time.Hour))
	rep := e.importDir(t, dir)
	if n := e.count(t, `SELECT COUNT(*) FROM persons WHERE external_id = 'E1' AND updated_at = $1`, e.now.UnixMilli()); n != 1 {
		t.Error("E1 n'a changé que de classe : sa fiche ne doit pas être réécrite")
	}
	if n := e.count(t, `SELECT COUNT(*) FROM persons WHERE external_id = 'E3' AND updated_at > $1`, e.now.UnixMilli()); n != 1 {
		t.Error("E3 rétabli : sa fiche doit être mise à jour")
	}
	if rep.Kind != aaf.KindDelta || rep.Created != 1 || rep.Marked != 2 || rep.Restored != 1 {
		t.Errorf("delta : créés %d, marqués %d, rétablis %d", rep.Created, rep.Marked, rep.Restored)
	}
	after := e.person(t, "E1")
	if after.ID != e1.ID || after.FirstName != "Éloïse" {
		t.Errorf("E1 : %+v", after)
	}
	if got := e.situation(t, "E1"); got != "structures=0690001A classes=3B parents=R1,R2 children= teaching= auto=class_profile:Eleve:3B" {
		t.Errorf("E1 : %s", got)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM persons WHERE external_id = 'E3' AND removed_at = 0`); n != 1 {
		t.Error("E3 supprimé puis rajouté doit rester")
	}
	if n := e.count(t, `SELECT COUNT(*) FROM persons WHERE external_id = 'E2' AND removed_at > 0`); n != 1 {
		t.Error("E2 doit être marqué")
	}
	// R2's parents groups follow the children: 3B now (E1 and E4), not 3A.
	if got := e.situation(t, "R2"); got != "structures=0690001A classes= parents= children=E1,E4 teaching= auto=class_profile:Responsable:3B" {
		t.Errorf("R2 : %s", got)
	}
}

// Two deltas imported together modify the same pupil: the second applies to what
// the first made of it, although the import looked both up before writing either.
func TestSuccessiveModificationsOfOnePerson(t *testing.T) {
	e := setup(t)
	e.importDir(t, write(t, baseExport(t, "20260901")))
	e.importDir(t, write(t, map[string]string{
		"ENT_Delta_20260910_Eleve_0000.xml": doc(rec("modifyRequest", "Eleve", "E1", a{"ENTEleveClasses", "100$3B"})),
		"ENT_Delta_20260911_Eleve_0000.xml": doc(rec("modifyRequest", "Eleve", "E1", a{"ENTPersonPrenom", "Élise"})),
	}))
	if p := e.person(t, "E1"); p.FirstName != "Élise" {
		t.Errorf("E1 : prénom %q", p.FirstName)
	}
	if got := e.situation(t, "E1"); got != "structures=0690001A classes=3B parents=R1,R2 children= teaching= auto=class_profile:Eleve:3B" {
		t.Errorf("E1 : %s", got)
	}
}

// A modification that does not change what the person's row holds (a pupil moved to
// another class) leaves the row alone: not written again, an address an
// administrator set kept; one that changes it writes it.
func TestModificationWritesThePersonOnlyWhenItChanges(t *testing.T) {
	e := setup(t)
	e.importDir(t, write(t, baseExport(t, "20260901")))
	if _, err := e.d.ExecContext(e.ctx, `UPDATE persons SET email = 'eloise@college.test', updated_at = 1 WHERE external_id = 'E1'`); err != nil {
		t.Fatal(err)
	}
	row := func() string {
		return e.str(t, `SELECT first_name || ' ' || email || ' ' || CAST(updated_at AS TEXT) FROM persons WHERE external_id = 'E1'`)
	}
	e.importDir(t, write(t, map[string]string{
		"ENT_Delta_20260910_Eleve_0000.xml": doc(rec("modifyRequest", "Eleve", "E1", a{"ENTEleveClasses", "100$3B"})),
	}))
	if got := row(); got != "Éloïse eloise@college.test 1" {
		t.Errorf("après un changement de classe : %q", got)
	}
	if got := e.situation(t, "E1"); !strings.Contains(got, "classes=3B ") {
		t.Errorf("E1 : %s", got)
	}
	e.importDir(t, write(t, map[string]string{
		"ENT_Delta_20260911_Eleve_0000.xml": doc(rec("modifyRequest", "Eleve", "E1", a{"ENTPersonPrenom", "Élise"})),
	}))
	if got := row(); !strings.HasPrefix(got, "Élise ") || strings.HasSuffix(got, " 1") {
		t.Errorf("après un changement de prénom : %q", got)
	}
}

func TestBadRecordsAreRejectedWithTheirReason(t *testing.T) {
	e := setup(t)
	files := baseExport(t, "20260901")
	files["ENT_Complet_20260901_Eleve_0000.xml"] = doc(
		pupil("addRequest", "E1", "Éloïse", "Dupré", "100", "3A", "R1,R2", a{"ENTAttributInventé", "x"}),
		pupil("addRequest", "E1", "Éloïse", "Dupré", "100", "3B", "R1,R2"),
		pupil("addRequest", "E5", "Léo", "Faure", "100", "3A", "", a{"ENTPersonDateNaissance", "31/02/2012"}),
		rec("addRequest", "Eleve", "E6", a{"ENTPersonJointure", "E6"}, a{"givenName", "Sans"}, a{"ENTPersonStructRattach", "100"}),
		pupil("addRequest", "E7", "Lina", "Roux", "999", "3A", ""),
		pupil("addRequest", "E8"+strings.Repeat("8", 300), "Long", "Roux", "100", "3A", ""),
		pupil("addRequest", "E3", "Jules", "Dupré", "200", "2NDE1", "R1"))
	rep := e.importDir(t, write(t, files))
	for _, want := range []struct{ j, reason string }{
		{"E1", "jointure en double"}, {"E5", "date de naissance invalide"}, {"E6", "nom ou prénom manquant"},
		{"E7", "aucun établissement connu"}, {"E8" + strings.Repeat("8", 38) + "…", "jointure trop longue"},
	} {
		if !hasIssue(rep, aaf.SeverityRejected, want.j, want.reason) {
			t.Errorf("rejet attendu de %s (%s) : %+v", want.j, want.reason, rep.Issues)
		}
	}
	if rep.Rejected != 5 || rep.Unknown["ENTAttributInventé"] != 1 {
		t.Errorf("rejetés %d, inconnus %v", rep.Rejected, rep.Unknown)
	}
	// The first E1 went through, in 3A; the rest of the export too.
	if got := e.situation(t, "E1"); !strings.HasPrefix(got, "structures=0690001A classes=3A ") {
		t.Errorf("E1 : %s", got)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM persons WHERE external_id IN ('E3','R1','R2','T1','S1')`); n != 5 {
		t.Errorf("personnes importées : %d", n)
	}
}

func TestUnreadableFileChangesNothing(t *testing.T) {
	for name, body := range map[string]string{
		"malformé":  doc(pupil("addRequest", "E8", "Ana", "Vidal", "100", "3A", ""), "<addRequest><identifier><id>E9</id></identifier><attributes></addRequest>"),
		"tronqué":   doc(pupil("addRequest", "E8", "Ana", "Vidal", "100", "3A", ""))[:300],
		"pas AAF":   "<?xml version=\"1.0\"?><html><body>erreur 502</body></html>",
		"encodage":  strings.Replace(doc(), "UTF-8", "EBCDIC", 1),
		"vide":      "",
		"texte nu ": "ceci n'est pas du XML",
	} {
		t.Run(name, func(t *testing.T) {
			e := setup(t)
			e.importDir(t, write(t, baseExport(t, "20260901")))
			before := e.count(t, `SELECT COUNT(*) FROM persons`)
			files := baseExport(t, "20260902", "E1", "E2", "E3")
			files["ENT_Complet_20260902_Eleve_0001.xml"] = body
			rep, err := e.im.ImportDir(e.ctx, e.k.Sys, write(t, files))
			if !errors.Is(err, aaf.ErrFormat) {
				t.Fatalf("erreur attendue ErrFormat, obtenu %v", err)
			}
			if rep.Status != aaf.StatusFailed || !strings.Contains(rep.Error, "Eleve_0001") {
				t.Errorf("rapport : %s %s", rep.Status, rep.Error)
			}
			// Nothing changed: nobody marked, nobody added.
			if n := e.count(t, `SELECT COUNT(*) FROM persons WHERE removed_at > 0`); n != 0 || e.count(t, `SELECT COUNT(*) FROM persons`) != before {
				t.Errorf("marqués %d, personnes %d (avant %d)", n, e.count(t, `SELECT COUNT(*) FROM persons`), before)
			}
			// The failure is kept in the reports.
			reps, err := e.im.Reports(e.ctx, e.k.Sys, aaf.ReportFilter{})
			failed := 0
			for _, r := range reps {
				if r.Status == aaf.StatusFailed && strings.Contains(r.Error, "fichier AAF illisible") {
					failed++
				}
			}
			if err != nil || len(reps) != 2 || failed != 1 {
				t.Errorf("rapports : %v %+v", err, reps)
			}
		})
	}
}

func TestOnlySuperAdminsImport(t *testing.T) {
	e := setup(t)
	head := e.k.School.Head // a local administrator
	_, err := e.im.ImportDir(e.ctx, actor.Actor{PersonID: head.ID, Login: head.Login}, write(t, baseExport(t, "20260901")))
	if !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("import par un administrateur local : %v", err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM persons WHERE external_id IS NOT NULL`); n != 0 {
		t.Errorf("%d personnes importées", n)
	}
}

func TestGeneratedAcademieFullThenDelta(t *testing.T) {
	e := setup(t)
	o := aaf.GenOptions{Persons: 3000, Schools: 3, Seed: 7, PerFile: 400, ISO8859_15: true}
	full := t.TempDir()
	st, err := aaf.Generate(full, o)
	if err != nil {
		t.Fatal(err)
	}
	rep := e.importDir(t, full)
	if rep.Created != st.Persons() || rep.Rejected != 0 || rep.Warnings != 0 {
		t.Fatalf("créés %d sur %d, rejetés %d, avertissements %d : %+v", rep.Created, st.Persons(), rep.Rejected, rep.Warnings, firstIssues(rep))
	}
	// Generated schools carry their type: two collèges and a lycée.
	if got := e.str(t, `SELECT school_type || '/' || type_code FROM structures WHERE external_id IS NOT NULL ORDER BY external_id`); got != "college/CLG,college/CLG,lycee/LYC" {
		t.Errorf("types des établissements générés : %s", got)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM person_links l JOIN persons p ON p.id = l.parent_id WHERE p.external_id IS NOT NULL`); n != st.Responsables {
		t.Errorf("liens : %d, attendu %d", n, st.Responsables)
	}
	// Logins are unique even though names repeat.
	if n := e.count(t, `SELECT COUNT(DISTINCT login) FROM persons`); n != e.count(t, `SELECT COUNT(*) FROM persons`) {
		t.Error("identifiants en double")
	}
	delta := t.TempDir()
	ds, err := aaf.GenerateDelta(delta, o, 5, "20260915")
	if err != nil {
		t.Fatal(err)
	}
	rep = e.importDir(t, delta)
	if rep.Rejected != 0 || rep.Created == 0 || rep.Marked == 0 || rep.Moved != ds.Teachers || rep.Warnings != 0 {
		t.Errorf("delta : %+v %+v", rep, firstIssues(rep))
	}
	// The directory is consistent: what the incremental rebuild left equals a full rebuild.
	before := e.str(t, `SELECT group_id || person_id FROM group_members WHERE source = 'auto'`)
	if err := e.d.Tx(e.ctx, func(tx *sql.Tx) error { return e.k.App.Services.Directory.RebuildAll(e.ctx, tx) }); err != nil {
		t.Fatal(err)
	}
	if after := e.str(t, `SELECT group_id || person_id FROM group_members WHERE source = 'auto'`); after != before {
		t.Error("les groupes automatiques après le delta diffèrent d'une reconstruction complète")
	}
}

func firstIssues(rep *aaf.Report) []aaf.Issue {
	if len(rep.Issues) > 5 {
		return rep.Issues[:5]
	}
	return rep.Issues
}

func TestSchoolYearRolloverThenImportBuildsTheNewYear(t *testing.T) {
	e := setup(t)
	dir := write(t, baseExport(t, "20260901"))
	e.importDir(t, dir)
	e1 := e.person(t, "E1")
	oldClass := e.str(t, `SELECT g.id FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.person_id = $1 AND g.kind = 'class'`, e1.ID)

	// Only a super administrator closes the whole deployment's year.
	if _, err := e.im.CloseSchoolYear(e.ctx, actor.Actor{PersonID: e.k.School.Head.ID}, ""); !errors.Is(err, actor.ErrForbidden) {
		t.Fatalf("clôture par un administrateur local : %v", err)
	}
	ro, err := e.im.CloseSchoolYear(e.ctx, e.k.Sys, "")
	if err != nil {
		t.Fatal(err)
	}
	// The fixture's 4e A, and the export's 3A, 3B, 2NDE1; pupils E1, E2, E3 and the fixture's two.
	if ro.Classes != 4 || ro.Pupils != 5 {
		t.Errorf("clôture : %+v", ro)
	}
	if got := e.situation(t, "E1"); got != "structures=0690001A classes= parents=R1,R2 children= teaching= auto=" {
		t.Errorf("E1 après la clôture : %s", got)
	}
	// Last year's class is kept, archived.
	if n := e.count(t, `SELECT COUNT(*) FROM groups WHERE id = $1 AND archived`, oldClass); n != 1 {
		t.Error("classe de l'an passé non archivée")
	}
	// The next import builds the new year: new classes, same accounts.
	rep := e.importDir(t, dir)
	if rep.ClassesCreated != 3 || rep.Created != 0 {
		t.Errorf("import après clôture : classes %d, créés %d", rep.ClassesCreated, rep.Created)
	}
	if got := e.situation(t, "E1"); got != "structures=0690001A classes=3A parents=R1,R2 children= teaching= auto=class_profile:Eleve:3A" {
		t.Errorf("E1 dans la nouvelle année : %s", got)
	}
	if e.person(t, "E1").Login != e1.Login || e.str(t, `SELECT g.id FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.person_id = $1 AND g.kind = 'class'`, e1.ID) == oldClass {
		t.Error("E1 doit garder son compte et changer de classe")
	}
}

func TestDropFolderImportsReadyExportsOnly(t *testing.T) {
	e := setup(t)
	drop := t.TempDir()
	put := func(name string, files map[string]string, ready bool) {
		dir := filepath.Join(drop, name)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			t.Fatal(err)
		}
		for n, body := range files {
			if err := os.WriteFile(filepath.Join(dir, n), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if ready {
			if err := os.WriteFile(filepath.Join(dir, aaf.ReadyMarker), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	put("rentree", baseExport(t, "20260901"), true)
	broken := baseExport(t, "20260902")
	broken["ENT_Complet_20260902_Eleve_0000.xml"] = "<ficAlimMENESR><addRequest>"
	put("casse", broken, true)
	put("en-transfert", baseExport(t, "20260903"), false)

	reps, err := e.im.ImportReady(e.ctx, drop)
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 2 {
		t.Fatalf("%d imports", len(reps))
	}
	if n := e.count(t, `SELECT COUNT(*) FROM persons WHERE external_id IS NOT NULL`); n != 7 {
		t.Errorf("%d personnes importées", n)
	}
	list := func(d string) string {
		entries, _ := os.ReadDir(filepath.Join(drop, d))
		var names []string
		for _, x := range entries {
			names = append(names, x.Name()[strings.LastIndex(x.Name(), "-")+1:])
		}
		return strings.Join(names, ",")
	}
	if got := list(aaf.DoneDir) + "|" + list(aaf.FailedDir) + "|" + list(aaf.ClaimedDir); got != "rentree|casse|" {
		t.Errorf("dossiers traités|échecs|en cours : %s", got)
	}
	if _, err := os.Stat(filepath.Join(drop, "en-transfert")); err != nil {
		t.Error("un export sans marqueur doit attendre")
	}
}

// TestStructureType: the AAF's ENTStructureTypeStruct (short codes or long labels, or
// the type written before the name when it is missing) gives the school its type,
// kept with the raw code; a delta changes it, and a change of name alone keeps it.
func TestStructureType(t *testing.T) {
	e := setup(t)
	school := func(j, uai, name, typ string) string {
		attrs := []a{{"ENTStructureJointure", j}, {"ENTStructureUAI", uai}, {"ENTStructureNomCourant", name}, {"l", "LYON"}}
		if typ != "" {
			attrs = append(attrs, a{"ENTStructureTypeStruct", typ})
		}
		return rec("addRequest", "EtabEducNat", j, attrs...)
	}
	rep := e.importDir(t, write(t, map[string]string{"ENT_Complet_20260901_EtabEducNat_0000.xml": doc(
		school("T1", "0690401A", "Cité scolaire Jules Ferry", "CLG"),
		school("T2", "0690402B", "Galois", "LYCEE PROFESSIONNEL"),
		school("T3", "0690403C", "LPO$Ampère$LYON", ""),
		school("T4", "0690404D", "Les Tilleuls", "1ORD"),
		school("T5", "0690405E", "Établissement régional d'enseignement adapté", "EREA"),
		school("T6", "0690406F", "NOM$STRUCTURE$COURANT", ""),
	)}))
	if rep.StructuresCreated != 6 || rep.Rejected != 0 {
		t.Fatalf("rapport : %+v %+v", rep, firstIssues(rep))
	}
	typ := func(uai string) string {
		return e.str(t, `SELECT kind || ':' || school_type || ':' || type_code FROM structures WHERE uai = '`+uai+`'`)
	}
	for uai, want := range map[string]string{"0690401A": "etablissement:college:CLG", "0690402B": "etablissement:lycee_pro:LYCEE PROFESSIONNEL",
		"0690403C": "etablissement:lycee:LPO", "0690404D": "ecole:ecole:1ORD", "0690405E": "etablissement:autre:EREA",
		"0690406F": "etablissement::"} {
		if got := typ(uai); got != want {
			t.Errorf("%s : %s, attendu %s", uai, got, want)
		}
	}
	st, err := e.k.App.Services.Directory.StructureByUAI(e.ctx, "0690401A")
	if err != nil || st.Type != directory.TypeCollege || st.TypeCode != "CLG" {
		t.Errorf("structure lue : %+v %v", st, err)
	}
	rep = e.importDir(t, write(t, map[string]string{"ENT_Delta_20260902_EtabEducNat_0000.xml": doc(
		rec("modifyRequest", "EtabEducNat", "T1", a{"ENTStructureTypeStruct", "LYC"}),
		rec("modifyRequest", "EtabEducNat", "T2", a{"ENTStructureNomCourant", "LYCEE PROFESSIONNEL Évariste Galois"}),
	)}))
	if rep.StructuresUpdated != 2 || rep.Rejected != 0 {
		t.Fatalf("delta : %+v %+v", rep, firstIssues(rep))
	}
	if got := typ("0690401A"); got != "etablissement:lycee:LYC" {
		t.Errorf("type changé par le delta : %s", got)
	}
	if got := typ("0690402B"); got != "etablissement:lycee_pro:LYCEE PROFESSIONNEL" {
		t.Errorf("type après un changement de nom : %s", got)
	}
	for code, want := range map[string]string{"": "", "CLG": "college", "COLLEGE": "college", "LYC": "lycee", "LEGT": "lycee", "LP": "lycee_pro",
		"SEP": "lycee_pro", "ECOLE": "ecole", "ECOLE MATERNELLE": "ecole", "EREA": "autre", "Lycée professionnel": "lycee_pro"} {
		if got := directory.TypeFromAAF(code); got != want {
			t.Errorf("TypeFromAAF(%q) = %q, attendu %q", code, got, want)
		}
	}
}

func TestFirstDegreeExport(t *testing.T) {
	e := setup(t)
	files := map[string]string{
		"ENT_Complet_20260901_EtabEducNat_0000.xml": doc(rec("addRequest", "EtabEducNat", "E300",
			a{"ENTStructureUAI", "0690300K"}, a{"ENTStructureNomCourant", "ECOLE ELEMENTAIRE PUBLIQUE LES TILLEULS"},
			a{"ENTStructureTypeStruct", "ECOLE ELEMENTAIRE"}, a{"ENTEcoleCommune", "BRON"})),
		"ENT_Complet_20260901_Eleve_0000.xml": doc(rec("addRequest", "Eleve", "P1",
			a{"ENTPersonNom", "Roux"}, a{"ENTPersonPrenom", "Maël"}, a{"ENTPersonStructRattach", "E300"},
			a{"ENTPersonClasses", "E300$CM1-A"}, a{"ENTEleveAutoriteParentale", "G1"}, a{"ENTEleveNiveau", "CM1"})),
		"ENT_Complet_20260901_PersRelEleve_0000.xml": doc(rec("addRequest", "PersRelEleve", "G1",
			a{"ENTPersonNom", "Roux"}, a{"ENTPersonPrenom", "Inès"}, a{"ENTPersonMail", "ines.roux@example.org"})),
		"ENT_Complet_20260901_PersEducNat_0000.xml": doc(rec("addRequest", "PersEducNat", "M1",
			a{"ENTPersonNom", "Faure"}, a{"ENTPersonPrenom", "Léo"}, a{"ENTPersonStructRattach", "E300"},
			a{"ENTPersonFonctions", "E300$ENS$ENSEIGNEMENT$$"}, a{"ENTPersonClasses", "E300$CM1-A"})),
	}
	rep := e.importDir(t, write(t, files))
	if rep.Created != 3 || rep.Rejected != 0 || rep.Warnings != 0 {
		t.Fatalf("rapport : %+v", rep)
	}
	if got := e.str(t, `SELECT kind || ':' || name || ':' || city FROM structures WHERE uai = '0690300K'`); got != "ecole:ECOLE ELEMENTAIRE PUBLIQUE LES TILLEULS:BRON" {
		t.Errorf("école : %s", got)
	}
	if got := e.situation(t, "P1"); got != "structures=0690300K classes=CM1-A parents=G1 children= teaching= auto=class_profile:Eleve:CM1-A" {
		t.Errorf("élève : %s", got)
	}
	// The teacher of an école is a teacher of its classes; the parent gets their e-mail.
	if got := e.situation(t, "M1"); got != "structures=0690300K classes= parents= children= teaching=CM1-A/ auto=class_profile:Enseignant:CM1-A" {
		t.Errorf("enseignant : %s", got)
	}
	if p := e.person(t, "M1"); p.Profile != directory.Enseignant {
		t.Errorf("profil : %s", p.Profile)
	}
	if p := e.person(t, "G1"); p.Email != "ines.roux@example.org" || p.Profile != directory.Responsable {
		t.Errorf("responsable : %+v", p)
	}
}

func TestFirstImportOnPostgreSQLChecksItsForeignKeysAtTheEnd(t *testing.T) {
	e := setup(t)
	if e.d.Dialect != db.Postgres {
		t.Skip("PostgreSQL seulement : SQLite vérifie les clés étrangères à la validation")
	}
	var roles []string
	defer aaf.SetKeysHook(func(ctx context.Context, q db.Querier, when string) error {
		var role string
		err := q.QueryRowContext(ctx, `SELECT current_setting('session_replication_role')`).Scan(&role)
		roles = append(roles, when+":"+role)
		return err
	})()
	rep := e.importDir(t, write(t, baseExport(t, "20260901")))
	// Without row-by-row checks while it writes, with them again before the purge.
	if got := strings.Join(roles, ","); got != "avant:replica,après:origin" {
		t.Fatalf("contrôles des clés étrangères pendant l'import : %q", got)
	}
	if rep.Status != aaf.StatusOK || rep.Created != 7 {
		t.Fatalf("rapport : %+v", rep)
	}
}

func TestFirstImportThatBreaksAForeignKeyChangesNothing(t *testing.T) {
	e := setup(t)
	if e.d.Dialect != db.Postgres {
		t.Skip("PostgreSQL seulement : SQLite vérifie les clés étrangères à la validation")
	}
	// A row that refers to no structure, written as the import's own are (without
	// the row-by-row check): the check at the end finds it.
	defer aaf.SetKeysHook(func(ctx context.Context, q db.Querier, when string) error {
		if when != "avant" {
			return nil
		}
		_, err := q.ExecContext(ctx, `INSERT INTO person_structures(person_id, structure_id)
			SELECT id, 'nowhere' FROM persons WHERE external_id IS NOT NULL LIMIT 1`)
		return err
	})()
	before := e.count(t, `SELECT COUNT(*) FROM persons`)
	_, err := e.im.ImportDir(e.ctx, e.k.Sys, write(t, baseExport(t, "20260901")))
	if err == nil || !strings.Contains(err.Error(), "clé étrangère person_structures_structure_id_fkey non respectée") {
		t.Fatalf("import : %v", err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM persons`); n != before {
		t.Errorf("personnes : %d avant, %d après un import en échec", before, n)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM person_structures WHERE structure_id = 'nowhere'`); n != 0 {
		t.Errorf("ligne orpheline gardée : %d", n)
	}
}

// A first import inserts each person's relations without looking for them first:
// relations an export names twice are written once, and a person the export adds,
// deletes and adds again keeps the last of what it says in the structures the AAF
// feeds.
func TestFirstImportWithRepeatedRelationsAndAPersonAddedTwice(t *testing.T) {
	e := setup(t)
	files := baseExport(t, "20260901")
	files["ENT_Complet_20260901_Eleve_0000.xml"] = doc(
		rec("addRequest", "Eleve", "E1", a{"ENTPersonJointure", "E1"}, a{"sn", "Dupré"}, a{"givenName", "Éloïse"},
			a{"ENTPersonDateNaissance", "14/03/2012"}, a{"ENTPersonStructRattach", "100|100"}, a{"ENTEleveClasses", "100$3A|100$3A"},
			a{"ENTElevePersRelEleve", "R1$10$1$1$1$1|R2$10$1$1$1$1"}),
		// E1's brother in the same class: their parent is in the class's parents group once.
		pupil("addRequest", "E3", "Jules", "Dupré", "100", "3A", "R1"),
		pupil("addRequest", "E5", "Léo", "Martin", "100", "3A", ""),
		rec("deleteRequest", "Eleve", "E5"),
		pupil("addRequest", "E5", "Léo", "Martin", "100", "3B", ""))
	files["ENT_Complet_20260901_PersEducNat_0000.xml"] = doc(
		rec("addRequest", "PersEducNat", "T1", a{"ENTPersonJointure", "T1"}, a{"sn", "Durand"}, a{"givenName", "Paul"},
			a{"ENTPersonStructRattach", "100"}, a{"ENTPersonCategorieEnseignant", "O"},
			a{"ENTPersonFonctions", "100$ENS$ENSEIGNEMENT$L1300$MATHEMATIQUES|100$ENS$ENSEIGNEMENT$L1300$MATHEMATIQUES|100$DIR$DIRECTION$$"},
			a{"ENTAuxEnsClassesMatieres", "100$3A$061300|100$3A$061300|100$3B$061300"}))
	rep := e.importDir(t, write(t, files))
	if rep.Status != aaf.StatusOK {
		t.Fatalf("rapport : %+v", rep)
	}
	for j, want := range map[string]string{
		"E1": "structures=0690001A classes=3A parents=R1,R2 children= teaching= auto=class_profile:Eleve:3A",
		"R1": "structures=0690001A classes= parents= children=E1,E3 teaching= auto=class_profile:Responsable:3A",
		"E5": "structures=0690001A classes=3B parents= children= teaching= auto=class_profile:Eleve:3B",
		"T1": "structures=0690001A classes= parents= children= teaching=3A/MATHEMATIQUES,3B/MATHEMATIQUES auto=class_profile:Enseignant:3A,class_profile:Enseignant:3B",
	} {
		if got := e.situation(t, j); got != want {
			t.Errorf("%s : %s, attendu %s", j, got, want)
		}
	}
	if n := e.count(t, `SELECT COUNT(*) FROM persons WHERE external_id = 'E5' AND removed_at = 0`); n != 1 {
		t.Error("E5, ajouté de nouveau, reste marqué pour suppression")
	}
	if got := e.str(t, `SELECT f.code FROM person_functions f JOIN persons p ON p.id = f.person_id WHERE p.external_id = 'T1'`); got != "DIR,ENS" {
		t.Errorf("fonctions de T1 : %s", got)
	}
}

// A first import computes the family links, the responsables' structures and the
// automatic memberships itself; a later import, the directory's set-wise steps. The
// same export gives the same directory either way, warnings included.
func TestFirstImportWritesWhatTheSetWiseStepsWould(t *testing.T) {
	export := t.TempDir()
	o := aaf.GenOptions{Persons: 2000, Schools: 2, Seed: 11, PerFile: 300}
	if _, err := aaf.Generate(export, o); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(export)
	if err != nil {
		t.Fatal(err)
	}
	date := strings.Split(entries[0].Name(), "_")[2]
	school := e2eSchool(t, export)
	// Links to persons the export lacks, a responsable without a known child, a
	// pupil who names a teacher as responsable, siblings in one class.
	extra := map[string]string{
		"ENT_Complet_" + date + "_Eleve_9999.xml": doc(
			pupil("addRequest", "XE1", "Lou", "Garnier", school, "ZZ1", "XR1,XR404,XT1"),
			pupil("addRequest", "XE2", "Tom", "Garnier", school, "ZZ1", "XR1"),
			// Added, deleted and added again: what the first record gave in the
			// collège made by hand (found by its UAI) stays, as does its link.
			rec("addRequest", "Eleve", "XE7", a{"ENTPersonJointure", "XE7"}, a{"sn", "Caron"}, a{"givenName", "Léna"},
				a{"ENTPersonDateNaissance", "02/05/2011"}, a{"ENTPersonStructRattach", school + "|0690001A"},
				a{"ENTEleveClasses", school + "$ZZ1|0690001A$3Z"}, a{"ENTElevePersRelEleve", "XR1$10$1$1$1$1"}),
			rec("deleteRequest", "Eleve", "XE7"),
			pupil("addRequest", "XE7", "Léna", "Caron", school, "ZZ2", "XR2")),
		"ENT_Complet_" + date + "_PersRelEleve_9999.xml": doc(
			resp("XR1", "Inès", "Garnier", "XE1,XE404"),
			resp("XR2", "Marc", "Seul", "XE405"),
			resp("XR6", "Jo", "Seul", "XE406")),
		"ENT_Complet_" + date + "_PersEducNat_9999.xml": doc(
			teacher("XT1", "Yves", "Roche", school, school+"$ZZ1$061300")),
	}
	for name, body := range extra {
		if err := os.WriteFile(filepath.Join(export, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	first := setup(t)
	firstRep := first.importDir(t, export)
	later := setup(t)
	later.importDir(t, write(t, map[string]string{
		"ENT_Complet_20260801_EtabEducNat_0000.xml": doc(etab("900", "0690900K", "COLLEGE$Ailleurs$Bron")),
		"ENT_Complet_20260801_PersEducNat_0000.xml": doc(teacher("T900", "Rémi", "Avant", "900", "")),
	}))
	laterRep := later.importDir(t, export)
	if firstRep.Created != laterRep.Created || firstRep.Links != laterRep.Links || firstRep.Links == 0 {
		t.Fatalf("créés %d et %d, liens %d et %d", firstRep.Created, laterRep.Created, firstRep.Links, laterRep.Links)
	}
	issues := func(rep *aaf.Report) string {
		var out []string
		for _, x := range rep.Issues {
			out = append(out, x.Severity+" "+x.Jointure+" "+x.Reason)
		}
		sort.Strings(out)
		return strings.Join(out, "\n")
	}
	if a, b := issues(firstRep), issues(laterRep); a != b || !strings.Contains(a, "responsable XR404 introuvable") ||
		!strings.Contains(a, "élève XE404 introuvable") || !strings.Contains(a, "XR6 responsable sans élève connu") {
		t.Errorf("signalements du premier import :\n%s\nd'un import suivant :\n%s", a, b)
	}
	if got := first.situation(t, "XR1"); !strings.Contains(got, "children=XE1,XE2,XE7 ") || !strings.Contains(got, "class_profile:Responsable:ZZ1") {
		t.Errorf("XR1 : %s", got)
	}
	if got := first.situation(t, "XE7"); !strings.HasPrefix(got, "structures=0690001A,") || !strings.Contains(got, "classes=3Z,ZZ2 parents=XR1,XR2 ") {
		t.Errorf("XE7 : %s", got)
	}
	const ours = `p.external_id IS NOT NULL AND p.external_id <> 'T900'`
	for what, q := range map[string]string{
		"liens": `SELECT p.external_id || '>' || c.external_id FROM person_links l JOIN persons p ON p.id = l.parent_id
			JOIN persons c ON c.id = l.child_id WHERE ` + ours,
		"établissements": `SELECT p.external_id || '@' || s.uai FROM person_structures ps JOIN persons p ON p.id = ps.person_id
			JOIN structures s ON s.id = ps.structure_id WHERE ` + ours,
		"appartenances": `SELECT p.external_id || ' ' || m.source || ' ' || g.kind || ' ' || g.profile || ' ' || g.name FROM group_members m
			JOIN persons p ON p.id = m.person_id JOIN groups g ON g.id = m.group_id WHERE ` + ours,
		"relus": `SELECT p.external_id FROM aaf_persons a JOIN persons p ON p.id = a.person_id WHERE a.checksum = '' AND ` + ours,
	} {
		a, b := first.str(t, q), later.str(t, q)
		if a != b || a == "" {
			t.Errorf("%s : premier import et import suivant diffèrent (%d et %d caractères)", what, len(a), len(b))
		}
	}
}

// e2eSchool returns the jointure of a structure of a generated export.
func e2eSchool(t *testing.T, dir string) string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "*EtabEducNat*"))
	if err != nil || len(matches) == 0 {
		t.Fatalf("fichier des établissements : %v", err)
	}
	body, err := os.ReadFile(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(body), "<identifier><id>")
	id, _, _ := strings.Cut(rest, "</id>")
	if id == "" {
		t.Fatal("aucun établissement dans l'export généré")
	}
	return id
}
