// Package news is the Actualités service: news threads (fils) owned by a structure —
// an établissement, or a partner (Région, Département, académie) publishing to the
// schools it serves — with writers who submit and publishers who publish, scheduled
// publication and expiry, headlines, targeting by structure, school type, profile and
// class, reports and moderation; and each portal's public site (pages, contact and
// practical information, public news).
//
// Rights: local administrators (and moderators) of the owning structure manage a
// thread and publish in it; a thread's writers and publishers are per-resource shares
// (rights.Contribute writes and submits, rights.Manage publishes) to persons or groups.
package news

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
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

// Migrations are the news and public site tables (they need the directory's).
var Migrations = db.Embedded("news", migrations)

// ResourceType is the shares' resource type of a thread.
const ResourceType = "news.thread"

// Item states.
const (
	Draft     = "draft"
	Submitted = "submitted"
	Published = "published"
	Rejected  = "rejected"
	Removed   = "removed"
)

// School types a partner may target: the directory's (schools of another type only
// get the items meant for every school).
const (
	TypeEcole    = directory.TypeEcole
	TypeCollege  = directory.TypeCollege
	TypeLycee    = directory.TypeLycee
	TypeLyceePro = directory.TypeLyceePro
)

// SchoolTypes lists the school types in display order.
var SchoolTypes = []string{TypeEcole, TypeCollege, TypeLycee, TypeLyceePro}

// SchoolType tells the type of a school: the directory's when it has one (from the
// AAF or an administrator), else a guess from its kind and its name as the national
// directory writes it ("COLLEGE Jean Moulin", "Lycée Marie Curie") for the schools no
// source has typed yet; "" if unknown.
func SchoolType(st directory.Structure) string {
	if st.Kind == directory.KindEcole {
		return TypeEcole
	}
	if st.Kind != directory.KindEtablissement {
		return ""
	}
	if st.Type != "" {
		return st.Type
	}
	name := directory.Fold(st.Name)
	switch {
	case strings.HasPrefix(name, "lycee professionnel"):
		return TypeLyceePro
	case strings.HasPrefix(name, "college"):
		return TypeCollege
	case strings.HasPrefix(name, "lycee"):
		return TypeLycee
	case strings.HasPrefix(name, "ecole"):
		return TypeEcole
	}
	return ""
}

// Thread is a news thread of a structure.
type Thread struct {
	ID            string
	StructureID   string
	StructureName string
	Name          string
	CreatedAt     time.Time
}

// Target is who an item is for, as chosen. Empty lists mean everyone: a school's
// item reaches its whole community, a partner's item every school it serves.
type Target struct {
	Types      []string `json:"types,omitempty"`      // school types (partners)
	Structures []string `json:"structures,omitempty"` // schools (partners)
	Profiles   []string `json:"profiles,omitempty"`
	Classes    []string `json:"classes,omitempty"` // classes and groups (schools)
}

// Item is one news item.
type Item struct {
	ID            string
	ThreadID      string
	ThreadName    string
	StructureID   string
	StructureName string
	AuthorID      string
	AuthorName    string
	Title         string
	Body          richtext.HTML
	Headline      bool
	Public        bool
	State         string
	PublishAt     time.Time // zero until published; in the future: scheduled
	ExpireAt      time.Time // zero: never
	Target        Target
	Note          string // the publisher's reason for a rejection, the moderator's for a removal
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Summary is the beginning of the item's text.
func (it Item) Summary() string { return richtext.Summary(it.Body, 220) }

// Scheduled tells whether the item is published with a date still to come.
func (it Item) Scheduled(now time.Time) bool {
	return it.State == Published && it.PublishAt.After(now)
}

// Expired tells whether the item's expiry date has passed.
func (it Item) Expired(now time.Time) bool {
	return !it.ExpireAt.IsZero() && !it.ExpireAt.After(now)
}

// NotifyFunc tells the targeted persons that an item is published.
type NotifyFunc func(ctx context.Context, recipients []string, actorID, title, link string)

// Service is the news and public site service.
type Service struct {
	db     *db.DB
	audit  *audit.Log
	rights *rights.Service
	dir    *directory.Service
	blobs  *blob.Store
	// Notify, when set, is called when an item becomes visible, with the persons it
	// reaches (nil: nobody is told).
	Notify NotifyFunc
	now    func() time.Time

	vmu      sync.RWMutex
	versions map[string]cachedVersion
}

// New returns the service.
func New(d *db.DB, a *audit.Log, r *rights.Service, dir *directory.Service, blobs *blob.Store) *Service {
	return &Service{db: d, audit: a, rights: r, dir: dir, blobs: blobs, now: time.Now, versions: map[string]cachedVersion{}}
}

// SetClock replaces the clock (tests of scheduling and expiry).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

func (s *Service) entry(a actor.Actor, action, targetID, structureID string, details map[string]string) audit.Entry {
	return audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: action, TargetType: "news", TargetID: targetID, StructureID: structureID, Success: true, Details: details}
}

