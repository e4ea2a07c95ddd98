package aaf

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/bits"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/platform/db"
)

// batch accumulates rows for one multi-row statement: an INSERT with many VALUES
// tuples, or a DELETE with a long IN list. One statement per few hundred rows, prepared
// once for the full size, is what makes a million-person import a matter of seconds
// on PostgreSQL, where every statement is a round trip, and cheaper on SQLite too.
type batch struct {
	head, tail string     // text before the placeholders and after them
	made       [2]string  // head and tail as made (newBatch), before the dialect's or a first import's
	cols       int        // arguments per row
	tuples     bool       // rows are "($1,$2)" tuples (INSERT) rather than bare "$1" (IN lists)
	rows       int        // rows per full statement
	dialect    db.Dialect // its placeholders (db.Dialect.In)
	every      bool       // each row must be written: fewer is an error
	args       []any      // the pending rows' arguments
	n          int
	spare      []any             // a written buffer, for the next rows
	stmts      map[int]*sql.Stmt // prepared, by rows
	spent      time.Duration     // in the database, for the debug log

	// The table and columns of an INSERT, for PostgreSQL's COPY and arrays (copies,
	// unnestQuery).
	table   string
	columns []string
}

// onConflictNothing ends the inserts whose rows may already be there (written as
// INSERT OR IGNORE on SQLite: db.Dialect.IgnoringConflicts).
const onConflictNothing = ` ON CONFLICT DO NOTHING`

// copyRows is the rows of a first import's batches on PostgreSQL, which go in with
// COPY (batch.copies): a COPY of 5,000 rows cost the server less a row than ten of
// 500 (measured alone: a million persons in 21–24 s against 26–30 s). The other
// batches keep a few hundred rows: a delta's writes overlap its reading in more,
// smaller steps.
const copyRows = 5000

// maxArgs stays under SQLite's 32,766 variables and PostgreSQL's 65,535.
const maxArgs = 30000

func newBatch(head, tail string, cols int, tuples bool) *batch {
	rows := 500
	if rows*cols > maxArgs {
		rows = maxArgs / cols
	}
	b := &batch{head: head, tail: tail, made: [2]string{head, tail}, cols: cols, tuples: tuples, rows: rows, args: make([]any, 0, rows*cols)}
	if into, ok := strings.CutPrefix(head, "INSERT INTO "); ok {
		table, list, _ := strings.Cut(strings.TrimSuffix(strings.TrimSpace(into), " VALUES"), "(")
		b.table = table
		for _, c := range strings.Split(strings.TrimSuffix(list, ")"), ",") {
			b.columns = append(b.columns, strings.TrimSpace(c))
		}
		if len(b.columns) != cols {
			panic("aaf: colonnes mal comptées : " + head) // a programming mistake, caught by the tests
		}
	}
	return b
}

// copies says that the batch's rows go into the database with PostgreSQL's COPY: a
// plain INSERT there (no ON CONFLICT), whose rows are all new. COPY takes them
// without an INSERT to plan and run for each batch. Measured alone, a million
// persons with their indexes went in in 21–24 s by COPY (in batches of copyRows),
// and in 27–34 s by INSERT … SELECT FROM unnest (in batches of 500 or 5,000 rows).
func (b *batch) copies() bool {
	return b.dialect == db.Postgres && b.table != "" && b.tail == ""
}

func (b *batch) query(n int) string {
	var sb strings.Builder
	sb.WriteString(b.head)
	if !b.tuples {
		sb.WriteString(b.dialect.In(1, n*b.cols))
	}
	for i := 0; b.tuples && i < n; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString("(" + b.dialect.In(1+i*b.cols, b.cols) + ")")
	}
	sb.WriteString(b.tail)
	return sb.String()
}

func (b *batch) full() bool { return b.n >= b.rows }

func (b *batch) add(vals ...any) {
	b.args = append(b.args, vals...)
	b.n++
}

