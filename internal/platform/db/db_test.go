package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestSplitStatementsKeepsTriggersAndFunctionsWhole(t *testing.T) {
	src := `-- a comment
CREATE TABLE a (id TEXT PRIMARY KEY, n INTEGER);

CREATE TRIGGER a_ins AFTER INSERT ON a BEGIN
  UPDATE a SET n = 1 WHERE id = new.id;
  UPDATE a SET n = n + 1 WHERE id = new.id;
END;

CREATE FUNCTION f() RETURNS trigger AS $$
BEGIN
  NEW.n := 2;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE INDEX a_n ON a(n);
`
	got := splitStatements(src)
	if len(got) != 4 {
		t.Fatalf("%d statements: %q", len(got), got)
	}
	if got[1][len(got[1])-3:] != "END" || got[3] != "CREATE INDEX a_n ON a(n)" {
		t.Fatalf("statements: %q", got)
	}
}

func TestMigrationVersion(t *testing.T) {
	for name, want := range map[string][2]string{
		"0001_init.sql":            {"0001_init", ""},
		"0003_search.sqlite.sql":   {"0003_search", "sqlite"},
		"0003_search.postgres.sql": {"0003_search", "postgres"},
	} {
		v, d := migrationVersion(name)
		if !reflect.DeepEqual([2]string{v, string(d)}, want) {
			t.Errorf("%s: %s %s", name, v, d)
		}
	}
}

