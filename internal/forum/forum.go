// Package forum is the Forums service: categories of a structure shared with groups
// and persons, subjects opened in them and messages posted in the subjects. Shares
// (type "forum") decide: rights.Read reads and replies, rights.Contribute also opens
// subjects, rights.Manage (and the category's creator) locks, pins and removes. The
// structure's moderators and local administrators manage every category of it.
// Messages are rich text sanitized on the way in; every moderation action is audited.
package forum

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
	"github.com/preau-ent/preau/internal/platform/richtext"
	"github.com/preau-ent/preau/internal/rights"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the forum tables (they need the directory's).
var Migrations = db.Embedded("forum", migrations)

// ResourceType is the shares' resource type of a category.
const ResourceType = "forum"

// Category is a forum category.
type Category struct {
	ID, StructureID, OwnerID, Name, Description string
	Level                                       rights.Level // the actor's
}

// Subject is a subject (sujet) of a category.
type Subject struct {
	ID, CategoryID, AuthorID, AuthorName, Title string
	Locked, Pinned                              bool
	CreatedAt, LastAt                           time.Time
	Messages                                    int
}

// Message is a message of a subject.
type Message struct {
	ID, SubjectID, AuthorID, AuthorName string
	Body                                richtext.HTML
	CreatedAt                           time.Time
}

// Service is the forums service.
type Service struct {
	db        *db.DB
	audit     *audit.Log
	rights    *rights.Service
	mayCreate func(ctx context.Context, a actor.Actor, structureID string) (bool, error)
	now       func() time.Time
	// Notify, when set, is called after a reply with the subject's followers (those
	// who posted in it or follow it, not the author).
	Notify NotifyFunc
}

// New returns the service; mayCreate tells who may create categories in a structure
// (the same persons as for blogs: its teachers, staff and administrators).
func New(d *db.DB, a *audit.Log, r *rights.Service, mayCreate func(context.Context, actor.Actor, string) (bool, error)) *Service {
	return &Service{db: d, audit: a, rights: r, mayCreate: mayCreate, now: time.Now}
}

func (s *Service) log(ctx context.Context, tx *sql.Tx, a actor.Actor, action, id, structureID string, details map[string]string) error {
	return s.audit.WriteTx(ctx, tx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: action, TargetType: "forum", TargetID: id,
		StructureID: structureID, Success: true, Details: details})
}

// CreateCategory creates a category owned by the actor.
func (s *Service) CreateCategory(ctx context.Context, a actor.Actor, structureID, name, description string) (Category, error) {
	name, description = strings.TrimSpace(name), strings.TrimSpace(description)
	if name == "" || len([]rune(name)) > 120 || len([]rune(description)) > 1000 {
		return Category{}, actor.Invalid("name", "forum.name_required")
	}
	ok, err := s.mayCreate(ctx, a, structureID)
	if err != nil {
		return Category{}, err
	}
	if !ok {
		return Category{}, actor.ErrForbidden
	}
	c := Category{ID: ids.New(), StructureID: structureID, OwnerID: a.PersonID, Name: name, Description: description, Level: rights.Manage}
	return c, s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO forum_categories(id, structure_id, owner_id, name, description, created_at) VALUES ($1,$2,$3,$4,$5,$6)`,
			c.ID, structureID, a.PersonID, name, description, s.now().UnixMilli()); err != nil {
			return err
		}
		return s.log(ctx, tx, a, "forum.category.create", c.ID, structureID, map[string]string{"name": name})
	})
}

// Share grants a group or a person a level on a category (its managers).
func (s *Service) Share(ctx context.Context, a actor.Actor, categoryID string, g rights.Grantee, level rights.Level) error {
	c, err := s.Category(ctx, a, categoryID)
	if err != nil {
		return err
	}
	if c.Level < rights.Manage {
		return actor.ErrForbidden
	}
	// The rights check is done above (moderators of the structure manage too): the
	// share is written as the system, the audit log names the actor.
	if err := s.rights.SetShare(ctx, actor.System("forum"), resource(c), g, level); err != nil {
		return err
	}
	s.audit.Write(ctx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: "forum.share", TargetType: "forum", TargetID: c.ID,
		StructureID: c.StructureID, Success: true, Details: map[string]string{"grantee": g.Kind + ":" + g.ID, "level": level.String()}})
	return nil
}

func resource(c Category) rights.Resource {
	return rights.Resource{Type: ResourceType, ID: c.ID, OwnerID: c.OwnerID}
}

// Category returns a category the actor reads, with their level.
func (s *Service) Category(ctx context.Context, a actor.Actor, id string) (Category, error) {
	var c Category
	err := s.db.QueryRowContext(ctx, `SELECT id, structure_id, owner_id, name, description FROM forum_categories WHERE id=$1`, id).
		Scan(&c.ID, &c.StructureID, &c.OwnerID, &c.Name, &c.Description)
	if errors.Is(err, sql.ErrNoRows) {
		return c, actor.ErrNotFound
	}
	if err != nil {
		return c, err
	}
	if c.Level, err = s.level(ctx, a, c); err != nil {
		return c, err
	}
	if c.Level == rights.None {
		return Category{}, actor.ErrNotFound
	}
	return c, nil
}

func (s *Service) level(ctx context.Context, a actor.Actor, c Category) (rights.Level, error) {
	if a.System {
		return rights.Manage, nil
	}
	if a.PersonID == "" {
		return rights.None, nil
	}
	l, err := s.rights.LevelOf(ctx, a.PersonID, resource(c))
	if err != nil || l == rights.Manage {
		return l, err
	}
	if mod, err := s.rights.IsModerator(ctx, a, c.StructureID); err != nil || mod {
		return rights.Manage, err
	}
	return l, nil
}

// Categories lists the categories the actor owns or is shared.
func (s *Service) Categories(ctx context.Context, a actor.Actor) ([]Category, error) {
	if a.PersonID == "" {
		return nil, nil
	}
	cond, args, err := s.rights.VisibleWhere(ctx, s.db, a.PersonID, ResourceType, "owner_id", "id", rights.Read)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, structure_id, owner_id, name, description FROM forum_categories WHERE `+cond+` ORDER BY name LIMIT 500`, args...)
	list, err := db.Collect(rows, err, func(sc db.Scanner) (Category, error) {
		var c Category
		return c, sc.Scan(&c.ID, &c.StructureID, &c.OwnerID, &c.Name, &c.Description)
	})
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Level, err = s.level(ctx, a, list[i]); err != nil {
			return nil, err
		}
	}
	return list, nil
}

