package db

import "database/sql"

// Scanner is a row to read: *sql.Row or *sql.Rows.
type Scanner interface{ Scan(...any) error }

// Collect reads every row of a query's result with scan, so that a service writes
// `db.Collect(q.QueryContext(…))`-style listings without repeating the loop:
//
//	rows, err := s.db.QueryContext(ctx, query, args...)
//	return db.Collect(rows, err, scanItem)
func Collect[T any](rows *sql.Rows, err error, scan func(Scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