// write writes n rows whose arguments are args. On PostgreSQL, a plain INSERT is a
// COPY on conn, the transaction's connection (copies); another INSERT is one
// prepared statement with an array per column (unnestQuery), whatever the rows.
// Otherwise a full batch is one prepared statement. A partial one (every batch is
// flushed when one is full, to keep the order of the writes) is one statement on
// PostgreSQL, where each statement is a round trip; on SQLite it goes in pieces of
// a power of two rows: preparing a statement of a few hundred rows cost more than
// running it (2.6 s of a first import of a million persons went into preparing the
// partial batches of each flush), and the pieces' statements are prepared once.
func (b *batch) write(ctx context.Context, conn *sql.Conn, tx *sql.Tx, args []any, rows int) error {
	if rows == 0 {
		return nil
	}
	start := time.Now()
	defer func() { b.spent += time.Since(start) }()
	var written int64
	if b.copies() {
		copied, err := db.Copy(ctx, conn, b.table, b.columns, rows, func(i int) []any { return args[i*b.cols : (i+1)*b.cols] })
		if err == nil && copied != int64(rows) {
			err = fmt.Errorf("%d lignes écrites sur %d", copied, rows)
		}
		if err != nil {
			return fmt.Errorf("%s… : %w", b.label(), err)
		}
		return nil
	}
	for done := 0; done < rows; {
		n := rows - done
		var res sql.Result
		var err error
		switch {
		case b.tuples && b.dialect == db.Postgres:
			var stmt *sql.Stmt
			if stmt, err = b.prepared(ctx, tx, unnestKey, func() string { return b.unnestQuery(args) }); err == nil {
				res, err = stmt.ExecContext(ctx, columns(args[done*b.cols:], b.cols, n)...)
			}
		case n < b.rows && b.dialect != db.SQLite:
			res, err = tx.ExecContext(ctx, b.query(n), args[done*b.cols:]...)
		default:
			if n < b.rows {
				n = 1 << (bits.Len(uint(n)) - 1)
			}
			var stmt *sql.Stmt
			if stmt, err = b.prepared(ctx, tx, n, func() string { return b.query(n) }); err == nil {
				res, err = stmt.ExecContext(ctx, args[done*b.cols:(done+n)*b.cols]...)
			}
		}
		if err == nil && b.every {
			var affected int64
			affected, err = res.RowsAffected()
			written += affected
		}
		if err != nil {
			return fmt.Errorf("%s… : %w", b.label(), err)
		}
		done += n
	}
	if b.every && written != int64(rows) {
		return fmt.Errorf("%s… : %d lignes écrites sur %d (conflit)", b.label(), written, rows)
	}
	return nil
}

// unnestQuery is, on PostgreSQL, the batch's INSERT written with one array per
// column: "INSERT INTO t(a, b) SELECT * FROM unnest($1::text[], $2::bigint[])".
// A statement of a few parameters, whatever the rows, costs the server much less
// than one of a parameter per value (a first import of a million persons read its
// files in 33 s instead of 47 s, the persons' inserts taking 17 s instead of 24 s).
// The arrays' types are those of the values of row, the first: strings, or integers.
func (b *batch) unnestQuery(row []any) string {
	if b.table == "" {
		panic("aaf: lot sans INSERT INTO : " + b.head) // a programming mistake, caught by the tests
	}
	var sb strings.Builder
	sb.WriteString("INSERT INTO " + b.table + "(" + strings.Join(b.columns, ", ") + ") SELECT * FROM unnest(")
	for i, v := range row[:b.cols] {
		if i > 0 {
			sb.WriteString(", ")
		}
		typ := "text"
		switch v.(type) {
		case int, int64:
			typ = "bigint"
		}
		fmt.Fprintf(&sb, "$%d::%s[]", i+1, typ)
	}
	sb.WriteString(")" + b.tail)
	return sb.String()
}

// unnestKey is the place of unnestQuery's statement among a batch's prepared ones.
const unnestKey = -1

// columns turns n rows of cols arguments into one array per column, of the type of
// the first row's value. Another type (a NULL among strings) is a programming
// mistake, which the tests meet: it is not written as something else.
func columns(args []any, cols, n int) []any {
	out := make([]any, cols)
	for c := range cols {
		switch args[c].(type) {
		case int, int64:
			col := make([]int64, n)
			for i := range n {
				switch v := args[i*cols+c].(type) {
				case int:
					col[i] = int64(v)
				case int64:
					col[i] = v
				default:
					panic(fmt.Sprintf("aaf: valeur %T dans une colonne d'entiers", v))
				}
			}
			out[c] = col
		default:
			col := make([]string, n)
			for i := range n {
				v, ok := args[i*cols+c].(string)
				if !ok {
					panic(fmt.Sprintf("aaf: valeur %T dans une colonne de textes", args[i*cols+c]))
				}
				col[i] = v
			}
			out[c] = col
		}
	}
	return out
}