const subjectCols = `o.id, o.category_id, o.author_id, COALESCE(p.first_name || ' ' || p.last_name, ''), o.title, o.locked, o.pinned, o.created_at, o.last_at,
	(SELECT COUNT(*) FROM forum_messages m WHERE m.subject_id=o.id AND NOT m.removed)`

func scanSubject(sc db.Scanner) (Subject, error) {
	var o Subject
	var c, l int64
	err := sc.Scan(&o.ID, &o.CategoryID, &o.AuthorID, &o.AuthorName, &o.Title, &o.Locked, &o.Pinned, &c, &l, &o.Messages)
	o.CreatedAt, o.LastAt = time.UnixMilli(c), time.UnixMilli(l)
	return o, err
}

// Subjects lists a category's subjects, pinned first, then the most recently active.
func (s *Service) Subjects(ctx context.Context, a actor.Actor, categoryID string) (Category, []Subject, error) {
	c, err := s.Category(ctx, a, categoryID)
	if err != nil {
		return c, nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+subjectCols+` FROM forum_subjects o LEFT JOIN persons p ON p.id=o.author_id
		WHERE o.category_id=$1 ORDER BY o.pinned DESC, o.last_at DESC LIMIT 500`, categoryID)
	list, err := db.Collect(rows, err, scanSubject)
	return c, list, err
}

