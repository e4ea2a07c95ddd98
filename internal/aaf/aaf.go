// Package aaf imports the national directory exports (AAF, files ficAlimMENESR) into
// the directory: établissements, subjects, pupils, responsables, teachers and staff,
// with their classes, groups, functions, teaching and family links, in full exports
// and in deltas.
//
// The AAF jointure is a person's identity: a person found again is updated in place
// and keeps login, password and activation across imports and changes of school.
// A person missing from a full export, or deleted by a delta, is marked, loses access
// after a grace period and is purged after a second one; coming back clears the mark.
//
// One import is one transaction: a file that cannot be read changes nothing, while a
// wrong record is rejected with its reason and the rest goes through. A full export
// of a directory already fed is read first outside the transaction (prescan.go), so
// that the transaction, which on SQLite stops every other writer, only applies what
// changed. Files are read
// as streams (several at once) and written with multi-row statements, so that memory
// depends on the number of persons in the directory (a few maps keyed by jointure),
// not on the size of the files.
package aaf

import (
	"bufio"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
	"github.com/preau-ent/preau/internal/rights"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the importer's tables (they need the directory's); register them
// after the directory's.
var Migrations = db.Embedded("aaf", migrations)

// Default retention (DESIGN.md, lessons from the field; CNIL: deleted within three
// months once the account is no longer needed).
const (
	DefaultGrace      = 90 * 24 * time.Hour
	DefaultPurgeAfter = 90 * 24 * time.Hour
)

// Options tune the importer; zero fields take the defaults.
type Options struct {
	Grace      time.Duration    // a marked person keeps access this long (default 90 days)
	PurgeAfter time.Duration    // and is purged this long after losing access (default 90 days)
	Now        func() time.Time // the clock (tests)
	Parsers    int              // files read at once (default: the processors, at most 8)
	// PrescanFrom is how many persons the directory must hold from earlier imports
	// for a full export to be read before its transaction (default 10,000; the
	// tests set 1); TempDir is where the records it sets aside wait (default: the
	// system's temporary folder).
	PrescanFrom int
	TempDir     string
	// BulkFrom is how many persons an import into a nearly empty SQLite
	// directory creates before it builds some indexes at the end rather than as
	// it goes (default 50,000; see deferIndexes).
	BulkFrom int
	// Progress, when set, is told after each file how many of the export's files
	// are done (the console's progress bar).
	Progress func(filesDone, files int)
}

// Importer imports AAF exports and keeps their reports.
type Importer struct {
	db     *db.DB
	dir    *directory.Service
	audit  *audit.Log
	rights *rights.Service
	opts   Options
	// live is the progress of the background imports this process runs, by job.
	live *sync.Map
}

// New returns the importer.
func New(d *db.DB, dir *directory.Service, al *audit.Log, rs *rights.Service, o Options) *Importer {
	if o.Grace <= 0 {
		o.Grace = DefaultGrace
	}
	if o.PurgeAfter <= 0 {
		o.PurgeAfter = DefaultPurgeAfter
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.BulkFrom <= 0 {
		o.BulkFrom = 50000
	}
	if o.PrescanFrom <= 0 {
		o.PrescanFrom = 10000
	}
	if o.Parsers <= 0 {
		o.Parsers = min(runtime.GOMAXPROCS(0), 8)
	}
	return &Importer{db: d, dir: dir, audit: al, rights: rs, opts: o, live: &sync.Map{}}
}

// Options returns the options in force, defaults applied.
func (im *Importer) Options() Options { return im.opts }

// ImportDir imports the export files of a folder (one export, or successive deltas).
func (im *Importer) ImportDir(ctx context.Context, a actor.Actor, dir string) (*Report, error) {
	files, ignored, err := DirSources(dir)
	if err != nil {
		return nil, err
	}
	rep, err := im.Import(ctx, a, dir, files)
	if rep != nil {
		rep.Ignored = ignored
	}
	return rep, err
}

// Import imports the files of one export; source names it in the report. Only a super
// administrator (or the system) imports. The report is returned, and stored, whether
// the import succeeded or not; on failure nothing else was changed.
func (im *Importer) Import(ctx context.Context, a actor.Actor, source string, files []Source) (*Report, error) {
	ok, err := im.rights.IsSuperAdmin(ctx, a)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, actor.ErrForbidden
	}
	planned, kind, err := plan(files)
	if err != nil {
		return nil, err
	}
	rep := &Report{ID: ids.New(), Kind: kind, Status: StatusOK, Source: source, ActorLogin: a.Login, StartedAt: im.opts.Now()}
	for _, f := range planned {
		rep.Files = append(rep.Files, FileStat{Name: f.Name, Type: f.typ})
	}
	slog.Info("import AAF", "source", source, "type", kind, "fichiers", len(planned))
	defer limitMemory()()
	var pre *prescan
	if kind == KindFull {
		pre, err = im.prescan(ctx, rep, planned)
		defer pre.close()
		if err == nil && afterPrescan != nil {
			afterPrescan()
		}
	}
	var committing time.Time
	if err == nil {
		err = im.tx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
			err := im.apply(ctx, a, conn, tx, rep, planned, pre)
			committing = time.Now()
			return err
		})
	}
	if err == nil {
		slog.Debug("import AAF", "étape", "validation de la transaction", "durée", time.Since(committing))
	}
	if err != nil {
		rep.Status, rep.Error, rep.FinishedAt = StatusFailed, err.Error(), im.opts.Now()
		// The directory is untouched; the report of the failure is kept apart. A
		// cancelled import cannot write it with its own context.
		wctx := context.WithoutCancel(ctx)
		serr := im.db.Tx(wctx, func(tx *sql.Tx) error {
			if err := rep.store(wctx, tx); err != nil {
				return err
			}
			return im.audit.WriteTx(wctx, tx, im.auditEntry(a, rep))
		})
		if serr != nil {
			slog.Error("rapport d'import AAF non enregistré", "err", serr)
		}
		return rep, err
	}
	// An import that changed a small part of the directory (a delta, a night's
	// full export) leaves the statistics as they were: the proportions they
	// describe still hold, and analyzing a large database takes longer than such
	// an import.
	if im.worthAnalyzing(ctx, rep) {
		start := time.Now()
		if err := im.db.Analyze(ctx); err != nil {
			slog.Warn("statistiques de la base non rafraîchies après l'import", "err", err)
		}
		slog.Debug("import AAF", "étape", "statistiques", "durée", time.Since(start))
	}
	return rep, nil
}