// ---- Threads and roles ----

// Roles in a thread.
const (
	RoleNone      = 0
	RoleWriter    = 1 // writes drafts and submits them
	RolePublisher = 2 // publishes, rejects, edits every item
	RoleManager   = 3 // local administrator or moderator of the owning structure
)

// CreateThread creates a thread in a structure the actor administers.
func (s *Service) CreateThread(ctx context.Context, a actor.Actor, structureID, name string) (Thread, error) {
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 120 {
		return Thread{}, actor.Invalid("name", "news.thread_name_required")
	}
	ok, err := s.rights.CanAdminStructure(ctx, a, structureID)
	if err != nil {
		return Thread{}, err
	}
	if !ok {
		return Thread{}, actor.ErrForbidden
	}
	st, err := s.dir.Structure(ctx, structureID)
	if err != nil {
		return Thread{}, err
	}
	t := Thread{ID: ids.New(), StructureID: st.ID, StructureName: st.Name, Name: name, CreatedAt: s.now()}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO news_threads(id, structure_id, name, created_by, created_at) VALUES ($1,$2,$3,$4,$5)`,
			t.ID, t.StructureID, t.Name, a.PersonID, t.CreatedAt.UnixMilli()); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "news.thread.create", t.ID, st.ID, map[string]string{"name": name}))
	})
	return t, err
}

const threadCols = `t.id, t.structure_id, st.name, t.name, t.created_at`

func scanThread(sc scanner) (Thread, error) {
	var t Thread
	var at int64
	err := sc.Scan(&t.ID, &t.StructureID, &t.StructureName, &t.Name, &at)
	if errors.Is(err, sql.ErrNoRows) {
		err = actor.ErrNotFound
	}
	t.CreatedAt = time.UnixMilli(at)
	return t, err
}

// Thread returns a thread.
func (s *Service) Thread(ctx context.Context, id string) (Thread, error) {
	return scanThread(s.db.QueryRowContext(ctx, `SELECT `+threadCols+` FROM news_threads t JOIN structures st ON st.id=t.structure_id WHERE t.id=$1`, id))
}

// Role tells what the actor may do in a thread.
func (s *Service) Role(ctx context.Context, a actor.Actor, t Thread) (int, error) {
	if a.PersonID == "" && !a.System {
		return RoleNone, nil
	}
	if ok, err := s.rights.IsModerator(ctx, a, t.StructureID); err != nil || ok {
		if ok {
			return RoleManager, nil
		}
		return RoleNone, err
	}
	l, err := s.rights.LevelOf(ctx, a.PersonID, rights.Resource{Type: ResourceType, ID: t.ID})
	switch {
	case err != nil:
		return RoleNone, err
	case l >= rights.Manage:
		return RolePublisher, nil
	case l >= rights.Contribute:
		return RoleWriter, nil
	}
	return RoleNone, nil
}

// ThreadWithRole is a thread and the actor's role in it.
type ThreadWithRole struct {
	Thread
	Role int
}

// Threads lists the threads the actor writes in, publishes in or manages.
func (s *Service) Threads(ctx context.Context, a actor.Actor) ([]ThreadWithRole, error) {
	all, adminIDs, err := s.rights.AdminScope(ctx, a)
	if err != nil {
		return nil, err
	}
	shared, err := s.rights.SharedWith(ctx, s.db, a.PersonID, ResourceType, rights.Contribute)
	if err != nil {
		return nil, err
	}
	modIDs, err := db.Strings(ctx, s.db, `SELECT structure_id FROM role_assignments WHERE person_id=$1 AND role=$2`, a.PersonID, rights.Moderator)
	if err != nil {
		return nil, err
	}
	var where []string
	var args []any
	if all {
		where = append(where, "1=1")
	}
	if sids := append(adminIDs, modIDs...); len(sids) > 0 {
		where = append(where, "t.structure_id IN ("+db.In(len(args)+1, len(sids))+")")
		for _, id := range sids {
			args = append(args, id)
		}
	}
	if len(shared) > 0 {
		where = append(where, "t.id IN ("+db.In(len(args)+1, len(shared))+")")
		for _, id := range shared {
			args = append(args, id)
		}
	}
	if len(where) == 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+threadCols+` FROM news_threads t JOIN structures st ON st.id=t.structure_id WHERE `+strings.Join(where, " OR ")+` ORDER BY st.name, t.name`, args...)
	threads, err := collect(rows, err, scanThread)
	if err != nil {
		return nil, err
	}
	out := make([]ThreadWithRole, 0, len(threads))
	for _, t := range threads {
		r, err := s.Role(ctx, a, t)
		if err != nil {
			return nil, err
		}
		if r > RoleNone {
			out = append(out, ThreadWithRole{Thread: t, Role: r})
		}
	}
	return out, nil
}

// SetMember makes a person or group a writer (rights.Contribute) or a publisher
// (rights.Manage) of a thread, or removes them (rights.None). The actor administers
// the owning structure.
func (s *Service) SetMember(ctx context.Context, a actor.Actor, threadID string, g rights.Grantee, level rights.Level) error {
	t, err := s.Thread(ctx, threadID)
	if err != nil {
		return err
	}
	ok, err := s.rights.CanAdminStructure(ctx, a, t.StructureID)
	if err != nil {
		return err
	}
	if !ok {
		return actor.ErrForbidden
	}
	if level == rights.Read {
		return actor.Invalid("level", "news.bad_level")
	}
	// The thread belongs to its structure, not to a person: the share is set on the
	// administrator's authority, and audited under their name.
	as := a
	as.System = true
	return s.rights.SetShare(ctx, as, rights.Resource{Type: ResourceType, ID: t.ID}, g, level)
}

// Members lists a thread's writers and publishers.
func (s *Service) Members(ctx context.Context, threadID string) ([]rights.Share, error) {
	return s.rights.Shares(ctx, rights.Resource{Type: ResourceType, ID: threadID})
}

// ---- Items ----

// Input is what a writer fills in.
type Input struct {
	ThreadID  string
	Title     string
	Body      string // user HTML, sanitized here
	Headline  bool
	Public    bool
	PublishAt time.Time // zero: at publication
	ExpireAt  time.Time // zero: never
	Target    Target
}

const itemCols = `i.id, i.thread_id, t.name, i.structure_id, st.name, i.author_id, COALESCE(p.first_name || ' ' || p.last_name, ''), i.title, i.body, i.headline, i.public, i.state,
	i.publish_at, i.expire_at, i.target, i.note, i.created_at, i.updated_at`

const itemJoins = ` JOIN news_threads t ON t.id=i.thread_id JOIN structures st ON st.id=i.structure_id LEFT JOIN persons p ON p.id=i.author_id`

const itemFrom = ` FROM news_items i` + itemJoins

func scanItem(sc scanner) (Item, error) {
	var it Item
	var body, target string
	var pub, exp, cr, up int64
	err := sc.Scan(&it.ID, &it.ThreadID, &it.ThreadName, &it.StructureID, &it.StructureName, &it.AuthorID, &it.AuthorName, &it.Title, &body, &it.Headline, &it.Public, &it.State,
		&pub, &exp, &target, &it.Note, &cr, &up)
	if errors.Is(err, sql.ErrNoRows) {
		return it, actor.ErrNotFound
	}
	if err != nil {
		return it, err
	}
	it.Body = richtext.HTML(body) // sanitized when it was stored
	if pub != 0 {
		it.PublishAt = time.UnixMilli(pub)
	}
	if exp != 0 {
		it.ExpireAt = time.UnixMilli(exp)
	}
	if target != "" {
		_ = json.Unmarshal([]byte(target), &it.Target)
	}
	it.CreatedAt, it.UpdatedAt = time.UnixMilli(cr), time.UnixMilli(up)
	return it, nil
}

func (s *Service) queryItems(ctx context.Context, q string, args ...any) ([]Item, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	return collect(rows, err, scanItem)
}

func (s *Service) item(ctx context.Context, id string) (Item, error) {
	return scanItem(s.db.QueryRowContext(ctx, `SELECT `+itemCols+itemFrom+` WHERE i.id=$1`, id))
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func (in *Input) validate() (richtext.HTML, error) {
	in.Title = strings.TrimSpace(in.Title)
	body := richtext.Sanitize(in.Body)
	switch {
	case in.Title == "" || len([]rune(in.Title)) > 200:
		return "", actor.Invalid("title", "news.title_required")
	case richtext.Text(body) == "" && !strings.Contains(string(body), "<img"):
		return "", actor.Invalid("body", "news.body_required")
	case len(body) > 200000:
		return "", actor.Invalid("body", "news.body_too_long")
	case !in.ExpireAt.IsZero() && !in.PublishAt.IsZero() && !in.ExpireAt.After(in.PublishAt):
		return "", actor.Invalid("expire_at", "news.expiry_before_publication")
	}
	for _, p := range in.Target.Profiles {
		if !directory.ValidProfile(p) {
			return "", actor.Invalid("profiles", "news.bad_profile")
		}
	}
	for _, t := range in.Target.Types {
		if !slices.Contains(SchoolTypes, t) {
			return "", actor.Invalid("types", "news.bad_type")
		}
	}
	return body, nil
}

// Save creates (id "") or changes an item. Writers save their own drafts and
// submitted or rejected items (which go back to draft); publishers and managers
// change any item of the thread, published ones included.
func (s *Service) Save(ctx context.Context, a actor.Actor, id string, in Input) (Item, error) {
	body, err := in.validate()
	if err != nil {
		return Item{}, err
	}
	var old Item
	if id != "" {
		if old, err = s.item(ctx, id); err != nil {
			return Item{}, err
		}
		in.ThreadID = old.ThreadID
	}
	t, err := s.Thread(ctx, in.ThreadID)
	if err != nil {
		return Item{}, err
	}
	role, err := s.Role(ctx, a, t)
	if err != nil {
		return Item{}, err
	}
	if role == RoleNone || (id != "" && role == RoleWriter && (old.AuthorID != a.PersonID || old.State == Published || old.State == Removed)) {
		return Item{}, actor.ErrForbidden
	}
	if _, err := s.resolve(ctx, t, in.Target); err != nil {
		return Item{}, err
	}
	target, _ := json.Marshal(in.Target)
	now := s.now()
	action := "news.update"
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if id == "" {
			id, action = ids.New(), "news.create"
			_, err := tx.ExecContext(ctx, `INSERT INTO news_items(id, thread_id, structure_id, author_id, title, body, headline, public, state, publish_at, expire_at, target, created_at, updated_at)
				VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$13)`,
				id, t.ID, t.StructureID, a.PersonID, in.Title, string(body), in.Headline, in.Public, Draft, ms(in.PublishAt), ms(in.ExpireAt), string(target), now.UnixMilli())
			if err != nil {
				return err
			}
		} else {
			state := old.State
			if state == Rejected || (state == Submitted && role == RoleWriter) {
				state = Draft
			}
			publishAt := ms(in.PublishAt)
			if state == Published && publishAt == 0 {
				publishAt = ms(old.PublishAt)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE news_items SET title=$1, body=$2, headline=$3, public=$4, state=$5, publish_at=$6, expire_at=$7, target=$8, updated_at=$9 WHERE id=$10`,
				in.Title, string(body), in.Headline, in.Public, state, publishAt, ms(in.ExpireAt), string(target), now.UnixMilli(), id); err != nil {
				return err
			}
			if state == Published {
				if err := s.writeTargets(ctx, tx, t, id, in.Target); err != nil {
					return err
				}
			}
			if old.State == Published || old.Public != in.Public {
				if err := bump(ctx, tx, t.StructureID); err != nil {
					return err
				}
			}
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, action, id, t.StructureID, map[string]string{"title": in.Title}))
	})
	if err != nil {
		return Item{}, err
	}
	s.forgetVersion(t.StructureID)
	return s.item(ctx, id)
}

