// Package db opens the SQL database (SQLite embedded, PostgreSQL for scale-out),
// runs the embedded migrations of every service and offers transactions.
//
// All SQL in Préau uses $1-style placeholders, which both drivers accept, and a
// portable subset of SQL: text ids made in Go, BIGINT unix-millisecond times, BOOLEAN.
package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	"modernc.org/sqlite"               // pure-Go SQLite driver "sqlite"
)

// Dialect names the engine behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// IsBusy says that err is SQLite's "database is locked" once its busy timeout ran
// out: another writer held the database all that time. The only writer that long
// is a large transaction of its own (the first import of a directory, a school-year
// closing), so the request may be tried again in a minute; it is no internal error.
func IsBusy(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	const busy, locked = 5, 6 // SQLITE_BUSY, SQLITE_LOCKED (and their extended codes)
	code := e.Code() & 0xff
	return code == busy || code == locked
}

// DB is a database handle that knows its dialect.
type DB struct {
	*sql.DB
	Dialect Dialect

	// Statements prepared once and reused: parsing SQL is a sixth of the cost of a
	// small query on SQLite, and hot pages run the same few queries all day.
	stmts    sync.Map // query → *sql.Stmt
	stmtsLen atomic.Int64

	// checkpoints runs the background checkpoints of SQLite's write-ahead log
	// (CheckpointLater); Close waits for the one under way.
	checkpoints sync.WaitGroup
	checkpoint  atomic.Bool // one under way
}

// maxCachedStatements bounds the cache: queries built with a variable number of
// placeholders are many, and run unprepared once it is full.
const maxCachedStatements = 512

func (d *DB) stmt(ctx context.Context, query string) *sql.Stmt {
	if st, ok := d.stmts.Load(query); ok {
		return st.(*sql.Stmt)
	}
	if d.stmtsLen.Load() >= maxCachedStatements {
		return nil
	}
	st, err := d.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil // the unprepared call reports the error
	}
	if prev, loaded := d.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt)
	}
	d.stmtsLen.Add(1)
	return st
}

// QueryContext runs a query through the statement cache.
func (d *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := d.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return d.DB.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a one-row query through the statement cache.
func (d *DB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := d.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return d.DB.QueryRowContext(ctx, query, args...)
}

// ExecContext runs a statement through the statement cache.
func (d *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := d.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return d.DB.ExecContext(ctx, query, args...)
}

// Close closes the cached statements and the database.
func (d *DB) Close() error {
	d.checkpoints.Wait()
	d.stmts.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	return d.DB.Close()
}

// Querier is what both *sql.DB and *sql.Tx offer; stores take it so that the same
// code runs inside and outside a transaction.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Open opens a database from a URL: "postgres://..." or "postgresql://..." for
// PostgreSQL, anything else is a SQLite file path.
func Open(ctx context.Context, url string) (*DB, error) {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		sqldb, err := sql.Open("pgx", url)
		if err != nil {
			return nil, err
		}
		sqldb.SetMaxOpenConns(32)
		sqldb.SetMaxIdleConns(32)
		sqldb.SetConnMaxIdleTime(5 * time.Minute)
		if err := sqldb.PingContext(ctx); err != nil {
			sqldb.Close()
			return nil, fmt.Errorf("connexion à PostgreSQL : %w", err)
		}
		return &DB{DB: sqldb, Dialect: Postgres}, nil
	}
	file := strings.TrimPrefix(url, "sqlite://")
	// WAL lets readers run while one writer writes; the busy timeout makes writers
	// queue instead of failing; _txlock=immediate takes the write lock at BEGIN so
	// that two read-then-write transactions cannot deadlock on lock upgrade. Each
	// connection may cache 32 MiB of pages (filled only as pages are read): with
	// SQLite's default of 2 MB, an inbox of 20,000 messages or the index pages of a
	// 2,000-recipient send were read from the file again on every request. The
	// write-ahead log is cut back to 64 MiB once copied into the database: a large
	// import grows it to the size of what it wrote, which would otherwise stay on
	// disk, and the next transactions would write over that file rather than a small one.
	dsn := "file:" + file + "?_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-" + strconv.Itoa(sqliteCacheKiB) + ")&_pragma=journal_size_limit(67108864)&_txlock=immediate"
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	sqldb.SetMaxOpenConns(8)
	sqldb.SetMaxIdleConns(8)
	if err := sqldb.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("ouverture de la base SQLite %s : %w", file, err)
	}
	return &DB{DB: sqldb, Dialect: SQLite}, nil
}