// afterPrescan, set by tests, runs between the prescan and the transaction.
var afterPrescan func()

// apply is the import's transaction: the files (or what their prescan set aside)
// applied, the report and the audit entry written.
func (im *Importer) apply(ctx context.Context, a actor.Actor, conn *sql.Conn, tx *sql.Tx, rep *Report, planned []plannedFile, pre *prescan) error {
	// Foreign keys are checked at the commit on SQLite, so that its multi-row
	// statements keep no statement journal (db.Dialect.IgnoringConflicts): the
	// import stays all-or-nothing.
	if err := im.db.Dialect.DeferForeignKeys(ctx, tx); err != nil {
		return err
	}
	r, err := newRun(ctx, im, conn, tx, rep, planned, pre)
	if err != nil {
		return err
	}
	defer r.close()
	if err := r.run(); err != nil {
		return err
	}
	rep.FinishedAt = im.opts.Now()
	start := time.Now()
	if err := rep.store(ctx, tx); err != nil {
		return err
	}
	if err := im.audit.WriteTx(ctx, tx, im.auditEntry(a, rep)); err != nil {
		return err
	}
	slog.Debug("import AAF", "étape", "rapport", "durée", time.Since(start), "signalements", len(rep.Issues))
	return nil
}

// importPragmas tune the SQLite connection of an import; it gets db.Open's settings
// back afterwards, its pages freed. A page cache of 32 MiB keeps the pages
// of the indexes a large import writes all over (logins, names) instead of reading
// them back from the write-ahead log again and again. (Temporary storage stays in
// files: in memory, the statement journals and sorts of a million-person import
// made the process a third larger, for no gain in time.)
//
// Its automatic checkpoint is off: the commit of a large import would otherwise
// copy the whole write-ahead log into the database before returning (ten seconds
// after a first import of a million persons); db.CheckpointLater does it after the
// commit, without holding up the portal.
var importPragmas = []string{`PRAGMA cache_size = -32768`, `PRAGMA wal_autocheckpoint = 0`}