// handOver gives the pending rows away (to be written in the background) and starts
// an empty buffer, the one given back last time when there is one.
func (b *batch) handOver() (args []any, rows int) {
	args, rows = b.args, b.n
	b.args, b.spare, b.n = b.spare, nil, 0
	if b.args == nil {
		b.args = make([]any, 0, b.rows*b.cols)
	}
	return args, rows
}

// giveBack keeps a written buffer for the next handOver, emptied (its strings
// are not kept alive).
func (b *batch) giveBack(args []any) {
	clear(args)
	b.spare = args[:0]
}

// prepared returns the batch's statement for key (its rows, or unnestKey), prepared
// in tx the first time.
func (b *batch) prepared(ctx context.Context, tx *sql.Tx, key int, query func() string) (*sql.Stmt, error) {
	if stmt, ok := b.stmts[key]; ok {
		return stmt, nil
	}
	stmt, err := tx.PrepareContext(ctx, query())
	if err != nil {
		return nil, err
	}
	if b.stmts == nil {
		b.stmts = map[int]*sql.Stmt{}
	}
	b.stmts[key] = stmt
	return stmt, nil
}

// label is the start of the batch's statement, for the debug log and errors:
// "INSERT INTO persons(id,", "DELETE FROM teaching".
func (b *batch) label() string {
	words := strings.Fields(strings.Replace(b.head, " OR IGNORE", "", 1))
	return strings.Join(words[:min(3, len(words))], " ")
}

func (b *batch) close() {
	for _, stmt := range b.stmts {
		stmt.Close()
	}
	b.stmts = nil
}

// bulk is the import's batches, flushed together in dependency order: persons
// before the rows that refer to them, a changed person's old relations deleted
// before its new ones are inserted.
//
// A flush writes in the background, on the transaction's connection, while the
// import reads and interprets the next records: on PostgreSQL the server works on
// one core while the import's Go code runs on the other, instead of each waiting
// for the other (a first import of a million persons read its files in 44 s, of
// which 34 s in these statements). One flush at a time is in flight; the next one,
// and every other statement of the import (through syncedTx), waits for it first,
// so that the writes keep the order of the records.
type bulk struct {
	conn  *sql.Conn // the transaction's, for COPY (batch.copies)
	tx    *sql.Tx
	order []*batch

	// inFlight receives the result of the flush being written, nil when none is;
	// written is what it writes; failed is the first error of a flush, kept (the
	// transaction is lost: every later statement fails, with a less telling error).
	inFlight chan error
	written  []handedOver
	failed   error

	persons *batch
	// deletions of a changed person's relations in the structures the AAF feeds
	delStructures, delMembers, delFunctions, delTeaching *batch
	// insertions
	structures, members, functions, teaching, aafPersons, links *batch
	// work tables
	touched, owners, workLinks, missing *batch
}

// handedOver is what a flush writes of one batch.
type handedOver struct {
	b    *batch
	args []any
	rows int
}

// inAAFStructure is the condition that the structure col names is one the AAF feeds
// (it has a jointure): an import rewrites a person's relations there and leaves alone
// those a local administrator made in other structures. A correlated EXISTS, not
// "col IN (the structures)": beside "person_id IN (...)", SQLite would walk the index
// (structure_id, person_id) for every pair of a listed person and an AAF structure,
// millions of probes for a delta, instead of the listed persons' rows.
func inAAFStructure(col string) string {
	return `EXISTS (SELECT 1 FROM structures s WHERE s.id = ` + col + ` AND s.external_id IS NOT NULL)`
}

// isAAFGroup is the condition on a group g that an import rewrites the members and
// teachers of: the classes and teaching groups of the school year in the AAF's
// structures, not archived. Groups made by hand and last year's archived classes are
// kept.
func isAAFGroup(year string) string {
	// The year is made by directory.SchoolYear: digits and a dash, never user input.
	return `g.kind IN ('class','group') AND g.school_year = '` + strings.ReplaceAll(year, "'", "") +
		`' AND NOT g.archived AND ` + inAAFStructure("g.structure_id")
}

