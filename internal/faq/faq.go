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
	"slices"
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
	Position                              int
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
	rows, err = s.db.QueryContext(ctx, `SELECT `+entryCols+` FROM faq_entries
		WHERE structure_id=$1 AND (public OR $2) ORDER BY position, created_at`, structureID, member)
	entries, err := db.Collect(rows, err, scanEntry)
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
	// Without a position, the section goes last.
	return c, s.write(ctx, a, "faq.category.add", c.ID, structureID, map[string]string{"name": name},
		`INSERT INTO faq_categories(id, structure_id, name, position, created_at)
		VALUES ($1,$2,$3,CASE WHEN $4 > 0 THEN $4 ELSE (SELECT COALESCE(MAX(position), 0) + 1 FROM faq_categories WHERE structure_id=$2) END,$5)`,
		c.ID, structureID, name, position, s.now().UnixMilli())
}

// DeleteCategory deletes a category with its entries (editors).
func (s *Service) DeleteCategory(ctx context.Context, a actor.Actor, id string) error {
	c, err := s.CategoryForEdit(ctx, a, id)
	if err != nil {
		return err
	}
	return s.write(ctx, a, "faq.category.delete", id, c.StructureID, map[string]string{"name": c.Name}, `DELETE FROM faq_categories WHERE id=$1`, id)
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
	// A new question, or one moved to another section, goes last in its section.
	last := `(SELECT COALESCE(MAX(position), 0) + 1 FROM faq_entries WHERE category_id=$2)`
	if id == "" {
		e.ID = ids.New()
		return e, s.write(ctx, a, "faq.entry.add", e.ID, sid, map[string]string{"question": e.Question},
			`INSERT INTO faq_entries(id, category_id, structure_id, question, answer, public, created_by, created_at, updated_at, position) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8,`+last+`)`,
			e.ID, e.CategoryID, sid, e.Question, string(answer), e.Public, a.PersonID, now.UnixMilli())
	}
	old, err := s.entry(ctx, id)
	if err != nil {
		return Entry{}, err
	}
	if old.StructureID != sid {
		return Entry{}, actor.ErrForbidden
	}
	position := `position`
	if old.CategoryID != e.CategoryID {
		position = last
	}
	return e, s.write(ctx, a, "faq.entry.update", id, sid, map[string]string{"question": e.Question},
		`UPDATE faq_entries SET category_id=$2, question=$3, answer=$4, public=$5, updated_at=$6, position=`+position+` WHERE id=$1`, id, e.CategoryID, e.Question, string(answer), e.Public, now.UnixMilli())
}

const entryCols = `id, category_id, structure_id, question, answer, public, position, updated_at`

func scanEntry(sc db.Scanner) (Entry, error) {
	var e Entry
	var answer string
	var at int64
	err := sc.Scan(&e.ID, &e.CategoryID, &e.StructureID, &e.Question, &answer, &e.Public, &e.Position, &at)
	if errors.Is(err, sql.ErrNoRows) {
		err = actor.ErrNotFound
	}
	e.Answer, e.UpdatedAt = richtext.HTML(answer), time.UnixMilli(at) // sanitized when saved
	return e, err
}

func (s *Service) entry(ctx context.Context, id string) (Entry, error) {
	return scanEntry(s.db.QueryRowContext(ctx, `SELECT `+entryCols+` FROM faq_entries WHERE id=$1`, id))
}

func (s *Service) category(ctx context.Context, id string) (Category, error) {
	var c Category
	err := s.db.QueryRowContext(ctx, `SELECT id, structure_id, name, position FROM faq_categories WHERE id=$1`, id).Scan(&c.ID, &c.StructureID, &c.Name, &c.Position)
	if errors.Is(err, sql.ErrNoRows) {
		err = actor.ErrNotFound
	}
	return c, err
}