// resolve turns a target into rows (structure, profile, class) and checks it: a
// school targets itself and its classes; a partner the schools it serves.
func (s *Service) resolve(ctx context.Context, t Thread, tg Target) ([][3]string, error) {
	owner, err := s.dir.Structure(ctx, t.StructureID)
	if err != nil {
		return nil, err
	}
	profiles := tg.Profiles
	if len(profiles) == 0 {
		profiles = []string{""}
	}
	var rows [][3]string
	if directory.IsSchool(owner.Kind) {
		if len(tg.Types) > 0 || (len(tg.Structures) > 0 && (len(tg.Structures) != 1 || tg.Structures[0] != owner.ID)) {
			return nil, actor.Invalid("structures", "news.bad_structure")
		}
		for _, cid := range tg.Classes {
			g, err := s.dir.Group(ctx, cid)
			if errors.Is(err, actor.ErrNotFound) || (err == nil && g.StructureID != owner.ID) {
				return nil, actor.Invalid("classes", "news.bad_class")
			}
			if err != nil {
				return nil, err
			}
			for _, p := range profiles {
				rows = append(rows, [3]string{owner.ID, p, g.ID})
			}
		}
		if len(tg.Classes) == 0 {
			for _, p := range profiles {
				rows = append(rows, [3]string{owner.ID, p, ""})
			}
		}
		return rows, nil
	}
	if len(tg.Classes) > 0 {
		return nil, actor.Invalid("classes", "news.bad_class")
	}
	served, err := s.Served(ctx, owner.ID)
	if err != nil {
		return nil, err
	}
	var chosen []directory.Structure
	for _, st := range served {
		if len(tg.Structures) > 0 && !slices.Contains(tg.Structures, st.ID) {
			continue
		}
		if len(tg.Types) > 0 && !slices.Contains(tg.Types, SchoolType(st)) {
			continue
		}
		chosen = append(chosen, st)
	}
	for _, id := range tg.Structures {
		if !slices.ContainsFunc(served, func(st directory.Structure) bool { return st.ID == id }) {
			return nil, actor.Invalid("structures", "news.bad_structure")
		}
	}
	for _, st := range chosen {
		for _, p := range profiles {
			rows = append(rows, [3]string{st.ID, p, ""})
		}
	}
	return rows, nil
}

