// Package audit writes and reads the audit log: every login and every administrative
// action, with who, what, on which target, from which address, and whether it succeeded.
package audit

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/platform/db"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the audit log's tables.
var Migrations = db.Embedded("audit", migrations)

// Entry is one line of the audit log.
type Entry struct {
	ID          int64
	At          time.Time
	ActorID     string
	ActorLogin  string
	Action      string // e.g. "login", "person.create", "role.grant"
	TargetType  string
	TargetID    string
	StructureID string
	IP          string
	Success     bool
	Details     map[string]string
}

// Log writes entries.
type Log struct {
	db *db.DB
}

// New returns the audit log over database d.
func New(d *db.DB) *Log { return &Log{db: d} }

// Write records an entry. A failure to audit is logged loudly but does not undo the
// action: the action has already happened and its own transaction is committed.
// Use WriteTx when the entry must be part of the action's transaction.
func (l *Log) Write(ctx context.Context, e Entry) {
	if err := l.WriteTx(ctx, l.db, e); err != nil {
		slog.Error("audit: écriture impossible", "action", e.Action, "err", err)
	}
}

// WriteTx records an entry through q (a transaction, typically).
func (l *Log) WriteTx(ctx context.Context, q db.Querier, e Entry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	details := ""
	if len(e.Details) > 0 {
		b, _ := json.Marshal(e.Details)
		details = string(b)
	}
	_, err := q.ExecContext(ctx, `INSERT INTO audit_log(at, actor_id, actor_login, action, target_type, target_id, structure_id, ip, success, details)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
		e.At.UnixMilli(), e.ActorID, e.ActorLogin, e.Action, e.TargetType, e.TargetID, e.StructureID, e.IP, e.Success, details)
	return err
}

// Filter selects entries; empty fields match everything.
type Filter struct {
	ActorLogin   string
	Action       string   // prefix: "login" matches "login" and "login.failed"
	StructureIDs []string // nil: every structure (super administrators)
	Since, Until time.Time
	Limit        int
	BeforeID     int64 // for paging: entries older than this id
}

// Search returns the newest entries matching f.
func (l *Log) Search(ctx context.Context, f Filter) ([]Entry, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.ActorLogin != "" {
		add("actor_login = $%d", strings.ToLower(f.ActorLogin))
	}
	if f.Action != "" {
		add("(action = $%d", f.Action)
		args = append(args, f.Action+".%")
		where[len(where)-1] += fmt.Sprintf(" OR action LIKE $%d)", len(args))
	}
	if f.StructureIDs != nil {
		if len(f.StructureIDs) == 0 {
			return nil, nil
		}
		where = append(where, "structure_id IN ("+db.In(len(args)+1, len(f.StructureIDs))+")")
		for _, s := range f.StructureIDs {
			args = append(args, s)
		}
	}
	if !f.Since.IsZero() {
		add("at >= $%d", f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		add("at < $%d", f.Until.UnixMilli())
	}
	if f.BeforeID > 0 {
		add("id < $%d", f.BeforeID)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q := `SELECT id, at, actor_id, actor_login, action, target_type, target_id, structure_id, ip, success, details FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT %d", f.Limit)
	rows, err := l.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var at int64
		var details string
		if err := rows.Scan(&e.ID, &at, &e.ActorID, &e.ActorLogin, &e.Action, &e.TargetType, &e.TargetID, &e.StructureID, &e.IP, &e.Success, &details); err != nil {
			return nil, err
		}
		e.At = time.UnixMilli(at)
		if details != "" {
			_ = json.Unmarshal([]byte(details), &e.Details)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Purge removes entries older than the retention limit (CNIL: application logs
// kept 6 months to a year).
func (l *Log) Purge(ctx context.Context, olderThan time.Time) (int64, error) {
	res, err := l.db.ExecContext(ctx, `DELETE FROM audit_log WHERE at < $1`, olderThan.UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
