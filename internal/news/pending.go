package news

import (
	"context"
	"strconv"
	"time"

	"github.com/preau-ent/preau/internal/moderation"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/richtext"
)

// PendingReports lists the open reports of items of the structures the actor
// moderates, newest first, for the one moderation queue.
func (s *Service) PendingReports(ctx context.Context, a actor.Actor, limit int) ([]moderation.Item, error) {
	cond, args, ok, err := moderation.Where(ctx, s.rights, a, "r.structure_id")
	if !ok {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT r.id, r.item_id, i.title, i.body, i.state, r.structure_id,
			COALESCE(w.first_name || '|' || w.last_name, ''), COALESCE(p.first_name || '|' || p.last_name, ''), r.reason, r.created_at
		FROM news_reports r JOIN news_items i ON i.id=r.item_id LEFT JOIN persons w ON w.id=i.author_id
		LEFT JOIN persons p ON p.id=r.reporter_id WHERE r.outcome=''`+cond+` ORDER BY r.created_at DESC LIMIT `+strconv.Itoa(limit), args...)
	return collect(rows, err, func(sc scanner) (moderation.Item, error) {
		it := moderation.Item{Kind: moderation.KindNews, Reporters: 1, Note: true}
		var itemID, body string
		var at int64
		err := sc.Scan(&it.ReportID, &itemID, &it.Title, &body, &it.State, &it.StructureID, &it.Author, &it.ReporterName, &it.Reason, &at)
		it.Excerpt, it.At, it.Link = richtext.Summary(richtext.HTML(body), moderation.ExcerptLen), time.UnixMilli(at), "/actualites/"+itemID
		it.Author, it.ReporterName = moderation.PersonName(it.Author), moderation.PersonName(it.ReporterName)
		return it, err
	})
}
