package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/mail"
)

// claimed is one inbox row a worker took to mail.
type claimed struct {
	eventID string
	read    bool
	digest  bool
}

// Report says what one delivery pass did.
type Report struct {
	Mails  int // mails sent
	Events int // events in them
	Failed int // mails that failed (their events are tried again after RetryAfter)
}

// Deliver mails what is due now: immediate mails outside the recipient's quiet hours
// (those that waited go out grouped), and digests at their hour. Each person gets one
// mail per pass listing their due, unread events; events read in the ENT meanwhile
// are not mailed. Each row is claimed by one UPDATE … RETURNING before its mail is
// sent: another instance running the same pass finds it claimed and skips it, so an
// event is mailed at most once.
func (s *Service) Deliver(ctx context.Context) (Report, error) {
	var rep Report
	if s.mail == nil {
		return rep, nil
	}
	now := s.cfg.Now()
	for {
		persons, err := db.Strings(ctx, s.db, `SELECT DISTINCT person_id FROM notify_inbox WHERE mail_due > 0 AND mail_due <= $1 LIMIT 100`, now.UnixMilli())
		if err != nil {
			return rep, err
		}
		if len(persons) == 0 {
			return rep, nil
		}
		for _, pid := range persons {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			rows, err := s.claim(ctx, pid, now)
			if err != nil {
				return rep, err
			}
			var unread []claimed
			for _, c := range rows {
				if !c.read {
					unread = append(unread, c)
				}
			}
			if len(unread) == 0 {
				continue
			}
			if err := s.send(ctx, pid, unread); err != nil {
				rep.Failed++
				logErr("notifications : courriel non envoyé", err, "person", pid)
				if errors.Is(err, mail.ErrBadAddress) {
					continue // an address no relay takes: trying again changes nothing
				}
				if err := s.release(ctx, pid, unread, now.Add(s.cfg.RetryAfter)); err != nil {
					return rep, err
				}
				continue
			}
			rep.Mails++
			rep.Events += len(unread)
		}
	}
}

// claim takes the person's due rows: from then on no other worker sees them.
func (s *Service) claim(ctx context.Context, personID string, now time.Time) ([]claimed, error) {
	rows, err := s.db.QueryContext(ctx, `UPDATE notify_inbox SET mail_due = 0, mailed_at = $1
		WHERE person_id = $2 AND mail_due > 0 AND mail_due <= $1
		RETURNING event_id, read_at, mail`, now.UnixMilli(), personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []claimed
	for rows.Next() {
		var c claimed
		var readAt int64
		var kind string
		if err := rows.Scan(&c.eventID, &readAt, &kind); err != nil {
			return nil, err
		}
		c.read, c.digest = readAt > 0, kind == string(Digest)
		out = append(out, c)
	}
	return out, rows.Err()
}

// release puts rows whose mail failed back in the queue, due at retry.
func (s *Service) release(ctx context.Context, personID string, rows []claimed, retry time.Time) error {
	args := []any{retry.UnixMilli(), personID}
	for _, c := range rows {
		args = append(args, c.eventID)
	}
	_, err := s.db.ExecContext(ctx, `UPDATE notify_inbox SET mail_due = $1, mailed_at = 0 WHERE person_id = $2 AND mail_due = 0 AND event_id IN (`+db.In(3, len(rows))+`)`, args...)
	return err
}

// send writes one mail to a person listing events.
func (s *Service) send(ctx context.Context, personID string, rows []claimed) error {
	var email, lang, state string
	err := s.db.QueryRowContext(ctx, `SELECT email, language, state FROM persons WHERE id = $1`, personID).Scan(&email, &lang, &state)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (email == "" || state != directory.StateActive)) {
		return nil // gone, blocked, or no address any more: nothing to send, nothing to retry
	}
	if err != nil {
		return err
	}
	args := make([]any, 0, len(rows))
	digest := false
	for _, c := range rows {
		args = append(args, c.eventID)
		digest = digest || c.digest
	}
	q, err := s.db.QueryContext(ctx, `SELECT id, kind, title, created_at FROM notify_events WHERE id IN (`+db.In(1, len(args))+`) ORDER BY created_at, id`, args...)
	if err != nil {
		return err
	}
	var events []Notification
	for q.Next() {
		var n Notification
		var at int64
		if err := q.Scan(&n.ID, &n.Kind, &n.Title, &at); err != nil {
			q.Close()
			return err
		}
		n.At = time.UnixMilli(at)
		n.Label = "notify.kind." + n.Kind
		if k, ok := KindOf(n.Kind); ok {
			n.Label = k.Label
		}
		events = append(events, n)
	}
	q.Close()
	if err := q.Err(); err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	m := s.compose(lang, events, digest)
	m.To = email
	return s.mail.Send(ctx, m)
}

// compose writes the mail: plain text, in the person's language, the kind and title
// of each event with its link, and nothing else about anyone.
func (s *Service) compose(lang string, events []Notification, digest bool) mail.Message {
	L := s.catalog.For(lang)
	var subject string
	switch {
	case digest:
		subject = L.T("notify.mail.subject_digest", s.cfg.Name, len(events))
	case len(events) == 1:
		subject = L.T("notify.mail.subject_one", s.cfg.Name, L.T(events[0].Label), events[0].Title)
	default:
		subject = L.T("notify.mail.subject_many", s.cfg.Name, len(events))
	}
	var b strings.Builder
	b.WriteString(L.T("notify.mail.hello") + "\n\n")
	if len(events) == 1 {
		b.WriteString(L.T("notify.mail.intro_one", s.cfg.Name) + "\n\n")
	} else {
		b.WriteString(L.T("notify.mail.intro_many", len(events), s.cfg.Name) + "\n\n")
	}
	for _, e := range events {
		line := L.T(e.Label)
		if e.Title != "" {
			line += " — " + e.Title
		}
		at := e.At.In(s.cfg.Location)
		fmt.Fprintf(&b, "- %s (%s)\n  %s/notifications/%s\n\n", line, L.T("notify.mail.at", at.Format("02/01/2006"), at.Format("15:04")), s.cfg.PortalURL, e.ID)
	}
	b.WriteString(L.T("notify.mail.prefs") + "\n" + s.cfg.PortalURL + "/notifications/preferences\n\n")
	b.WriteString(L.T("notify.mail.footer") + "\n")
	return mail.Message{Subject: subject, Body: b.String()}
}

// Run delivers every interval until ctx ends (every instance may run it).
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rep, err := s.Deliver(ctx)
			if err != nil && ctx.Err() == nil {
				slog.Error("notifications : envoi des courriels", "err", err)
			}
			if rep.Mails+rep.Failed > 0 {
				slog.Info("notifications : courriels", "envoyés", rep.Mails, "événements", rep.Events, "échecs", rep.Failed)
			}
		}
	}
}
