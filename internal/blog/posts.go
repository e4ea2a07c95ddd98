package blog

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
	"github.com/preau-ent/preau/internal/platform/richtext"
)

// ---- Posts ----

// PostInput is what a writer sends.
type PostInput struct {
	Title string
	Body  string // HTML, sanitized on the way in
}

func (in *PostInput) check() (richtext.HTML, error) {
	in.Title = strings.TrimSpace(in.Title)
	if in.Title == "" || len([]rune(in.Title)) > 200 {
		return "", actor.Invalid("title", "blog.post_title_required")
	}
	if len(in.Body) > 200_000 {
		return "", actor.Invalid("body", "blog.body_too_long")
	}
	body := richtext.Sanitize(in.Body)
	if strings.TrimSpace(richtext.Text(body)) == "" && !strings.Contains(string(body), "<img") {
		return "", actor.Invalid("body", "blog.body_required")
	}
	return body, nil
}

const postCols = `o.id, o.blog_id, o.author_id, COALESCE(p.first_name || ' ' || p.last_name, ''), o.title, o.body, o.state, o.note, o.published_at, o.created_at, o.updated_at,
	(SELECT COUNT(*) FROM blog_comments c WHERE c.post_id=o.id AND c.state='published')`
const postFrom = ` FROM blog_posts o LEFT JOIN persons p ON p.id=o.author_id`

func scanPost(sc scanner) (Post, error) {
	var o Post
	var body string
	var pub, c, u int64
	err := sc.Scan(&o.ID, &o.BlogID, &o.AuthorID, &o.AuthorName, &o.Title, &body, &o.State, &o.Note, &pub, &c, &u, &o.Comments)
	o.Body = richtext.HTML(body) // sanitized when it was saved
	if pub > 0 {
		o.PublishedAt = time.UnixMilli(pub)
	}
	o.CreatedAt, o.UpdatedAt = time.UnixMilli(c), time.UnixMilli(u)
	return o, err
}

func (s *Service) post(ctx context.Context, id string) (Post, error) {
	o, err := scanPost(s.db.QueryRowContext(ctx, `SELECT `+postCols+postFrom+` WHERE o.id=$1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return o, actor.ErrNotFound
	}
	return o, err
}

// visible tells whether a reader at level l sees the post: published posts for every
// reader, submitted ones for their author and the managers.
func visible(a actor.Actor, b Blog, o Post) bool {
	switch o.State {
	case Published:
		return true
	case Submitted:
		return b.CanManage() || (a.PersonID != "" && o.AuthorID == a.PersonID)
	}
	return false
}

// Posts lists the posts of a blog the actor sees, newest first.
func (s *Service) Posts(ctx context.Context, a actor.Actor, blogID string, limit int) (Blog, []Post, error) {
	b, err := s.Get(ctx, a, blogID)
	if err != nil {
		return b, nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	list, err := query(ctx, s.db, scanPost, `SELECT `+postCols+postFrom+` WHERE o.blog_id=$1 AND o.state IN ('published','submitted')
		ORDER BY CASE WHEN o.state='submitted' THEN 0 ELSE 1 END, o.published_at DESC, o.created_at DESC LIMIT $2`, blogID, limit)
	if err != nil {
		return b, nil, err
	}
	out := list[:0]
	for _, o := range list {
		if visible(a, b, o) {
			out = append(out, o)
		}
	}
	return b, out, nil
}

// GetPost returns a post the actor may read, with its blog.
func (s *Service) GetPost(ctx context.Context, a actor.Actor, id string) (Blog, Post, error) {
	o, err := s.post(ctx, id)
	if err != nil {
		return Blog{}, o, err
	}
	b, err := s.Get(ctx, a, o.BlogID)
	if err != nil {
		return b, Post{}, err
	}
	if !visible(a, b, o) {
		return Blog{}, Post{}, actor.ErrNotFound
	}
	return b, o, nil
}

// CreatePost writes a post: a manager's is published at once, a contributor's waits
// for a manager.
func (s *Service) CreatePost(ctx context.Context, a actor.Actor, blogID string, in PostInput) (Post, error) {
	b, err := s.Get(ctx, a, blogID)
	if err != nil {
		return Post{}, err
	}
	if !b.CanWrite() {
		return Post{}, actor.ErrForbidden
	}
	body, err := in.check()
	if err != nil {
		return Post{}, err
	}
	now := s.now()
	o := Post{ID: ids.New(), BlogID: b.ID, AuthorID: a.PersonID, Title: in.Title, Body: body, State: Submitted, CreatedAt: now, UpdatedAt: now}
	if b.CanManage() {
		o.State, o.PublishedAt = Published, now
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		var pub int64
		if !o.PublishedAt.IsZero() {
			pub = now.UnixMilli()
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO blog_posts(id, blog_id, author_id, title, body, state, published_at, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8)`,
			o.ID, o.BlogID, o.AuthorID, o.Title, string(o.Body), o.State, pub, now.UnixMilli()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE blogs SET updated_at=$1 WHERE id=$2`, now.UnixMilli(), b.ID); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "blog.post.create", o.ID, b.StructureID, map[string]string{"blog": b.ID, "state": o.State}))
	})
	if err != nil {
		return Post{}, err
	}
	if o.State == Published {
		s.notify(ctx, a.PersonID, b, o)
	}
	return o, nil
}

// UpdatePost changes a post: its author while it waits, or a manager.
func (s *Service) UpdatePost(ctx context.Context, a actor.Actor, id string, in PostInput) (Post, error) {
	b, o, err := s.GetPost(ctx, a, id)
	if err != nil {
		return Post{}, err
	}
	if !b.CanManage() && !(o.AuthorID == a.PersonID && o.State == Submitted && b.CanWrite()) {
		return Post{}, actor.ErrForbidden
	}
	body, err := in.check()
	if err != nil {
		return Post{}, err
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE blog_posts SET title=$1, body=$2, updated_at=$3 WHERE id=$4`, in.Title, string(body), s.now().UnixMilli(), id); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "blog.post.update", id, b.StructureID, map[string]string{"blog": b.ID}))
	})
	if err != nil {
		return Post{}, err
	}
	return s.post(ctx, id)
}