// tx runs fn in the import's transaction, on a connection of its own (fn has it too,
// for PostgreSQL's COPY: batch.copies): on SQLite, the
// connection is tuned for the import, and given back its defaults once the
// transaction is over (freeing a large page cache takes a while: not while the
// database is locked).
func (im *Importer) tx(ctx context.Context, fn func(conn *sql.Conn, tx *sql.Tx) error) error {
	conn, err := im.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if im.db.Dialect == db.SQLite {
		for _, q := range importPragmas {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		defer func() {
			wctx := context.WithoutCancel(ctx)
			if _, err := conn.ExecContext(wctx, `PRAGMA wal_autocheckpoint = 1000`); err != nil {
				slog.Warn("import AAF : réglage SQLite non rétabli", "err", err)
			}
			// The import's pages are of no use to the requests that get the
			// connection next.
			db.RestoreCache(wctx, conn)
		}()
	}
	if err := db.TxOn(ctx, conn, func(tx *sql.Tx) error { return fn(conn, tx) }); err != nil {
		return err
	}
	im.db.CheckpointLater()
	return nil
}

// analyzeAfter is how many persons an import creates, changes or marks before the
// statistics of the tables it wrote are worth refreshing; and it must be at least a
// tenth of the persons the AAF feeds.
const analyzeAfter = 1000

func (im *Importer) worthAnalyzing(ctx context.Context, rep *Report) bool {
	n := rep.changed()
	if n < analyzeAfter {
		return false
	}
	// Counted up to the number that decides: a million rows would take longer to
	// count than a small import takes.
	var known int
	err := im.db.ReadAll(ctx, func(q db.Querier) error {
		return q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM aaf_persons LIMIT $1) x`, n*10+1).Scan(&known)
	})
	return err != nil || n*10 >= known
}

// changed counts the persons the import wrote.
func (rep *Report) changed() int { return rep.Created + rep.Updated + rep.Marked + rep.Purged }

func (im *Importer) auditEntry(a actor.Actor, rep *Report) audit.Entry {
	return audit.Entry{At: rep.FinishedAt, ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: "aaf.import",
		TargetType: "aaf_report", TargetID: rep.ID, Success: rep.Status == StatusOK, Details: map[string]string{
			"kind": rep.Kind, "files": strconv.Itoa(len(rep.Files)), "created": strconv.Itoa(rep.Created),
			"updated": strconv.Itoa(rep.Updated), "marked": strconv.Itoa(rep.Marked), "restored": strconv.Itoa(rep.Restored),
			"rejected": strconv.Itoa(rep.Rejected), "purged": strconv.Itoa(rep.Purged), "error": clip(rep.Error, 300)}}
}

// ---- reading files ----

// parsed is a batch of records of one file, or the error that ends it.
type parsed struct {
	recs []*Record
	err  error
}

const recordsPerBatch = 256

// reader reads the files with several goroutines, each file in order, and hands
// the records over file after file: file i's channel is read to its end before file
// i+1's. Each channel holds a few batches, so memory does not grow with the files.
type reader struct {
	chans   []chan parsed
	headers []map[string]string
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func (im *Importer) read(ctx context.Context, files []plannedFile) *reader {
	ctx, cancel := context.WithCancel(ctx)
	rd := &reader{chans: make([]chan parsed, len(files)), headers: make([]map[string]string, len(files)), cancel: cancel}
	for i := range files {
		rd.chans[i] = make(chan parsed, 4)
	}
	workers := min(im.opts.Parsers, len(files))
	for w := 0; w < workers; w++ {
		rd.wg.Add(1)
		go func(w int) {
			defer rd.wg.Done()
			for i := w; i < len(files); i += workers {
				if !rd.parse(ctx, i, files[i]) {
					return
				}
			}
		}(w)
	}
	return rd
}

// parse reads one file into its channel; false when the import is over.
func (rd *reader) parse(ctx context.Context, i int, f plannedFile) bool {
	ch := rd.chans[i]
	defer close(ch)
	send := func(p parsed) bool {
		select {
		case ch <- p:
			return true
		case <-ctx.Done():
			return false
		}
	}
	in, err := f.Open()
	if err != nil {
		return send(parsed{err: fmt.Errorf("%s : %w", f.Name, err)})
	}
	defer in.Close()
	r := NewReader(bufio.NewReaderSize(in, 256<<10))
	batch := make([]*Record, 0, recordsPerBatch)
	for {
		rec, err := r.Next()
		if err == io.EOF {
			rd.headers[i] = r.Header()
			return len(batch) == 0 || send(parsed{recs: batch})
		}
		if err != nil {
			return send(parsed{err: fmt.Errorf("%s : %w", f.Name, err)})
		}
		batch = append(batch, rec)
		if len(batch) == recordsPerBatch {
			if !send(parsed{recs: batch}) {
				return false
			}
			batch = make([]*Record, 0, recordsPerBatch)
		}
	}
}

func (rd *reader) close() {
	rd.cancel()
	rd.wg.Wait()
}

// eachRecord reads the files in order and calls fn with each record and the index
// of its file. It counts the records of each file and their unknown attributes
// into rep, keeps each file's header and tells the progress as each file ends.
//
// before, if not nil, sees each batch of records of file i before fn sees them one
// by one: the import looks the batch's persons up in one query.
func (im *Importer) eachRecord(ctx context.Context, rep *Report, files []plannedFile, before func(i int, recs []*Record) error, fn func(i int, rec *Record) error) error {
	rd := im.read(ctx, files)
	defer rd.close()
	for i := range files {
		for p := range rd.chans[i] {
			if p.err != nil {
				return p.err
			}
			if ctx.Err() != nil {
				return errCancelled
			}
			if before != nil {
				if err := before(i, p.recs); err != nil {
					return err
				}
			}
			for _, rec := range p.recs {
				rep.Files[i].Records++
				for _, a := range rec.Attrs {
					if !isKnown(a.Name) {
						rep.unknown(a.Name)
					}
				}
				if err := fn(i, rec); err != nil {
					return err
				}
			}
		}
		if ctx.Err() != nil {
			return errCancelled
		}
		rep.Files[i].Header = rd.headers[i]
		if im.opts.Progress != nil {
			im.opts.Progress(i+1, len(files))
		}
	}
	return nil
}

// errCancelled is returned when the context ends during an import.
var errCancelled = errors.New("import interrompu")
