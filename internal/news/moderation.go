package news

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/blob"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
	"github.com/preau-ent/preau/internal/rights"
)

// ---- Notifications ----

// Recipients lists the persons a published item reaches (its author's actor aside).
func (s *Service) Recipients(ctx context.Context, itemID string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT structure_id, profile, class_id FROM news_targets WHERE item_id=$1`, itemID)
	if err != nil {
		return nil, err
	}
	var targets [][3]string
	for rows.Next() {
		var r [3]string
		if err := rows.Scan(&r[0], &r[1], &r[2]); err != nil {
			rows.Close()
			return nil, err
		}
		targets = append(targets, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range targets {
		var q string
		if r[2] == "" {
			q = `SELECT p.id FROM person_structures ps JOIN persons p ON p.id=ps.person_id WHERE ps.structure_id=$1 AND ($2='' OR p.profile=$2)
				UNION SELECT pp.id FROM person_links l JOIN person_structures ps ON ps.person_id=l.child_id JOIN persons pp ON pp.id=l.parent_id WHERE ps.structure_id=$1 AND ($2='' OR pp.profile=$2)`
		} else {
			q = `SELECT p.id FROM group_members gm JOIN persons p ON p.id=gm.person_id WHERE gm.group_id=$1 AND ($2='' OR p.profile=$2)
				UNION SELECT pp.id FROM person_links l JOIN group_members gm ON gm.person_id=l.child_id JOIN persons pp ON pp.id=l.parent_id WHERE gm.group_id=$1 AND ($2='' OR pp.profile=$2)
				UNION SELECT p.id FROM teaching te JOIN persons p ON p.id=te.teacher_id WHERE te.group_id=$1 AND ($2='' OR p.profile=$2)`
		}
		key := r[0]
		if r[2] != "" {
			key = r[2]
		}
		ids, err := db.Strings(ctx, s.db, q, key, r[1])
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out, nil
}

func (s *Service) notify(ctx context.Context, actorID string, it Item) {
	if s.Notify == nil {
		return
	}
	recipients, err := s.Recipients(ctx, it.ID)
	if err != nil {
		slog.Error("actualités : destinataires", "item", it.ID, "err", err)
		return
	}
	var others []string
	for _, r := range recipients {
		if r != actorID {
			others = append(others, r)
		}
	}
	if len(others) > 0 {
		s.Notify(ctx, others, actorID, it.Title, "/actualites/"+it.ID)
	}
}

// NotifyDue tells the readers of scheduled items whose date has come; the server's
// housekeeping calls it.
func (s *Service) NotifyDue(ctx context.Context) (int, error) {
	due, err := s.queryItems(ctx, `SELECT `+itemCols+itemFrom+` WHERE i.state='published' AND NOT i.notified AND i.publish_at <= $1 ORDER BY i.publish_at LIMIT 100`, s.now().UnixMilli())
	if err != nil {
		return 0, err
	}
	for _, it := range due {
		res, err := s.db.ExecContext(ctx, `UPDATE news_items SET notified=TRUE WHERE id=$1 AND NOT notified`, it.ID)
		if err != nil {
			return 0, err
		}
		if n, _ := res.RowsAffected(); n == 1 { // another instance may have taken it
			s.notify(ctx, "", it)
		}
	}
	return len(due), nil
}

// ---- Reports and moderation ----

// Report is a signalement of an item.
type Report struct {
	ID           string
	ItemID       string
	ItemTitle    string
	ItemState    string
	StructureID  string
	ReporterName string
	Reason       string
	CreatedAt    time.Time
}

// Report lets whoever may read an item report it to the moderators of its structure.
func (s *Service) Report(ctx context.Context, a actor.Actor, itemID, reason string) error {
	if a.PersonID == "" {
		return actor.ErrForbidden
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > 2000 {
		return actor.Invalid("reason", "news.reason_required")
	}
	it, _, err := s.Get(ctx, a, itemID)
	if err != nil {
		return err
	}
	id := ids.New()
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO news_reports(id, item_id, structure_id, reporter_id, reason, created_at) VALUES ($1,$2,$3,$4,$5,$6)`,
			id, it.ID, it.StructureID, a.PersonID, reason, s.now().UnixMilli()); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "news.report", it.ID, it.StructureID, map[string]string{"report": id}))
	})
}

// moderated lists the structures the actor moderates (all: every one).
func (s *Service) moderated(ctx context.Context, a actor.Actor) (bool, []string, error) {
	all, ids, err := s.rights.AdminScope(ctx, a)
	if err != nil || all {
		return all, nil, err
	}
	mods, err := db.Strings(ctx, s.db, `SELECT structure_id FROM role_assignments WHERE person_id=$1 AND role=$2`, a.PersonID, rights.Moderator)
	return false, append(ids, mods...), err
}

