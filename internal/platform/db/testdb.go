package db

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/platform/ids"
)

// ForTest opens a fresh database for a test: a SQLite file in the test's temporary
// folder, or, when PREAU_TEST_POSTGRES holds a connection string, a new PostgreSQL
// database created for this test and dropped at its end.
func ForTest(t testing.TB) *DB {
	t.Helper()
	ctx := context.Background()
	admin := os.Getenv("PREAU_TEST_POSTGRES")
	if admin == "" {
		d, err := Open(ctx, filepath.Join(t.TempDir(), "preau.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}
	name := "preau_test_" + strings.ToLower(randomName())
	adminDB, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adminDB.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		adminDB.Close()
		t.Fatalf("création de la base de test : %v", err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	d, err := Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Close()
		if _, err := adminDB.ExecContext(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil {
			t.Errorf("suppression de la base de test : %v", err)
		}
		adminDB.Close()
	})
	return d
}

func randomName() string { return ids.Random(8) }