// EntryForEdit returns a question to an editor of its structure's FAQ.
func (s *Service) EntryForEdit(ctx context.Context, a actor.Actor, id string) (Entry, error) {
	e, err := s.entry(ctx, id)
	if err != nil {
		return Entry{}, err
	}
	if err := s.mustEdit(ctx, a, e.StructureID); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// CategoryForEdit returns a section to an editor of its structure's FAQ.
func (s *Service) CategoryForEdit(ctx context.Context, a actor.Actor, id string) (Category, error) {
	c, err := s.category(ctx, id)
	if err != nil {
		return Category{}, err
	}
	if err := s.mustEdit(ctx, a, c.StructureID); err != nil {
		return Category{}, err
	}
	return c, nil
}

// RenameCategory changes a section's name (editors).
func (s *Service) RenameCategory(ctx context.Context, a actor.Actor, id, name string) (Category, error) {
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 120 {
		return Category{}, actor.Invalid("name", "faq.category_required")
	}
	c, err := s.CategoryForEdit(ctx, a, id)
	if err != nil {
		return Category{}, err
	}
	old := c.Name
	c.Name = name
	return c, s.write(ctx, a, "faq.category.update", id, c.StructureID, map[string]string{"name": name, "before": old},
		`UPDATE faq_categories SET name=$1 WHERE id=$2`, name, id)
}

// MoveCategory moves a section one place up (up) or down among its structure's.
func (s *Service) MoveCategory(ctx context.Context, a actor.Actor, id string, up bool) error {
	c, err := s.CategoryForEdit(ctx, a, id)
	if err != nil {
		return err
	}
	return s.move(ctx, a, "faq.category.move", "faq_categories", "structure_id", c.StructureID, c.StructureID, id, `name`, up)
}

// MoveEntry moves a question one place up (up) or down in its section.
func (s *Service) MoveEntry(ctx context.Context, a actor.Actor, id string, up bool) error {
	e, err := s.EntryForEdit(ctx, a, id)
	if err != nil {
		return err
	}
	return s.move(ctx, a, "faq.entry.move", "faq_entries", "category_id", e.CategoryID, e.StructureID, id, `created_at`, up)
}

// move swaps a row with its neighbour in the order of its list (the rows of table
// whose column is value), numbering the list 1, 2, 3... on the way.
func (s *Service) move(ctx context.Context, a actor.Actor, action, table, column, value, structureID, id, then string, up bool) error {
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM `+table+` WHERE `+column+`=$1 ORDER BY position, `+then, value)
		order, err := db.Collect(rows, err, func(sc db.Scanner) (string, error) {
			var x string
			return x, sc.Scan(&x)
		})
		if err != nil {
			return err
		}
		i := slices.Index(order, id)
		j := i + 1
		if up {
			j = i - 1
		}
		if i < 0 || j < 0 || j >= len(order) {
			return nil // already first or last
		}
		order[i], order[j] = order[j], order[i]
		for n, x := range order {
			if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET position=$1 WHERE id=$2`, n+1, x); err != nil {
				return err
			}
		}
		dir := "down"
		if up {
			dir = "up"
		}
		return s.audit.WriteTx(ctx, tx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: action, TargetType: "faq", TargetID: id,
			StructureID: structureID, Success: true, Details: map[string]string{"direction": dir}})
	})
	if err == nil {
		s.changed(ctx, structureID)
	}
	return err
}

// DeleteEntry deletes an entry (editors).
func (s *Service) DeleteEntry(ctx context.Context, a actor.Actor, id string) error {
	e, err := s.EntryForEdit(ctx, a, id)
	if err != nil {
		return err
	}
	return s.write(ctx, a, "faq.entry.delete", id, e.StructureID, map[string]string{"question": e.Question}, `DELETE FROM faq_entries WHERE id=$1`, id)
}

// ShareEditing lets a person or a group of the structure edit its FAQ (level
// rights.Contribute; rights.None takes it back). The structure's administrators.
func (s *Service) ShareEditing(ctx context.Context, a actor.Actor, structureID string, g rights.Grantee, level rights.Level) error {
	if err := allowed(s.rights.CanAdminStructure(ctx, a, structureID)); err != nil {
		return err
	}
	if level != rights.None {
		if err := s.ofStructure(ctx, structureID, g); err != nil {
			return err
		}
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

// ofStructure checks that a grantee is a group or a person of the structure.
func (s *Service) ofStructure(ctx context.Context, structureID string, g rights.Grantee) error {
	switch g.Kind {
	case "group":
		grp, err := s.dir.Group(ctx, g.ID)
		if errors.Is(err, actor.ErrNotFound) || (err == nil && grp.StructureID != structureID) {
			return actor.Invalid("group", "faq.editor_unknown")
		}
		return err
	case "person":
		sids, err := s.dir.PersonStructureIDs(ctx, g.ID)
		if err == nil && !slices.Contains(sids, structureID) {
			return actor.Invalid("login", "faq.editor_unknown")
		}
		return err
	}
	return actor.Invalid("group", "faq.editor_unknown")
}

// Editors lists the persons and groups the structure's administrators share the
// editing of its FAQ with (the administrators).
func (s *Service) Editors(ctx context.Context, a actor.Actor, structureID string) ([]rights.Share, error) {
	if err := allowed(s.rights.CanAdminStructure(ctx, a, structureID)); err != nil {
		return nil, err
	}
	return s.rights.Shares(ctx, resource(structureID))
}

func allowed(ok bool, err error) error {
	if err == nil && !ok {
		err = actor.ErrForbidden
	}
	return err
}