// Served lists the schools below a structure in the tree: those a partner serves.
func (s *Service) Served(ctx context.Context, structureID string) ([]directory.Structure, error) {
	seen := map[string]bool{structureID: true}
	frontier := []string{structureID}
	var found []string
	for len(frontier) > 0 {
		var next []string
		for _, id := range frontier {
			children, err := db.Strings(ctx, s.db, `SELECT id FROM structures WHERE parent_id=$1`, id)
			if err != nil {
				return nil, err
			}
			for _, c := range children {
				if !seen[c] {
					seen[c] = true
					next = append(next, c)
					found = append(found, c)
				}
			}
		}
		frontier = next
	}
	if len(found) == 0 {
		return nil, nil
	}
	all, err := s.dir.Structures(ctx, found)
	if err != nil {
		return nil, err
	}
	var out []directory.Structure
	for _, st := range all {
		if directory.IsSchool(st.Kind) {
			out = append(out, st)
		}
	}
	return out, nil
}

func (s *Service) writeTargets(ctx context.Context, tx *sql.Tx, t Thread, itemID string, tg Target) error {
	rows, err := s.resolve(ctx, t, tg)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM news_targets WHERE item_id=$1`, itemID); err != nil {
		return err
	}
	for _, r := range rows {
		if _, err := tx.ExecContext(ctx, `INSERT INTO news_targets(structure_id, profile, class_id, item_id) VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING`, r[0], r[1], r[2], itemID); err != nil {
			return err
		}
	}
	return nil
}

// loadForAction loads an item, its thread and the actor's role in it.
func (s *Service) loadForAction(ctx context.Context, a actor.Actor, id string) (Item, Thread, int, error) {
	it, err := s.item(ctx, id)
	if err != nil {
		return it, Thread{}, 0, err
	}
	t, err := s.Thread(ctx, it.ThreadID)
	if err != nil {
		return it, t, 0, err
	}
	role, err := s.Role(ctx, a, t)
	return it, t, role, err
}

// Submit hands a draft to the thread's publishers.
func (s *Service) Submit(ctx context.Context, a actor.Actor, id string) error {
	it, t, role, err := s.loadForAction(ctx, a, id)
	if err != nil {
		return err
	}
	if role == RoleNone || (role == RoleWriter && it.AuthorID != a.PersonID) {
		return actor.ErrForbidden
	}
	if it.State != Draft && it.State != Rejected {
		return actor.Invalid("state", "news.bad_state")
	}
	return s.setState(ctx, a, it, t, Submitted, "news.submit", "")
}

// Publish publishes an item (at its publication date if one is set in the future).
// Publishers and managers of the thread only.
func (s *Service) Publish(ctx context.Context, a actor.Actor, id string) error {
	it, t, role, err := s.loadForAction(ctx, a, id)
	if err != nil {
		return err
	}
	if role < RolePublisher {
		return actor.ErrForbidden
	}
	if it.State == Published {
		return nil
	}
	now := s.now()
	publishAt := it.PublishAt
	if publishAt.IsZero() || publishAt.Before(now) {
		publishAt = now
	}
	due := !publishAt.After(now)
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE news_items SET state=$1, publish_at=$2, published_by=$3, note='', notified=$4, updated_at=$5 WHERE id=$6`,
			Published, publishAt.UnixMilli(), a.PersonID, due, now.UnixMilli(), id); err != nil {
			return err
		}
		if err := s.writeTargets(ctx, tx, t, id, it.Target); err != nil {
			return err
		}
		if err := bump(ctx, tx, t.StructureID); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "news.publish", id, t.StructureID, map[string]string{"title": it.Title, "publish_at": publishAt.UTC().Format(time.RFC3339)}))
	})
	if err != nil {
		return err
	}
	s.forgetVersion(t.StructureID)
	if due {
		it.State, it.PublishAt = Published, publishAt
		s.notify(ctx, a.PersonID, it)
	}
	return nil
}

