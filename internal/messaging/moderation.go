package messaging

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
)

// Report signals a received message to the moderators of the reporter's structures.
func (s *Service) Report(ctx context.Context, a actor.Actor, id, reason string) error {
	m, err := s.Message(ctx, a, id, false)
	if err != nil {
		return err
	}
	if m.IsSender() {
		return actor.Invalid("reason", "messagerie.error.report_own")
	}
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > 1000 {
		reason = string([]rune(reason)[:1000])
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO mail_reports(message_id, reporter_id, reason, status, created_at) VALUES ($1,$2,$3,'open',$4)
			ON CONFLICT (message_id, reporter_id) DO UPDATE SET reason=excluded.reason, status='open'`, id, a.PersonID, reason, s.now().UnixMilli()); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: "mail.report", TargetType: "message", TargetID: id, Success: true})
	})
}

// ReportItem is a reported message in the moderation queue.
type ReportItem struct {
	MessageID  string
	Subject    string
	SenderID   string
	SenderName string
	Reporters  int
	Reasons    []string
	At         time.Time
}

// moderatedScope returns the structures whose reported messages the actor moderates:
// those they administer and those they are moderator of (all: every structure).
func (s *Service) moderatedScope(ctx context.Context, a actor.Actor) (bool, []string, error) {
	if a.PersonID == "" {
		return false, nil, nil
	}
	all, scope, err := s.rights.AdminScope(ctx, a)
	if err != nil || all {
		return all, nil, err
	}
	mods, err := db.Strings(ctx, s.db, `SELECT structure_id FROM role_assignments WHERE person_id=$1 AND role='moderator'`, a.PersonID)
	if err != nil {
		return false, nil, err
	}
	return false, append(scope, mods...), nil
}

// reportedSQL selects the open reports a moderator may act on: args from $1 are the
// structures (the reporter belongs to one of them), unless all.
func reportedScopeSQL(all bool, n int) string {
	if all {
		return ""
	}
	return ` AND r.reporter_id IN (SELECT person_id FROM person_structures WHERE structure_id IN (` + db.In(1, n) + `))`
}

// ModerationQueue lists the reported messages the actor may moderate. It shows
// reported messages only: moderation gives no other access to anyone's mail.
func (s *Service) ModerationQueue(ctx context.Context, a actor.Actor) ([]ReportItem, error) {
	all, scope, err := s.moderatedScope(ctx, a)
	if err != nil {
		return nil, err
	}
	if !all && len(scope) == 0 {
		return nil, actor.ErrForbidden
	}
	args := make([]any, len(scope))
	for i, v := range scope {
		args[i] = v
	}
	rows, err := s.db.QueryContext(ctx, `SELECT m.id, m.subject, m.sender_id, m.sender_name, r.reason, r.created_at FROM mail_reports r
		JOIN mail_messages m ON m.id = r.message_id WHERE r.status = 'open'`+reportedScopeSQL(all, len(scope))+` ORDER BY r.created_at, m.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ReportItem
	index := map[string]int{}
	for rows.Next() {
		var it ReportItem
		var reason string
		var at int64
		if err := rows.Scan(&it.MessageID, &it.Subject, &it.SenderID, &it.SenderName, &reason, &at); err != nil {
			return nil, err
		}
		i, ok := index[it.MessageID]
		if !ok {
			it.At = time.UnixMilli(at)
			out = append(out, it)
			i = len(out) - 1
			index[it.MessageID] = i
		}
		out[i].Reporters++
		if reason != "" {
			out[i].Reasons = append(out[i].Reasons, reason)
		}
	}
	return out, rows.Err()
}

func (s *Service) mayModerate(ctx context.Context, a actor.Actor, id string) error {
	all, scope, err := s.moderatedScope(ctx, a)
	if err != nil {
		return err
	}
	if !all && len(scope) == 0 {
		return actor.ErrForbidden
	}
	args := []any{}
	for _, v := range scope {
		args = append(args, v)
	}
	args = append(args, id)
	var one int
	err = s.db.QueryRowContext(ctx, `SELECT 1 FROM mail_reports r WHERE r.status='open' AND r.message_id = $`+itoa(int64(len(args)))+
		reportedScopeSQL(all, len(scope))+` LIMIT 1`, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return actor.ErrNotFound
	}
	return err
}

// ReportedMessage shows a reported message to a moderator of it (audited).
func (s *Service) ReportedMessage(ctx context.Context, a actor.Actor, id string) (Message, error) {
	if err := s.mayModerate(ctx, a, id); err != nil {
		return Message{}, err
	}
	var m Message
	var to, cc string
	var sent int64
	err := s.db.QueryRowContext(ctx, `SELECT id, sender_id, sender_name, subject, body, rcpt_to, rcpt_cc, sent_at, recipients FROM mail_messages WHERE id=$1`, id).
		Scan(&m.ID, &m.SenderID, &m.SenderName, &m.Subject, &m.Body, &to, &cc, &sent, &m.Recipients)
	if err != nil {
		return Message{}, err
	}
	m.To, m.Cc, m.SentAt, m.State = decodeRecipients(to), decodeRecipients(cc), time.UnixMilli(sent), "sent"
	if m.Attachments, err = s.attachments(ctx, id); err != nil {
		return Message{}, err
	}
	s.audit.Write(ctx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: "mail.moderation.view", TargetType: "message", TargetID: id, Success: true})
	return m, nil
}

// Remove takes a reported message out of every mailbox (audited): the moderator's
// answer to a message that should not have been sent.
func (s *Service) Remove(ctx context.Context, a actor.Actor, id string) (int, error) {
	if err := s.mayModerate(ctx, a, id); err != nil {
		return 0, err
	}
	var n int64
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE mail_copies SET deleted=TRUE, unread=FALSE, folder='', prev_folder='' WHERE message_id=$1 AND NOT deleted`, id)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		if err := s.audit.WriteTx(ctx, tx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: "mail.moderation.remove", TargetType: "message", TargetID: id, Success: true,
			Details: map[string]string{"copies": itoa(n)}}); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE mail_reports SET status='removed' WHERE message_id=$1`, id); err != nil {
			return err
		}
		return s.purgeIfOrphan(ctx, tx, id)
	})
	if err != nil {
		return 0, err
	}
	s.flushBlobs(ctx)
	return int(n), nil
}

// Dismiss closes the reports of a message that needs no action (audited).
func (s *Service) Dismiss(ctx context.Context, a actor.Actor, id string) error {
	if err := s.mayModerate(ctx, a, id); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE mail_reports SET status='dismissed' WHERE message_id=$1 AND status='open'`, id); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: "mail.moderation.dismiss", TargetType: "message", TargetID: id, Success: true})
	})
}

// Moderates tells whether the actor moderates the messages reported in any structure.
func (s *Service) Moderates(ctx context.Context, a actor.Actor) (bool, error) {
	all, scope, err := s.moderatedScope(ctx, a)
	return all || len(scope) > 0, err
}
