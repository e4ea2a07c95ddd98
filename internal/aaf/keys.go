package aaf

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/preau-ent/preau/internal/platform/db"
)

// A first import on PostgreSQL writes millions of rows whose foreign keys the server
// checks one by one: for each row, a look-up of the row it refers to and a lock on
// it. Measured on a million persons (2.5 million memberships, a million structure
// links, 576,000 family links), those checks were a fifth of the import: 92 s with
// them, 72 s without. When the database role may set session_replication_role (a
// superuser, or from PostgreSQL 15 a role given GRANT SET ON PARAMETER
// session_replication_role), a first import sets it to "replica" for its bulk
// steps, which turns the row-by-row checks off, and checks every foreign key of
// the tables it wrote at the end, one anti-join each (about 2 s in all), before it
// commits. Without that right, the import runs as before.
//
// "replica" turns off every trigger that is not ALWAYS, foreign keys' actions
// included. So the import turns it on only when no table it writes has a trigger
// of its own, and back off before its first step that deletes rows other tables
// may refer to (the purge of persons, whose ON DELETE CASCADE must run).

// uncheckKeys turns the row-by-row checks of foreign keys off for the rest of a
// first import, when the role may (see above); it says whether it did.
func (r *run) uncheckKeys() (bool, error) {
	if r.im.db.Dialect != db.Postgres || !r.first() {
		return false, nil
	}
	may, err := mayUncheckKeys(r.ctx, r.tx)
	if err != nil || !may {
		return false, err
	}
	if _, err = r.exec(`SET LOCAL session_replication_role = replica`); err != nil {
		return false, err
	}
	slog.Debug("import AAF : clés étrangères vérifiées à la fin de l'import")
	return true, nil
}

// mayUncheckKeys tells whether the role may set session_replication_role, whether
// the server counts the rows this transaction writes (checkKeys finds the tables
// to check there) and whether no table the import writes has a trigger of its own.
func mayUncheckKeys(ctx context.Context, q db.Querier) (bool, error) {
	var version int
	var superuser, counts string
	if err := q.QueryRowContext(ctx, `SELECT current_setting('server_version_num')::int, current_setting('is_superuser'), current_setting('track_counts')`).
		Scan(&version, &superuser, &counts); err != nil {
		return false, err
	}
	may := superuser == "on"
	if !may && version >= 150000 {
		if err := q.QueryRowContext(ctx, `SELECT has_parameter_privilege('session_replication_role', 'SET')`).Scan(&may); err != nil {
			return false, err
		}
	}
	if !may || counts != "on" {
		return false, nil
	}
	var triggers int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
		WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace AND c.relname = ANY($1)`, importTables).Scan(&triggers)
	return triggers == 0, err
}

// importTables are the tables an import writes (mayUncheckKeys looks for triggers
// there; checkKeys finds the tables written in the server's counts).
var importTables = []string{"structures", "groups", "subjects", "persons", "aaf_persons", "person_structures",
	"person_functions", "group_members", "group_members_wanted", "teaching", "person_links", "aaf_work_scope",
	"aaf_work_touched", "aaf_work_owners", "aaf_work_links", "aaf_work_missing"}

// checkKeys turns the row-by-row checks back on and checks, set-wise, every
// foreign key of every table this transaction wrote. The tables the keys refer to
// are locked against other writers first (SHARE: they are still read), so that
// none deletes, between the check and the commit, a row the import refers to; a
// row deleted before is found by the check, which fails the import.
func checkKeys(ctx context.Context, q db.Querier) error {
	if _, err := q.ExecContext(ctx, `SET LOCAL session_replication_role = origin`); err != nil {
		return err
	}
	type foreignKey struct {
		name, table, refTable string
		cols, refCols         []string
	}
	rows, err := q.QueryContext(ctx, `SELECT c.conname, c.conrelid::regclass::text, c.confrelid::regclass::text,
		string_agg(quote_ident(a.attname::text), chr(1) ORDER BY k.i), string_agg(quote_ident(ra.attname::text), chr(1) ORDER BY k.i)
		FROM pg_constraint c
		CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(col, refcol, i)
		JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col
		JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.refcol
		WHERE c.contype = 'f' AND c.conrelid IN (SELECT relid FROM pg_stat_xact_user_tables WHERE n_tup_ins + n_tup_upd > 0)
		GROUP BY c.oid, c.conname, c.conrelid, c.confrelid ORDER BY 2, 1`)
	if err != nil {
		return err
	}
	var keys []foreignKey
	referred := map[string]bool{}
	for rows.Next() {
		var k foreignKey
		var cols, refCols string
		if err := rows.Scan(&k.name, &k.table, &k.refTable, &cols, &refCols); err != nil {
			rows.Close()
			return err
		}
		k.cols, k.refCols = strings.Split(cols, "\x01"), strings.Split(refCols, "\x01")
		keys = append(keys, k)
		referred[k.refTable] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(referred) > 0 {
		tables := make([]string, 0, len(referred))
		for t := range referred {
			tables = append(tables, t)
		}
		if _, err := q.ExecContext(ctx, `LOCK TABLE `+strings.Join(tables, ", ")+` IN SHARE MODE`); err != nil {
			return err
		}
	}
	for _, k := range keys {
		// MATCH SIMPLE, the default: a row with a null in the key refers to nothing.
		var set, match []string
		for i, c := range k.cols {
			set = append(set, `t.`+c+` IS NOT NULL`)
			match = append(match, `x.`+k.refCols[i]+` = t.`+c)
		}
		var one int
		err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM `+k.table+` t WHERE `+strings.Join(set, ` AND `)+
			` AND NOT EXISTS (SELECT 1 FROM `+k.refTable+` x WHERE `+strings.Join(match, ` AND `)+`) LIMIT 1) v`).Scan(&one)
		if err != nil {
			return err
		}
		if one > 0 {
			return fmt.Errorf("clé étrangère %s non respectée : une ligne de %s désigne une ligne absente de %s", k.name, k.table, k.refTable)
		}
	}
	return nil
}
