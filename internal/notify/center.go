package notify

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/platform/actor"
)

// Notification is one event as a recipient sees it.
type Notification struct {
	ID          string // the event's id
	Kind        string
	Label       string // i18n key of the kind's name
	ActorID     string
	ActorName   string // "Paul DURAND"; "" for the system or a person since deleted
	Title       string
	Link        string
	StructureID string
	At          time.Time
	Read        bool
}

// Page is one page of a person's notifications, newest first.
type Page struct {
	Items []Notification
	Next  string // cursor of the next page; "" on the last one
}

// MaxUnread caps the unread count: counting stops there (the badge shows "99+"), so
// that the query costs the same for a person with 10,000 unread notifications.
const MaxUnread = 100

// MaxPage is the most notifications one page lists.
const MaxPage = 100

// UnreadCount returns how many notifications the person has not read, at most
// MaxUnread: one lookup in the index of unread rows.
func (s *Service) UnreadCount(ctx context.Context, personID string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM notify_inbox WHERE person_id = $1 AND read_at = 0 LIMIT 100) u`, personID).Scan(&n)
	return n, err
}

// cursor encodes a keyset position: the time in milliseconds and the event id.
func cursor(n Notification) string {
	return strconv.FormatInt(n.At.UnixMilli(), 10) + "-" + n.ID
}

func parseCursor(c string) (int64, string, bool) {
	at, id, ok := strings.Cut(c, "-")
	if !ok {
		return 0, "", false
	}
	ms, err := strconv.ParseInt(at, 10, 64)
	return ms, id, err == nil && id != ""
}

// List returns the actor's notifications, newest first, limit at a time, after the
// cursor of the previous page ("" for the first).
func (s *Service) List(ctx context.Context, a actor.Actor, after string, limit int) (Page, error) {
	if a.PersonID == "" {
		return Page{}, actor.ErrForbidden
	}
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, MaxPage)
	ms, id := int64(1<<62), ""
	if after != "" {
		var ok bool
		if ms, id, ok = parseCursor(after); !ok {
			return Page{}, actor.Invalid("apres", "notify.bad_cursor")
		}
	}
	// The row-value comparison walks notify_inbox_recent backwards from the cursor.
	rows, err := s.db.QueryContext(ctx, `SELECT i.event_id, i.created_at, i.read_at, e.kind, e.actor_id, e.title, e.link, e.structure_id,
		COALESCE(p.first_name, ''), COALESCE(p.last_name, '')
		FROM notify_inbox i JOIN notify_events e ON e.id = i.event_id
		LEFT JOIN persons p ON p.id = e.actor_id AND e.actor_id <> ''
		WHERE i.person_id = $1 AND (i.created_at, i.event_id) < ($2, $3)
		ORDER BY i.created_at DESC, i.event_id DESC LIMIT $4`, a.PersonID, ms, id, limit+1)
	if err != nil {
		return Page{}, err
	}
	defer rows.Close()
	var out Page
	for rows.Next() {
		var n Notification
		var at, readAt int64
		var first, last string
		if err := rows.Scan(&n.ID, &at, &readAt, &n.Kind, &n.ActorID, &n.Title, &n.Link, &n.StructureID, &first, &last); err != nil {
			return Page{}, err
		}
		n.At, n.Read = time.UnixMilli(at), readAt > 0
		if last != "" {
			n.ActorName = strings.TrimSpace(first + " " + strings.ToUpper(last))
		}
		n.Label = "notify.kind." + n.Kind
		if k, ok := KindOf(n.Kind); ok {
			n.Label = k.Label
		}
		out.Items = append(out.Items, n)
	}
	if err := rows.Err(); err != nil {
		return Page{}, err
	}
	if len(out.Items) > limit {
		out.Items = out.Items[:limit]
		out.Next = cursor(out.Items[limit-1])
	}
	return out, nil
}

// Open marks one of the actor's notifications read and returns it (its link is
// where the person goes). Another person's notification is ErrNotFound.
func (s *Service) Open(ctx context.Context, a actor.Actor, eventID string) (Notification, error) {
	if a.PersonID == "" {
		return Notification{}, actor.ErrForbidden
	}
	var n Notification
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT e.id, e.kind, e.title, e.link, e.structure_id, i.created_at FROM notify_inbox i JOIN notify_events e ON e.id = i.event_id
		WHERE i.person_id = $1 AND i.event_id = $2`, a.PersonID, eventID).Scan(&n.ID, &n.Kind, &n.Title, &n.Link, &n.StructureID, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return n, actor.ErrNotFound
	}
	if err != nil {
		return n, err
	}
	n.At, n.Read = time.UnixMilli(at), true
	_, err = s.db.ExecContext(ctx, `UPDATE notify_inbox SET read_at = $1 WHERE person_id = $2 AND event_id = $3 AND read_at = 0`,
		s.cfg.Now().UnixMilli(), a.PersonID, eventID)
	return n, err
}

// MarkAllRead marks every notification of the actor read.
func (s *Service) MarkAllRead(ctx context.Context, a actor.Actor) (int64, error) {
	if a.PersonID == "" {
		return 0, actor.ErrForbidden
	}
	res, err := s.db.ExecContext(ctx, `UPDATE notify_inbox SET read_at = $1 WHERE person_id = $2 AND read_at = 0`, s.cfg.Now().UnixMilli(), a.PersonID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Purge deletes the events older than the retention delay, and their rows, a
// thousand events at a time so that no transaction grows with the backlog.
func (s *Service) Purge(ctx context.Context) (int64, error) {
	cut := s.cfg.Now().Add(-s.cfg.Retention).UnixMilli()
	var total int64
	for {
		res, err := s.db.ExecContext(ctx, `DELETE FROM notify_events WHERE id IN (SELECT id FROM notify_events WHERE created_at < $1 LIMIT 1000)`, cut)
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += n
		if n < 1000 {
			return total, nil
		}
	}
}
