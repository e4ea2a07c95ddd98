package db

import (
	"context"
	"strings"
	"testing"
)

func TestCopyWritesTheRowsInTheOpenTransaction(t *testing.T) {
	d := ForTest(t)
	if d.Dialect != Postgres {
		t.Skip("COPY : PostgreSQL seulement")
	}
	ctx := context.Background()
	if _, err := d.ExecContext(ctx, `CREATE TABLE copied(id TEXT PRIMARY KEY, n BIGINT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	conn, err := d.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]any{{"a", 1}, {"b", int64(2)}, {"c", 3}}
	n, err := Copy(ctx, conn, "copied", []string{"id", "n"}, len(rows), func(i int) []any { return rows[i] })
	if err != nil || n != 3 {
		t.Fatalf("COPY : %d lignes, %v", n, err)
	}
	var sum int64
	if err := tx.QueryRowContext(ctx, `SELECT SUM(n) FROM copied`).Scan(&sum); err != nil || sum != 6 {
		t.Fatalf("la transaction ne voit pas les lignes copiées : %d, %v", sum, err)
	}
	// A row already there fails the COPY, and the transaction with it.
	_, err = Copy(ctx, conn, "copied", []string{"id", "n"}, 1, func(int) []any { return []any{"a", 4} })
	if err == nil || !strings.Contains(err.Error(), "23505") {
		t.Fatalf("doublon accepté : %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM copied`).Scan(&sum); err != nil || sum != 0 {
		t.Fatalf("lignes restées après l'annulation : %d, %v", sum, err)
	}
}
