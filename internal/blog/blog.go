// Package blog is the Blogs service: blogs of a class, a group or a school, owned by a
// person in a structure, shared with persons and groups for reading, contributing or
// managing (rights shares of type "blog"), optionally public; posts (billets) with a
// sanitized rich body and images uploaded through the blob store; plain-text comments,
// held for the owner's approval when the blog asks for it; reports of posts and
// comments to the structure's moderators, every moderation action audited.
//
// Rights: the owner and the persons shared at rights.Manage publish, edit and delete
// posts and moderate comments; rights.Contribute writes posts that a manager then
// publishes; rights.Read reads and comments. Local administrators and moderators of
// the structure moderate reports. A public blog's published posts are readable by anyone.
package blog

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/blob"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
	"github.com/preau-ent/preau/internal/platform/richtext"
	"github.com/preau-ent/preau/internal/rights"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the blog tables (they need the directory's).
var Migrations = db.Embedded("blog", migrations)

// ResourceType is the shares' resource type of a blog.
const ResourceType = "blog"

// AppID is the blogs' application in the catalog.
const AppID = "blogs"

// Post and comment states.
const (
	Submitted = "submitted" // a contributor's post, waiting for a manager
	Published = "published"
	Pending   = "pending" // a comment waiting for approval
	Removed   = "removed"
)

// Blog is a blog.
type Blog struct {
	ID            string
	StructureID   string
	StructureName string
	OwnerID       string
	OwnerName     string
	Title         string
	Description   string
	Moderated     bool // comments wait for a manager's approval
	Public        bool // published posts are readable by anyone
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Level         rights.Level // the reading actor's level (filled by Get and List)
}

// Resource is the blog as a shared resource.
func (b Blog) Resource() rights.Resource {
	return rights.Resource{Type: ResourceType, ID: b.ID, OwnerID: b.OwnerID}
}

// CanWrite tells whether the actor may write posts.
func (b Blog) CanWrite() bool { return b.Level >= rights.Contribute }

// CanManage tells whether the actor manages the blog.
func (b Blog) CanManage() bool { return b.Level >= rights.Manage }

// CanComment tells whether the actor may comment (signed-in readers).
func (b Blog) CanComment() bool { return b.Level >= rights.Read }

// Post is a billet.
type Post struct {
	ID          string
	BlogID      string
	AuthorID    string
	AuthorName  string
	Title       string
	Body        richtext.HTML
	State       string
	Note        string
	PublishedAt time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Comments    int // published comments (filled by listings)
}

// Summary is the beginning of the post's text.
func (p Post) Summary() string { return richtext.Summary(p.Body, 240) }

// Comment is a comment of a post: plain text, escaped on output.
type Comment struct {
	ID         string
	PostID     string
	AuthorID   string
	AuthorName string
	Body       string
	State      string
	CreatedAt  time.Time
}

// NotifyFunc tells the readers of a blog that a post is published.
type NotifyFunc func(ctx context.Context, recipients []string, actorID, title, link, structureID string)

// Service is the blogs service.
type Service struct {
	db     *db.DB
	audit  *audit.Log
	rights *rights.Service
	dir    *directory.Service
	blobs  *blob.Store
	// Notify, when set, is called when a post is published, with the blog's readers
	// (nil: nobody is told).
	Notify NotifyFunc
	// SiteChanged, when set, is called when a public blog appears, changes or goes:
	// the structure's public site lists its public blogs.
	SiteChanged func(ctx context.Context, structureID string)
	now         func() time.Time
}

// New returns the service.
func New(d *db.DB, a *audit.Log, r *rights.Service, dir *directory.Service, blobs *blob.Store) *Service {
	return &Service{db: d, audit: a, rights: r, dir: dir, blobs: blobs, now: time.Now}
}

func (s *Service) entry(a actor.Actor, action, targetID, structureID string, details map[string]string) audit.Entry {
	return audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: action, TargetType: "blog", TargetID: targetID, StructureID: structureID, Success: true, Details: details}
}

// allowed turns a yes-or-no rights answer into an error.
func (s *Service) siteChanged(ctx context.Context, structureID string) {
	if s.SiteChanged != nil {
		s.SiteChanged(ctx, structureID)
	}
}

func allowed(ok bool, err error) error {
	if err == nil && !ok {
		err = actor.ErrForbidden
	}
	return err
}

// ---- Blogs ----

// Input is what a blog's creator or manager sets.
type Input struct {
	StructureID string // at creation only
	Title       string
	Description string
	Moderated   bool
	Public      bool
}