// Each engine runs the common files and its own half of a dialect-specific one, and
// records the version once.
func TestMigrateDialectFiles(t *testing.T) {
	ctx := context.Background()
	d := ForTest(t)
	set := Migrations{Name: "essai", FS: fstest.MapFS{
		"0001_t.sql": {Data: []byte("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0);\n")},
		"0002_trigger.sqlite.sql": {Data: []byte(`CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN
  UPDATE t SET n = 7 WHERE id = new.id;
END;
`)},
		"0002_trigger.postgres.sql": {Data: []byte(`CREATE FUNCTION t_seven() RETURNS trigger AS $$
BEGIN
  NEW.n := 7;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER t_ins BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION t_seven();
`)},
	}}
	for range 2 { // the second run applies nothing
		if err := d.Migrate(ctx, set); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.ExecContext(ctx, `INSERT INTO t(id) VALUES ('x')`); err != nil {
		t.Fatal(err)
	}
	var n, versions int
	if err := d.QueryRowContext(ctx, `SELECT n FROM t WHERE id='x'`).Scan(&n); err != nil || n != 7 {
		t.Fatalf("n=%d err=%v", n, err)
	}
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE service='essai'`).Scan(&versions); err != nil || versions != 2 {
		t.Fatalf("versions=%d err=%v", versions, err)
	}
}

// On PostgreSQL, every column that holds an identifier is compared byte by byte
// after a migration run, in the services' tables and in a table a later migration
// adds; the others keep the database's collation.
func TestMigrateCollatesIdentifiers(t *testing.T) {
	d := ForTest(t)
	if d.Dialect != Postgres {
		t.Skip("PostgreSQL only (PREAU_TEST_POSTGRES)")
	}
	ctx := context.Background()
	fs := fstest.MapFS{
		"0001_t.sql": {Data: []byte(`CREATE TABLE owners (id TEXT PRIMARY KEY, name TEXT NOT NULL, code TEXT UNIQUE);

CREATE TABLE things (id TEXT PRIMARY KEY, owner_id TEXT NOT NULL REFERENCES owners(id),
    created_by TEXT NOT NULL, successor TEXT REFERENCES things(id), owner_code TEXT REFERENCES owners(code),
    title TEXT NOT NULL);

CREATE INDEX things_owner ON things(owner_id);
`)},
	}
	type column struct{ name, collation string }
	collations := func() map[string]string {
		rows, err := d.QueryContext(ctx, `SELECT table_name || '.' || column_name, COALESCE(collation_name, '')
			FROM information_schema.columns WHERE table_schema = current_schema() AND table_name IN ('owners', 'things', 'later')`)
		cols, err := Collect(rows, err, func(r Scanner) (c column, err error) { return c, r.Scan(&c.name, &c.collation) })
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, c := range cols {
			got[c.name] = c.collation
		}
		return got
	}
	if err := d.Migrate(ctx, Migrations{Name: "essai", FS: fs}); err != nil {
		t.Fatal(err)
	}
	// An upgrade: a table with rows and statistics whose id is under the default.
	for _, q := range []string{
		`ALTER TABLE things ALTER COLUMN owner_id TYPE TEXT COLLATE "default"`,
		`INSERT INTO owners(id, name) VALUES ('o', 'O')`,
		`INSERT INTO things(id, owner_id, created_by, title) VALUES ('t', 'o', 'p', 'T')`,
		`ANALYZE things`,
	} {
		if _, err := d.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	fs["0002_later.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE later (thing_id TEXT NOT NULL, note TEXT NOT NULL);\n")}
	for range 2 { // the second run has nothing left to change
		if err := d.Migrate(ctx, Migrations{Name: "essai", FS: fs}); err != nil {
			t.Fatal(err)
		}
	}
	got := collations()
	for col, want := range map[string]string{
		"owners.id": "C", "owners.name": "", "owners.code": "C", "things.owner_code": "C", "things.id": "C", "things.owner_id": "C", "things.created_by": "C",
		"things.successor": "C", "things.title": "", "later.thing_id": "C", "later.note": "",
	} {
		if got[col] != want {
			t.Errorf("%s: collation %q, want %q (all: %v)", col, got[col], want, got)
		}
	}
	// The table with rows has its statistics again (a column whose type changes
	// loses them); the new, empty one is left never analyzed (see collateIdentifiers).
	var withStats int
	var laterTuples float64
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'things' AND attname = 'owner_id'`).Scan(&withStats); err != nil {
		t.Fatal(err)
	}
	// reltuples is -1 for a table never analyzed nor vacuumed (PostgreSQL 14 and later).
	if err := d.QueryRowContext(ctx, `SELECT reltuples FROM pg_class WHERE oid = 'later'::regclass`).Scan(&laterTuples); err != nil {
		t.Fatal(err)
	}
	if withStats != 1 || laterTuples >= 0 {
		t.Errorf("statistics of things.owner_id: %d; rows of later as the planner knows them: %v", withStats, laterTuples)
	}
	// The join by owner uses the index, which is in the collation of the comparison.
	if _, err := d.ExecContext(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	rows, err := d.QueryContext(ctx, `EXPLAIN SELECT t.title FROM owners o JOIN things t ON t.owner_id = o.id WHERE o.id = 'x'`)
	lines, err := Collect(rows, err, func(r Scanner) (line string, err error) { return line, r.Scan(&line) })
	if err != nil {
		t.Fatal(err)
	}
	if plan := strings.Join(lines, "\n"); !strings.Contains(plan, "Index Cond: (owner_id") {
		t.Errorf("the join does not look the owner up in things_owner:\n%s", plan)
	}
}

// Analyze leaves SQLite the per-index statistics only: the per-value samples would
// make it prepare parameterized statements again on every execution.
func TestAnalyzeKeepsNoValueSamples(t *testing.T) {
	ctx := context.Background()
	d := ForTest(t)
	if d.Dialect != SQLite {
		t.Skip("SQLite statistics")
	}
	if _, err := d.ExecContext(ctx, `CREATE TABLE p (id INTEGER PRIMARY KEY, k TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, `CREATE INDEX p_k ON p(k)`); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 2000)
		INSERT INTO p(id, k) SELECT i, 'k' || (i % 7) FROM n`); err != nil {
		t.Fatal(err)
	}
	if err := d.Analyze(ctx); err != nil {
		t.Fatal(err)
	}
	var stat1, stat4 int
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_stat1`).Scan(&stat1); err != nil || stat1 == 0 {
		t.Fatalf("sqlite_stat1: %d rows, %v", stat1, err)
	}
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_stat4`).Scan(&stat4); err != nil || stat4 != 0 {
		t.Fatalf("sqlite_stat4: %d rows, %v", stat4, err)
	}
}

