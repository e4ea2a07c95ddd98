package app

import (
	"context"
	"log/slog"

	"github.com/preau-ent/preau/internal/news"
	"github.com/preau-ent/preau/internal/web"
)

// wirePublishing ties the publishing services together: the public site of a
// structure shows its public FAQ and blogs, so their changes renew the site's pages.
func wirePublishing(svc *web.Services, site *news.Service, posts *poster) {
	changed := func(ctx context.Context, structureID string) {
		if err := site.Touch(ctx, structureID); err != nil {
			slog.Warn("site public non renouvelé", "structure", structureID, "err", err)
		}
	}
	svc.FAQ.SiteChanged = changed
	svc.Blog.SiteChanged = changed
}
