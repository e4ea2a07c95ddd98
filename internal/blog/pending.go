package blog

import (
	"context"
	"strconv"
	"time"

	"github.com/preau-ent/preau/internal/moderation"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/richtext"
)

// PendingReports lists the open reports of posts and comments of the structures the
// actor moderates, newest first, for the one moderation queue.
func (s *Service) PendingReports(ctx context.Context, a actor.Actor, limit int) ([]moderation.Item, error) {
	cond, args, ok, err := moderation.Where(ctx, s.rights, a, "r.structure_id")
	if !ok {
		return nil, err
	}
	q := `SELECT r.id, r.kind, r.target_id, r.structure_id, COALESCE(o.id, c.post_id, ''), COALESCE(o.title, co.title, ''), COALESCE(o.body, c.body, ''),
			COALESCE(w.first_name || '|' || w.last_name, ''), COALESCE(p.first_name || '|' || p.last_name, ''), r.reason, r.created_at
		FROM blog_reports r
		LEFT JOIN blog_posts o ON r.kind='post' AND o.id=r.target_id
		LEFT JOIN blog_comments c ON r.kind='comment' AND c.id=r.target_id
		LEFT JOIN blog_posts co ON co.id=c.post_id
		LEFT JOIN persons w ON w.id=COALESCE(o.author_id, c.author_id)
		LEFT JOIN persons p ON p.id=r.reporter_id WHERE r.outcome=''` + cond + ` ORDER BY r.created_at DESC LIMIT ` + strconv.Itoa(limit)
	return query(ctx, s.db, func(sc scanner) (moderation.Item, error) {
		it := moderation.Item{Reporters: 1, Note: true}
		var kind, target, postID, body string
		var at int64
		err := sc.Scan(&it.ReportID, &kind, &target, &it.StructureID, &postID, &it.Title, &body, &it.Author, &it.ReporterName, &it.Reason, &at)
		it.At, it.Link = time.UnixMilli(at), "/blogs/billets/"+postID
		it.Author, it.ReporterName = moderation.PersonName(it.Author), moderation.PersonName(it.ReporterName)
		if kind == "comment" {
			it.Kind, it.Excerpt, it.Link = moderation.KindBlogComment, moderation.Clip(body, moderation.ExcerptLen), it.Link+"#c-"+target
		} else {
			it.Kind, it.Excerpt = moderation.KindBlogPost, richtext.Summary(richtext.HTML(body), moderation.ExcerptLen)
		}
		return it, err
	}, q, args...)
}
