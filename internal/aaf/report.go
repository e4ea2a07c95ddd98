package aaf

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
)

// Report statuses.
const (
	StatusOK     = "ok"
	StatusFailed = "failed" // nothing was changed
)

// Issue severities.
const (
	SeverityRejected = "rejected" // the record was not imported
	SeverityWarning  = "warning"  // the record was imported without the part named
)

// maxIssues bounds the issues a report keeps (and stores); the counts stay exact.
const maxIssues = 10000

// maxUnknown bounds the distinct unknown attribute names a report keeps.
const maxUnknown = 500

// Report is what an import did.
type Report struct {
	ID         string
	Kind       string // KindFull or KindDelta
	Status     string // StatusOK or StatusFailed
	Error      string // why a failed import failed
	Source     string // the folder or upload imported
	ActorLogin string
	StartedAt  time.Time
	FinishedAt time.Time

	Files   []FileStat
	Ignored []string // files of the folder that are not export files

	StructuresCreated, StructuresUpdated int
	ClassesCreated, GroupsCreated        int
	SubjectsCreated                      int

	Created   int // persons created
	Updated   int // persons whose record changed (moves included)
	Moved     int // persons whose structures changed
	Unchanged int // persons whose record did not change
	Marked    int // persons marked for deletion (missing from a full export, deleted by a delta)
	Restored  int // marked persons back in the export
	Detached  int // persons missing from the export but kept for structures it does not cover
	Links     int // responsable ↔ élève links written

	AccessEnded int // marked persons whose grace period ended during the import
	Purged      int // persons deleted for good during the import

	Rejected int // records rejected
	Warnings int // records imported with a part left out
	Issues   []Issue

	// Unknown counts the attributes the format does not define, by name.
	Unknown map[string]int

	// StructureIDs are the structures the import covered.
	StructureIDs []string
}

// FileStat is one file of the export.
type FileStat struct {
	Name    string
	Type    string
	Records int
	Header  map[string]string `json:",omitempty"` // versionAF, degre... from the header comments
}

// Issue is a rejected record or a warning about one, with where it comes from.
type Issue struct {
	Severity    string
	File        string
	Record      int // position of the record in its file, 1-based; 0 when not about one record
	Jointure    string
	StructureID string // the structure concerned, when known (local administrators see theirs)
	Reason      string
}

func (r *Report) issue(sev, file string, record int, jointure, structureID, reason string) {
	if sev == SeverityRejected {
		r.Rejected++
	} else {
		r.Warnings++
	}
	if len(r.Issues) < maxIssues {
		r.Issues = append(r.Issues, Issue{Severity: sev, File: file, Record: record, Jointure: jointure, StructureID: structureID, Reason: reason})
	}
}

// resetReading forgets what a reading of the files counted, before they are read
// again.
func (r *Report) resetReading() {
	for i := range r.Files {
		r.Files[i].Records, r.Files[i].Header = 0, nil
	}
	r.Unchanged, r.Unknown = 0, nil
}

func (r *Report) unknown(name string) {
	if r.Unknown == nil {
		r.Unknown = map[string]int{}
	}
	if _, ok := r.Unknown[name]; ok || len(r.Unknown) < maxUnknown {
		r.Unknown[name]++
	} else {
		r.Unknown["…"]++
	}
}

// UnknownNames returns the unknown attribute names, most frequent first.
func (r *Report) UnknownNames() []string {
	names := make([]string, 0, len(r.Unknown))
	for n := range r.Unknown {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if r.Unknown[names[i]] != r.Unknown[names[j]] {
			return r.Unknown[names[i]] > r.Unknown[names[j]]
		}
		return names[i] < names[j]
	})
	return names
}

// summary is the part of the report stored as JSON.
type summary struct {
	Files                                []FileStat
	Ignored                              []string       `json:",omitempty"`
	Unknown                              map[string]int `json:",omitempty"`
	StructuresCreated, StructuresUpdated int
	ClassesCreated, GroupsCreated        int
	SubjectsCreated                      int
	Created, Updated, Moved, Unchanged   int
	Marked, Restored, Detached, Links    int
	AccessEnded, Purged                  int
	Rejected, Warnings                   int
}