func (in *Input) check() error {
	in.Title = strings.TrimSpace(in.Title)
	in.Description = strings.TrimSpace(in.Description)
	if in.Title == "" || len([]rune(in.Title)) > 120 {
		return actor.Invalid("title", "blog.title_required")
	}
	if len([]rune(in.Description)) > 1000 {
		return actor.Invalid("description", "blog.description_too_long")
	}
	return nil
}

// MayCreate tells whether the actor may create a blog in a structure: its teachers
// and staff, and its administrators.
func (s *Service) MayCreate(ctx context.Context, a actor.Actor, structureID string) (bool, error) {
	if a.PersonID == "" {
		return a.System, nil
	}
	if ok, err := s.rights.CanAdminStructure(ctx, a, structureID); ok || err != nil {
		return ok, err
	}
	if a.Profile != directory.Enseignant && a.Profile != directory.Personnel {
		return false, nil
	}
	sids, err := s.dir.PersonStructureIDs(ctx, a.PersonID)
	if err != nil {
		return false, err
	}
	for _, id := range sids {
		if id == structureID {
			return s.rights.MayUse(ctx, a, []string{structureID}, AppID)
		}
	}
	return false, nil
}

// Create creates a blog owned by the actor.
func (s *Service) Create(ctx context.Context, a actor.Actor, in Input) (Blog, error) {
	if err := in.check(); err != nil {
		return Blog{}, err
	}
	if err := allowed(s.MayCreate(ctx, a, in.StructureID)); err != nil {
		return Blog{}, err
	}
	now := s.now()
	b := Blog{ID: ids.New(), StructureID: in.StructureID, OwnerID: a.PersonID, Title: in.Title, Description: in.Description,
		Moderated: in.Moderated, Public: in.Public, CreatedAt: now, UpdatedAt: now, Level: rights.Manage}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO blogs(id, structure_id, owner_id, title, description, moderated, public, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8)`,
			b.ID, b.StructureID, b.OwnerID, b.Title, b.Description, b.Moderated, b.Public, now.UnixMilli()); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "blog.create", b.ID, b.StructureID, map[string]string{"title": b.Title}))
	})
	if err == nil && b.Public {
		s.siteChanged(ctx, b.StructureID)
	}
	return b, err
}

// Update changes a blog's settings (its managers).
func (s *Service) Update(ctx context.Context, a actor.Actor, id string, in Input) (Blog, error) {
	b, err := s.Get(ctx, a, id)
	if err != nil {
		return Blog{}, err
	}
	if !b.CanManage() {
		return Blog{}, actor.ErrForbidden
	}
	if err := in.check(); err != nil {
		return Blog{}, err
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE blogs SET title=$1, description=$2, moderated=$3, public=$4, updated_at=$5 WHERE id=$6`,
			in.Title, in.Description, in.Moderated, in.Public, s.now().UnixMilli(), id); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "blog.update", id, b.StructureID, map[string]string{"title": in.Title}))
	})
	if err != nil {
		return Blog{}, err
	}
	if b.Public || in.Public {
		s.siteChanged(ctx, b.StructureID)
	}
	return s.Get(ctx, a, id)
}

// Share grants a person or a group a level on the blog (None removes it). Groups
// and persons must belong to the blog's structure to be granted a level; a share is
// removed whoever it names (someone who left the school included).
func (s *Service) Share(ctx context.Context, a actor.Actor, blogID string, g rights.Grantee, level rights.Level) error {
	b, err := s.Get(ctx, a, blogID)
	if err != nil {
		return err
	}
	if !b.CanManage() {
		return actor.ErrForbidden
	}
	kind := g.Kind
	if level == rights.None {
		kind = "" // nothing to check
	}
	switch kind {
	case "group":
		gr, err := s.dir.Group(ctx, g.ID)
		if err != nil {
			return err
		}
		if gr.StructureID != b.StructureID {
			return actor.Invalid("grantee", "blog.share_outside")
		}
	case "person":
		sids, err := s.dir.PersonStructureIDs(ctx, g.ID)
		if err != nil {
			return err
		}
		in := false
		for _, id := range sids {
			in = in || id == b.StructureID
		}
		if !in {
			return actor.Invalid("grantee", "blog.share_outside")
		}
	}
	return s.rights.SetShare(ctx, a, b.Resource(), g, level)
}

// Shares lists a blog's shares (its managers).
func (s *Service) Shares(ctx context.Context, a actor.Actor, blogID string) ([]rights.Share, error) {
	b, err := s.Get(ctx, a, blogID)
	if err != nil {
		return nil, err
	}
	if !b.CanManage() {
		return nil, actor.ErrForbidden
	}
	return s.rights.Shares(ctx, b.Resource())
}

