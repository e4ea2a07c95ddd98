package aaf

import (
	"bufio"
	"context"
	"encoding/gob"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/preau-ent/preau/internal/platform/db"
)

// A full export lists every person of the académie, every night, and nearly all of
// them have not changed since the last one. Reading it inside the import's
// transaction would keep SQLite's only writer busy for as long as the files take to
// read: the portal could not open a session meanwhile. So a full export is read
// first outside any transaction (the prescan), against a snapshot of what the
// directory imported last time; what did not change is only counted, and the rest
// is set aside in a spool file, in file order. The transaction then applies the
// spool only.
//
// The snapshot is only good while no other import has changed the directory: the
// lock row counts the imports that committed (its generation), and a transaction
// that finds another count than the prescan saw reads the files again itself.

// spooled is one record set aside by the prescan: the index of its file, and
// whether it repeats a jointure the export already listed.
type spooled struct {
	File int
	Dup  bool
	Rec  *Record
}

// prescan is what the reading of a full export outside the transaction found.
type prescan struct {
	generation int64    // the lock row's generation when the snapshot was taken
	spool      *os.File // the spooled records, gob-encoded, in file order
	records    int      // records spooled
	persons    int      // person records spooled
	missing    []string // persons of the directory that the export does not list
}

func (p *prescan) close() {
	if p != nil && p.spool != nil {
		p.spool.Close()
		os.Remove(p.spool.Name())
	}
}

// each calls fn for every spooled record, in file order, a batch at a time: before,
// if not nil, sees each batch first.
func (p *prescan) each(ctx context.Context, before func([]spooled) error, fn func(e spooled) error) error {
	if _, err := p.spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	dec := gob.NewDecoder(bufio.NewReaderSize(p.spool, 256<<10))
	batch := make([]spooled, 0, recordsPerBatch)
	for i := 0; i < p.records; {
		batch = batch[:0]
		for ; i < p.records && len(batch) < recordsPerBatch; i++ {
			var e spooled
			if err := dec.Decode(&e); err != nil {
				return fmt.Errorf("relecture des enregistrements mis de côté : %w", err)
			}
			batch = append(batch, e)
		}
		if ctx.Err() != nil {
			return errCancelled
		}
		if before != nil {
			if err := before(batch); err != nil {
				return err
			}
		}
		for _, e := range batch {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// prescan reads a full export against the directory as it is, outside any
// transaction. It returns nil when the directory holds too few imported persons for
// it to be worth it (a first import changes everything anyway). It counts the
// records of each file, their unknown attributes and the unchanged persons into rep.
func (im *Importer) prescan(ctx context.Context, rep *Report, files []plannedFile) (*prescan, error) {
	start := time.Now()
	pre := &prescan{}
	if err := im.db.QueryRowContext(ctx, `SELECT generation FROM aaf_lock WHERE id = 1`).Scan(&pre.generation); err != nil {
		return nil, err
	}
	var pp *people
	err := im.db.ReadAll(ctx, func(q db.Querier) error {
		var known int
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM aaf_persons`).Scan(&known); err != nil || known < im.opts.PrescanFrom {
			return err
		}
		pp = newPeople()
		rows, err := q.QueryContext(ctx, personRefSQL+` WHERE p.external_id IS NOT NULL`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if _, err := scanPersonRef(pp, rows); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err != nil || pp == nil {
		return nil, err
	}
	year := im.dir.SchoolYearNow()
	pre.spool, err = os.CreateTemp(im.opts.TempDir, "preau-aaf-*.spool")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			pre.close()
		}
	}()
	out := bufio.NewWriterSize(pre.spool, 256<<10)
	enc := gob.NewEncoder(out)
	put := func(e spooled) error {
		pre.records++
		return enc.Encode(&e)
	}
	err = im.eachRecord(ctx, rep, files, nil, func(i int, rec *Record) error {
		e, skip := pre.sort(pp, year, files[i], rec)
		if skip {
			rep.Unchanged++
			return nil
		}
		e.File = i
		return put(e)
	})
	if err != nil {
		return nil, err
	}
	if err := out.Flush(); err != nil {
		return nil, err
	}
	pp.each(func(p *personRef) {
		if p.seen == notSeen && p.removedAt == 0 && p.cat != 0 {
			pre.missing = append(pre.missing, pp.id(p))
		}
	})
	ok = true
	slog.Debug("import AAF", "étape", "lecture avant la transaction", "durée", time.Since(start),
		"mis de côté", pre.records, "inchangés", rep.Unchanged, "absents", len(pre.missing))
	if pp.n >= releaseAfter {
		// The snapshot is done with: its memory goes back before the transaction
		// takes its own.
		debug.FreeOSMemory()
	}
	return pre, nil
}

// sort tells whether a record of a full export leaves its person as the directory
// has it (skip), or must be applied by the transaction: structures, subjects,
// unknown or changed persons, anything but a plain addition, and repeated
// jointures (which the transaction rejects).
func (pre *prescan) sort(pp *people, year string, f plannedFile, rec *Record) (e spooled, skip bool) {
	e.Rec = rec
	cat := category(f, rec)
	if cat != CatEleve && cat != CatPersRelEleve && cat != CatPersEducNat {
		return e, false
	}
	pre.persons++
	j := recordJointure(rec)
	p, _ := pp.get(j)
	if j == "" || p == nil {
		// New persons, and records without a jointure, are the transaction's
		// business (it finds the repeated ones among them itself).
		return e, false
	}
	switch {
	case rec.Op == OpDelete:
		p.seen = seenDeleted
		return e, false
	case p.seen == seenPresent:
		e.Dup = true
		return e, false
	case p.seen == seenDeleted:
		// Deleted then listed again: both records are applied, in order.
		p.seen = seenPresent
		return e, false
	}
	p.seen = seenPresent
	if rec.Op != OpAdd {
		return e, false
	}
	sum := checksum(cat+"\x00"+year, keep(cat, rec.Attrs, nil).encode())
	if p.sum == sum && p.removedAt == 0 {
		pre.persons--
		return e, true
	}
	return e, false
}