func (r *Report) summary() summary {
	return summary{Files: r.Files, Ignored: r.Ignored, Unknown: r.Unknown,
		StructuresCreated: r.StructuresCreated, StructuresUpdated: r.StructuresUpdated,
		ClassesCreated: r.ClassesCreated, GroupsCreated: r.GroupsCreated, SubjectsCreated: r.SubjectsCreated,
		Created: r.Created, Updated: r.Updated, Moved: r.Moved, Unchanged: r.Unchanged,
		Marked: r.Marked, Restored: r.Restored, Detached: r.Detached, Links: r.Links,
		AccessEnded: r.AccessEnded, Purged: r.Purged, Rejected: r.Rejected, Warnings: r.Warnings}
}

func (r *Report) setSummary(s summary) {
	r.Files, r.Ignored, r.Unknown = s.Files, s.Ignored, s.Unknown
	r.StructuresCreated, r.StructuresUpdated = s.StructuresCreated, s.StructuresUpdated
	r.ClassesCreated, r.GroupsCreated, r.SubjectsCreated = s.ClassesCreated, s.GroupsCreated, s.SubjectsCreated
	r.Created, r.Updated, r.Moved, r.Unchanged = s.Created, s.Updated, s.Moved, s.Unchanged
	r.Marked, r.Restored, r.Detached, r.Links = s.Marked, s.Restored, s.Detached, s.Links
	r.AccessEnded, r.Purged, r.Rejected, r.Warnings = s.AccessEnded, s.Purged, s.Rejected, s.Warnings
}

// store writes the report, its structures and its issues through q.
func (r *Report) store(ctx context.Context, q db.Querier) error {
	js, err := json.Marshal(r.summary())
	if err != nil {
		return err
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO aaf_reports(id, kind, status, error, source, actor_login, started_at, finished_at, summary)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`, r.ID, r.Kind, r.Status, clip(r.Error, 2000), clip(r.Source, 500), r.ActorLogin,
		r.StartedAt.UnixMilli(), r.FinishedAt.UnixMilli(), string(js)); err != nil {
		return err
	}
	rs := newBatch(`INSERT INTO aaf_report_structures(report_id, structure_id) VALUES `, ` ON CONFLICT DO NOTHING`, 2, true)
	for _, id := range r.StructureIDs {
		if rs.full() {
			if err := rs.flushQ(ctx, q); err != nil {
				return err
			}
		}
		rs.add(r.ID, id)
	}
	if err := rs.flushQ(ctx, q); err != nil {
		return err
	}
	is := newBatch(`INSERT INTO aaf_report_issues(report_id, seq, severity, file, record, jointure, structure_id, reason) VALUES `, ``, 8, true)
	for i, x := range r.Issues {
		if is.full() {
			if err := is.flushQ(ctx, q); err != nil {
				return err
			}
		}
		is.add(r.ID, int64(i+1), x.Severity, x.File, int64(x.Record), clip(x.Jointure, 200), x.StructureID, clip(x.Reason, 1000))
	}
	return is.flushQ(ctx, q)
}

// flushQ writes a batch through any querier, unprepared (reports are small).
func (b *batch) flushQ(ctx context.Context, q db.Querier) error {
	if b.n == 0 {
		return nil
	}
	_, err := q.ExecContext(ctx, b.query(b.n), b.args...)
	b.args, b.n = b.args[:0], 0
	return err
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// ---- reading reports (for the console) ----

// ReportFilter selects reports.
type ReportFilter struct {
	StructureID string // only the imports that covered this structure
	Limit       int    // default 50, at most 500
	Before      time.Time
}

// scope returns nil for "every structure", or the structures a local administrator
// administers; ErrForbidden for anyone else.
func (im *Importer) scope(ctx context.Context, a actor.Actor) ([]string, error) {
	all, ids, err := im.rights.AdminScope(ctx, a)
	if err != nil {
		return nil, err
	}
	if all {
		return nil, nil
	}
	if len(ids) == 0 {
		return nil, actor.ErrForbidden
	}
	return ids, nil
}

const reportCols = `id, kind, status, error, source, actor_login, started_at, finished_at, summary`

func scanReport(sc interface{ Scan(...any) error }) (Report, error) {
	var r Report
	var started, finished int64
	var js string
	if err := sc.Scan(&r.ID, &r.Kind, &r.Status, &r.Error, &r.Source, &r.ActorLogin, &started, &finished, &js); err != nil {
		return r, err
	}
	r.StartedAt, r.FinishedAt = time.UnixMilli(started), time.UnixMilli(finished)
	var s summary
	if js != "" {
		if err := json.Unmarshal([]byte(js), &s); err != nil {
			return r, fmt.Errorf("rapport %s : %w", r.ID, err)
		}
	}
	r.setSummary(s)
	return r, nil
}

// Reports lists import reports, newest first, without their issues: every report for
// a super administrator, the reports of imports that covered one of their structures
// for a local administrator. The counts are those of the whole import.
func (im *Importer) Reports(ctx context.Context, a actor.Actor, f ReportFilter) ([]Report, error) {
	scope, err := im.scope(ctx, a)
	if err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if scope != nil {
		where = append(where, `id IN (SELECT report_id FROM aaf_report_structures WHERE structure_id IN (`+db.In(len(args)+1, len(scope))+`))`)
		for _, s := range scope {
			args = append(args, s)
		}
	}
	if f.StructureID != "" {
		where = append(where, `id IN (SELECT report_id FROM aaf_report_structures WHERE structure_id = `+arg(f.StructureID)+`)`)
	}
	if !f.Before.IsZero() {
		where = append(where, `started_at < `+arg(f.Before.UnixMilli()))
	}
	q := `SELECT ` + reportCols + ` FROM aaf_reports`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	rows, err := im.db.QueryContext(ctx, q+fmt.Sprintf(` ORDER BY started_at DESC, id LIMIT %d`, f.Limit), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Report
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Report returns one report with its structures and issues. A local administrator
// gets it only if the import covered one of their structures, and sees only the
// issues about their structures.
func (im *Importer) Report(ctx context.Context, a actor.Actor, id string) (Report, error) {
	scope, err := im.scope(ctx, a)
	if err != nil {
		return Report{}, err
	}
	r, err := scanReport(im.db.QueryRowContext(ctx, `SELECT `+reportCols+` FROM aaf_reports WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, actor.ErrNotFound
	}
	if err != nil {
		return r, err
	}
	if r.StructureIDs, err = db.Strings(ctx, im.db, `SELECT structure_id FROM aaf_report_structures WHERE report_id = $1 ORDER BY structure_id`, id); err != nil {
		return r, err
	}
	q := `SELECT severity, file, record, jointure, structure_id, reason FROM aaf_report_issues WHERE report_id = $1`
	args := []any{id}
	if scope != nil {
		in := map[string]bool{}
		for _, s := range scope {
			in[s] = true
		}
		ok := false
		for _, s := range r.StructureIDs {
			ok = ok || in[s]
		}
		if !ok {
			return Report{}, actor.ErrNotFound
		}
		q += ` AND structure_id IN (` + db.In(2, len(scope)) + `)`
		for _, s := range scope {
			args = append(args, s)
		}
	}
	rows, err := im.db.QueryContext(ctx, q+` ORDER BY seq`, args...)
	if err != nil {
		return r, err
	}
	defer rows.Close()
	for rows.Next() {
		var x Issue
		var rec int64
		if err := rows.Scan(&x.Severity, &x.File, &rec, &x.Jointure, &x.StructureID, &x.Reason); err != nil {
			return r, err
		}
		x.Record = int(rec)
		r.Issues = append(r.Issues, x)
	}
	return r, rows.Err()
}

