package news

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
	"github.com/preau-ent/preau/internal/platform/richtext"
)

// Page is a page of a structure's public site, written by its administrators.
type Page struct {
	ID          string
	StructureID string
	Slug        string
	Title       string
	Body        richtext.HTML
	Position    int
	Published   bool
	UpdatedAt   time.Time
}

// PageInput is what an administrator fills in.
type PageInput struct {
	Slug      string
	Title     string
	Body      string // user HTML, sanitized here
	Position  int
	Published bool
}

var slugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Slug makes a page address from a title: "Transport scolaire" → "transport-scolaire".
func Slug(title string) string {
	s := strings.ReplaceAll(directory.Fold(title), " ", "-")
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "-")
	}
	s = strings.Trim(s, "-")
	if len(s) > 60 {
		s = strings.TrimRight(s[:60], "-")
	}
	return s
}

const pageCols = `id, structure_id, slug, title, body, position, published, updated_at`

func scanPage(sc scanner) (Page, error) {
	var p Page
	var body string
	var at int64
	err := sc.Scan(&p.ID, &p.StructureID, &p.Slug, &p.Title, &body, &p.Position, &p.Published, &at)
	if errors.Is(err, sql.ErrNoRows) {
		err = actor.ErrNotFound
	}
	p.Body, p.UpdatedAt = richtext.HTML(body), time.UnixMilli(at)
	return p, err
}

func (s *Service) pageByID(ctx context.Context, id string) (Page, error) {
	return scanPage(s.db.QueryRowContext(ctx, `SELECT `+pageCols+` FROM site_pages WHERE id=$1`, id))
}

// PageForEdit returns a page to an administrator of its structure.
func (s *Service) PageForEdit(ctx context.Context, a actor.Actor, id string) (Page, error) {
	p, err := s.pageByID(ctx, id)
	if err != nil {
		return p, err
	}
	if err := s.mustAdmin(ctx, a, p.StructureID); err != nil {
		return Page{}, err
	}
	return p, nil
}

// PageBySlug returns a published page of a structure's site.
func (s *Service) PageBySlug(ctx context.Context, structureID, slug string) (Page, error) {
	return scanPage(s.db.QueryRowContext(ctx, `SELECT `+pageCols+` FROM site_pages WHERE structure_id=$1 AND slug=$2 AND published`, structureID, slug))
}

// Pages lists a structure's pages in their order (published ones only, unless all).
func (s *Service) Pages(ctx context.Context, structureID string, all bool) ([]Page, error) {
	q := `SELECT ` + pageCols + ` FROM site_pages WHERE structure_id=$1`
	if !all {
		q += ` AND published`
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY position, title`, structureID)
	return collect(rows, err, scanPage)
}

// SavePage creates (id "") or changes a page of a structure the actor administers.
func (s *Service) SavePage(ctx context.Context, a actor.Actor, structureID, id string, in PageInput) (Page, error) {
	in.Title = strings.TrimSpace(in.Title)
	in.Slug = strings.TrimSpace(in.Slug)
	if in.Slug == "" {
		in.Slug = Slug(in.Title)
	}
	body := richtext.Sanitize(in.Body)
	switch {
	case in.Title == "" || len([]rune(in.Title)) > 200:
		return Page{}, actor.Invalid("title", "news.title_required")
	case !slugRE.MatchString(in.Slug) || len(in.Slug) > 60:
		return Page{}, actor.Invalid("slug", "site.bad_slug")
	case len(body) > 200000:
		return Page{}, actor.Invalid("body", "news.body_too_long")
	}
	if id != "" {
		old, err := s.pageByID(ctx, id)
		if err != nil {
			return Page{}, err
		}
		structureID = old.StructureID
	}
	if err := s.mustAdmin(ctx, a, structureID); err != nil {
		return Page{}, err
	}
	action := "site.page.update"
	if id == "" {
		id, action = ids.New(), "site.page.create"
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO site_pages(id, structure_id, slug, title, body, position, published, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
			ON CONFLICT (id) DO UPDATE SET slug=excluded.slug, title=excluded.title, body=excluded.body, position=excluded.position, published=excluded.published, updated_at=excluded.updated_at`,
			id, structureID, in.Slug, in.Title, string(body), in.Position, in.Published, s.now().UnixMilli())
		if db.IsUniqueViolation(err) {
			return actor.Invalid("slug", "site.slug_taken")
		}
		if err != nil {
			return err
		}
		if err := bump(ctx, tx, structureID); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, action, id, structureID, map[string]string{"slug": in.Slug}))
	})
	if err != nil {
		return Page{}, err
	}
	s.forgetVersion(structureID)
	return s.pageByID(ctx, id)
}