// Tx runs fn in a transaction: committed when fn returns nil, rolled back otherwise,
// so that a failure half-way changes nothing.
func (d *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return TxOn(ctx, d.DB, fn)
}

// Beginner starts transactions: *sql.DB, or *sql.Conn for work that needs a
// connection of its own.
type Beginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// TxOn is Tx on a Beginner. A panic in fn rolls the transaction back before it goes
// on: left open, it would keep its connection, and on SQLite the database's only
// writer, for good.
func TxOn(ctx context.Context, b Beginner, fn func(tx *sql.Tx) error) error {
	tx, err := b.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// CheckpointLater copies, on SQLite, the write-ahead log into the database file in
// the background. A transaction that wrote gigabytes (a large import) runs on a
// connection whose automatic checkpoint is off (PRAGMA wal_autocheckpoint=0), so
// that its commit does not wait for that copy, and calls this after it: the copy
// holds no lock that readers or writers wait for (a passive checkpoint), and the
// commits of other connections meanwhile do not start one of their own. Without it
// the next small commit, a login's session, would do the whole copy.
func (d *DB) CheckpointLater() {
	if d.Dialect != SQLite || !d.checkpoint.CompareAndSwap(false, true) {
		return
	}
	d.checkpoints.Add(1)
	go func() {
		defer d.checkpoints.Done()
		defer d.checkpoint.Store(false)
		start := time.Now()
		var busy, logPages, done int
		err := d.DB.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logPages, &done)
		if err != nil {
			slog.Warn("SQLite : journal non reporté dans la base", "err", err)
			return
		}
		slog.Debug("SQLite : journal reporté dans la base", "pages", done, "sur", logPages, "durée", time.Since(start))
		if done == logPages && logPages > 0 {
			d.restartLog()
		}
	}()
}

// restartLog empties the write-ahead log once it is all in the database: otherwise
// the next writer starts a new log only if no reader was using the old one at that
// moment, and else appends after the gigabytes an import left, every read then
// searching a log of hundreds of thousands of pages (the nightly delta after a first
// import took half as long again). The checkpoint that empties it takes the writer's
// lock and waits for the readers of the old log: it is given 200 ms, and gives up
// rather than make sessions wait.
func (d *DB) restartLog() {
	ctx := context.Background()
	conn, err := d.DB.Conn(ctx)
	if err != nil {
		return
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA busy_timeout = 200`); err != nil {
		return
	}
	var busy, logPages, done int
	err = conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logPages, &done)
	slog.Debug("SQLite : journal vidé", "occupé", busy == 1, "err", err)
	if _, err := conn.ExecContext(ctx, `PRAGMA busy_timeout = 10000`); err != nil {
		// A connection that would give up on locks after 200 ms must not go back to the pool.
		conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// sqliteCacheKiB is each SQLite connection's page cache (db.Open's DSN).
const sqliteCacheKiB = 32768

// ReadAll runs fn, which reads a large part of the database once (a snapshot of
// the directory, a count over a large table), on a connection of its own. On
// SQLite that connection's page cache is kept small while fn runs and emptied
// after: a scan gains nothing from a cache, and would otherwise leave its pages in
// the pool's connections (each page costs twice its size in SQLite's allocator).
func (d *DB) ReadAll(ctx context.Context, fn func(q Querier) error) error {
	if d.Dialect != SQLite {
		return fn(d)
	}
	conn, err := d.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA cache_size = -2048`); err != nil {
		return err
	}
	defer RestoreCache(context.WithoutCancel(ctx), conn)
	return fn(conn)
}

