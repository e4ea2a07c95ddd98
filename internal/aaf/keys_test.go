package aaf

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/commrules"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
)

func migrated(t *testing.T) *db.DB {
	t.Helper()
	d := db.ForTest(t)
	if err := d.Migrate(context.Background(), directory.Migrations, commrules.Migrations, Migrations); err != nil {
		t.Fatal(err)
	}
	return d
}

// inTx runs fn in a transaction that is rolled back.
func inTx(t *testing.T, d *db.DB, fn func(tx *sql.Tx)) {
	t.Helper()
	tx, err := d.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	fn(tx)
}

// inConnTx runs fn in a transaction on a connection of its own, as an import does.
func inConnTx(t *testing.T, d *db.DB, fn func(conn *sql.Conn, tx *sql.Tx)) {
	t.Helper()
	conn, err := d.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	fn(conn, tx)
}

func TestCheckKeysFindsARowThatRefersToNothing(t *testing.T) {
	d := migrated(t)
	if d.Dialect != db.Postgres {
		t.Skip("PostgreSQL seulement : SQLite vérifie les clés étrangères à la validation (DeferForeignKeys)")
	}
	ctx := context.Background()
	write := func(tx *sql.Tx, stmts ...string) {
		t.Helper()
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				t.Fatalf("%s : %v", s, err)
			}
		}
	}
	school := `INSERT INTO structures(id, kind, name, created_at) VALUES ('s1', 'etablissement', 'Collège', 0)`
	person := `INSERT INTO persons(id, login, first_name, last_name, first_key, last_key, profile, created_at, updated_at)
		VALUES ('p1', 'ana.diaz', 'Ana', 'Diaz', 'ana', 'diaz', 'Eleve', 0, 0)`
	// Rows that refer to what exists: the check passes.
	inTx(t, d, func(tx *sql.Tx) {
		write(tx, `SET LOCAL session_replication_role = replica`, school, person,
			`INSERT INTO person_structures(person_id, structure_id) VALUES ('p1', 's1')`)
		if err := checkKeys(ctx, tx); err != nil {
			t.Fatalf("clés respectées, vérification en échec : %v", err)
		}
	})
	// Written without the row-by-row check, a link to a structure that does not
	// exist is found at the end.
	inTx(t, d, func(tx *sql.Tx) {
		write(tx, `SET LOCAL session_replication_role = replica`, school, person,
			`INSERT INTO person_structures(person_id, structure_id) VALUES ('p1', 'nowhere')`)
		err := checkKeys(ctx, tx)
		if err == nil || !strings.Contains(err.Error(), "person_structures_structure_id_fkey") {
			t.Fatalf("clé non respectée non détectée : %v", err)
		}
	})
	// A structure made before the import, which the import's rows refer to, cannot
	// be deleted by another transaction between the check and the commit.
	if _, err := d.ExecContext(ctx, `INSERT INTO structures(id, kind, name, created_at) VALUES ('s0', 'etablissement', 'École', 0)`); err != nil {
		t.Fatal(err)
	}
	inTx(t, d, func(tx *sql.Tx) {
		write(tx, `SET LOCAL session_replication_role = replica`, person,
			`INSERT INTO person_structures(person_id, structure_id) VALUES ('p1', 's0')`)
		if err := checkKeys(ctx, tx); err != nil {
			t.Fatal(err)
		}
		inTx(t, d, func(other *sql.Tx) {
			write(other, `SET LOCAL lock_timeout = '200ms'`)
			if _, err := other.ExecContext(ctx, `DELETE FROM structures WHERE id = 's0'`); err == nil || !strings.Contains(err.Error(), "55P03") {
				t.Fatalf("structure référencée supprimée pendant l'import : %v", err)
			}
		})
	})
	// The checks are back on after checkKeys.
	inTx(t, d, func(tx *sql.Tx) {
		write(tx, `SET LOCAL session_replication_role = replica`, school)
		if err := checkKeys(ctx, tx); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO person_structures(person_id, structure_id) VALUES ('nobody', 's1')`); err == nil {
			t.Fatal("les contrôles ligne à ligne ne sont pas rétablis")
		}
	})
}

func TestOnlyAPrivilegedRoleSkipsTheRowByRowChecks(t *testing.T) {
	d := migrated(t)
	if d.Dialect != db.Postgres {
		t.Skip("PostgreSQL seulement")
	}
	ctx := context.Background()
	// The tests' role is a superuser.
	inTx(t, d, func(tx *sql.Tx) {
		may, err := mayUncheckKeys(ctx, tx)
		if err != nil || !may {
			t.Fatalf("superutilisateur : %v, %v", may, err)
		}
	})
	// A role without the right runs the import with the checks.
	role := "preau_test_no_rights_" + strings.ToLower(ids.Random(8))
	if _, err := d.ExecContext(ctx, `CREATE ROLE `+role+` NOLOGIN`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.ExecContext(ctx, `DROP ROLE IF EXISTS `+role) })
	inTx(t, d, func(tx *sql.Tx) {
		if _, err := tx.ExecContext(ctx, `SET LOCAL ROLE `+role); err != nil {
			t.Fatal(err)
		}
		may, err := mayUncheckKeys(ctx, tx)
		if err != nil || may {
			t.Fatalf("rôle sans droit : %v, %v", may, err)
		}
	})
	// Nor in a transaction that keeps one snapshot (the check would not see what
	// others deleted meanwhile).
	tx, err := d.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
	if err != nil {
		t.Fatal(err)
	}
	may, err := mayUncheckKeys(ctx, tx)
	tx.Rollback()
	if err != nil || may {
		t.Fatalf("REPEATABLE READ : %v, %v", may, err)
	}
	// Nor when a table the import writes has a trigger of its own ("replica" would
	// turn it off).
	inTx(t, d, func(tx *sql.Tx) {
		for _, s := range []string{
			`CREATE FUNCTION preau_test_nothing() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`,
			`CREATE TRIGGER preau_test_nothing BEFORE INSERT ON comm_rules FOR EACH ROW EXECUTE FUNCTION preau_test_nothing()`,
		} {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		may, err := mayUncheckKeys(ctx, tx)
		if err != nil || may {
			t.Fatalf("déclencheur présent : %v, %v", may, err)
		}
	})
}

func TestABatchThatFailsInTheBackgroundFailsTheRun(t *testing.T) {
	d := migrated(t)
	ctx := context.Background()
	inConnTx(t, d, func(conn *sql.Conn, tx *sql.Tx) {
		b := newBulk(conn, tx, d.Dialect, "2026-2027")
		defer b.close()
		b.firstImport()
		for range 2 {
			// The same person twice: the second row conflicts.
			if err := b.add(ctx, b.persons, "p1", "j1", "ana.diaz", "Ana", "Diaz", "ana", "diaz", "Eleve", "", "", "pending", 0, 0); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.flush(ctx); err != nil {
			t.Fatalf("l'écriture part en arrière-plan ; erreur immédiate : %v", err)
		}
		q := syncedTx{tx, b}
		_, err := q.ExecContext(ctx, `SELECT 1`)
		if err == nil || !strings.Contains(err.Error(), "INSERT INTO persons") {
			t.Fatalf("l'instruction suivante ne rend pas l'erreur du lot : %v", err)
		}
		if again := b.wait(); again != err {
			t.Fatalf("erreur du lot non conservée : %v", again)
		}
	})
}
