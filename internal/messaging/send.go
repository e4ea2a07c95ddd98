package messaging

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/commrules"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/ids"
)

// SendResult says what a send did.
type SendResult struct {
	ID         string
	Recipients int // person copies made
}

// Send sends one of the actor's drafts: the recipients are checked again against the
// communication rules, groups are expanded into one copy per member, the sender's
// quota is checked, and everything happens in one transaction: all copies or none.
func (s *Service) Send(ctx context.Context, a actor.Actor, draftID string) (SendResult, error) {
	d, err := s.Draft(ctx, a, draftID)
	if err != nil {
		return SendResult{}, err
	}
	if len(d.To)+len(d.Cc)+len(d.Bcc) == 0 {
		return SendResult{}, actor.Invalid("to", "messagerie.error.no_recipient")
	}
	if strings.TrimSpace(d.Subject) == "" && strings.TrimSpace(d.Body) == "" && len(d.Attachments) == 0 {
		return SendResult{}, actor.Invalid("body", "messagerie.error.empty")
	}
	// The rules are checked at send time: a draft written last month may name a
	// recipient the sender may no longer reach.
	for _, f := range []struct {
		field string
		rs    []Recipient
	}{{"to", d.To}, {"cc", d.Cc}, {"bcc", d.Bcc}} {
		if _, err := s.resolve(ctx, s.db, a, f.field, f.rs); err != nil {
			return SendResult{}, err
		}
	}
	var reached []string
	var subject string
	now := s.now().UnixMilli()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		var size int64
		err := tx.QueryRowContext(ctx, `SELECT size, subject FROM mail_messages WHERE id=$1 AND sender_id=$2 AND state='draft'`, d.ID, a.PersonID).Scan(&size, &subject)
		if err == sql.ErrNoRows {
			return actor.ErrNotFound // sent meanwhile, from another tab
		}
		if err != nil {
			return err
		}
		used, err := s.usage(ctx, tx, a.PersonID)
		if err != nil {
			return err
		}
		// The draft counts already; the quota refuses what goes beyond it.
		if used > s.cfg.Quota {
			return actor.Invalid("body", "messagerie.error.quota")
		}
		statement := 0
		for _, f := range []struct {
			role string
			rs   []Recipient
		}{{RoleTo, d.To}, {RoleCc, d.Cc}, {RoleBcc, d.Bcc}} {
			var persons []string
			for _, r := range f.rs {
				if r.Kind == KindPerson {
					persons = append(persons, r.ID)
					continue
				}
				if err := s.copyGroup(ctx, tx, a.PersonID, d.ID, r.ID, f.role, now); err != nil {
					return err
				}
				statement++
				if s.afterCopies != nil {
					if err := s.afterCopies(statement); err != nil {
						return err
					}
				}
			}
			for _, p := range persons {
				if _, err := tx.ExecContext(ctx, `INSERT INTO mail_copies(person_id, message_id, folder, role, unread, at) VALUES ($1,$2,'inbox',$3,TRUE,$4)
					ON CONFLICT (message_id, person_id) DO NOTHING`, p, d.ID, f.role, now); err != nil {
					return err
				}
				statement++
				if s.afterCopies != nil {
					if err := s.afterCopies(statement); err != nil {
						return err
					}
				}
			}
		}
		rows, err := tx.QueryContext(ctx, `SELECT person_id FROM mail_copies WHERE message_id=$1 AND role <> 'sender'`, d.ID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			reached = append(reached, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(reached) == 0 {
			return actor.Invalid("to", "messagerie.error.no_recipient")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE mail_messages SET state='sent', sent_at=$1, updated_at=$1, recipients=$2 WHERE id=$3`, now, len(reached), d.ID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE mail_copies SET folder='sent', at=$1 WHERE person_id=$2 AND message_id=$3`, now, a.PersonID, d.ID)
		return err
	})
	if err != nil {
		return SendResult{}, err
	}
	if s.Notify != nil {
		s.Notify(ctx, reached, a.PersonID, subject, "/messagerie/messages/"+d.ID)
	}
	return SendResult{ID: d.ID, Recipients: len(reached)}, nil
}

// copyGroup makes the copies of a group recipient in one statement. A group the
// rules reach gives all its members; a class profile group inside a reached
// structure group gives the members the sender may write to.
func (s *Service) copyGroup(ctx context.Context, tx *sql.Tx, senderID, messageID, groupID, role string, now int64) error {
	var direct int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (`+commrules.ReachableGroupsSQL+`) r WHERE r.id = $2`, senderID, groupID).Scan(&direct)
	if err != nil {
		return err
	}
	filter := ""
	if direct == 0 {
		// The rules' test of MayWrite, member by member, in the same statement.
		filter = ` AND (EXISTS (SELECT 1 FROM group_members mb WHERE mb.person_id = m.person_id AND mb.group_id IN (` + commrules.ReachableGroupsSQL + `))
			OR EXISTS (SELECT 1 FROM person_links l WHERE (l.parent_id = $1 AND l.child_id = m.person_id) OR (l.child_id = $1 AND l.parent_id = m.person_id)))`
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO mail_copies(person_id, message_id, folder, role, unread, at)
		SELECT m.person_id, $2, 'inbox', $4, TRUE, $5 FROM group_members m WHERE m.group_id = $3 AND m.person_id <> $1`+filter+`
		ON CONFLICT (message_id, person_id) DO NOTHING`, senderID, messageID, groupID, role, now)
	return err
}