// RestoreCache gives a SQLite connection that was tuned for a large read or write
// its page cache size back and frees the pages it holds.
func RestoreCache(ctx context.Context, conn *sql.Conn) {
	for _, q := range []string{`PRAGMA shrink_memory`, fmt.Sprintf(`PRAGMA cache_size = -%d`, sqliteCacheKiB)} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			slog.Warn("SQLite : réglage non rétabli", "pragma", q, "err", err)
		}
	}
}

// WaitCheckpoint waits for the background checkpoint under way, if any: for
// benchmarks that time one import after another, each on its own.
func (d *DB) WaitCheckpoint() { d.checkpoints.Wait() }

// Migration set: one per service package, applied in registration order.
type Migrations struct {
	Name string // the service's name, e.g. "directory"
	FS   fs.FS  // files NNNN_description.sql, or NNNN_description.sqlite.sql / .postgres.sql
}

// Embedded makes the migration set of a service from its embedded "migrations" folder.
func Embedded(name string, f fs.FS) Migrations {
	sub, err := fs.Sub(f, "migrations")
	if err != nil {
		panic(err) // a build-time mistake: the embed pattern names the folder
	}
	return Migrations{Name: name, FS: sub}
}

// ddl rewrites the few portable tokens of migration files for the dialect.
func (d *DB) ddl(s string) string {
	r := map[Dialect]*strings.Replacer{
		SQLite:   strings.NewReplacer("{{bytes}}", "BLOB", "{{serial}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "{{collate_c}}", ""),
		Postgres: strings.NewReplacer("{{bytes}}", "BYTEA", "{{serial}}", "BIGSERIAL PRIMARY KEY", "{{collate_c}}", `COLLATE "C"`),
	}[d.Dialect]
	return r.Replace(s)
}

// Migrate applies, in one transaction per file, every migration not yet applied.
func (d *DB) Migrate(ctx context.Context, sets ...Migrations) error {
	if _, err := d.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		service TEXT NOT NULL, version TEXT NOT NULL, applied_at BIGINT NOT NULL,
		PRIMARY KEY (service, version))`); err != nil {
		return fmt.Errorf("table des migrations : %w", err)
	}
	applied := 0
	for _, set := range sets {
		names, err := fs.Glob(set.FS, "*.sql")
		if err != nil {
			return err
		}
		sort.Strings(names)
		for _, name := range names {
			version, dialect := migrationVersion(path.Base(name))
			if dialect != "" && dialect != d.Dialect {
				continue // the other engine's half of a dialect-specific migration
			}
			var one int
			err := d.QueryRowContext(ctx, `SELECT 1 FROM schema_migrations WHERE service=$1 AND version=$2`, set.Name, version).Scan(&one)
			if err == nil {
				continue
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			body, err := fs.ReadFile(set.FS, name)
			if err != nil {
				return err
			}
			err = d.Tx(ctx, func(tx *sql.Tx) error {
				for _, stmt := range splitStatements(d.ddl(string(body))) {
					if _, err := tx.ExecContext(ctx, stmt); err != nil {
						return fmt.Errorf("%s/%s: %w\n%s", set.Name, name, err, stmt)
					}
				}
				_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(service, version, applied_at) VALUES ($1,$2,$3)`,
					set.Name, version, time.Now().UnixMilli())
				return err
			})
			if err != nil {
				return err
			}
			applied++
		}
	}
	if d.Dialect == Postgres {
		if err := d.collateIdentifiers(ctx); err != nil {
			return err
		}
	}
	if applied > 0 && d.Dialect == SQLite {
		// A migration that rebuilds a table (a new table filled from the old one,
		// then renamed) leaves it without the planner's statistics, which went
		// with the old table: the tables that need them get them again here.
		return d.Analyze(ctx)
	}
	return nil
}

