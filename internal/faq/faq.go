// Package faq is the FAQ service: questions and answers of a structure in categories,
// each internal (read by the structure's members) or public (read by anyone, on the
// portal's public pages). The structure's administrators edit it, and so do the
// persons and groups they share it with (rights.Contribute on a resource of type
// "faq" named by the structure's id). Answers are rich text, sanitized on the way in.
package faq

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
	"github.com/preau-ent/preau/internal/platform/richtext"
	"github.com/preau-ent/preau/internal/rights"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the FAQ tables (they need the directory's).
var Migrations = db.Embedded("faq", migrations)

// ResourceType is the shares' resource type of a structure's FAQ.
const ResourceType = "faq"

// Category is a heading of questions.
type Category struct {
	ID, StructureID, Name string
	Position              int
	Entries               []Entry // filled by FAQ
}

// Entry is a question and its answer.
type Entry struct {
	ID, CategoryID, StructureID, Question string
	Answer                                richtext.HTML
	Public                                bool
	UpdatedAt                             time.Time
}

// Service is the FAQ service.
type Service struct {
	db     *db.DB
	audit  *audit.Log
	rights *rights.Service
	dir    *directory.Service
	now    func() time.Time
	// SiteChanged, when set, is called after each change of a structure's FAQ, whose
	// public questions show on the structure's public site.
	SiteChanged func(ctx context.Context, structureID string)
}

// New returns the service.
func New(d *db.DB, a *audit.Log, r *rights.Service, dir *directory.Service) *Service {
	return &Service{db: d, audit: a, rights: r, dir: dir, now: time.Now}
}

func resource(structureID string) rights.Resource {
	return rights.Resource{Type: ResourceType, ID: structureID}
}

// CanEdit tells whether the actor edits the structure's FAQ.
func (s *Service) CanEdit(ctx context.Context, a actor.Actor, structureID string) (bool, error) {
	if a.PersonID == "" {
		return a.System, nil
	}
	if ok, err := s.rights.CanAdminStructure(ctx, a, structureID); ok || err != nil {
		return ok, err
	}
	return s.rights.Can(ctx, a, resource(structureID), rights.Contribute)
}

// member tells whether the actor reads the structure's internal entries: its members,
// the parents of its pupils, its editors.
func (s *Service) member(ctx context.Context, a actor.Actor, structureID string) (bool, error) {
	if a.PersonID == "" {
		return a.System, nil
	}
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM person_structures WHERE person_id=$1 AND structure_id=$2
		UNION SELECT 1 FROM person_links l JOIN person_structures ps ON ps.person_id=l.child_id WHERE l.parent_id=$1 AND ps.structure_id=$2`, a.PersonID, structureID).Scan(&one)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	return s.CanEdit(ctx, a, structureID)
}

func (s *Service) mustEdit(ctx context.Context, a actor.Actor, structureID string) error {
	ok, err := s.CanEdit(ctx, a, structureID)
	if err == nil && !ok {
		err = actor.ErrForbidden
	}
	return err
}

func (s *Service) write(ctx context.Context, a actor.Actor, action, targetID, structureID string, details map[string]string, stmt string, args ...any) error {
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, stmt, args...); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: action, TargetType: "faq", TargetID: targetID,
			StructureID: structureID, Success: true, Details: details})
	})
	if err == nil {
		s.changed(ctx, structureID)
	}
	return err
}

func (s *Service) changed(ctx context.Context, structureID string) {
	if s.SiteChanged != nil {
		s.SiteChanged(ctx, structureID)
	}
}

// HasPublic tells whether the structure's FAQ has a public question (its public site
// then links it).
func (s *Service) HasPublic(ctx context.Context, structureID string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM faq_entries WHERE structure_id=$1 AND public LIMIT 1`, structureID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// FAQ returns the structure's categories with the entries the actor may read:
// public ones for everyone, internal ones for members; empty categories are left
// out but for editors.
func (s *Service) FAQ(ctx context.Context, a actor.Actor, structureID string) ([]Category, bool, error) {
	member, err := s.member(ctx, a, structureID)
	if err != nil {
		return nil, false, err
	}
	editor, err := s.CanEdit(ctx, a, structureID)
	if err != nil {
		return nil, false, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, structure_id, name, position FROM faq_categories WHERE structure_id=$1 ORDER BY position, name`, structureID)
	cats, err := db.Collect(rows, err, func(sc db.Scanner) (Category, error) {
		var c Category
		return c, sc.Scan(&c.ID, &c.StructureID, &c.Name, &c.Position)
	})
	if err != nil {
		return nil, false, err
	}
	rows, err = s.db.QueryContext(ctx, `SELECT id, category_id, structure_id, question, answer, public, updated_at FROM faq_entries
		WHERE structure_id=$1 AND (public OR $2) ORDER BY created_at`, structureID, member)
	entries, err := db.Collect(rows, err, func(sc db.Scanner) (Entry, error) {
		var e Entry
		var answer string
		var at int64
		err := sc.Scan(&e.ID, &e.CategoryID, &e.StructureID, &e.Question, &answer, &e.Public, &at)
		e.Answer, e.UpdatedAt = richtext.HTML(answer), time.UnixMilli(at) // sanitized when saved
		return e, err
	})
	if err != nil {
		return nil, false, err
	}
	byCat := map[string][]Entry{}
	for _, e := range entries {
		byCat[e.CategoryID] = append(byCat[e.CategoryID], e)
	}
	out := cats[:0]
	for _, c := range cats {
		c.Entries = byCat[c.ID]
		if len(c.Entries) > 0 || editor {
			out = append(out, c)
		}
	}
	return out, editor, nil
}

// AddCategory adds a category (editors).
func (s *Service) AddCategory(ctx context.Context, a actor.Actor, structureID, name string, position int) (Category, error) {
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 120 {
		return Category{}, actor.Invalid("name", "faq.category_required")
	}
	if err := s.mustEdit(ctx, a, structureID); err != nil {
		return Category{}, err
	}
	c := Category{ID: ids.New(), StructureID: structureID, Name: name, Position: position}
	return c, s.write(ctx, a, "faq.category.add", c.ID, structureID, map[string]string{"name": name},
		`INSERT INTO faq_categories(id, structure_id, name, position, created_at) VALUES ($1,$2,$3,$4,$5)`, c.ID, structureID, name, position, s.now().UnixMilli())
}

// DeleteCategory deletes a category with its entries (editors).
func (s *Service) DeleteCategory(ctx context.Context, a actor.Actor, id string) error {
	var sid string
	if err := s.db.QueryRowContext(ctx, `SELECT structure_id FROM faq_categories WHERE id=$1`, id).Scan(&sid); errors.Is(err, sql.ErrNoRows) {
		return actor.ErrNotFound
	} else if err != nil {
		return err
	}
	if err := s.mustEdit(ctx, a, sid); err != nil {
		return err
	}
	return s.write(ctx, a, "faq.category.delete", id, sid, nil, `DELETE FROM faq_categories WHERE id=$1`, id)
}

// EntryInput is a question and its answer as typed.
type EntryInput struct {
	CategoryID, Question, Answer string
	Public                       bool
}

// SaveEntry adds (id "") or changes an entry (editors of the category's structure).
func (s *Service) SaveEntry(ctx context.Context, a actor.Actor, id string, in EntryInput) (Entry, error) {
	var sid string
	if err := s.db.QueryRowContext(ctx, `SELECT structure_id FROM faq_categories WHERE id=$1`, in.CategoryID).Scan(&sid); errors.Is(err, sql.ErrNoRows) {
		return Entry{}, actor.Invalid("category", "faq.category_unknown")
	} else if err != nil {
		return Entry{}, err
	}
	if err := s.mustEdit(ctx, a, sid); err != nil {
		return Entry{}, err
	}
	in.Question = strings.TrimSpace(in.Question)
	if in.Question == "" || len([]rune(in.Question)) > 300 {
		return Entry{}, actor.Invalid("question", "faq.question_required")
	}
	answer := richtext.Sanitize(in.Answer)
	if strings.TrimSpace(richtext.Text(answer)) == "" {
		return Entry{}, actor.Invalid("answer", "faq.answer_required")
	}
	now := s.now()
	e := Entry{ID: id, CategoryID: in.CategoryID, StructureID: sid, Question: in.Question, Answer: answer, Public: in.Public, UpdatedAt: now}
	if id == "" {
		e.ID = ids.New()
		return e, s.write(ctx, a, "faq.entry.add", e.ID, sid, map[string]string{"question": e.Question},
			`INSERT INTO faq_entries(id, category_id, structure_id, question, answer, public, created_by, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8)`,
			e.ID, e.CategoryID, sid, e.Question, string(answer), e.Public, a.PersonID, now.UnixMilli())
	}
	var old string
	if err := s.db.QueryRowContext(ctx, `SELECT structure_id FROM faq_entries WHERE id=$1`, id).Scan(&old); errors.Is(err, sql.ErrNoRows) {
		return Entry{}, actor.ErrNotFound
	} else if err != nil {
		return Entry{}, err
	}
	if old != sid {
		return Entry{}, actor.ErrForbidden
	}
	return e, s.write(ctx, a, "faq.entry.update", id, sid, map[string]string{"question": e.Question},
		`UPDATE faq_entries SET category_id=$1, question=$2, answer=$3, public=$4, updated_at=$5 WHERE id=$6`, e.CategoryID, e.Question, string(answer), e.Public, now.UnixMilli(), id)
}

// DeleteEntry deletes an entry (editors).
func (s *Service) DeleteEntry(ctx context.Context, a actor.Actor, id string) error {
	var sid string
	if err := s.db.QueryRowContext(ctx, `SELECT structure_id FROM faq_entries WHERE id=$1`, id).Scan(&sid); errors.Is(err, sql.ErrNoRows) {
		return actor.ErrNotFound
	} else if err != nil {
		return err
	}
	if err := s.mustEdit(ctx, a, sid); err != nil {
		return err
	}
	return s.write(ctx, a, "faq.entry.delete", id, sid, nil, `DELETE FROM faq_entries WHERE id=$1`, id)
}

// ShareEditing lets a person or a group of the structure edit its FAQ (level
// rights.Contribute; rights.None takes it back). The structure's administrators.
func (s *Service) ShareEditing(ctx context.Context, a actor.Actor, structureID string, g rights.Grantee, level rights.Level) error {
	if err := allowed(s.rights.CanAdminStructure(ctx, a, structureID)); err != nil {
		return err
	}
	// The administrator acts as the resource's manager (the FAQ has no owner); the
	// audit log names them.
	if err := s.rights.SetShare(ctx, actor.System("faq"), resource(structureID), g, level); err != nil {
		return err
	}
	s.audit.Write(ctx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: "faq.share", TargetType: "faq", TargetID: structureID,
		StructureID: structureID, Success: true, Details: map[string]string{"grantee": g.Kind + ":" + g.ID, "level": level.String()}})
	return nil
}

func allowed(ok bool, err error) error {
	if err == nil && !ok {
		err = actor.ErrForbidden
	}
	return err
}
