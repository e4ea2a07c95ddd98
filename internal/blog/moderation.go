package blog

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/blob"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
)

// ---- Reports and moderation ----

// Report is a signalement of a post or a comment.
type Report struct {
	ID           string
	Kind         string // post or comment
	TargetID     string
	PostID       string // the post, or the comment's post
	Excerpt      string // the post's title or the comment's text
	BlogID       string
	BlogTitle    string
	StructureID  string
	ReporterName string
	Reason       string
	CreatedAt    time.Time
}

// Report lets a signed-in reader report a post or a comment to the moderators of the
// blog's structure.
func (s *Service) Report(ctx context.Context, a actor.Actor, kind, targetID, reason string) error {
	if a.PersonID == "" {
		return actor.ErrForbidden
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > 2000 {
		return actor.Invalid("reason", "blog.reason_required")
	}
	var b Blog
	var err error
	switch kind {
	case "post":
		b, _, err = s.GetPost(ctx, a, targetID)
	case "comment":
		b, _, err = s.commentBlog(ctx, a, targetID)
	default:
		err = actor.ErrNotFound
	}
	if err != nil {
		return err
	}
	id := ids.New()
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO blog_reports(id, kind, target_id, blog_id, structure_id, reporter_id, reason, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
			id, kind, targetID, b.ID, b.StructureID, a.PersonID, reason, s.now().UnixMilli()); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "blog.report", targetID, b.StructureID, map[string]string{"report": id, "kind": kind}))
	})
}

// Reports lists the open reports the actor moderates, oldest first.
func (s *Service) Reports(ctx context.Context, a actor.Actor) ([]Report, error) {
	all, sids, err := s.rights.ModeratedStructures(ctx, a)
	if err != nil || (!all && len(sids) == 0) {
		return nil, err
	}
	q := `SELECT r.id, r.kind, r.target_id, COALESCE(o.id, c.post_id, ''), COALESCE(o.title, c.body, ''), r.blog_id, b.title, r.structure_id,
			COALESCE(p.first_name || ' ' || p.last_name, ''), r.reason, r.created_at
		FROM blog_reports r JOIN blogs b ON b.id=r.blog_id
		LEFT JOIN blog_posts o ON r.kind='post' AND o.id=r.target_id
		LEFT JOIN blog_comments c ON r.kind='comment' AND c.id=r.target_id
		LEFT JOIN persons p ON p.id=r.reporter_id WHERE r.outcome=''`
	var args []any
	if !all {
		q += ` AND r.structure_id IN (` + db.In(1, len(sids)) + `)`
		for _, id := range sids {
			args = append(args, id)
		}
	}
	return query(ctx, s.db, func(sc scanner) (Report, error) {
		var r Report
		var at int64
		err := sc.Scan(&r.ID, &r.Kind, &r.TargetID, &r.PostID, &r.Excerpt, &r.BlogID, &r.BlogTitle, &r.StructureID, &r.ReporterName, &r.Reason, &at)
		r.CreatedAt = time.UnixMilli(at)
		return r, err
	}, q+` ORDER BY r.created_at LIMIT 500`, args...)
}

// Resolve closes a report: remove takes the post or comment down (and closes every
// open report on it), otherwise the report is dismissed. Moderators and local
// administrators of the blog's structure; audited.
func (s *Service) Resolve(ctx context.Context, a actor.Actor, reportID string, remove bool, note string) error {
	var kind, targetID, blogID, sid, outcome string
	switch err := s.db.QueryRowContext(ctx, `SELECT kind, target_id, blog_id, structure_id, outcome FROM blog_reports WHERE id=$1`, reportID).
		Scan(&kind, &targetID, &blogID, &sid, &outcome); {
	case errors.Is(err, sql.ErrNoRows):
		return actor.ErrNotFound
	case err != nil:
		return err
	}
	if err := s.rights.MayResolve(ctx, a, sid, outcome, "blog.report_closed"); err != nil {
		return err
	}
	note = strings.TrimSpace(note)
	if remove {
		b, err := s.blog(ctx, blogID)
		if err != nil {
			return err
		}
		return s.takeDown(ctx, a, b, kind, targetID, "blog.moderation.remove", note)
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE blog_reports SET outcome='dismissed', resolved_by=$1, resolved_at=$2 WHERE id=$3`, a.PersonID, s.now().UnixMilli(), reportID); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "blog.report.dismiss", targetID, sid, map[string]string{"report": reportID, "note": note}))
	})
}

// IsModerator tells whether the actor handles any structure's reports.
func (s *Service) IsModerator(ctx context.Context, a actor.Actor) (bool, error) {
	all, sids, err := s.rights.ModeratedStructures(ctx, a)
	return all || len(sids) > 0, err
}

// ---- Files uploaded into posts ----

// File is an image or a document uploaded into a blog's posts.
type File struct {
	ID, BlogID, Key, Name, ContentType string
	Size                               int64
}

// MaxFile is the largest file accepted into a post.
const MaxFile = 4 << 20

// fileTypes are the accepted types, read from the content (never SVG, which can carry script).
var fileTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true, "application/pdf": true}

// IsImage tells whether the file shows as an image.
func (f File) IsImage() bool { return strings.HasPrefix(f.ContentType, "image/") }

// AddFile stores a file into a blog, for its posts (whoever may write in it).
func (s *Service) AddFile(ctx context.Context, a actor.Actor, blogID, name string, r io.Reader) (File, error) {
	b, err := s.Get(ctx, a, blogID)
	if err != nil {
		return File{}, err
	}
	if !b.CanWrite() {
		return File{}, actor.ErrForbidden
	}
	stored, ct, err := blob.PutSniffed(ctx, s.blobs, r, MaxFile, fileTypes)
	switch {
	case errors.Is(err, blob.ErrTooLarge):
		return File{}, actor.Invalid("file", "blog.file_too_big")
	case errors.Is(err, blob.ErrType):
		return File{}, actor.Invalid("file", "blog.bad_file")
	case err != nil:
		return File{}, err
	}
	if name = strings.TrimSpace(name); name == "" || len(name) > 200 {
		name = "fichier"
	}
	f := File{ID: ids.New(), BlogID: b.ID, Key: stored.Key, Name: name, ContentType: ct, Size: stored.Size}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO blog_files(id, blog_id, blob_key, name, content_type, size, created_by, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
			f.ID, f.BlogID, f.Key, f.Name, f.ContentType, f.Size, a.PersonID, s.now().UnixMilli()); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "blog.file.add", f.ID, b.StructureID, map[string]string{"blog": b.ID, "type": ct}))
	})
	if err != nil {
		_ = s.blobs.Delete(ctx, stored.Key)
		return File{}, err
	}
	return f, nil
}

// OpenFile returns a file of a blog the actor may read, and its content; public
// tells whether anyone may (a public blog's), so that caches may keep it.
func (s *Service) OpenFile(ctx context.Context, a actor.Actor, id string) (f File, rc io.ReadSeekCloser, public bool, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT id, blog_id, blob_key, name, content_type, size FROM blog_files WHERE id=$1`, id).
		Scan(&f.ID, &f.BlogID, &f.Key, &f.Name, &f.ContentType, &f.Size)
	if errors.Is(err, sql.ErrNoRows) {
		return f, nil, false, actor.ErrNotFound
	}
	if err != nil {
		return f, nil, false, err
	}
	b, err := s.Get(ctx, a, f.BlogID)
	if err != nil {
		return f, nil, false, err
	}
	rc, err = s.blobs.Open(ctx, f.Key)
	return f, rc, b.Public, err
}