// identifierColumns lists the text columns that hold identifiers and are not yet
// compared byte by byte (a column named id, or ending in _id or _by — created_by,
// resolved_by: a person's id —, or either end of a foreign key), with whether their
// table has rows as the planner last counted them.
const identifierColumns = `SELECT c.relname, a.attname, c.reltuples > 0 FROM pg_attribute a
	JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = current_schema() AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
	AND a.atttypid = 'text'::regtype
	AND a.attcollation <> (SELECT oid FROM pg_collation WHERE collname = 'C' AND collnamespace = 'pg_catalog'::regnamespace)
	AND (a.attname ~ '^(id|.*_id|.*_by)$' OR EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f'
		AND (f.conrelid = c.oid AND a.attnum = ANY (f.conkey) OR f.confrelid = c.oid AND a.attnum = ANY (f.confkey))))
	ORDER BY 1, 2`

// collateIdentifiers gives every column that holds identifiers (identifierColumns)
// the "C" collation on PostgreSQL, whichever the database's default, after each
// migration run: the rule is kept here rather than in each service's files, so
// that a table added later follows it too.
//
// Why: under a language's collation (the databases' usual default, C.UTF-8
// included) each comparison of two ids goes through the C library's strcoll; under
// "C" it is a memcmp, and ids only need equality and a stable order. A first import
// of a million persons, whose time goes mostly into b-tree insertions, took 37 s
// with its ids under "C" against 41.5 s under C.UTF-8 (aaf's BenchmarkImport, back
// to back); codes such as profiles gained nothing measurable and keep the default.
// All ids change together: an index is only used for a comparison made in its own
// collation, so a join between an id under "C" and one under the default would
// read the whole index of the latter.
func (d *DB) collateIdentifiers(ctx context.Context) error {
	type column struct {
		table, name string
		hasRows     bool
	}
	rows, err := d.QueryContext(ctx, identifierColumns)
	cols, err := Collect(rows, err, func(r Scanner) (c column, err error) { return c, r.Scan(&c.table, &c.name, &c.hasRows) })
	if err != nil || len(cols) == 0 {
		return err
	}
	// One statement a table (cols are in table order): its indexes are rebuilt once.
	var alters, analyze []string
	for i, c := range cols {
		table := pgx.Identifier{c.table}.Sanitize()
		if i == 0 || cols[i-1].table != c.table {
			alters = append(alters, `ALTER TABLE `+table)
			if c.hasRows {
				analyze = append(analyze, table)
			}
		} else {
			alters[len(alters)-1] += ","
		}
		alters[len(alters)-1] += ` ALTER COLUMN ` + pgx.Identifier{c.name}.Sanitize() + ` TYPE TEXT COLLATE "C"`
	}
	slog.Info("PostgreSQL : identifiants comparés octet par octet", "tables", len(alters))
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		for _, alter := range alters {
			if _, err := tx.ExecContext(ctx, alter); err != nil {
				return fmt.Errorf("collation des identifiants : %w\n%s", err, alter)
			}
		}
		return nil
	})
	if err != nil || len(analyze) == 0 {
		return err
	}
	// A column whose type changes loses its statistics: without them, the next
	// nightly delta of an upgraded directory of a million persons took 90 s
	// rather than 4. Only the tables that had rows are analyzed again: a table
	// never analyzed is planned from its actual size, whereas one analyzed empty
	// is taken for empty by plans made while it is small and kept (the foreign-key
	// checks' own), and filling it row by row in one transaction, as a
	// demonstration directory is, then read it whole at each row.
	_, err = d.ExecContext(ctx, `ANALYZE `+strings.Join(analyze, ", "))
	return err
}