// IsModerator tells whether the actor moderates any structure's content.
func (s *Service) IsModerator(ctx context.Context, a actor.Actor) (bool, error) {
	if a.PersonID == "" && !a.System {
		return false, nil
	}
	all, ids, err := s.moderated(ctx, a)
	return all || len(ids) > 0, err
}

// Reports lists the open reports the actor moderates, oldest first.
func (s *Service) Reports(ctx context.Context, a actor.Actor) ([]Report, error) {
	all, sids, err := s.moderated(ctx, a)
	if err != nil {
		return nil, err
	}
	q := `SELECT r.id, r.item_id, i.title, i.state, r.structure_id, COALESCE(p.first_name || ' ' || p.last_name, ''), r.reason, r.created_at
		FROM news_reports r JOIN news_items i ON i.id=r.item_id LEFT JOIN persons p ON p.id=r.reporter_id WHERE r.outcome=''`
	var args []any
	if !all {
		if len(sids) == 0 {
			return nil, nil
		}
		q += ` AND r.structure_id IN (` + db.In(1, len(sids)) + `)`
		for _, id := range sids {
			args = append(args, id)
		}
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY r.created_at LIMIT 500`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Report
	for rows.Next() {
		var r Report
		var at int64
		if err := rows.Scan(&r.ID, &r.ItemID, &r.ItemTitle, &r.ItemState, &r.StructureID, &r.ReporterName, &r.Reason, &at); err != nil {
			return nil, err
		}
		r.CreatedAt = time.UnixMilli(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Resolve closes a report: remove takes the item down (state removed, out of every
// page) and closes every open report on it; otherwise the report is dismissed.
// Moderators and local administrators of the item's structure; audited.
func (s *Service) Resolve(ctx context.Context, a actor.Actor, reportID string, remove bool, note string) error {
	var itemID, sid, outcome string
	err := s.db.QueryRowContext(ctx, `SELECT item_id, structure_id, outcome FROM news_reports WHERE id=$1`, reportID).Scan(&itemID, &sid, &outcome)
	if errors.Is(err, sql.ErrNoRows) {
		return actor.ErrNotFound
	}
	if err != nil {
		return err
	}
	if err := allowed(s.rights.IsModerator(ctx, a, sid)); err != nil {
		return err
	}
	if outcome != "" {
		return actor.Invalid("state", "news.report_closed")
	}
	if remove {
		return s.Remove(ctx, a, itemID, note)
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE news_reports SET outcome='dismissed', resolved_by=$1, resolved_at=$2 WHERE id=$3`, a.PersonID, s.now().UnixMilli(), reportID); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "news.report.dismiss", itemID, sid, map[string]string{"report": reportID, "note": note}))
	})
}

// Remove takes an item down by moderation: it leaves every page and feed, its
// writers see it as removed with the moderator's note, open reports on it close.
func (s *Service) Remove(ctx context.Context, a actor.Actor, itemID, note string) error {
	it, err := s.item(ctx, itemID)
	if err != nil {
		return err
	}
	if err := allowed(s.rights.IsModerator(ctx, a, it.StructureID)); err != nil {
		return err
	}
	note = strings.TrimSpace(note)
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		now := s.now().UnixMilli()
		if _, err := tx.ExecContext(ctx, `UPDATE news_items SET state=$1, note=$2, updated_at=$3 WHERE id=$4`, Removed, note, now, itemID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM news_targets WHERE item_id=$1`, itemID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE news_reports SET outcome='removed', resolved_by=$1, resolved_at=$2 WHERE item_id=$3 AND outcome=''`, a.PersonID, now, itemID); err != nil {
			return err
		}
		if err := bump(ctx, tx, it.StructureID); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "news.moderation.remove", itemID, it.StructureID, map[string]string{"title": it.Title, "from": it.State, "note": note}))
	})
	if err == nil {
		s.forgetVersion(it.StructureID)
	}
	return err
}

// ---- Files uploaded into content ----

// File is an image or document uploaded into an item or a page.
type File struct {
	ID, OwnerKind, OwnerID, StructureID, Key, Name, ContentType string
	Size                                                        int64
}

// MaxFile is the largest file accepted into content.
const MaxFile = 2 << 20

var allowedTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true, "application/pdf": true}

// IsImage tells whether the file shows as an image.
func (f File) IsImage() bool { return strings.HasPrefix(f.ContentType, "image/") }