func newBulk(conn *sql.Conn, tx *sql.Tx, dialect db.Dialect, year string) *bulk {
	b := &bulk{conn: conn, tx: tx,
		persons: newBatch(`INSERT INTO persons(id, external_id, login, first_name, last_name, first_key, last_key, profile, email, birth_date, state, created_at, updated_at) VALUES `,
			``, 13, true),

		delStructures: newBatch(`DELETE FROM person_structures WHERE person_id IN (`, `) AND `+inAAFStructure("person_structures.structure_id"), 1, false),
		// Not "group_id IN (the groups)": SQLite would look every pair of a listed
		// person and an AAF group up in the primary key (group_id, person_id), a
		// million probes a batch in a large académie, instead of the persons' rows.
		delMembers: newBatch(`DELETE FROM group_members WHERE source = 'direct' AND person_id IN (`,
			`) AND EXISTS (SELECT 1 FROM groups g WHERE g.id = group_members.group_id AND `+isAAFGroup(year)+`)`, 1, false),
		delFunctions: newBatch(`DELETE FROM person_functions WHERE person_id IN (`, `) AND `+inAAFStructure("person_functions.structure_id"), 1, false),
		// The same for teaching: "group_id IN (the groups)" made SQLite build the list
		// of every class of the académie for each batch of a delta.
		delTeaching: newBatch(`DELETE FROM teaching WHERE teacher_id IN (`,
			`) AND EXISTS (SELECT 1 FROM groups g WHERE g.id = teaching.group_id AND `+isAAFGroup(year)+`)`, 1, false),

		structures: newBatch(`INSERT INTO person_structures(person_id, structure_id) VALUES `, onConflictNothing, 2, true),
		members:    newBatch(`INSERT INTO group_members(group_id, person_id, source) VALUES `, onConflictNothing, 3, true),
		functions:  newBatch(`INSERT INTO person_functions(person_id, structure_id, code, label) VALUES `, onConflictNothing, 4, true),
		teaching:   newBatch(`INSERT INTO teaching(teacher_id, group_id, subject_id) VALUES `, onConflictNothing, 3, true),
		aafPersons: newBatch(`INSERT INTO aaf_persons(person_id, category, checksum, structures, attrs, updated_at) VALUES `,
			` ON CONFLICT (person_id) DO UPDATE SET category = excluded.category, checksum = excluded.checksum,
			structures = excluded.structures, attrs = excluded.attrs, updated_at = excluded.updated_at`, 6, true),

		// A first import's family links (run.firstTail).
		links: newBatch(`INSERT INTO person_links(parent_id, child_id) VALUES `, onConflictNothing, 2, true),

		touched:   newBatch(`INSERT INTO aaf_work_touched(person_id) VALUES `, onConflictNothing, 1, true),
		owners:    newBatch(`INSERT INTO aaf_work_owners(person_id) VALUES `, onConflictNothing, 1, true),
		workLinks: newBatch(`INSERT INTO aaf_work_links(parent_ext, child_ext) VALUES `, onConflictNothing, 2, true),
		missing:   newBatch(`INSERT INTO aaf_work_missing(person_id) VALUES `, onConflictNothing, 1, true),
	}
	b.order = []*batch{b.persons, b.delStructures, b.delMembers, b.delFunctions, b.delTeaching,
		b.structures, b.members, b.functions, b.teaching, b.aafPersons, b.links, b.touched, b.owners, b.workLinks, b.missing}
	for _, x := range b.order {
		x.dialect = dialect
		x.asMade()
	}
	b.persons.strict()
	return b
}

// firstImport makes the batches fit a first import, whose persons are all new: what
// was imported of each is inserted, not upserted (an upsert may fail half-way, and
// SQLite keeps a statement journal for it: see db.Dialect.IgnoringConflicts), and
// every row must be written. Their structures, memberships, functions and teaching
// are plain inserts too (the import lists each once per person: run.relations): on
// PostgreSQL, ON CONFLICT DO NOTHING looks every row up in the unique indexes
// before inserting it, a third of these statements' time.
func (b *bulk) firstImport() {
	for _, x := range b.ofPersons() {
		x.close()
		x.head, x.tail = x.made[0], ""
		x.strict()
	}
	if b.persons.dialect == db.Postgres {
		for _, x := range append(b.ofPersons(), b.persons) {
			x.rows = copyRows
		}
	}
}

// ofPersons are the batches of what was imported of each person and of their
// structures, memberships, functions, teaching and family links.
func (b *bulk) ofPersons() []*batch {
	return []*batch{b.aafPersons, b.structures, b.members, b.functions, b.teaching, b.links}
}

// lenient gives the batches of firstImport back their upserts and their ON CONFLICT
// DO NOTHING, for a first import that meets a person a second time (added, deleted,
// then added again in the same export): what was imported of them is there, and
// the relations it keeps (in the structures a local administrator made) may come
// back. What is pending is written first.
func (b *bulk) lenient(ctx context.Context) error {
	if err := b.sync(ctx); err != nil {
		return err
	}
	for _, x := range b.ofPersons() {
		x.close()
		x.asMade()
	}
	return nil
}