// migrationVersion splits a migration file name into its version and, for a file that
// only one engine runs (full-text search, triggers), that engine: "0003_search.sqlite.sql"
// is version "0003_search" on SQLite; its ".postgres.sql" twin is the same version there.
func migrationVersion(name string) (string, Dialect) {
	base := strings.TrimSuffix(name, ".sql")
	for _, d := range []Dialect{SQLite, Postgres} {
		if v, ok := strings.CutSuffix(base, "."+string(d)); ok {
			return v, d
		}
	}
	return base, ""
}

// splitStatements cuts a migration file on semicolons that end a line; migration
// files keep one statement per paragraph and no semicolons inside strings. A trigger
// (CREATE TRIGGER … BEGIN …; END;) and a dollar-quoted PostgreSQL function body hold
// semicolons of their own and stay whole.
func splitStatements(s string) []string {
	var out []string
	var pending string
	for _, part := range strings.Split(s, ";\n") {
		var lines []string
		for _, l := range strings.Split(part, "\n") {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "--") {
				lines = append(lines, l)
			}
		}
		stmt := strings.TrimSuffix(strings.TrimSpace(strings.Join(lines, "\n")), ";")
		if pending != "" {
			stmt = pending + ";\n" + stmt
			pending = ""
		}
		if stmt == "" {
			continue
		}
		if unfinished(stmt) {
			pending = stmt
			continue
		}
		out = append(out, stmt)
	}
	if pending != "" {
		out = append(out, pending)
	}
	return out
}

// unfinished tells whether a statement cut at a semicolon goes on: an open $$ body,
// or a trigger whose BEGIN has not met its END yet.
func unfinished(stmt string) bool {
	if strings.Count(stmt, "$$")%2 == 1 {
		return true
	}
	upper := strings.ToUpper(stmt)
	if strings.HasPrefix(upper, "CREATE TRIGGER") || strings.HasPrefix(upper, "CREATE TEMP TRIGGER") {
		f := strings.Fields(upper)
		return len(f) == 0 || f[len(f)-1] != "END"
	}
	return false
}

// IgnoringConflicts returns a statement written "INSERT INTO ... ON CONFLICT DO
// NOTHING" as this dialect runs it best, for bulk writes inside a transaction that
// defers its foreign keys (DeferForeignKeys). On SQLite it becomes INSERT OR IGNORE:
// the same rows are written, but the statement can no longer fail half-way, so
// SQLite keeps no statement journal for it, a copy of every page it changes that
// existed before it, written to a temporary file (9 s of the first import of a
// million persons). OR IGNORE also skips a row that breaks a NOT NULL or CHECK
// constraint, where the upsert would fail: only for rows that cannot, by
// construction (identifiers read from the tables they refer to).
func (d Dialect) IgnoringConflicts(stmt string) string {
	if d != SQLite {
		return stmt
	}
	const space = " \n\t"
	body, found := strings.CutSuffix(strings.TrimRight(stmt, space), "ON CONFLICT DO NOTHING")
	rest, insert := strings.CutPrefix(strings.TrimLeft(body, space), "INSERT INTO ")
	found = found && strings.TrimRight(body, space) != body
	if !found || !insert {
		panic("IgnoringConflicts : " + stmt) // a programming mistake, caught by the tests
	}
	// An INSERT ... SELECT needed "WHERE true" before ON CONFLICT (SQLite's parser
	// would read the ON as a join's); harmless without it.
	return "INSERT OR IGNORE INTO " + rest
}

// InKeyOrder is the ORDER BY that makes a large INSERT ... SELECT write its rows in
// the order of key, the target's primary key, on PostgreSQL: its hash joins give
// the rows all over the key, and sorted they go to the key's pages one after the
// other (a million profile-group memberships: 28-32 s unsorted, 23 s sorted). On
// SQLite, whose joins the statements fix in the order of the persons' keys, it is
// empty: the sort cost more than it saved (2 million automatic memberships: 14.5 s
// unsorted, 16.1 s sorted).
func (d Dialect) InKeyOrder(key string) string {
	if d != Postgres {
		return ""
	}
	return ` ORDER BY ` + key
}

