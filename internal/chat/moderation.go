package chat

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
	"github.com/preau-ent/preau/internal/rights"
)

// Report is a reported message as moderators see it: the message alone, not the
// conversation around it.
type Report struct {
	Message      Message
	StructureID  string
	Reports      int    // how many members reported it
	Reasons      string // their reasons, one per line
	FirstAt      time.Time
	ReporterName string // the first reporter
}

// Outcomes of a moderation.
const (
	Removed = "removed"
	Kept    = "kept"
)

// ReportMessage lets a member of the conversation report a message to the
// moderators of the conversation's structure. Reporting twice changes nothing.
func (s *Service) ReportMessage(ctx context.Context, a actor.Actor, messageID int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > MaxReason {
		return actor.Invalid("reason", "chat.reason_too_long")
	}
	m, err := s.message(ctx, messageID)
	if err != nil {
		return err
	}
	c, err := s.Conversation(ctx, a, m.ConversationID)
	if err != nil {
		return err // not a member: the message does not exist for them
	}
	if m.Removed {
		return nil
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO chat_reports(id, message_id, structure_id, reporter_id, reason, created_at) VALUES ($1,$2,$3,$4,$5,$6)
		ON CONFLICT (message_id, reporter_id) DO NOTHING`, ids.New(), messageID, c.StructureID, a.PersonID, reason, s.now().UnixMilli())
	return err
}

// moderated returns the structures whose reports the actor handles (all: every one).
func (s *Service) moderated(ctx context.Context, a actor.Actor) (all bool, structureIDs []string, err error) {
	all, scope, err := s.rights.AdminScope(ctx, a)
	if err != nil || all {
		return all, nil, err
	}
	mods, err := db.Strings(ctx, s.db, `SELECT structure_id FROM role_assignments WHERE person_id=$1 AND role=$2`, a.PersonID, rights.Moderator)
	if err != nil {
		return false, nil, err
	}
	return false, dedupe(append(scope, mods...), ""), nil
}

// IsModerator tells whether the actor handles reports anywhere (to show the page).
func (s *Service) IsModerator(ctx context.Context, a actor.Actor) (bool, error) {
	all, ids, err := s.moderated(ctx, a)
	return all || len(ids) > 0, err
}

// Reports lists the open reports the actor handles, one entry per reported message.
func (s *Service) Reports(ctx context.Context, a actor.Actor) ([]Report, error) {
	all, scope, err := s.moderated(ctx, a)
	if err != nil {
		return nil, err
	}
	if !all && len(scope) == 0 {
		return nil, actor.ErrForbidden
	}
	args := []any{}
	filter := ""
	if !all {
		filter = ` AND r.structure_id IN (` + db.In(1, len(scope)) + `)`
		for _, id := range scope {
			args = append(args, id)
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT r.message_id, r.structure_id, r.reason, r.created_at, COALESCE(q.first_name || '|' || q.last_name, '')
		FROM chat_reports r LEFT JOIN persons q ON q.id = r.reporter_id
		WHERE r.resolved_at = 0`+filter+` ORDER BY r.created_at, r.id LIMIT 1000`, args...)
	if err != nil {
		return nil, err
	}
	byMessage := map[int64]*Report{}
	var order []int64
	for rows.Next() {
		var id, at int64
		var sid, reason, reporter string
		if err := rows.Scan(&id, &sid, &reason, &at, &reporter); err != nil {
			rows.Close()
			return nil, err
		}
		r, ok := byMessage[id]
		if !ok {
			r = &Report{StructureID: sid, FirstAt: time.UnixMilli(at), ReporterName: joinedName(reporter)}
			byMessage[id] = r
			order = append(order, id)
		}
		r.Reports++
		if reason != "" {
			if r.Reasons != "" {
				r.Reasons += "\n"
			}
			r.Reasons += reason
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Report, 0, len(order))
	for _, id := range order {
		m, err := s.message(ctx, id)
		if err != nil {
			return nil, err
		}
		r := byMessage[id]
		r.Message = m
		out = append(out, *r)
	}
	return out, nil
}

// Moderate settles the reports of a message: outcome Removed empties and marks the
// message (members then see that a moderator removed it), Kept leaves it. Only the
// moderators and local administrators of the conversation's structure may, on a
// reported message; the decision is written to the audit log.
func (s *Service) Moderate(ctx context.Context, a actor.Actor, messageID int64, outcome string) error {
	if outcome != Removed && outcome != Kept {
		return actor.Invalid("outcome", "chat.bad_outcome")
	}
	var sid string
	err := s.db.QueryRowContext(ctx, `SELECT structure_id FROM chat_reports WHERE message_id=$1 LIMIT 1`, messageID).Scan(&sid)
	if errors.Is(err, sql.ErrNoRows) {
		return actor.ErrNotFound // never reported: moderators do not see it
	}
	if err != nil {
		return err
	}
	ok, err := s.rights.IsModerator(ctx, a, sid)
	if err != nil {
		return err
	}
	if !ok {
		return actor.ErrForbidden
	}
	m, err := s.message(ctx, messageID)
	if err != nil {
		return err
	}
	now := s.now().UnixMilli()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if outcome == Removed {
			if _, err := tx.ExecContext(ctx, `UPDATE chat_messages SET body='', removed_at=$2, removed_by=$3 WHERE id=$1`, messageID, now, a.PersonID); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE chat_reports SET resolved_at=$2, resolved_by=$3, outcome=$4 WHERE message_id=$1 AND resolved_at=0`, messageID, now, a.PersonID, outcome)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		return s.audit.WriteTx(ctx, tx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: "chat.message." + outcome, TargetType: "chat_message",
			TargetID: strconv.FormatInt(messageID, 10), StructureID: sid, Success: true,
			Details: map[string]string{"conversation": m.ConversationID, "sender": m.SenderID, "reports": strconv.FormatInt(n, 10)}})
	})
	if err != nil {
		return err
	}
	if outcome == Removed {
		s.publish(ctx, m.ConversationID, event{Kind: evRemoved, Conversation: m.ConversationID, ID: messageID})
	}
	return nil
}
