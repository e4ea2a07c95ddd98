package aaf

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/preau-ent/preau/internal/platform/db"
)

// A first import on PostgreSQL writes millions of rows whose foreign keys the server
// checks one by one: for each row, a look-up of the row it refers to and a lock on
// it. Measured on a million persons (2.5 million memberships, a million structure
// links, 576,000 family links), those checks were a third of the import: 92 s with
// them, 61 s without (with the batches written in the background). When the
// database role may set session_replication_role (a superuser, or from PostgreSQL
// 15 a role given GRANT SET ON PARAMETER session_replication_role), a first import
// sets it to "replica" for its bulk steps, which turns the row-by-row checks off,
// and checks every foreign key of the tables it writes at the end, one anti-join
// each (about 2 s in all), before it commits. Without that right, the import runs
// as before.
//
// "replica" turns off every trigger that is not ALWAYS, foreign keys' actions
// included. So the import turns it on only when no table it writes has a trigger
// of its own, and back off before its first step that deletes rows other tables
// may refer to (the purge of persons, whose ON DELETE CASCADE must run). The check
// at the end needs each statement's own snapshot: the import turns the checks off
// only in a READ COMMITTED transaction.

// keysHook, replaced by tests, runs in the import's transaction before checkKeys
// ("avant") and after it ("après").
var keysHook = func(ctx context.Context, q db.Querier, when string) error { return nil }

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

// recheckKeys ends what uncheckKeys started, if it did: the row-by-row checks on
// again, and every key checked set-wise (checkKeys).
func (r *run) recheckKeys() error {
	if !r.keysUnchecked {
		return nil
	}
	if err := keysHook(r.ctx, r.tx, "avant"); err != nil {
		return err
	}
	if err := checkKeys(r.ctx, r.tx); err != nil {
		return err
	}
	return keysHook(r.ctx, r.tx, "après")
}

// mayUncheckKeys tells whether the role may set session_replication_role, whether
// the transaction is READ COMMITTED and whether no table the import writes has a
// trigger of its own.
func mayUncheckKeys(ctx context.Context, q db.Querier) (bool, error) {
	var version int
	var superuser, isolation string
	if err := q.QueryRowContext(ctx, `SELECT current_setting('server_version_num')::int, current_setting('is_superuser'), current_setting('transaction_isolation')`).
		Scan(&version, &superuser, &isolation); err != nil {
		return false, err
	}
	may := superuser == "on"
	if !may && version >= 150000 {
		if err := q.QueryRowContext(ctx, `SELECT has_parameter_privilege('session_replication_role', 'SET')`).Scan(&may); err != nil {
			return false, err
		}
	}
	if !may || isolation != "read committed" {
		return false, nil
	}
	var triggers int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_trigger
		WHERE NOT tgisinternal AND tgrelid IN (SELECT to_regclass(name) FROM unnest($1::text[]) AS name)`, importTables).Scan(&triggers)
	return triggers == 0, err
}

// importTables are the tables an import writes, by itself or through the directory
// (the rules of communication of the classes it creates): mayUncheckKeys looks for
// triggers there, checkKeys checks their foreign keys.
var importTables = []string{"structures", "groups", "subjects", "comm_rules", "persons", "aaf_persons",
	"person_structures", "person_functions", "group_members", "group_members_wanted", "teaching", "person_links",
	"aaf_work_scope", "aaf_work_touched", "aaf_work_owners", "aaf_work_links", "aaf_work_missing"}

// checkKeys turns the row-by-row checks back on and checks, set-wise, every
// foreign key of the tables an import writes. First, the rows those keys may refer
// to that this transaction did not write are locked (FOR KEY SHARE, as the
// row-by-row checks would have: they stay readable and updatable), so that no other
// transaction deletes one between the check and the commit; the rows this
// transaction wrote, no other can see. A row deleted before is found by the check,
// which fails the import.
func checkKeys(ctx context.Context, q db.Querier) error {
	if _, err := q.ExecContext(ctx, `SET LOCAL session_replication_role = origin`); err != nil {
		return err
	}
	type foreignKey struct {
		name, table, refTable string
		full                  bool // MATCH FULL
		cols, refCols         []string
	}
	rows, err := q.QueryContext(ctx, `SELECT c.conname, c.conrelid::regclass::text, c.confrelid::regclass::text, c.confmatchtype = 'f',
		string_agg(quote_ident(a.attname::text), chr(1) ORDER BY k.i), string_agg(quote_ident(ra.attname::text), chr(1) ORDER BY k.i)
		FROM pg_constraint c
		CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(col, refcol, i)
		JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col
		JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.refcol
		WHERE c.contype = 'f' AND c.convalidated AND c.conrelid IN (SELECT to_regclass(name) FROM unnest($1::text[]) AS name)
		GROUP BY c.oid, c.conname, c.conrelid, c.confrelid, c.confmatchtype ORDER BY 2, 1`, importTables)
	if err != nil {
		return err
	}
	var keys []foreignKey
	var referred []string
	for rows.Next() {
		var k foreignKey
		var cols, refCols string
		if err := rows.Scan(&k.name, &k.table, &k.refTable, &k.full, &cols, &refCols); err != nil {
			rows.Close()
			return err
		}
		k.cols, k.refCols = strings.Split(cols, "\x01"), strings.Split(refCols, "\x01")
		keys = append(keys, k)
		if !slices.Contains(referred, k.refTable) {
			referred = append(referred, k.refTable)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// The rows of a first import are nearly all new: this locks the few that were
	// there before it (made by hand, by a CSV import), in one pass over each table.
	for _, t := range referred {
		if _, err := q.ExecContext(ctx, `SELECT 1 FROM `+t+` WHERE xmin <> pg_current_xact_id()::xid FOR KEY SHARE`); err != nil {
			return err
		}
	}
	for _, k := range keys {
		// MATCH SIMPLE, the default: a row with a null in the key refers to nothing;
		// MATCH FULL: only a row whose key is all nulls.
		var set, match []string
		for i, c := range k.cols {
			set = append(set, `t.`+c+` IS NOT NULL`)
			match = append(match, `x.`+k.refCols[i]+` = t.`+c)
		}
		refers := strings.Join(set, ` AND `)
		if k.full {
			refers = `NOT (` + strings.ReplaceAll(refers, ` IS NOT NULL`, ` IS NULL`) + `)`
		}
		var one int
		err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM `+k.table+` t WHERE `+refers+
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