const blogCols = `b.id, b.structure_id, COALESCE(st.name, ''), b.owner_id, COALESCE(p.first_name || ' ' || p.last_name, ''), b.title, b.description, b.moderated, b.public, b.created_at, b.updated_at`
const blogFrom = ` FROM blogs b LEFT JOIN structures st ON st.id=b.structure_id LEFT JOIN persons p ON p.id=b.owner_id`

type scanner = db.Scanner

func scanBlog(sc scanner) (Blog, error) {
	var b Blog
	var c, u int64
	err := sc.Scan(&b.ID, &b.StructureID, &b.StructureName, &b.OwnerID, &b.OwnerName, &b.Title, &b.Description, &b.Moderated, &b.Public, &c, &u)
	b.CreatedAt, b.UpdatedAt = time.UnixMilli(c), time.UnixMilli(u)
	return b, err
}

// query reads every row of a query with scan.
func query[T any](ctx context.Context, q db.Querier, scan func(db.Scanner) (T, error), sqlText string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, sqlText, args...)
	return db.Collect(rows, err, scan)
}

func (s *Service) blog(ctx context.Context, id string) (Blog, error) {
	b, err := scanBlog(s.db.QueryRowContext(ctx, `SELECT `+blogCols+blogFrom+` WHERE b.id=$1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return b, actor.ErrNotFound
	}
	return b, err
}

// levelOf is the actor's level on a blog; the structure's moderators read every blog
// of it (they answer reports).
func (s *Service) levelOf(ctx context.Context, a actor.Actor, b Blog) (rights.Level, error) {
	if a.System {
		return rights.Manage, nil
	}
	if a.PersonID == "" {
		return rights.None, nil
	}
	l, err := s.rights.LevelOf(ctx, a.PersonID, b.Resource())
	if err != nil || l >= rights.Read {
		return l, err
	}
	mod, err := s.rights.IsModerator(ctx, a, b.StructureID)
	if mod {
		l = rights.Read
	}
	return l, err
}

// Get returns a blog the actor may read (anyone for a public blog), with their level.
func (s *Service) Get(ctx context.Context, a actor.Actor, id string) (Blog, error) {
	b, err := s.blog(ctx, id)
	if err != nil {
		return b, err
	}
	if b.Level, err = s.levelOf(ctx, a, b); err != nil {
		return b, err
	}
	if b.Level == rights.None && !b.Public {
		return Blog{}, actor.ErrNotFound
	}
	return b, nil
}

// List lists the blogs the actor owns or is shared, most recently updated first.
func (s *Service) List(ctx context.Context, a actor.Actor) ([]Blog, error) {
	if a.PersonID == "" {
		return nil, nil
	}
	cond, args, err := s.rights.VisibleWhere(ctx, s.db, a.PersonID, ResourceType, "b.owner_id", "b.id", rights.Read)
	if err != nil {
		return nil, err
	}
	list, err := query(ctx, s.db, scanBlog, `SELECT `+blogCols+blogFrom+` WHERE `+cond+` ORDER BY b.updated_at DESC LIMIT 500`, args...)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Level, err = s.levelOf(ctx, a, list[i]); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// PublicBlogs lists the public blogs of a structure.
func (s *Service) PublicBlogs(ctx context.Context, structureID string) ([]Blog, error) {
	return query(ctx, s.db, scanBlog, `SELECT `+blogCols+blogFrom+` WHERE b.structure_id=$1 AND b.public ORDER BY b.updated_at DESC LIMIT 200`, structureID)
}

// Delete deletes a blog with its posts, comments and files (its owner, or an
// administrator of its structure).
func (s *Service) Delete(ctx context.Context, a actor.Actor, id string) error {
	b, err := s.blog(ctx, id)
	if err != nil {
		return err
	}
	if b.OwnerID != a.PersonID {
		if err := allowed(s.rights.CanAdminStructure(ctx, a, b.StructureID)); err != nil {
			return err
		}
	}
	keys, err := db.Strings(ctx, s.db, `SELECT blob_key FROM blog_files WHERE blog_id=$1`, id)
	if err != nil {
		return err
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM shares WHERE resource_type=$1 AND resource_id=$2`, ResourceType, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM blogs WHERE id=$1`, id); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "blog.delete", id, b.StructureID, map[string]string{"title": b.Title}))
	})
	if err == nil && b.Public {
		s.siteChanged(ctx, b.StructureID)
	}
	if err == nil {
		for _, k := range keys {
			if derr := s.blobs.Delete(ctx, k); derr != nil {
				slog.Error("blog : fichier", "key", k, "err", derr)
			}
		}
	}
	return err
}