// Reject sends a submitted item back to its writer with a reason.
func (s *Service) Reject(ctx context.Context, a actor.Actor, id, reason string) error {
	it, t, role, err := s.loadForAction(ctx, a, id)
	if err != nil {
		return err
	}
	if role < RolePublisher {
		return actor.ErrForbidden
	}
	if it.State != Submitted {
		return actor.Invalid("state", "news.bad_state")
	}
	return s.setState(ctx, a, it, t, Rejected, "news.reject", strings.TrimSpace(reason))
}

// Unpublish takes a published item back to draft (its publishers and managers).
func (s *Service) Unpublish(ctx context.Context, a actor.Actor, id string) error {
	it, t, role, err := s.loadForAction(ctx, a, id)
	if err != nil {
		return err
	}
	if role < RolePublisher {
		return actor.ErrForbidden
	}
	if it.State != Published {
		return actor.Invalid("state", "news.bad_state")
	}
	return s.setState(ctx, a, it, t, Draft, "news.unpublish", "")
}

// Delete removes an item for good: its author while it is not published, its
// publishers and managers at any time.
func (s *Service) Delete(ctx context.Context, a actor.Actor, id string) error {
	it, t, role, err := s.loadForAction(ctx, a, id)
	if err != nil {
		return err
	}
	if role == RoleNone || (role == RoleWriter && (it.AuthorID != a.PersonID || it.State == Published)) {
		return actor.ErrForbidden
	}
	keys, err := db.Strings(ctx, s.db, `SELECT blob_key FROM news_files WHERE owner_kind='item' AND owner_id=$1`, id)
	if err != nil {
		return err
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM news_files WHERE owner_kind='item' AND owner_id=$1`, `DELETE FROM news_items WHERE id=$1`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		if err := bump(ctx, tx, t.StructureID); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "news.delete", id, t.StructureID, map[string]string{"title": it.Title, "state": it.State}))
	})
	if err != nil {
		return err
	}
	s.forgetVersion(t.StructureID)
	for _, k := range keys {
		_ = s.blobs.Delete(ctx, k)
	}
	return nil
}

func (s *Service) setState(ctx context.Context, a actor.Actor, it Item, t Thread, state, action, note string) error {
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE news_items SET state=$1, note=$2, updated_at=$3 WHERE id=$4`, state, note, s.now().UnixMilli(), it.ID); err != nil {
			return err
		}
		if state != Published {
			if _, err := tx.ExecContext(ctx, `DELETE FROM news_targets WHERE item_id=$1`, it.ID); err != nil {
				return err
			}
		}
		if it.State == Published {
			if err := bump(ctx, tx, t.StructureID); err != nil {
				return err
			}
		}
		d := map[string]string{"title": it.Title, "from": it.State, "to": state}
		if note != "" {
			d["note"] = note
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, action, it.ID, t.StructureID, d))
	})
	if err == nil {
		s.forgetVersion(t.StructureID)
	}
	return err
}