// DeferForeignKeys postpones, on SQLite, the checking of foreign keys to the
// commit of the transaction tx: a violation then fails the commit, and the
// transaction writes nothing. Checked as each row is written, a foreign key makes
// every multi-row statement one that may fail half-way, with a statement journal
// (see IgnoringConflicts). PostgreSQL checks them as before.
func (d Dialect) DeferForeignKeys(ctx context.Context, tx *sql.Tx) error {
	if d != SQLite {
		return nil
	}
	_, err := tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`)
	return err
}

// IsUniqueViolation tells whether err is a unique-constraint failure on either engine.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

// In builds "$n,$n+1,..." placeholders for an IN list starting at argument number start.
func In(start, count int) string {
	var sb strings.Builder
	for i := 0; i < count; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "$%d", start+i)
	}
	return sb.String()
}

// In is In written for this dialect: on SQLite, count "?" placeholders, bound by
// position. SQLite takes "$n" for a name, looked up among those before it, which
// makes a statement of hundreds of them quadratic to prepare (3 s of the first
// import of a million persons, for its classes alone).
func (d Dialect) In(start, count int) string {
	if d == SQLite {
		return strings.TrimSuffix(strings.Repeat("?,", count), ",")
	}
	return In(start, count)
}

// InsertRows inserts n rows of cols values each with multi-row statements,
// insert + "VALUES (...),(...)" + tail, a statement per few hundred values (Dialect.In).
// row(i) returns row i's values.
func (d Dialect) InsertRows(ctx context.Context, q Querier, insert, tail string, cols, n int, row func(i int) []any) error {
	per := max(1, maxInsertArgs/cols)
	for start := 0; start < n; start += per {
		count := min(per, n-start)
		args := make([]any, 0, count*cols)
		var sb strings.Builder
		sb.WriteString(insert + " VALUES ")
		for i := 0; i < count; i++ {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString("(" + d.In(1+i*cols, cols) + ")")
			args = append(args, row(start+i)...)
		}
		sb.WriteString(" " + tail)
		if _, err := q.ExecContext(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// maxInsertArgs bounds the values of one InsertRows statement.
const maxInsertArgs = 900

// Analyze refreshes the planner's statistics; call it after bulk writes (a generated
// directory, an import), whose new row counts the planner would otherwise not know of
// until autovacuum comes by, choosing sequential scans meanwhile.
func (d *DB) Analyze(ctx context.Context) error {
	if d.Dialect == Postgres {
		_, err := d.DB.ExecContext(ctx, "ANALYZE")
		return err
	}
	// Analyze every table that needs it, then keep only the per-index statistics
	// (sqlite_stat1): with the per-value samples of sqlite_stat4, SQLite prepares a
	// statement again each time a bound value might change its plan, which doubled
	// the cost of every parameterized query of the hot pages.
	// Reading every index once gains nothing from the page cache (ReadAll).
	return d.ReadAll(ctx, func(conn Querier) error {
		// Statistics from a sample of each index (about a thousand rows a page of
		// the b-tree) rather than every row: as good for choosing plans, and
		// seconds rather than tens of seconds on a directory of a million persons.
		if _, err := conn.ExecContext(ctx, "PRAGMA analysis_limit=1000"); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
			return err
		}
		var stat4 int
		if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema WHERE name = 'sqlite_stat4'`).Scan(&stat4); err != nil || stat4 == 0 {
			return err
		}
		if _, err := conn.ExecContext(ctx, "DELETE FROM sqlite_stat4"); err != nil {
			return err
		}
		_, err := conn.ExecContext(ctx, "ANALYZE sqlite_schema") // reload the statistics
		return err
	})
}

// Strings runs a query whose rows are one text column (ids, mostly) and returns them.
func Strings(ctx context.Context, q Querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
