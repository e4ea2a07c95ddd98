package app

import (
	"context"

	"github.com/preau-ent/preau/internal/blog"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/notify"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/blob"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/rights"
)

// KindBlogPost is the notification of a new post in a blog one reads.
const KindBlogPost = "blog.billet"

func init() {
	notify.RegisterKind(notify.Kind{ID: KindBlogPost, Default: notify.App, Parents: notify.Digest})
}

// newBlogs builds the blogs service, telling a blog's readers of its new posts
// through the notification centre (in the background, like the other services).
func newBlogs(d *db.DB, al *audit.Log, rs *rights.Service, dir *directory.Service, blobs *blob.Store, posts *poster) *blog.Service {
	s := blog.New(d, al, rs, dir, blobs)
	s.Notify = func(ctx context.Context, recipients []string, actorID, title, link, structureID string) {
		posts.send(ctx, notify.Event{Kind: KindBlogPost, Recipients: recipients, ActorID: actorID, Title: title, Link: link, StructureID: structureID})
	}
	return s
}
