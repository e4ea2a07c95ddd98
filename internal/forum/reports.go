package forum

import (
	"context"
	"strconv"
	"time"

	"github.com/preau-ent/preau/internal/moderation"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/richtext"
)

// PendingReports lists the open reports of messages of the structures the actor
// moderates, newest first, for the one moderation queue.
func (s *Service) PendingReports(ctx context.Context, a actor.Actor, limit int) ([]moderation.Item, error) {
	cond, args, ok, err := moderation.Where(ctx, s.rights, a, "r.structure_id")
	if !ok {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT r.id, r.message_id, o.id, o.title, m.body, r.structure_id,
			COALESCE(w.first_name || '|' || w.last_name, ''), COALESCE(p.first_name || '|' || p.last_name, ''), r.reason, r.created_at
		FROM forum_reports r JOIN forum_messages m ON m.id=r.message_id JOIN forum_subjects o ON o.id=m.subject_id
		LEFT JOIN persons w ON w.id=m.author_id
		LEFT JOIN persons p ON p.id=r.reporter_id WHERE r.outcome=''`+cond+` ORDER BY r.created_at DESC LIMIT `+strconv.Itoa(limit), args...)
	return db.Collect(rows, err, func(sc db.Scanner) (moderation.Item, error) {
		it := moderation.Item{Kind: moderation.KindForum, Reporters: 1, Note: true}
		var messageID, subjectID, body string
		var at int64
		err := sc.Scan(&it.ReportID, &messageID, &subjectID, &it.Title, &body, &it.StructureID, &it.Author, &it.ReporterName, &it.Reason, &at)
		it.Excerpt, it.At = richtext.Summary(richtext.HTML(body), moderation.ExcerptLen), time.UnixMilli(at)
		it.Link = "/forums/sujets/" + subjectID + "#m-" + messageID
		it.Author, it.ReporterName = moderation.PersonName(it.Author), moderation.PersonName(it.ReporterName)
		return it, err
	})
}