func TestCheckpointLaterEmptiesTheLogWithoutHoldingWriters(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/c.db"
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	conn, err := d.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A large write whose commit does not copy the log (as an import's).
	if _, err := conn.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 0`); err != nil {
		t.Fatal(err)
	}
	err = TxOn(ctx, conn, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE big (n INTEGER, s TEXT)`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 20000)
			INSERT INTO big SELECT n, printf('%0200d', n) FROM c`)
		return err
	})
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	d.CheckpointLater()
	// A writer meanwhile is not held up by it.
	if _, err := d.ExecContext(ctx, `INSERT INTO big VALUES (0, 'x')`); err != nil {
		t.Fatal(err)
	}
	d.WaitCheckpoint()
	var busy, logPages, done int
	if err := d.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logPages, &done); err != nil {
		t.Fatal(err)
	}
	if done != logPages {
		t.Fatalf("journal : %d pages, %d reportées", logPages, done)
	}
	// Once all of it is in the database and no reader uses it, the log is emptied:
	// the next writer starts a new one instead of appending to the import's.
	d.CheckpointLater()
	d.WaitCheckpoint()
	if fi, err := os.Stat(path + "-wal"); err != nil {
		t.Fatal(err)
	} else if fi.Size() != 0 {
		t.Fatalf("journal non vidé : %d octets", fi.Size())
	}
	var n int
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM big`).Scan(&n); err != nil || n != 20001 {
		t.Fatalf("%d lignes, %v", n, err)
	}
}

func TestReadAllGivesTheConnectionItsCacheBack(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, t.TempDir()+"/r.db")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.SetMaxOpenConns(1) // the same connection each time
	var during, after int
	err = d.ReadAll(ctx, func(q Querier) error {
		return q.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&during)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if during != -2048 || after != -sqliteCacheKiB {
		t.Fatalf("cache pendant %d, après %d", during, after)
	}
}

func TestInsertRowsSplitsLongLists(t *testing.T) {
	ctx := context.Background()
	d := ForTest(t)
	if _, err := d.ExecContext(ctx, `CREATE TABLE r (a INTEGER PRIMARY KEY, b TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	// More rows than one statement takes (maxInsertArgs / 2), and one already there.
	if _, err := d.ExecContext(ctx, `INSERT INTO r VALUES (7, 'déjà')`); err != nil {
		t.Fatal(err)
	}
	n := maxInsertArgs
	err := d.Dialect.InsertRows(ctx, d, `INSERT INTO r(a, b)`, `ON CONFLICT DO NOTHING`, 2, n, func(i int) []any { return []any{i, fmt.Sprint("ligne ", i)} })
	if err != nil {
		t.Fatal(err)
	}
	var count int
	var seven, last string
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*), (SELECT b FROM r WHERE a = 7), (SELECT b FROM r WHERE a = $1) FROM r`, n-1).Scan(&count, &seven, &last); err != nil {
		t.Fatal(err)
	}
	if count != n || seven != "déjà" || last != fmt.Sprint("ligne ", n-1) {
		t.Fatalf("%d lignes, %q, %q", count, seven, last)
	}
}

func TestIgnoringConflicts(t *testing.T) {
	for in, want := range map[string]string{
		"INSERT INTO t(a) VALUES ($1) ON CONFLICT DO NOTHING":                                "INSERT OR IGNORE INTO t(a) VALUES ($1) ",
		"\n\tINSERT INTO t(a)\n\t\tSELECT a FROM u WHERE true\n\t\tON CONFLICT DO NOTHING\n": "INSERT OR IGNORE INTO t(a)\n\t\tSELECT a FROM u WHERE true\n\t\t",
	} {
		if got := SQLite.IgnoringConflicts(in); got != want {
			t.Errorf("SQLite : %q → %q, attendu %q", in, got, want)
		}
		if got := Postgres.IgnoringConflicts(in); got != in {
			t.Errorf("PostgreSQL : %q → %q", in, got)
		}
	}
	for _, bad := range []string{"INSERT INTO t(a) VALUES ($1)", "UPDATE t SET a = 1 ON CONFLICT DO NOTHING", "INSERT INTO t(a) SELECT xON CONFLICT DO NOTHING"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%q : une instruction qui n'ignore pas les conflits doit être refusée", bad)
				}
			}()
			SQLite.IgnoringConflicts(bad)
		}()
	}
}