// PublishPost publishes a contributor's post (managers).
func (s *Service) PublishPost(ctx context.Context, a actor.Actor, id string) error {
	b, o, err := s.GetPost(ctx, a, id)
	if err != nil {
		return err
	}
	if !b.CanManage() {
		return actor.ErrForbidden
	}
	if o.State != Submitted {
		return actor.Invalid("state", "blog.already_published")
	}
	now := s.now().UnixMilli()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE blog_posts SET state='published', published_at=$1, updated_at=$1 WHERE id=$2`, now, id); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "blog.post.publish", id, b.StructureID, map[string]string{"blog": b.ID}))
	})
	if err == nil {
		s.notify(ctx, a.PersonID, b, o)
	}
	return err
}

// DeletePost takes a post down: its managers, or its author while it waits.
func (s *Service) DeletePost(ctx context.Context, a actor.Actor, id string) error {
	b, o, err := s.GetPost(ctx, a, id)
	if err != nil {
		return err
	}
	if !b.CanManage() && !(o.AuthorID == a.PersonID && o.State == Submitted) {
		return actor.ErrForbidden
	}
	return s.takeDown(ctx, a, b, "post", id, "blog.post.delete", "")
}

// ---- Comments ----

const commentCols = `c.id, c.post_id, c.author_id, COALESCE(p.first_name || ' ' || p.last_name, ''), c.body, c.state, c.created_at`

func scanComment(sc scanner) (Comment, error) {
	var c Comment
	var at int64
	err := sc.Scan(&c.ID, &c.PostID, &c.AuthorID, &c.AuthorName, &c.Body, &c.State, &at)
	c.CreatedAt = time.UnixMilli(at)
	return c, err
}

// Comments lists a post's comments the actor sees: published ones, their own
// pending ones, and every pending one for the managers.
func (s *Service) Comments(ctx context.Context, a actor.Actor, postID string) ([]Comment, error) {
	b, _, err := s.GetPost(ctx, a, postID)
	if err != nil {
		return nil, err
	}
	list, err := query(ctx, s.db, scanComment, `SELECT `+commentCols+` FROM blog_comments c LEFT JOIN persons p ON p.id=c.author_id
		WHERE c.post_id=$1 AND (c.state='published' OR (c.state='pending' AND ($2 OR c.author_id=$3))) ORDER BY c.created_at LIMIT 1000`,
		postID, b.CanManage(), a.PersonID)
	return list, err
}

// AddComment comments a published post (signed-in readers). On a moderated blog the
// comment waits for a manager's approval, unless a manager writes it.
func (s *Service) AddComment(ctx context.Context, a actor.Actor, postID, body string) (Comment, error) {
	b, o, err := s.GetPost(ctx, a, postID)
	if err != nil {
		return Comment{}, err
	}
	if !b.CanComment() || o.State != Published {
		return Comment{}, actor.ErrForbidden
	}
	body = strings.TrimSpace(body)
	if body == "" || len([]rune(body)) > 4000 {
		return Comment{}, actor.Invalid("comment", "blog.comment_required")
	}
	c := Comment{ID: ids.New(), PostID: postID, AuthorID: a.PersonID, Body: body, State: Published, CreatedAt: s.now()}
	if b.Moderated && !b.CanManage() {
		c.State = Pending
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO blog_comments(id, post_id, author_id, body, state, created_at) VALUES ($1,$2,$3,$4,$5,$6)`,
			c.ID, c.PostID, c.AuthorID, c.Body, c.State, c.CreatedAt.UnixMilli()); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "blog.comment.create", c.ID, b.StructureID, map[string]string{"post": postID, "state": c.State}))
	})
	return c, err
}

