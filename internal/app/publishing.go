package app

import (
	"context"
	"log/slog"

	"github.com/preau-ent/preau/internal/news"
	"github.com/preau-ent/preau/internal/notify"
	"github.com/preau-ent/preau/internal/web"
)

// KindForumMessage is the notification of a new message in a forum subject one took
// part in or follows. A lively subject shows once while unread; parents get it in
// the digest.
const KindForumMessage = "forum.message"

func init() {
	notify.RegisterKind(notify.Kind{ID: KindForumMessage, Default: notify.App, Parents: notify.Digest, Collapse: true})
}

// wirePublishing ties the publishing services together: the public site of a
// structure shows its public FAQ and blogs, so their changes renew the site's pages;
// forum replies reach the subject's followers through the background poster.
func wirePublishing(svc *web.Services, site *news.Service, posts *poster) {
	changed := func(ctx context.Context, structureID string) {
		if err := site.Touch(ctx, structureID); err != nil {
			slog.Warn("site public non renouvelé", "structure", structureID, "err", err)
		}
	}
	svc.FAQ.SiteChanged = changed
	svc.Blog.SiteChanged = changed
	svc.Forum.Notify = func(ctx context.Context, recipients []string, actorID, title, link, structureID string) {
		posts.send(ctx, notify.Event{Kind: KindForumMessage, Recipients: recipients, ActorID: actorID, Title: title, Link: link, StructureID: structureID})
	}
}
