package directory_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/db"
)

// The link tables become WITHOUT ROWID tables on SQLite (migration 0005): a directory
// made before keeps its rows, its indexes and its foreign keys.
func TestLinkTablesKeepTheirRowsWithoutRowid(t *testing.T) {
	ctx := context.Background()
	d := db.ForTest(t)
	if d.Dialect != db.SQLite {
		t.Skip("a migration of SQLite's tables only")
	}
	before := fstest.MapFS{}
	names, err := fs.Glob(directory.Migrations.FS, "*.sql")
	must(t, err)
	for _, name := range names {
		if name < "0005" {
			body, err := fs.ReadFile(directory.Migrations.FS, name)
			must(t, err)
			before[name] = &fstest.MapFile{Data: body}
		}
	}
	must(t, d.Migrate(ctx, db.Migrations{Name: directory.Migrations.Name, FS: before}))
	for _, q := range []string{
		`INSERT INTO structures(id, kind, name, created_at) VALUES ('s1', 'etablissement', 'Collège', 0)`,
		`INSERT INTO groups(id, structure_id, kind, name, created_at) VALUES ('g1', 's1', 'class', '3A', 0)`,
		`INSERT INTO persons(id, login, first_name, last_name, first_key, last_key, profile, created_at, updated_at) VALUES
			('p1', 'eleve', 'E', 'L', 'e', 'l', 'Eleve', 0, 0), ('p2', 'parent', 'P', 'A', 'p', 'a', 'Responsable', 0, 0),
			('p3', 'prof', 'P', 'R', 'p', 'r', 'Enseignant', 0, 0)`,
		`INSERT INTO person_structures(person_id, structure_id) VALUES ('p1', 's1'), ('p2', 's1'), ('p3', 's1')`,
		`INSERT INTO person_functions(person_id, structure_id, code, label) VALUES ('p3', 's1', 'ENS', 'Enseignement')`,
		`INSERT INTO group_members(group_id, person_id, source) VALUES ('g1', 'p1', 'direct')`,
		`INSERT INTO person_links(parent_id, child_id) VALUES ('p2', 'p1')`,
		`INSERT INTO teaching(teacher_id, group_id, subject_id) VALUES ('p3', 'g1', '')`,
	} {
		_, err := d.ExecContext(ctx, q)
		must(t, err)
	}
	_, err = d.ExecContext(ctx, `ANALYZE`)
	must(t, err)
	must(t, d.Migrate(ctx, directory.Migrations))

	count := func(q string) int {
		t.Helper()
		var n int
		must(t, d.QueryRowContext(ctx, q).Scan(&n))
		return n
	}
	rows := map[string]int{"person_structures": 3, "person_functions": 1, "group_members": 1, "person_links": 1, "teaching": 1}
	for table, want := range rows {
		if n := count(`SELECT COUNT(*) FROM ` + table); n != want {
			t.Errorf("%s: %d rows after the migration, want %d", table, n, want)
		}
		var create string
		must(t, d.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = $1`, table).Scan(&create))
		if !strings.HasSuffix(strings.TrimSpace(create), "WITHOUT ROWID") {
			t.Errorf("%s is not a WITHOUT ROWID table: %s", table, create)
		}
	}
	// The rebuilt tables get their planner's statistics again.
	if n := count(`SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'group_members'`); n == 0 {
		t.Error("group_members has lost its statistics")
	}
	for _, index := range []string{"person_structures_structure", "group_members_person", "person_links_child", "teaching_group"} {
		if count(`SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND name = '`+index+`'`) != 1 {
			t.Errorf("index %s lost", index)
		}
	}
	if _, err := d.ExecContext(ctx, `INSERT INTO group_members(group_id, person_id) VALUES ('g1', 'nobody')`); err == nil {
		t.Error("a membership of an unknown person was accepted: the foreign key is lost")
	}
	// Deleting a person still deletes their relations.
	_, err = d.ExecContext(ctx, `DELETE FROM persons WHERE id IN ('p1', 'p3')`)
	must(t, err)
	personColumn := map[string]string{"person_structures": "person_id", "person_functions": "person_id",
		"group_members": "person_id", "person_links": "child_id", "teaching": "teacher_id"}
	for table, col := range personColumn {
		if n := count(`SELECT COUNT(*) FROM ` + table + ` WHERE ` + col + ` IN ('p1', 'p3')`); n != 0 {
			t.Errorf("%s keeps %d rows of deleted persons", table, n)
		}
	}
}
