package aaf_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/aaf"
	"github.com/preau-ent/preau/internal/platform/db"
)

// nightExport is the base export a month later: the teacher moved, E2 left, a new
// pupil arrived with a known responsable, E1 is listed twice, and a responsable's
// record changed.
func nightExport(t *testing.T) map[string]string {
	files := baseExport(t, "20261001", "E2")
	files["ENT_Complet_20261001_Eleve_0000.xml"] = doc(
		pupil("addRequest", "E1", "Éloïse", "Dupré", "100", "3A", "R1,R2"),
		pupil("addRequest", "E3", "Jules", "Dupré", "200", "2NDE1", "R1"),
		pupil("addRequest", "E1", "Éloïse", "Dupré", "100", "3B", "R1"),
		pupil("addRequest", "E5", "Inès", "Roux", "100", "3B", "R2"))
	files["ENT_Complet_20261001_PersRelEleve_0000.xml"] = doc(
		resp("R1", "Anne", "Dupré-Morel", "E1,E3"),
		resp("R2", "Marc", "Dupré", "E1,E5"))
	files["ENT_Complet_20261001_PersEducNat_0000.xml"] = doc(
		teacher("T1", "Paul", "Durand", "200", "200$2NDE1$061300"),
		rec("addRequest", "PersEducNat", "S1", a{"ENTPersonJointure", "S1"}, a{"sn", "Bernard"}, a{"givenName", "Claire"},
			a{"ENTPersonStructRattach", "100"}, a{"ENTPersonCategorieEnseignant", "N"}, a{"ENTPersonFonctions", "100$DIR$DIRECTION$$"}))
	return files
}

// outcome is what an import did and the directory it left, as text.
func (e *env) outcome(t *testing.T, rep *aaf.Report) string {
	t.Helper()
	var issues []string
	for _, x := range rep.Issues {
		issues = append(issues, fmt.Sprintf("%s %s %s %d %s", x.Severity, x.File, x.Jointure, x.Record, x.Reason))
	}
	sort.Strings(issues)
	var people []string
	for _, j := range []string{"E1", "E2", "E3", "E5", "R1", "R2", "T1", "S1"} {
		p := e.person(t, j)
		people = append(people, fmt.Sprintf("%s %s %s %s marked=%v %s", j, p.Login, p.LastName, p.State, e.count(t,
			`SELECT COUNT(*) FROM persons WHERE external_id = $1 AND removed_at > 0`, j) == 1, e.situation(t, j)))
	}
	var files []string
	for _, f := range rep.Files {
		files = append(files, fmt.Sprintf("%s=%d", f.Name, f.Records))
	}
	return fmt.Sprintf("created=%d updated=%d moved=%d unchanged=%d marked=%d restored=%d rejected=%d warnings=%d links=%d files=%s\n%s\n%s",
		rep.Created, rep.Updated, rep.Moved, rep.Unchanged, rep.Marked, rep.Restored, rep.Rejected, rep.Warnings, rep.Links,
		strings.Join(files, ","), strings.Join(issues, "\n"), strings.Join(people, "\n"))
}

// A full export read before its transaction leaves the directory and the report
// exactly as the same export read inside it.
func TestPrescanAgreesWithReadingInTheTransaction(t *testing.T) {
	var outcomes []string
	for _, from := range []int{1, 1 << 30} {
		e := setup(t)
		e.prescanFrom = from
		e.importer(e.now)
		e.importDir(t, write(t, baseExport(t, "20260901")))
		rep := e.importDir(t, write(t, nightExport(t)))
		if rep.Unchanged == 0 || rep.Created != 1 || rep.Marked != 1 || rep.Rejected != 1 {
			t.Errorf("prescan à partir de %d : inchangés %d, créés %d, marqués %d, rejetés %d", from, rep.Unchanged, rep.Created, rep.Marked, rep.Rejected)
		}
		outcomes = append(outcomes, e.outcome(t, rep))
	}
	if outcomes[0] != outcomes[1] {
		t.Errorf("lu avant la transaction :\n%s\n\nlu dans la transaction :\n%s", outcomes[0], outcomes[1])
	}
}

// When another import commits between the prescan and the transaction, what the
// prescan saw may be out of date: the transaction reads the files again.
func TestPrescanOutOfDateReadsTheFilesAgain(t *testing.T) {
	e := setup(t)
	e.importDir(t, write(t, baseExport(t, "20260901")))
	// In between, a delta renames S1: the prescan saw S1 unchanged against the old
	// record, which the night's export (the old name) must now restore.
	delta := write(t, map[string]string{"ENT_Delta_20260920_PersEducNat_0000.xml": doc(
		rec("modifyRequest", "PersEducNat", "S1", a{"sn", "Bernard-Léger"}))})
	ran := false
	reset := aaf.SetAfterPrescan(func() {
		if !ran {
			ran = true
			e.importDir(t, delta)
		}
	})
	defer reset()
	rep := e.importDir(t, write(t, nightExport(t)))
	if !ran {
		t.Fatal("le delta n'a pas été importé entre la lecture et la transaction")
	}
	if got := e.person(t, "S1").LastName; got != "Bernard" {
		t.Errorf("S1 : %q, attendu le nom de l'export de la nuit", got)
	}
	if rep.Created != 1 || rep.Marked != 1 || rep.Rejected != 1 || rep.Files[2].Records == 0 {
		t.Errorf("créés %d, marqués %d, rejetés %d, fichiers %+v", rep.Created, rep.Marked, rep.Rejected, rep.Files)
	}
	var total int
	for _, f := range rep.Files {
		total += f.Records
	}
	if total != 11 {
		t.Errorf("enregistrements comptés : %d, attendu 11 (une seule lecture comptée)", total)
	}
}

// A first import that builds the persons' secondary indexes (and, on SQLite, the
// memberships' by person) at the end leaves the same directory as one that keeps them
// as it goes, and the indexes are there.
func TestBulkLoadBuildsIndexesAtTheEnd(t *testing.T) {
	var outcomes []string
	for _, from := range []int{2, 1 << 30} {
		e := setup(t)
		e.bulkFrom = from
		e.importer(e.now)
		e.importDir(t, write(t, baseExport(t, "20260901")))
		rep := e.importDir(t, write(t, nightExport(t)))
		outcomes = append(outcomes, e.outcome(t, rep))
		if e.d.Dialect == db.SQLite {
			if n := e.count(t, `SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'persons'
				AND name IN ('persons_last_key', 'persons_first_key', 'persons_profile', 'persons_removed', 'account_persons_email')`); n != 5 {
				t.Errorf("index des personnes après l'import : %d sur 5", n)
			}
			if n := e.count(t, `SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND name = 'group_members_person'`); n != 1 {
				t.Error("l'index des appartenances par personne manque après l'import")
			}
		}
	}
	if outcomes[0] != outcomes[1] {
		t.Errorf("index construits à la fin :\n%s\n\nindex tenus à jour :\n%s", outcomes[0], outcomes[1])
	}
}
