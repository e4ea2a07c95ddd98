package chat

import (
	"context"
	"strconv"
	"time"

	"github.com/preau-ent/preau/internal/moderation"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
)

// PendingReports lists the reported messages of the conversations of the structures
// the actor moderates, newest report first, for the one moderation queue: the
// message alone, never the conversation around it.
func (s *Service) PendingReports(ctx context.Context, a actor.Actor, limit int) ([]moderation.Item, error) {
	cond, args, ok, err := moderation.Where(ctx, s.rights, a, "r.structure_id")
	if !ok {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT r.message_id, r.structure_id, x.body, COALESCE(w.first_name || '|' || w.last_name, ''),
			COALESCE(q.first_name || '|' || q.last_name, ''), r.reason, r.created_at
		FROM chat_reports r JOIN chat_messages x ON x.id=r.message_id LEFT JOIN persons w ON w.id=x.sender_id
		LEFT JOIN persons q ON q.id=r.reporter_id
		WHERE r.resolved_at=0`+cond+` ORDER BY r.created_at DESC, r.id LIMIT 5000`, args...)
	list, err := db.Collect(rows, err, func(sc db.Scanner) (moderation.Item, error) {
		it := moderation.Item{Kind: moderation.KindChat}
		var id, at int64
		var body, sender, reporter string
		err := sc.Scan(&id, &it.StructureID, &body, &sender, &reporter, &it.Reason, &at)
		it.ReportID, it.Excerpt, it.At = strconv.FormatInt(id, 10), moderation.Clip(body, moderation.ExcerptLen), time.UnixMilli(at)
		it.Author, it.ReporterName = joinedName(sender), joinedName(reporter)
		return it, err
	})
	return moderation.Merge(list, limit), err
}

// Resolve settles the reports of a message (its id): remove takes it down,
// otherwise it is kept. Same rules and audit as Moderate; discussions keep no note.
func (s *Service) Resolve(ctx context.Context, a actor.Actor, messageID string, remove bool, _ string) error {
	id, err := strconv.ParseInt(messageID, 10, 64)
	if err != nil {
		return actor.ErrNotFound
	}
	if remove {
		return s.Moderate(ctx, a, id, Removed)
	}
	return s.Moderate(ctx, a, id, Kept)
}