// ---- Reading ----

// audienceSQL matches the targets that reach a person ($2, of profile $3): one of
// their structures (or their children's), for every profile or theirs, the whole
// structure or one of their classes (their children's, the ones they teach). Each
// part is an indexed lookup: the targets' primary key starts with the structure.
const audienceSQL = `tg.structure_id IN (
		SELECT ps.structure_id FROM person_structures ps WHERE ps.person_id = $2
		UNION SELECT cs.structure_id FROM person_links l JOIN person_structures cs ON cs.person_id = l.child_id WHERE l.parent_id = $2)
	AND tg.profile IN ('', $3)
	AND (tg.class_id = '' OR tg.class_id IN (
		SELECT gm.group_id FROM group_members gm WHERE gm.person_id = $2
		UNION SELECT cm.group_id FROM person_links l2 JOIN group_members cm ON cm.person_id = l2.child_id WHERE l2.parent_id = $2
		UNION SELECT te.group_id FROM teaching te WHERE te.teacher_id = $2))`

// feedSQL is the one query behind a reader's news: the items their targets reach,
// looked up by primary key, kept if published and current ($1 is now), headlines
// first, then newest first. It starts from the targets (CROSS JOIN keeps SQLite's
// planner to that order), so that its cost follows what reaches the reader, not
// every item of the deployment.
const feedSQL = `SELECT ` + itemCols + ` FROM (SELECT DISTINCT tg.item_id FROM news_targets tg WHERE ` + audienceSQL + `) v
	CROSS JOIN news_items i` + itemJoins + `
	WHERE i.id = v.item_id AND i.state='published' AND i.publish_at <= $1 AND (i.expire_at = 0 OR i.expire_at > $1)
	ORDER BY i.headline DESC, i.publish_at DESC, i.id LIMIT $4`