// Subject returns a subject with its category and its messages.
func (s *Service) Subject(ctx context.Context, a actor.Actor, id string) (Category, Subject, []Message, error) {
	o, err := scanSubject(s.db.QueryRowContext(ctx, `SELECT `+subjectCols+` FROM forum_subjects o LEFT JOIN persons p ON p.id=o.author_id WHERE o.id=$1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Category{}, o, nil, actor.ErrNotFound
	}
	if err != nil {
		return Category{}, o, nil, err
	}
	c, err := s.Category(ctx, a, o.CategoryID)
	if err != nil {
		return c, Subject{}, nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT m.id, m.subject_id, m.author_id, COALESCE(p.first_name || ' ' || p.last_name, ''), m.body, m.created_at
		FROM forum_messages m LEFT JOIN persons p ON p.id=m.author_id WHERE m.subject_id=$1 AND NOT m.removed ORDER BY m.created_at LIMIT 2000`, id)
	msgs, err := db.Collect(rows, err, func(sc db.Scanner) (Message, error) {
		var m Message
		var body string
		var at int64
		err := sc.Scan(&m.ID, &m.SubjectID, &m.AuthorID, &m.AuthorName, &body, &at)
		m.Body, m.CreatedAt = richtext.HTML(body), time.UnixMilli(at) // sanitized when posted
		return m, err
	})
	return c, o, msgs, err
}

func cleanBody(body string) (richtext.HTML, error) {
	h := richtext.Sanitize(body)
	if strings.TrimSpace(richtext.Text(h)) == "" || len(body) > 100_000 {
		return "", actor.Invalid("body", "forum.body_required")
	}
	return h, nil
}

// OpenSubject opens a subject with its first message (contributors of the category).
func (s *Service) OpenSubject(ctx context.Context, a actor.Actor, categoryID, title, body string) (Subject, error) {
	c, err := s.Category(ctx, a, categoryID)
	if err != nil {
		return Subject{}, err
	}
	if c.Level < rights.Contribute {
		return Subject{}, actor.ErrForbidden
	}
	title = strings.TrimSpace(title)
	if title == "" || len([]rune(title)) > 200 {
		return Subject{}, actor.Invalid("title", "forum.title_required")
	}
	h, err := cleanBody(body)
	if err != nil {
		return Subject{}, err
	}
	now := s.now()
	o := Subject{ID: ids.New(), CategoryID: c.ID, AuthorID: a.PersonID, Title: title, CreatedAt: now, LastAt: now, Messages: 1}
	return o, s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO forum_subjects(id, category_id, author_id, title, created_at, last_at) VALUES ($1,$2,$3,$4,$5,$5)`,
			o.ID, c.ID, a.PersonID, title, now.UnixMilli()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO forum_messages(id, subject_id, author_id, body, created_at) VALUES ($1,$2,$3,$4,$5)`,
			ids.New(), o.ID, a.PersonID, string(h), now.UnixMilli()); err != nil {
			return err
		}
		return s.log(ctx, tx, a, "forum.subject.open", o.ID, c.StructureID, map[string]string{"title": title})
	})
}

// Reply posts a message in a subject (readers of the category; managers only when
// the subject is locked).
func (s *Service) Reply(ctx context.Context, a actor.Actor, subjectID, body string) (Message, error) {
	c, o, _, err := s.Subject(ctx, a, subjectID)
	if err != nil {
		return Message{}, err
	}
	if o.Locked && c.Level < rights.Manage {
		return Message{}, actor.Invalid("body", "forum.locked")
	}
	h, err := cleanBody(body)
	if err != nil {
		return Message{}, err
	}
	m := Message{ID: ids.New(), SubjectID: o.ID, AuthorID: a.PersonID, Body: h, CreatedAt: s.now()}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		at := m.CreatedAt.UnixMilli()
		if _, err := tx.ExecContext(ctx, `INSERT INTO forum_messages(id, subject_id, author_id, body, created_at) VALUES ($1,$2,$3,$4,$5)`, m.ID, o.ID, a.PersonID, string(h), at); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE forum_subjects SET last_at=$1 WHERE id=$2`, at, o.ID); err != nil {
			return err
		}
		return s.log(ctx, tx, a, "forum.message.post", m.ID, c.StructureID, map[string]string{"subject": o.ID})
	})
	if err != nil {
		return Message{}, err
	}
	if err := s.notifyReply(ctx, c, o, a.PersonID); err != nil {
		slog.Warn("forum : notification", "subject", o.ID, "err", err) // the message is posted
	}
	return m, nil
}

// SetFlags locks or unlocks, pins or unpins a subject (managers of the category).
func (s *Service) SetFlags(ctx context.Context, a actor.Actor, subjectID string, locked, pinned bool) error {
	c, o, _, err := s.Subject(ctx, a, subjectID)
	if err != nil {
		return err
	}
	if c.Level < rights.Manage {
		return actor.ErrForbidden
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE forum_subjects SET locked=$1, pinned=$2 WHERE id=$3`, locked, pinned, o.ID); err != nil {
			return err
		}
		return s.log(ctx, tx, a, "forum.subject.flags", o.ID, c.StructureID, map[string]string{"locked": boolText(locked), "pinned": boolText(pinned)})
	})
}

func boolText(b bool) string {
	if b {
		return "oui"
	}
	return "non"
}