// Sweep applies the retention rules outside an import (the server does it
// periodically): marked persons whose grace period is over lose access, those past
// the purge delay are deleted. Super administrators (or the system) only; audited
// when it changed something.
func (im *Importer) Sweep(ctx context.Context, a actor.Actor) (ended, purged int, err error) {
	ok, err := im.rights.IsSuperAdmin(ctx, a)
	if err != nil {
		return 0, 0, err
	}
	if !ok {
		return 0, 0, actor.ErrForbidden
	}
	err = im.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if ended, purged, err = im.sweep(ctx, tx, im.opts.Now()); err != nil || ended+purged == 0 {
			return err
		}
		return im.audit.WriteTx(ctx, tx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: "aaf.sweep", Success: true,
			Details: map[string]string{"access_ended": strconv.Itoa(ended), "purged": strconv.Itoa(purged)}})
	})
	return ended, purged, err
}

// CloseSchoolYear closes the school year (directory.Service.CloseSchoolYear: one
// structure, or all of them) and makes the next import read every record of the
// persons concerned again, even those unchanged since the last one, so that it puts
// them in the new year's classes.
func (im *Importer) CloseSchoolYear(ctx context.Context, a actor.Actor, structureID string) (directory.Rollover, error) {
	out, err := im.dir.CloseSchoolYear(ctx, a, structureID)
	if err != nil {
		return out, err
	}
	_, err = im.db.ExecContext(ctx, `UPDATE aaf_persons SET checksum = '' WHERE $1 = '' OR person_id IN
		(SELECT person_id FROM person_structures WHERE structure_id = $1)`, structureID)
	return out, err
}