func (s *Service) commentBlog(ctx context.Context, a actor.Actor, id string) (Blog, Comment, error) {
	c, err := scanComment(s.db.QueryRowContext(ctx, `SELECT `+commentCols+` FROM blog_comments c LEFT JOIN persons p ON p.id=c.author_id WHERE c.id=$1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Blog{}, c, actor.ErrNotFound
	}
	if err != nil {
		return Blog{}, c, err
	}
	b, _, err := s.GetPost(ctx, a, c.PostID)
	if err == nil && c.State == Removed {
		err = actor.ErrNotFound
	}
	return b, c, err
}

// ApproveComment publishes a pending comment (managers of the blog).
func (s *Service) ApproveComment(ctx context.Context, a actor.Actor, id string) error {
	b, c, err := s.commentBlog(ctx, a, id)
	if err != nil {
		return err
	}
	if !b.CanManage() {
		return actor.ErrForbidden
	}
	if c.State != Pending {
		return actor.Invalid("state", "blog.comment_not_pending")
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE blog_comments SET state='published' WHERE id=$1`, id); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "blog.comment.approve", id, b.StructureID, map[string]string{"post": c.PostID}))
	})
}

// DeleteComment removes a comment: the blog's managers, or its author.
func (s *Service) DeleteComment(ctx context.Context, a actor.Actor, id string) error {
	b, c, err := s.commentBlog(ctx, a, id)
	if err != nil {
		return err
	}
	if !b.CanManage() && c.AuthorID != a.PersonID {
		return actor.ErrForbidden
	}
	return s.takeDown(ctx, a, b, "comment", id, "blog.comment.delete", "")
}

// takeDown marks a post or a comment removed, closes the open reports on it, and
// writes the audit entry.
func (s *Service) takeDown(ctx context.Context, a actor.Actor, b Blog, kind, id, action, note string) error {
	table := "blog_posts"
	if kind == "comment" {
		table = "blog_comments"
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET state='removed' WHERE id=$1`, id); err != nil {
			return err
		}
		now := s.now().UnixMilli()
		if _, err := tx.ExecContext(ctx, `UPDATE blog_reports SET outcome='removed', resolved_by=$1, resolved_at=$2 WHERE kind=$3 AND target_id=$4 AND outcome=''`,
			a.PersonID, now, kind, id); err != nil {
			return err
		}
		if kind == "post" {
			if _, err := tx.ExecContext(ctx, `UPDATE blog_reports SET outcome='removed', resolved_by=$1, resolved_at=$2 WHERE kind='comment' AND outcome='' AND target_id IN (SELECT id FROM blog_comments WHERE post_id=$3)`,
				a.PersonID, now, id); err != nil {
				return err
			}
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, action, id, b.StructureID, map[string]string{"blog": b.ID, "kind": kind, "note": note}))
	})
}

// ---- Notifications ----

// Readers lists the persons who read a blog through its shares, and its owner.
func (s *Service) Readers(ctx context.Context, b Blog) ([]string, error) {
	return db.Strings(ctx, s.db, `SELECT grantee_id FROM shares WHERE resource_type=$1 AND resource_id=$2 AND grantee_kind='person'
		UNION SELECT gm.person_id FROM shares sh JOIN group_members gm ON gm.group_id=sh.grantee_id WHERE sh.resource_type=$1 AND sh.resource_id=$2 AND sh.grantee_kind='group'
		UNION SELECT CAST($3 AS TEXT)`, ResourceType, b.ID, b.OwnerID)
}

func (s *Service) notify(ctx context.Context, actorID string, b Blog, o Post) {
	if s.Notify == nil {
		return
	}
	readers, err := s.Readers(ctx, b)
	if err != nil {
		slog.Error("blogs : lecteurs", "blog", b.ID, "err", err)
		return
	}
	var others []string
	for _, r := range readers {
		if r != actorID {
			others = append(others, r)
		}
	}
	if len(others) > 0 {
		s.Notify(ctx, others, actorID, b.Title+" : "+o.Title, "/blogs/billets/"+o.ID, b.StructureID)
	}
}