// A row that breaks a foreign key, written by a statement made with
// IgnoringConflicts in a transaction that defers its foreign keys, fails the
// transaction: nothing of it is kept, on either engine.
func TestDeferredForeignKeysFailTheCommit(t *testing.T) {
	ctx := context.Background()
	d := ForTest(t)
	for _, q := range []string{`CREATE TABLE parent (id TEXT PRIMARY KEY)`,
		`CREATE TABLE child (id TEXT PRIMARY KEY, parent_id TEXT NOT NULL REFERENCES parent(id))`,
		`INSERT INTO parent VALUES ('p')`} {
		if _, err := d.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	var insertErr error
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if err := d.Dialect.DeferForeignKeys(ctx, tx); err != nil {
			return err
		}
		_, insertErr = tx.ExecContext(ctx, d.Dialect.IgnoringConflicts(`INSERT INTO child(id, parent_id)
			SELECT 'a', 'p' UNION ALL SELECT 'b', 'personne' ON CONFLICT DO NOTHING`))
		return insertErr
	})
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "foreign key") {
		t.Fatalf("erreur %v, attendu : clé étrangère", err)
	}
	if d.Dialect == SQLite && insertErr != nil {
		t.Errorf("SQLite : l'insertion échoue d'elle-même (%v) : la vérification devait attendre la validation", insertErr)
	}
	var n int
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM child`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d lignes gardées (%v)", n, err)
	}
}

// A panic inside a transaction rolls it back: the next transaction writes at once
// (on SQLite, an abandoned one would hold the only writer until the process ends).
func TestPanicInTransactionRollsBack(t *testing.T) {
	ctx := context.Background()
	d := ForTest(t)
	if _, err := d.ExecContext(ctx, `CREATE TABLE p (a INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("la panique doit être transmise")
			}
		}()
		_ = d.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO p VALUES (1)`); err != nil {
				return err
			}
			panic("erreur de programmation")
		})
	}()
	wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	err := d.Tx(wctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(wctx, `INSERT INTO p VALUES (2)`)
		return err
	})
	if err != nil {
		t.Fatalf("transaction suivante : %v", err)
	}
	var n int
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM p`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d lignes (%v) : la ligne de la transaction interrompue doit être annulée", n, err)
	}
}

// A writer that waits past its busy timeout for another's transaction gets an error
// IsBusy recognizes; other errors are not "busy".
func TestIsBusy(t *testing.T) {
	ctx := context.Background()
	d := ForTest(t)
	if d.Dialect != SQLite {
		t.Skip("SQLite's lock")
	}
	if _, err := d.ExecContext(ctx, `CREATE TABLE t (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	holder, err := d.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	defer holder.ExecContext(ctx, `ROLLBACK`)
	waiter, err := d.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer waiter.Close()
	if _, err := waiter.ExecContext(ctx, `PRAGMA busy_timeout = 50`); err != nil {
		t.Fatal(err)
	}
	_, err = waiter.ExecContext(ctx, `INSERT INTO t VALUES (1)`)
	if err == nil || !IsBusy(fmt.Errorf("ouverture de session : %w", err)) {
		t.Fatalf("IsBusy(%v) = false", err)
	}
	_, err = waiter.ExecContext(ctx, `INSERT INTO nowhere VALUES (1)`)
	if err == nil || IsBusy(err) || IsBusy(errors.New("database is locked")) {
		t.Errorf("IsBusy(%v) = true", err)
	}
}