// RemoveMessage takes a message down (managers of the category, the structure's
// moderators); audited with the moderator's note.
func (s *Service) RemoveMessage(ctx context.Context, a actor.Actor, messageID, note string) error {
	c, subjectID, err := s.messageCategory(ctx, a, messageID)
	if err != nil {
		return err
	}
	if c.Level < rights.Manage {
		return actor.ErrForbidden
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE forum_messages SET removed=TRUE WHERE id=$1`, messageID); err != nil {
			return err
		}
		return s.log(ctx, tx, a, "forum.moderation.remove", messageID, c.StructureID, map[string]string{"subject": subjectID, "note": strings.TrimSpace(note)})
	})
}

// Shares lists a category's shares (its managers).
func (s *Service) Shares(ctx context.Context, a actor.Actor, categoryID string) ([]rights.Share, error) {
	c, err := s.Category(ctx, a, categoryID)
	if err != nil {
		return nil, err
	}
	if c.Level < rights.Manage {
		return nil, actor.ErrForbidden
	}
	return s.rights.Shares(ctx, resource(c))
}

// ---- Reports ----

// Report is a signalement of a message.
type Report struct {
	ID, MessageID, SubjectID, SubjectTitle, Excerpt, StructureID, ReporterName, Reason string
	CreatedAt                                                                          time.Time
}

// Report lets a reader of a message report it to the moderators of the structure.
func (s *Service) Report(ctx context.Context, a actor.Actor, messageID, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > 2000 {
		return actor.Invalid("reason", "forum.reason_required")
	}
	c, _, err := s.messageCategory(ctx, a, messageID)
	if err != nil {
		return err
	}
	id := ids.New()
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO forum_reports(id, message_id, structure_id, reporter_id, reason, created_at) VALUES ($1,$2,$3,$4,$5,$6)`,
			id, messageID, c.StructureID, a.PersonID, reason, s.now().UnixMilli()); err != nil {
			return err
		}
		return s.log(ctx, tx, a, "forum.report", messageID, c.StructureID, map[string]string{"report": id})
	})
}

// Reports lists the open reports of the structures the actor moderates, oldest first.
func (s *Service) Reports(ctx context.Context, a actor.Actor) ([]Report, error) {
	all, sids, err := s.rights.ModeratedStructures(ctx, a)
	if err != nil || (!all && len(sids) == 0) {
		return nil, err
	}
	q := `SELECT r.id, r.message_id, o.id, o.title, m.body, r.structure_id, COALESCE(p.first_name || ' ' || p.last_name, ''), r.reason, r.created_at
		FROM forum_reports r JOIN forum_messages m ON m.id=r.message_id JOIN forum_subjects o ON o.id=m.subject_id
		LEFT JOIN persons p ON p.id=r.reporter_id WHERE r.outcome=''`
	var args []any
	if !all {
		q += ` AND r.structure_id IN (` + db.In(1, len(sids)) + `)`
		for _, id := range sids {
			args = append(args, id)
		}
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY r.created_at LIMIT 500`, args...)
	return db.Collect(rows, err, func(sc db.Scanner) (Report, error) {
		var r Report
		var body string
		var at int64
		err := sc.Scan(&r.ID, &r.MessageID, &r.SubjectID, &r.SubjectTitle, &body, &r.StructureID, &r.ReporterName, &r.Reason, &at)
		r.Excerpt, r.CreatedAt = richtext.Summary(richtext.HTML(body), 300), time.UnixMilli(at)
		return r, err
	})
}

// Resolve closes a report: remove takes the message down (closing every open report
// on it), otherwise the report is dismissed. The structure's moderators; audited.
func (s *Service) Resolve(ctx context.Context, a actor.Actor, reportID string, remove bool, note string) error {
	var messageID, sid, outcome string
	switch err := s.db.QueryRowContext(ctx, `SELECT message_id, structure_id, outcome FROM forum_reports WHERE id=$1`, reportID).Scan(&messageID, &sid, &outcome); {
	case errors.Is(err, sql.ErrNoRows):
		return actor.ErrNotFound
	case err != nil:
		return err
	}
	if err := s.rights.MayResolve(ctx, a, sid, outcome, "forum.report_closed"); err != nil {
		return err
	}
	outcome = "dismissed"
	if remove {
		if err := s.RemoveMessage(ctx, a, messageID, note); err != nil {
			return err
		}
		outcome = "removed"
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE forum_reports SET outcome=$1, resolved_by=$2, resolved_at=$3 WHERE message_id=$4 AND outcome=''`,
			outcome, a.PersonID, s.now().UnixMilli(), messageID); err != nil {
			return err
		}
		if remove {
			return nil // RemoveMessage wrote the audit entry
		}
		return s.log(ctx, tx, a, "forum.report.dismiss", messageID, sid, map[string]string{"report": reportID, "note": strings.TrimSpace(note)})
	})
}

// messageCategory returns the category and the subject of a message still shown,
// which the actor must read.
func (s *Service) messageCategory(ctx context.Context, a actor.Actor, messageID string) (Category, string, error) {
	var subjectID string
	err := s.db.QueryRowContext(ctx, `SELECT subject_id FROM forum_messages WHERE id=$1 AND NOT removed`, messageID).Scan(&subjectID)
	if errors.Is(err, sql.ErrNoRows) {
		return Category{}, "", actor.ErrNotFound
	}
	if err != nil {
		return Category{}, "", err
	}
	c, _, _, err := s.Subject(ctx, a, subjectID)
	return c, subjectID, err
}
