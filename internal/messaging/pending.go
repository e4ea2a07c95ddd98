package messaging

import (
	"context"
	"time"

	"github.com/preau-ent/preau/internal/moderation"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
)

// PendingReports lists the reported messages the actor may moderate (reported by a
// member of a structure they moderate), newest report first, for the one moderation
// queue. It gives the subject and the sender only: the message itself is read on
// its own page, which the audit log records.
func (s *Service) PendingReports(ctx context.Context, a actor.Actor, limit int) ([]moderation.Item, error) {
	cond, args, ok, err := moderation.Where(ctx, moderation.ScoperFunc(s.moderatedScope), a, "ps.structure_id")
	if !ok {
		return nil, err
	}
	// The reporter belongs to a structure the actor moderates (any one, for all).
	join := "JOIN person_structures ps ON ps.person_id=r.reporter_id" + cond
	if cond == "" {
		join = "LEFT " + join
	}
	rows, err := s.db.QueryContext(ctx, `SELECT m.id, m.subject, m.sender_name, MIN(COALESCE(ps.structure_id, '')), COALESCE(p.first_name || '|' || p.last_name, ''), r.reason, r.created_at
		FROM mail_reports r JOIN mail_messages m ON m.id=r.message_id LEFT JOIN persons p ON p.id=r.reporter_id `+join+`
		WHERE r.status='open'
		GROUP BY m.id, m.subject, m.sender_name, r.reporter_id, p.first_name, p.last_name, r.reason, r.created_at
		ORDER BY r.created_at DESC, m.id LIMIT 5000`, args...)
	list, err := db.Collect(rows, err, func(sc db.Scanner) (moderation.Item, error) {
		it := moderation.Item{Kind: moderation.KindMail}
		var at int64
		err := sc.Scan(&it.ReportID, &it.Title, &it.Author, &it.StructureID, &it.ReporterName, &it.Reason, &at)
		it.At, it.Link = time.UnixMilli(at), "/messagerie/moderation/"+it.ReportID
		it.ReporterName = moderation.PersonName(it.ReporterName)
		return it, err
	})
	return moderation.Merge(list, limit), err
}

// Resolve takes a reported message out of every mailbox (remove) or closes its
// reports; the messagerie keeps no note. Same rules and audit as Remove and Dismiss.
func (s *Service) Resolve(ctx context.Context, a actor.Actor, messageID string, remove bool, _ string) error {
	if remove {
		_, err := s.Remove(ctx, a, messageID)
		return err
	}
	return s.Dismiss(ctx, a, messageID)
}