// AddFile stores a file into an item (ownerKind "item": whoever may edit it) or a
// site page ("page": the structure's administrators). Its type is read from its
// content, never from its name: PNG, JPEG, GIF, WebP or PDF (no SVG, which can carry script).
func (s *Service) AddFile(ctx context.Context, a actor.Actor, ownerKind, ownerID, name string, r io.Reader) (File, error) {
	var sid string
	switch ownerKind {
	case "item":
		it, t, role, err := s.loadForAction(ctx, a, ownerID)
		if err != nil {
			return File{}, err
		}
		if role == RoleNone || (role == RoleWriter && it.AuthorID != a.PersonID) {
			return File{}, actor.ErrForbidden
		}
		sid = t.StructureID
	case "page":
		p, err := s.pageByID(ctx, ownerID)
		if err != nil {
			return File{}, err
		}
		if err := s.mustAdmin(ctx, a, p.StructureID); err != nil {
			return File{}, err
		}
		sid = p.StructureID
	default:
		return File{}, actor.ErrNotFound
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return File{}, err
	}
	head = head[:n]
	ct := http.DetectContentType(head)
	if i := strings.IndexByte(ct, ';'); i > 0 {
		ct = ct[:i]
	}
	if !allowedTypes[ct] {
		return File{}, actor.Invalid("file", "news.bad_file")
	}
	st, err := s.blobs.Put(ctx, io.MultiReader(strings.NewReader(string(head)), r), MaxFile)
	if err != nil {
		if errors.Is(err, blob.ErrTooLarge) {
			return File{}, actor.Invalid("file", "news.file_too_big")
		}
		return File{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		name = "fichier"
	}
	f := File{ID: ids.New(), OwnerKind: ownerKind, OwnerID: ownerID, StructureID: sid, Key: st.Key, Name: name, ContentType: ct, Size: st.Size}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO news_files(id, owner_kind, owner_id, structure_id, blob_key, name, content_type, size, created_by, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
			f.ID, f.OwnerKind, f.OwnerID, f.StructureID, f.Key, f.Name, f.ContentType, f.Size, a.PersonID, s.now().UnixMilli()); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "news.file.add", ownerID, sid, map[string]string{"file": f.ID, "type": ct}))
	})
	if err != nil {
		_ = s.blobs.Delete(ctx, st.Key)
		return File{}, err
	}
	return f, nil
}

// OpenFile returns a file the actor may see: a file of an item they may read, or of
// a published page (public), and its content.
func (s *Service) OpenFile(ctx context.Context, a actor.Actor, id string) (File, io.ReadSeekCloser, error) {
	var f File
	err := s.db.QueryRowContext(ctx, `SELECT id, owner_kind, owner_id, structure_id, blob_key, name, content_type, size FROM news_files WHERE id=$1`, id).
		Scan(&f.ID, &f.OwnerKind, &f.OwnerID, &f.StructureID, &f.Key, &f.Name, &f.ContentType, &f.Size)
	if errors.Is(err, sql.ErrNoRows) {
		return f, nil, actor.ErrNotFound
	}
	if err != nil {
		return f, nil, err
	}
	switch f.OwnerKind {
	case "item":
		if _, _, err := s.Get(ctx, a, f.OwnerID); err != nil {
			return f, nil, err
		}
	case "page":
		p, err := s.pageByID(ctx, f.OwnerID)
		if err != nil {
			return f, nil, err
		}
		if !p.Published {
			if err := s.mustAdmin(ctx, a, p.StructureID); err != nil {
				return f, nil, actor.ErrNotFound
			}
		}
	}
	rc, err := s.blobs.Open(ctx, f.Key)
	return f, rc, err
}

// Public tells whether a file is public (a live public item's or a published page's),
// so that caches may keep it.
func (s *Service) Public(ctx context.Context, f File) bool {
	_, _, err := s.Get(ctx, actor.Actor{}, f.OwnerID)
	if f.OwnerKind == "page" {
		p, perr := s.pageByID(ctx, f.OwnerID)
		return perr == nil && p.Published
	}
	return err == nil
}

func (s *Service) mustAdmin(ctx context.Context, a actor.Actor, structureID string) error {
	return allowed(s.rights.CanAdminStructure(ctx, a, structureID))
}

// allowed turns a yes-or-no rights answer into an error.
func allowed(ok bool, err error) error {
	if err == nil && !ok {
		err = actor.ErrForbidden
	}
	return err
}

type scanner = db.Scanner

// collect reads every row of a query with scan.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	return db.Collect(rows, err, scan)
}
