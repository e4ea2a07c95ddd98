package db

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Copy writes n rows into table's columns with PostgreSQL's COPY, on conn, inside
// the transaction open there if there is one, and returns how many it wrote. row(i)
// is the i-th row's values, in the columns' order; Copy does not keep them.
//
// It is for large imports of new rows: the server takes them without planning or
// running an INSERT for each batch (the AAF import's figures: aaf's batch.copies).
// There is no ON CONFLICT: a row already there fails the whole COPY.
func Copy(ctx context.Context, conn *sql.Conn, table string, columns []string, n int, row func(i int) []any) (int64, error) {
	var written int64
	err := conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("db: COPY sur une connexion %T, PostgreSQL seulement", dc)
		}
		var err error
		written, err = c.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns,
			pgx.CopyFromSlice(n, func(i int) ([]any, error) { return row(i), nil }))
		return err
	})
	return written, err
}