// Reply makes a draft answering a message the actor holds: to its sender, or to
// everyone for a reply to all (except bcc, and except those the replier may not
// write to).
func (s *Service) Reply(ctx context.Context, a actor.Actor, id string, all bool) (string, error) {
	m, err := s.Message(ctx, a, id, false)
	if err != nil {
		return "", err
	}
	d := Draft{ParentID: m.ID, Subject: prefixed("Re : ", m.Subject), Body: quote(m)}
	to := []Recipient{{Kind: KindPerson, ID: m.SenderID, Name: m.SenderName}}
	if m.SenderID == a.PersonID {
		to = m.To
	}
	if all {
		to = append(to, m.To...)
		d.Cc = s.allowedOnly(ctx, a, m.Cc)
	}
	d.To = s.allowedOnly(ctx, a, to)
	return s.SaveDraft(ctx, a, d)
}

// Forward makes a draft passing a message the actor holds on, with its attachments
// (new rows on the same stored files: nothing is copied).
func (s *Service) Forward(ctx context.Context, a actor.Actor, id string) (string, error) {
	m, err := s.Message(ctx, a, id, false)
	if err != nil {
		return "", err
	}
	did, err := s.SaveDraft(ctx, a, Draft{ParentID: m.ID, Subject: prefixed("Tr : ", m.Subject), Body: quote(m)})
	if err != nil {
		return "", err
	}
	if len(m.Attachments) == 0 {
		return did, nil
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, at := range m.Attachments {
			if _, err := tx.ExecContext(ctx, `INSERT INTO mail_attachments(id, message_id, blob_key, name, content_type, size, sha256, created_at)
				SELECT $1, $2, blob_key, name, content_type, size, sha256, $3 FROM mail_attachments WHERE id=$4`, ids.New(), did, s.now().UnixMilli(), at.ID); err != nil {
				return err
			}
		}
		return s.resize(ctx, tx, did)
	})
	return did, err
}

func prefixed(p, subject string) string {
	if strings.HasPrefix(strings.ToLower(subject), strings.ToLower(p)) {
		return subject
	}
	return p + subject
}

func quote(m Message) string {
	var sb strings.Builder
	sb.WriteString("\n\n")
	sb.WriteString("Le " + m.SentAt.Local().Format("02/01/2006 à 15:04") + ", " + m.SenderName + " a écrit :\n")
	for _, l := range strings.Split(m.Body, "\n") {
		sb.WriteString("> " + l + "\n")
	}
	return sb.String()
}

// Reader is a recipient in "read by".
type Reader struct {
	PersonID string
	Name     string
	Role     string
	ReadAt   time.Time // zero: not read yet
}

// ReadBy tells the sender of a message who among its recipients opened it.
func (s *Service) ReadBy(ctx context.Context, a actor.Actor, id string) (read int, readers []Reader, err error) {
	if err := s.mustBeSender(ctx, a, id); err != nil {
		return 0, nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT c.person_id, COALESCE(p.first_name,''), COALESCE(p.last_name,''), c.role, c.read_at FROM mail_copies c
		LEFT JOIN persons p ON p.id = c.person_id WHERE c.message_id = $1 AND c.role <> 'sender'
		ORDER BY c.read_at = 0, p.last_key, p.first_key`, id)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r Reader
		var first, last string
		var at int64
		if err := rows.Scan(&r.PersonID, &first, &last, &r.Role, &at); err != nil {
			return 0, nil, err
		}
		r.Name = displayName(first, last)
		if at > 0 {
			r.ReadAt = time.UnixMilli(at)
			read++
		}
		readers = append(readers, r)
	}
	return read, readers, rows.Err()
}

func (s *Service) mustBeSender(ctx context.Context, a actor.Actor, id string) error {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM mail_messages m JOIN mail_copies c ON c.message_id = m.id AND c.person_id = m.sender_id AND NOT c.deleted
		WHERE m.id = $1 AND m.sender_id = $2 AND m.state = 'sent'`, id, a.PersonID).Scan(&one)
	if err == sql.ErrNoRows || a.PersonID == "" {
		return actor.ErrNotFound
	}
	return err
}

// Recall takes back the copies of a sent message that were not read yet; read ones
// stay. It returns how many copies were recalled.
func (s *Service) Recall(ctx context.Context, a actor.Actor, id string) (int, error) {
	if err := s.mustBeSender(ctx, a, id); err != nil {
		return 0, err
	}
	var n int64
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM mail_copies WHERE message_id=$1 AND role <> 'sender' AND read_at = 0`, id)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return s.audit.WriteTx(ctx, tx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: "mail.recall", TargetType: "message", TargetID: id, Success: true,
			Details: map[string]string{"recalled": itoa(n)}})
	})
	return int(n), err
}