// asMade makes the batch's statement the one newBatch was given (one ending in ON
// CONFLICT DO NOTHING is written INSERT OR IGNORE on SQLite:
// db.Dialect.IgnoringConflicts).
func (b *batch) asMade() {
	b.head, b.tail, b.every = b.made[0], b.made[1], false
	if b.tail == onConflictNothing && b.dialect == db.SQLite {
		b.head, b.tail = b.dialect.IgnoringConflicts(b.head+b.tail), ""
	}
}

// strict makes a plain INSERT batch one whose every row must be written: a
// conflict, which the import's own checks rule out, fails the import. On SQLite
// it is written INSERT OR IGNORE and the rows written are counted, which spares
// it the statement journal (db.Dialect.IgnoringConflicts); PostgreSQL fails the
// plain insert itself (an ON CONFLICT clause would make it check every unique
// index before each row, a cost the persons of a first import need not pay).
func (b *batch) strict() {
	if b.dialect == db.SQLite {
		b.head = b.dialect.IgnoringConflicts(b.head + onConflictNothing)
	}
	b.every = true
}

// add queues a row, flushing everything first if that batch is full.
func (b *bulk) add(ctx context.Context, to *batch, vals ...any) error {
	if to.full() {
		if err := b.flush(ctx); err != nil {
			return err
		}
	}
	to.add(vals...)
	return nil
}

// flush starts writing every pending row, in order, in the background, once the
// previous flush is written. Its error comes back from a later flush or wait.
func (b *bulk) flush(ctx context.Context) error {
	if err := b.wait(); err != nil {
		return err
	}
	for _, x := range b.order {
		if x.n > 0 {
			args, rows := x.handOver()
			b.written = append(b.written, handedOver{x, args, rows})
		}
	}
	if len(b.written) == 0 {
		return nil
	}
	done := make(chan error, 1)
	b.inFlight = done
	go func(work []handedOver) {
		// A panic here would end the process: it is the run's error, as on the
		// run's own goroutine (db.TxOn rolls the transaction back).
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("écriture des lots : %v", p)
			}
		}()
		for _, w := range work {
			if err := w.b.write(ctx, b.conn, b.tx, w.args, w.rows); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}(b.written)
	return nil
}

// wait returns once the flush in flight is written, with its error (or the first
// error of an earlier one).
func (b *bulk) wait() error {
	if b.inFlight != nil {
		err := <-b.inFlight
		b.inFlight = nil
		for _, w := range b.written {
			w.b.giveBack(w.args)
		}
		b.written = b.written[:0]
		if err != nil && b.failed == nil {
			b.failed = err
		}
	}
	return b.failed
}

// sync writes every pending row and returns once they are written.
func (b *bulk) sync(ctx context.Context) error {
	if err := b.flush(ctx); err != nil {
		return err
	}
	return b.wait()
}

// logSpent writes to the debug log the time each statement took in all.
func (b *bulk) logSpent() {
	b.wait() // its error is the run's
	for _, x := range b.order {
		if x.spent > 0 {
			slog.Debug("import AAF", "instruction", x.label(), "durée", x.spent)
		}
	}
}

func (b *bulk) close() {
	b.wait() // its statements are closed below
	for _, x := range b.order {
		x.close()
	}
}

// syncedTx is the import's transaction for every statement but its batches': each
// first waits for the batches written in the background (bulk.wait), so that it
// sees, and comes after, what the import queued before it. It also keeps database/sql
// from giving the connection to two statements at once.
type syncedTx struct {
	tx   *sql.Tx
	bulk *bulk
}

func (t syncedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := t.bulk.wait(); err != nil {
		return nil, err
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t syncedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := t.bulk.wait(); err != nil {
		return nil, err
	}
	return t.tx.QueryContext(ctx, query, args...)
}

// QueryRowContext cannot return the error of a batch: the bulk keeps it, and the
// import's next flush or wait returns it.
func (t syncedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	t.bulk.wait()
	return t.tx.QueryRowContext(ctx, query, args...)
}

// syncedStmt is a statement prepared in the import's transaction, run after the
// batches written in the background, like syncedTx's.
type syncedStmt struct {
	*sql.Stmt
	bulk *bulk
}

func (s syncedStmt) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	if err := s.bulk.wait(); err != nil {
		return nil, err
	}
	return s.Stmt.ExecContext(ctx, args...)
}

func (s syncedStmt) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	s.bulk.wait()
	return s.Stmt.QueryRowContext(ctx, args...)
}