// Feed returns the items the person may read, headlines first, then newest first.
func (s *Service) Feed(ctx context.Context, a actor.Actor, limit int) ([]Item, error) {
	if a.PersonID == "" {
		return nil, nil
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	return s.queryItems(ctx, feedSQL, s.now().UnixMilli(), a.PersonID, a.Profile, limit)
}

// targeted tells whether an item reaches the person (whether it is live is the caller's).
func (s *Service) targeted(ctx context.Context, a actor.Actor, id string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM news_targets tg WHERE tg.item_id = $1 AND `+audienceSQL+` LIMIT 1`, id, a.PersonID, a.Profile).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Live tells whether an item is published and current.
func (s *Service) Live(it Item) bool {
	now := s.now()
	return it.State == Published && !it.PublishAt.After(now) && !it.Expired(now)
}

// Get returns an item the actor may see: a live public item (anyone, signed in or
// not), a live item targeted to them, or any item of a thread they write in (their
// own), publish in or manage.
func (s *Service) Get(ctx context.Context, a actor.Actor, id string) (Item, int, error) {
	it, err := s.item(ctx, id)
	if err != nil {
		return it, RoleNone, err
	}
	role := RoleNone
	if a.PersonID != "" || a.System {
		t := Thread{ID: it.ThreadID, StructureID: it.StructureID}
		if role, err = s.Role(ctx, a, t); err != nil {
			return it, role, err
		}
	}
	switch {
	case role >= RolePublisher, role == RoleWriter && it.AuthorID == a.PersonID:
		return it, role, nil
	case s.Live(it) && it.Public:
		return it, role, nil
	case s.Live(it) && a.PersonID != "":
		ok, err := s.targeted(ctx, a, id)
		if err != nil {
			return it, role, err
		}
		if ok {
			return it, role, nil
		}
	}
	return Item{}, RoleNone, actor.ErrNotFound
}

// Mine lists the items of the threads the actor works in: their own as a writer,
// every one as a publisher or manager, newest first.
func (s *Service) Mine(ctx context.Context, a actor.Actor, states ...string) ([]Item, error) {
	threads, err := s.Threads(ctx, a)
	if err != nil || len(threads) == 0 {
		return nil, err
	}
	var conds []string
	var args []any
	for _, t := range threads {
		args = append(args, t.ID)
		n := len(args)
		if t.Role >= RolePublisher {
			conds = append(conds, "i.thread_id=$"+itoa(n))
		} else {
			args = append(args, a.PersonID)
			conds = append(conds, "(i.thread_id=$"+itoa(n)+" AND i.author_id=$"+itoa(n+1)+")")
		}
	}
	q := `SELECT ` + itemCols + itemFrom + ` WHERE (` + strings.Join(conds, " OR ") + `)`
	if len(states) > 0 {
		q += ` AND i.state IN (` + db.In(len(args)+1, len(states)) + `)`
		for _, st := range states {
			args = append(args, st)
		}
	}
	return s.queryItems(ctx, q+` ORDER BY i.updated_at DESC LIMIT 200`, args...)
}

// Queue lists the submitted items waiting for the actor's decision.
func (s *Service) Queue(ctx context.Context, a actor.Actor) ([]Item, error) {
	threads, err := s.Threads(ctx, a)
	if err != nil {
		return nil, err
	}
	var args []any
	for _, t := range threads {
		if t.Role >= RolePublisher {
			args = append(args, t.ID)
		}
	}
	if len(args) == 0 {
		return nil, nil
	}
	return s.queryItems(ctx, `SELECT `+itemCols+itemFrom+` WHERE i.state='submitted' AND i.thread_id IN (`+db.In(1, len(args))+`) ORDER BY i.updated_at`, args...)
}

// PublicNews lists a structure's live public items, headlines first.
func (s *Service) PublicNews(ctx context.Context, structureID string, limit int) ([]Item, error) {
	return s.queryItems(ctx, `SELECT `+itemCols+itemFrom+` WHERE i.structure_id=$1 AND i.public AND i.state='published' AND i.publish_at <= $2 AND (i.expire_at = 0 OR i.expire_at > $2)
		ORDER BY i.headline DESC, i.publish_at DESC, i.id LIMIT $3`, structureID, s.now().UnixMilli(), limit)
}

// NextChange tells when a structure's public news changes by the clock alone: the
// next scheduled public item or the next expiry (zero: none). Public caches keep
// their page until then at most.
func (s *Service) NextChange(ctx context.Context, structureID string) (time.Time, error) {
	now := s.now().UnixMilli()
	var next sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MIN(x) FROM (
		SELECT MIN(publish_at) AS x FROM news_items WHERE structure_id=$1 AND public AND state='published' AND publish_at > $2
		UNION ALL SELECT MIN(expire_at) FROM news_items WHERE structure_id=$1 AND public AND state='published' AND expire_at > $2) n`, structureID, now).Scan(&next)
	if err != nil || !next.Valid || next.Int64 == 0 {
		return time.Time{}, err
	}
	return time.UnixMilli(next.Int64), nil
}

func itoa(n int) string {
	const digits = "0123456789"
	if n < 10 {
		return digits[n : n+1]
	}
	return itoa(n/10) + digits[n%10:n%10+1]
}