// DeletePage deletes a page and its files.
func (s *Service) DeletePage(ctx context.Context, a actor.Actor, id string) error {
	p, err := s.PageForEdit(ctx, a, id)
	if err != nil {
		return err
	}
	keys, err := db.Strings(ctx, s.db, `SELECT blob_key FROM news_files WHERE owner_kind='page' AND owner_id=$1`, id)
	if err != nil {
		return err
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM news_files WHERE owner_kind='page' AND owner_id=$1`, `DELETE FROM site_pages WHERE id=$1`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		if err := bump(ctx, tx, p.StructureID); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "site.page.delete", id, p.StructureID, map[string]string{"slug": p.Slug}))
	})
	if err != nil {
		return err
	}
	s.forgetVersion(p.StructureID)
	for _, k := range keys {
		_ = s.blobs.Delete(ctx, k)
	}
	return nil
}

// Info is a structure's contact and practical information.
type Info struct {
	StructureID string
	Address     string
	Phone       string
	Email       string
	Hours       string
	Practical   richtext.HTML
	UpdatedAt   time.Time
}

// Empty tells whether nothing is filled in.
func (i Info) Empty() bool {
	return i.Address == "" && i.Phone == "" && i.Email == "" && i.Hours == "" && i.Practical == ""
}

// InfoInput is what an administrator fills in.
type InfoInput struct {
	Address, Phone, Email, Hours string
	Practical                    string // user HTML, sanitized here
}

var emailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

// Info returns a structure's contact and practical information (empty if none).
func (s *Service) Info(ctx context.Context, structureID string) (Info, error) {
	i := Info{StructureID: structureID}
	var practical string
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT address, phone, email, hours, practical, updated_at FROM site_info WHERE structure_id=$1`, structureID).
		Scan(&i.Address, &i.Phone, &i.Email, &i.Hours, &practical, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return i, nil
	}
	i.Practical, i.UpdatedAt = richtext.HTML(practical), time.UnixMilli(at)
	return i, err
}

// SaveInfo changes a structure's contact and practical information.
func (s *Service) SaveInfo(ctx context.Context, a actor.Actor, structureID string, in InfoInput) error {
	in.Address, in.Phone, in.Email, in.Hours = strings.TrimSpace(in.Address), strings.TrimSpace(in.Phone), strings.TrimSpace(in.Email), strings.TrimSpace(in.Hours)
	switch {
	case in.Email != "" && !emailRE.MatchString(in.Email):
		return actor.Invalid("email", "site.bad_email")
	case len(in.Address) > 500 || len(in.Phone) > 40 || len(in.Hours) > 1000 || len(in.Practical) > 50000:
		return actor.Invalid("address", "site.too_long")
	}
	if err := s.mustAdmin(ctx, a, structureID); err != nil {
		return err
	}
	practical := richtext.Sanitize(in.Practical)
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO site_info(structure_id, address, phone, email, hours, practical, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7)
			ON CONFLICT (structure_id) DO UPDATE SET address=excluded.address, phone=excluded.phone, email=excluded.email, hours=excluded.hours, practical=excluded.practical, updated_at=excluded.updated_at`,
			structureID, in.Address, in.Phone, in.Email, in.Hours, string(practical), s.now().UnixMilli()); err != nil {
			return err
		}
		if err := bump(ctx, tx, structureID); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "site.info.update", structureID, structureID, nil))
	})
	if err == nil {
		s.forgetVersion(structureID)
	}
	return err
}

// ---- Versions of the public sites ----

type cachedVersion struct {
	v  int64
	at time.Time
}

// versionTTL is how long an instance trusts the version it read: another instance's
// change shows within it, this instance's at once.
const versionTTL = time.Second

func bump(ctx context.Context, q db.Querier, structureID string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO site_versions(structure_id, version) VALUES ($1, 1)
		ON CONFLICT (structure_id) DO UPDATE SET version = site_versions.version + 1`, structureID)
	return err
}

// Version is the number of changes of a structure's public site so far: pages built
// from it stay good while it does not change.
func (s *Service) Version(ctx context.Context, structureID string) (int64, error) {
	s.vmu.RLock()
	c, ok := s.versions[structureID]
	s.vmu.RUnlock()
	if ok && time.Since(c.at) < versionTTL {
		return c.v, nil
	}
	var v int64
	err := s.db.QueryRowContext(ctx, `SELECT version FROM site_versions WHERE structure_id=$1`, structureID).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	s.vmu.Lock()
	if len(s.versions) > 100000 {
		s.versions = map[string]cachedVersion{}
	}
	s.versions[structureID] = cachedVersion{v: v, at: time.Now()}
	s.vmu.Unlock()
	return v, nil
}

// Touch counts a change of a structure's public site made by another service (a
// public FAQ question, a public blog): its pages are built again.
func (s *Service) Touch(ctx context.Context, structureID string) error {
	if structureID == "" {
		return nil
	}
	err := bump(ctx, s.db, structureID)
	s.forgetVersion(structureID)
	return err
}

func (s *Service) forgetVersion(structureID string) {
	s.vmu.Lock()
	delete(s.versions, structureID)
	s.vmu.Unlock()
}
