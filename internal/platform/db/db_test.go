package db

import (
	"context"
	"reflect"
	"testing"
	"testing/fstest"
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
