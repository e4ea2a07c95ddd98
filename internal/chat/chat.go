// Package chat is the instant messaging (discussions) of Préau: one-to-one and group
// conversations under the communication rules, messages stored once with a searchable
// history, unread counts, presence, and reports that moderators handle.
//
// Delivery is real time: Send publishes a small event on the bus (internal/platform/
// pubsub: in process on SQLite, LISTEN/NOTIFY on PostgreSQL) and each instance's Hub
// hands it to the streams of the members connected there. What the streams miss
// (a reconnection, a lost notification) they read back from the database.
//
// Administrators cannot read conversations: only members read them. Moderators and
// local administrators of a conversation's structure see the messages reported to
// them, one by one, and may remove them (audited).
package chat

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/preau-ent/preau/internal/commrules"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
	"github.com/preau-ent/preau/internal/platform/pubsub"
	"github.com/preau-ent/preau/internal/rights"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the chat tables (after the directory's).
var Migrations = db.Embedded("chat", migrations)

// AppID is the application's id in the catalog.
const AppID = "discussions"

// Limits.
const (
	MaxBody    = 4000 // characters of a message
	MaxTitle   = 120  // characters of a group conversation's title
	MaxMembers = 1500 // members of a group conversation
	MaxReason  = 500  // characters of a report's reason
)

// Kinds of conversation.
const (
	Direct = "direct"
	Group  = "group"
)

// Presence states.
const (
	Online  = "online"
	Away    = "away"
	Offline = "offline"
)

// Conversation is what a member sees of a conversation.
type Conversation struct {
	ID            string
	Kind          string
	Title         string // group conversations
	Name          string // what to show: the title, or the other person's name
	StructureID   string
	CreatedBy     string
	CreatedAt     time.Time
	LastMessageID int64
	LastMessageAt time.Time
	Unread        int
	Members       int
}

// Member is a member of a conversation.
type Member struct {
	ID        string
	FirstName string
	LastName  string
	Profile   string
	Presence  string
}

// Name is how members are shown.
func (m Member) Name() string { return displayName(m.FirstName, m.LastName) }

func displayName(first, last string) string {
	return directory.Person{FirstName: first, LastName: last}.DisplayName()
}

// joinedName shows a name that a query returned as "first|last".
func joinedName(s string) string {
	first, last, _ := strings.Cut(s, "|")
	return displayName(first, last)
}

// Message is one message.
type Message struct {
	ID               int64
	ConversationID   string
	ConversationName string // in search results
	SenderID         string
	SenderName       string
	Body             string // empty once removed
	CreatedAt        time.Time
	Removed          bool
}

// GroupRef is a directory group one may start a conversation with.
type GroupRef struct {
	ID        string
	Name      string
	Kind      string
	Structure string
}

// Label names the group with its structure, unless its name holds it already.
func (g GroupRef) Label() string {
	if g.Structure == "" || strings.Contains(g.Name, g.Structure) {
		return g.Name
	}
	return g.Name + " — " + g.Structure
}

// PersonRef is a person one may start a conversation with.
type PersonRef struct {
	ID        string
	FirstName string
	LastName  string
	Profile   string
}

// Name is how persons are shown.
func (p PersonRef) Name() string { return displayName(p.FirstName, p.LastName) }

// NotifyFunc tells members who are not connected that a message came (the
// notifications service, wired by the application; nil: nothing).
type NotifyFunc func(ctx context.Context, recipients []string, senderID, title, link string)

// Service is the instant messaging.
type Service struct {
	db     *db.DB
	audit  *audit.Log
	rights *rights.Service
	comm   *commrules.Engine
	dir    *directory.Service
	bus    pubsub.PubSub
	now    func() time.Time
	// Notify, when set, is called after a message is sent, with the members who have
	// no live stream anywhere.
	Notify NotifyFunc
}

// New returns the service; bus carries its real-time events between instances.
func New(d *db.DB, al *audit.Log, rs *rights.Service, comm *commrules.Engine, dir *directory.Service, bus pubsub.PubSub) *Service {
	return &Service{db: d, audit: al, rights: rs, comm: comm, dir: dir, bus: bus, now: time.Now}
}

// Bus is the service's event bus.
func (s *Service) Bus() pubsub.PubSub { return s.bus }

// mustUse checks the actor may use the application (per-profile rights).
func (s *Service) mustUse(ctx context.Context, a actor.Actor) error {
	if a.System {
		return nil
	}
	if a.PersonID == "" {
		return actor.ErrForbidden
	}
	sids, err := s.dir.PersonStructureIDs(ctx, a.PersonID)
	if err != nil {
		return err
	}
	ok, err := s.rights.MayUse(ctx, a, sids, AppID)
	if err != nil {
		return err
	}
	if !ok {
		return actor.ErrForbidden
	}
	return nil
}

// MayUse tells whether the actor may use the application.
func (s *Service) MayUse(ctx context.Context, a actor.Actor) (bool, error) {
	err := s.mustUse(ctx, a)
	if errors.Is(err, actor.ErrForbidden) {
		return false, nil
	}
	return err == nil, err
}

// Pickable lists the directory groups the actor may start a group conversation with:
// the groups whose members they reach under the rules, the groups they belong to or
// teach, and the pupil, parent and teacher groups of their classes. Members are
// filtered by the rules when the conversation is made.
func (s *Service) Pickable(ctx context.Context, a actor.Actor) ([]GroupRef, error) {
	reach, err := s.comm.ReachableGroups(ctx, a.PersonID)
	if err != nil {
		return nil, err
	}
	own, err := db.Strings(ctx, s.db, `SELECT group_id FROM group_members WHERE person_id=$1
		UNION SELECT group_id FROM teaching WHERE teacher_id=$1
		UNION SELECT cg.id FROM groups cg WHERE cg.class_id IN (SELECT group_id FROM group_members WHERE person_id=$1 UNION SELECT group_id FROM teaching WHERE teacher_id=$1)`, a.PersonID)
	if err != nil {
		return nil, err
	}
	idset := map[string]bool{}
	for _, id := range append(reach, own...) {
		idset[id] = true
	}
	if len(idset) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(idset))
	for id := range idset {
		args = append(args, id)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT g.id, g.name, g.kind, s.name FROM groups g JOIN structures s ON s.id = g.structure_id
		WHERE NOT g.archived AND g.id IN (`+db.In(1, len(args))+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []GroupRef
	for rows.Next() {
		var g GroupRef
		if err := rows.Scan(&g.ID, &g.Name, &g.Kind, &g.Structure); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	// Classes and teaching groups first, then hand-made groups, then the large
	// profile groups of whole structures.
	rank := map[string]int{directory.GroupClass: 0, directory.GroupTeaching: 1, directory.GroupClassProfile: 2, directory.GroupManual: 3, directory.GroupProfile: 4}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Structure != b.Structure {
			return a.Structure < b.Structure
		}
		if rank[a.Kind] != rank[b.Kind] {
			return rank[a.Kind] < rank[b.Kind]
		}
		return a.Name < b.Name
	})
	return out, rows.Err()
}

// FindPersons lists up to limit persons the actor may write to whose names start
// with the words of text (accents and case ignored).
func (s *Service) FindPersons(ctx context.Context, a actor.Actor, text string, limit int) ([]PersonRef, error) {
	if limit <= 0 || limit > 100 {
		limit = 30
	}
	words := strings.Fields(directory.Fold(text))
	if len(words) == 0 {
		return nil, nil
	}
	if len(words) > 4 {
		words = words[:4]
	}
	args := []any{a.PersonID}
	var where []string
	for _, w := range words {
		args = append(args, w+"%")
		n := len(args)
		where = append(where, "(p.last_key LIKE $"+itoa(n)+" OR p.first_key LIKE $"+itoa(n)+")")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT p.id, p.first_name, p.last_name, p.profile FROM persons p
		WHERE p.id <> $1 AND p.removed_at = 0 AND p.id IN (`+commrules.VisibleSQL+`) AND `+strings.Join(where, " AND ")+`
		ORDER BY p.last_key, p.first_key, p.id LIMIT `+itoa(limit), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PersonRef
	for rows.Next() {
		var p PersonRef
		if err := rows.Scan(&p.ID, &p.FirstName, &p.LastName, &p.Profile); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// NewConversation is what a person asks for: one person and no title makes (or
// reopens) a one-to-one conversation; otherwise a group conversation with a title.
type NewConversation struct {
	Title     string
	PersonIDs []string
	GroupIDs  []string
}

// Create makes a conversation, or returns the existing one-to-one conversation with
// the same person. Every member must be reachable by the actor under the
// communication rules; members of chosen groups that the actor does not reach are left out.
func (s *Service) Create(ctx context.Context, a actor.Actor, in NewConversation) (Conversation, error) {
	if err := s.mustUse(ctx, a); err != nil {
		return Conversation{}, err
	}
	in.Title = strings.TrimSpace(in.Title)
	in.PersonIDs, in.GroupIDs = dedupe(in.PersonIDs, a.PersonID), dedupe(in.GroupIDs, "")
	if len(in.PersonIDs) == 0 && len(in.GroupIDs) == 0 {
		return Conversation{}, actor.Invalid("members", "chat.members_required")
	}
	if len(in.PersonIDs) == 1 && len(in.GroupIDs) == 0 && in.Title == "" {
		return s.direct(ctx, a, in.PersonIDs[0])
	}
	if in.Title == "" {
		return Conversation{}, actor.Invalid("title", "chat.title_required")
	}
	if utf8.RuneCountInString(in.Title) > MaxTitle {
		return Conversation{}, actor.Invalid("title", "chat.title_too_long")
	}
	members, err := s.admissible(ctx, a, in.PersonIDs, in.GroupIDs)
	if err != nil {
		return Conversation{}, err
	}
	if len(members) == 0 {
		return Conversation{}, actor.Invalid("members", "chat.nobody_reachable")
	}
	if len(members)+1 > MaxMembers {
		return Conversation{}, actor.Invalid("members", "chat.too_many_members")
	}
	c := Conversation{ID: ids.New(), Kind: Group, Title: in.Title, Name: in.Title, CreatedBy: a.PersonID, CreatedAt: s.now()}
	c.LastMessageAt = c.CreatedAt
	if c.StructureID, err = s.structureOf(ctx, a.PersonID); err != nil {
		return Conversation{}, err
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO chat_conversations(id, kind, title, structure_id, created_by, created_at, last_message_at) VALUES ($1,$2,$3,$4,$5,$6,$6)`,
			c.ID, c.Kind, c.Title, c.StructureID, c.CreatedBy, c.CreatedAt.UnixMilli()); err != nil {
			return err
		}
		_, err := addMembers(ctx, tx, c.ID, append(members, a.PersonID), c.CreatedAt)
		return err
	})
	if err != nil {
		return Conversation{}, err
	}
	c.Members = len(members) + 1
	s.publish(ctx, c.ID, event{Kind: evConversation, Conversation: c.ID})
	return c, nil
}

func (s *Service) direct(ctx context.Context, a actor.Actor, other string) (Conversation, error) {
	ok, err := s.comm.MayWrite(ctx, a.PersonID, other)
	if err != nil {
		return Conversation{}, err
	}
	if !ok {
		return Conversation{}, actor.ErrForbidden
	}
	pair := []string{a.PersonID, other}
	sort.Strings(pair)
	key := pair[0] + ":" + pair[1]
	var id string
	err = s.db.QueryRowContext(ctx, `SELECT id FROM chat_conversations WHERE direct_key=$1`, key).Scan(&id)
	if err == nil {
		return s.Conversation(ctx, a, id)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Conversation{}, err
	}
	c := Conversation{ID: ids.New(), Kind: Direct, CreatedBy: a.PersonID, CreatedAt: s.now(), Members: 2}
	c.LastMessageAt = c.CreatedAt
	if c.StructureID, err = s.structureOf(ctx, a.PersonID); err != nil {
		return Conversation{}, err
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO chat_conversations(id, kind, direct_key, structure_id, created_by, created_at, last_message_at) VALUES ($1,$2,$3,$4,$5,$6,$6)`,
			c.ID, c.Kind, key, c.StructureID, c.CreatedBy, c.CreatedAt.UnixMilli()); err != nil {
			return err
		}
		_, err := addMembers(ctx, tx, c.ID, pair, c.CreatedAt)
		return err
	})
	if db.IsUniqueViolation(err) {
		// Both opened it at once: the other one won.
		if err := s.db.QueryRowContext(ctx, `SELECT id FROM chat_conversations WHERE direct_key=$1`, key).Scan(&id); err != nil {
			return Conversation{}, err
		}
		return s.Conversation(ctx, a, id)
	}
	if err != nil {
		return Conversation{}, err
	}
	return s.Conversation(ctx, a, c.ID)
}

// admissible checks the persons and groups the actor chose and returns the member ids:
// each chosen person must be reachable; each group must be one the actor may pick, and
// brings those of its members (and, for classes and teaching groups, its teachers)
// that the actor reaches.
func (s *Service) admissible(ctx context.Context, a actor.Actor, personIDs, groupIDs []string) ([]string, error) {
	set := map[string]bool{}
	for _, p := range personIDs {
		ok, err := s.comm.MayWrite(ctx, a.PersonID, p)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, actor.ErrForbidden
		}
		set[p] = true
	}
	if len(groupIDs) > 0 {
		pickable, err := s.Pickable(ctx, a)
		if err != nil {
			return nil, err
		}
		allowed := map[string]bool{}
		for _, g := range pickable {
			allowed[g.ID] = true
		}
		args := []any{a.PersonID}
		for _, g := range groupIDs {
			if !allowed[g] {
				return nil, actor.ErrForbidden
			}
			args = append(args, g)
		}
		in := db.In(2, len(groupIDs))
		found, err := db.Strings(ctx, s.db, `SELECT x.pid FROM (SELECT person_id AS pid FROM group_members WHERE group_id IN (`+in+`)
			UNION SELECT teacher_id FROM teaching WHERE group_id IN (`+in+`)) x
			JOIN persons p ON p.id = x.pid AND p.removed_at = 0
			WHERE x.pid <> $1 AND x.pid IN (`+commrules.VisibleSQL+`)`, args...)
		if err != nil {
			return nil, err
		}
		for _, p := range found {
			set[p] = true
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

// addMembers adds persons to a conversation and returns how many were not members yet.
func addMembers(ctx context.Context, q db.Querier, convID string, persons []string, at time.Time) (int, error) {
	added := 0
	for _, p := range persons {
		res, err := q.ExecContext(ctx, `INSERT INTO chat_members(conversation_id, person_id, joined_at) VALUES ($1,$2,$3) ON CONFLICT (conversation_id, person_id) DO NOTHING`,
			convID, p, at.UnixMilli())
		if err != nil {
			return added, err
		}
		n, _ := res.RowsAffected()
		added += int(n)
	}
	return added, nil
}

func (s *Service) structureOf(ctx context.Context, personID string) (string, error) {
	sids, err := s.dir.PersonStructureIDs(ctx, personID)
	if err != nil || len(sids) == 0 {
		return "", err
	}
	return sids[0], nil
}

// AddMembers adds persons and groups to a group conversation; only its creator may,
// under the same rules as Create.
func (s *Service) AddMembers(ctx context.Context, a actor.Actor, convID string, personIDs, groupIDs []string) (int, error) {
	c, err := s.Conversation(ctx, a, convID)
	if err != nil {
		return 0, err
	}
	if c.Kind != Group || c.CreatedBy != a.PersonID {
		return 0, actor.ErrForbidden
	}
	members, err := s.admissible(ctx, a, dedupe(personIDs, a.PersonID), dedupe(groupIDs, ""))
	if err != nil {
		return 0, err
	}
	if c.Members+len(members) > MaxMembers {
		return 0, actor.Invalid("members", "chat.too_many_members")
	}
	added, err := addMembers(ctx, s.db, convID, members, s.now())
	if err != nil {
		return added, err
	}
	if added > 0 {
		s.publish(ctx, convID, event{Kind: evConversation, Conversation: convID})
	}
	return added, nil
}

// Leave takes the actor out of a group conversation.
func (s *Service) Leave(ctx context.Context, a actor.Actor, convID string) error {
	c, err := s.Conversation(ctx, a, convID)
	if err != nil {
		return err
	}
	if c.Kind != Group {
		return actor.Invalid("conversation", "chat.cannot_leave_direct")
	}
	_, err = s.db.ExecContext(ctx, `DELETE FROM chat_members WHERE conversation_id=$1 AND person_id=$2`, convID, a.PersonID)
	return err
}

// conversationCols names a conversation for person $1: its title, or the other member's name.
const conversationCols = `c.id, c.kind, c.title, c.structure_id, c.created_by, c.created_at, c.last_message_id, c.last_message_at,
	COALESCE((SELECT p.first_name || '|' || p.last_name FROM chat_members o JOIN persons p ON p.id = o.person_id
		WHERE o.conversation_id = c.id AND o.person_id <> $1 LIMIT 1), ''),
	(SELECT COUNT(*) FROM chat_messages x WHERE x.conversation_id = c.id AND x.id > m.read_id AND x.sender_id <> $1 AND x.removed_at = 0),
	(SELECT COUNT(*) FROM chat_members n WHERE n.conversation_id = c.id)`

func scanConversation(sc interface{ Scan(...any) error }) (Conversation, error) {
	var c Conversation
	var created, last int64
	var other string
	err := sc.Scan(&c.ID, &c.Kind, &c.Title, &c.StructureID, &c.CreatedBy, &created, &c.LastMessageID, &last, &other, &c.Unread, &c.Members)
	c.CreatedAt, c.LastMessageAt = time.UnixMilli(created), time.UnixMilli(last)
	c.Name = c.Title
	if c.Kind == Direct {
		c.Name = joinedName(other)
	}
	return c, err
}

// Conversations lists the actor's conversations, the most recently active first,
// with their unread counts.
func (s *Service) Conversations(ctx context.Context, a actor.Actor, limit int) ([]Conversation, error) {
	if limit <= 0 || limit > 200 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+conversationCols+` FROM chat_members m JOIN chat_conversations c ON c.id = m.conversation_id
		WHERE m.person_id = $1 ORDER BY c.last_message_at DESC, c.id LIMIT `+itoa(limit), a.PersonID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Conversation returns one conversation of the actor; it is not found for anyone
// else, administrators included.
func (s *Service) Conversation(ctx context.Context, a actor.Actor, id string) (Conversation, error) {
	c, err := scanConversation(s.db.QueryRowContext(ctx, `SELECT `+conversationCols+` FROM chat_members m JOIN chat_conversations c ON c.id = m.conversation_id
		WHERE m.person_id = $1 AND c.id = $2`, a.PersonID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Conversation{}, actor.ErrNotFound
	}
	return c, err
}

// Members lists a conversation's members with their presence, for its members.
func (s *Service) Members(ctx context.Context, a actor.Actor, convID string) ([]Member, error) {
	if _, err := s.Conversation(ctx, a, convID); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT p.id, p.first_name, p.last_name, p.profile FROM chat_members m JOIN persons p ON p.id = m.person_id
		WHERE m.conversation_id = $1 ORDER BY p.last_key, p.first_key, p.id`, convID)
	if err != nil {
		return nil, err
	}
	var out []Member
	var idList []string
	for rows.Next() {
		var m Member
		if err := rows.Scan(&m.ID, &m.FirstName, &m.LastName, &m.Profile); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, m)
		idList = append(idList, m.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	pres, err := s.presence(ctx, idList)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Presence = pres[out[i].ID]
	}
	return out, nil
}

const messageCols = `x.id, x.conversation_id, x.sender_id, COALESCE(p.first_name || '|' || p.last_name, ''), x.body, x.created_at, x.removed_at`

func scanMessages(rows *sql.Rows, extra ...any) ([]Message, error) {
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var at, removed int64
		if err := rows.Scan(append([]any{&m.ID, &m.ConversationID, &m.SenderID, &m.SenderName, &m.Body, &at, &removed}, extra...)...); err != nil {
			return nil, err
		}
		m.CreatedAt, m.Removed = time.UnixMilli(at), removed > 0
		m.SenderName = joinedName(m.SenderName)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Messages returns up to limit messages of a conversation older than before (0: the
// latest), oldest first: keyset pagination on the message id.
func (s *Service) Messages(ctx context.Context, a actor.Actor, convID string, before int64, limit int) ([]Message, error) {
	if _, err := s.Conversation(ctx, a, convID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+messageCols+` FROM chat_messages x LEFT JOIN persons p ON p.id = x.sender_id
		WHERE x.conversation_id = $1 AND x.id < $2 ORDER BY x.id DESC LIMIT `+itoa(limit), convID, before)
	if err != nil {
		return nil, err
	}
	out, err := scanMessages(rows)
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, err
}

// Since returns, oldest first, the messages after id afterID in the person's
// conversations: what a stream resumed with Last-Event-ID missed.
func (s *Service) Since(ctx context.Context, personID string, afterID int64, limit int) ([]Message, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+messageCols+` FROM chat_messages x LEFT JOIN persons p ON p.id = x.sender_id
		WHERE x.id > $2 AND x.conversation_id IN (SELECT conversation_id FROM chat_members WHERE person_id = $1)
		ORDER BY x.id LIMIT `+itoa(limit), personID, afterID)
	if err != nil {
		return nil, err
	}
	return scanMessages(rows)
}

func (s *Service) message(ctx context.Context, id int64) (Message, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+messageCols+` FROM chat_messages x LEFT JOIN persons p ON p.id = x.sender_id WHERE x.id = $1`, id)
	if err != nil {
		return Message{}, err
	}
	out, err := scanMessages(rows)
	if err != nil {
		return Message{}, err
	}
	if len(out) == 0 {
		return Message{}, actor.ErrNotFound
	}
	return out[0], nil
}

// Send posts a message. The sender must be a member; in a one-to-one conversation the
// communication rules must still let them write to the other person (they may have
// changed since it began).
func (s *Service) Send(ctx context.Context, a actor.Actor, convID, body string) (Message, error) {
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	if body == "" {
		return Message{}, actor.Invalid("body", "chat.body_required")
	}
	if !utf8.ValidString(body) || strings.ContainsRune(body, 0) {
		return Message{}, actor.Invalid("body", "chat.body_invalid")
	}
	if utf8.RuneCountInString(body) > MaxBody {
		return Message{}, actor.Invalid("body", "chat.body_too_long")
	}
	if err := s.mustUse(ctx, a); err != nil {
		return Message{}, err
	}
	// A light membership check (the hot path of every message): the kind, the title
	// and the sender's name.
	var c Conversation
	var first, last string
	err := s.db.QueryRowContext(ctx, `SELECT c.kind, c.title, p.first_name, p.last_name FROM chat_members m
		JOIN chat_conversations c ON c.id = m.conversation_id JOIN persons p ON p.id = m.person_id
		WHERE m.conversation_id = $1 AND m.person_id = $2`, convID, a.PersonID).Scan(&c.Kind, &c.Title, &first, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, actor.ErrNotFound
	}
	if err != nil {
		return Message{}, err
	}
	c.ID = convID
	if c.Kind == Direct {
		var other string
		if err := s.db.QueryRowContext(ctx, `SELECT person_id FROM chat_members WHERE conversation_id=$1 AND person_id<>$2`, convID, a.PersonID).Scan(&other); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return Message{}, err
		}
		if other != "" {
			ok, err := s.comm.MayWrite(ctx, a.PersonID, other)
			if err != nil {
				return Message{}, err
			}
			if !ok {
				return Message{}, actor.ErrForbidden
			}
		}
	}
	m := Message{ConversationID: convID, SenderID: a.PersonID, SenderName: displayName(first, last), Body: body, CreatedAt: s.now()}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		// Updating the conversation first locks it: messages of one conversation commit
		// in the order of their ids.
		if _, err := tx.ExecContext(ctx, `UPDATE chat_conversations SET last_message_at=$2 WHERE id=$1`, convID, m.CreatedAt.UnixMilli()); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO chat_messages(conversation_id, sender_id, body, created_at) VALUES ($1,$2,$3,$4) RETURNING id`,
			convID, a.PersonID, body, m.CreatedAt.UnixMilli()).Scan(&m.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE chat_conversations SET last_message_id=$2 WHERE id=$1`, convID, m.ID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE chat_members SET read_id=$3 WHERE conversation_id=$1 AND person_id=$2`, convID, a.PersonID, m.ID)
		return err
	})
	if err != nil {
		return Message{}, err
	}
	s.publish(ctx, convID, messageEvent(m))
	if s.Notify != nil {
		s.notifyAbsent(ctx, c, m)
	}
	return m, nil
}

func (s *Service) notifyAbsent(ctx context.Context, c Conversation, m Message) {
	fresh := s.now().Add(-presenceFresh).UnixMilli()
	absent, err := db.Strings(ctx, s.db, `SELECT m.person_id FROM chat_members m WHERE m.conversation_id=$1 AND m.person_id<>$2
		AND NOT EXISTS (SELECT 1 FROM chat_presence p WHERE p.person_id = m.person_id AND p.live AND p.seen_at > $3) ORDER BY m.person_id`, c.ID, m.SenderID, fresh)
	if err != nil || len(absent) == 0 {
		return
	}
	title := c.Title
	if c.Kind == Direct {
		title = m.SenderName
	}
	s.Notify(ctx, absent, m.SenderID, title, "/discussions/"+c.ID)
}

// MarkRead records that the actor read the conversation up to message id upTo (0: all).
func (s *Service) MarkRead(ctx context.Context, a actor.Actor, convID string, upTo int64) error {
	c, err := s.Conversation(ctx, a, convID)
	if err != nil {
		return err
	}
	if upTo <= 0 || upTo > c.LastMessageID {
		upTo = c.LastMessageID
	}
	_, err = s.db.ExecContext(ctx, `UPDATE chat_members SET read_id=$3 WHERE conversation_id=$1 AND person_id=$2 AND read_id < $3`, convID, a.PersonID, upTo)
	return err
}

// Unread is the actor's number of unread messages over all conversations (for the
// navigation and the dashboard).
func (s *Service) Unread(ctx context.Context, a actor.Actor) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM chat_members m JOIN chat_messages x ON x.conversation_id = m.conversation_id AND x.id > m.read_id
		WHERE m.person_id = $1 AND x.sender_id <> $1 AND x.removed_at = 0`, a.PersonID).Scan(&n)
	return n, err
}

// Search finds, newest first, the messages of the actor's own conversations that
// contain the words of q (full-text: FTS5 on SQLite, tsvector on PostgreSQL).
func (s *Service) Search(ctx context.Context, a actor.Actor, q string, limit int) ([]Message, error) {
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	var match, query string
	if s.db.Dialect == db.Postgres {
		words := strings.Fields(q)
		if len(words) == 0 {
			return nil, nil
		}
		match = strings.Join(words, " ")
		query = `x.search @@ plainto_tsquery('french', $2)`
	} else {
		match = ftsQuery(q)
		if match == "" {
			return nil, nil
		}
		query = `x.id IN (SELECT rowid FROM chat_messages_fts WHERE chat_messages_fts MATCH $2)`
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+messageCols+`, c.kind, c.title,
		COALESCE((SELECT q.first_name || '|' || q.last_name FROM chat_members o JOIN persons q ON q.id = o.person_id WHERE o.conversation_id = c.id AND o.person_id <> $1 LIMIT 1), '')
		FROM chat_messages x JOIN chat_members m ON m.conversation_id = x.conversation_id AND m.person_id = $1
		JOIN chat_conversations c ON c.id = x.conversation_id LEFT JOIN persons p ON p.id = x.sender_id
		WHERE x.removed_at = 0 AND `+query+` ORDER BY x.id DESC LIMIT `+itoa(limit), a.PersonID, match)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var at, removed int64
		var kind, title, other string
		if err := rows.Scan(&m.ID, &m.ConversationID, &m.SenderID, &m.SenderName, &m.Body, &at, &removed, &kind, &title, &other); err != nil {
			return nil, err
		}
		m.CreatedAt, m.SenderName = time.UnixMilli(at), joinedName(m.SenderName)
		m.ConversationName = title
		if kind == Direct {
			m.ConversationName = joinedName(other)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// ftsQuery turns what a person typed into an FTS5 query: each word a quoted prefix
// term, all required; FTS5 syntax typed by the person is not interpreted.
func ftsQuery(q string) string {
	var terms []string
	for _, w := range strings.FieldsFunc(q, func(r rune) bool {
		return !(r == '\'' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127)
	}) {
		w = strings.Trim(w, "'-")
		if w == "" {
			continue
		}
		terms = append(terms, `"`+strings.ReplaceAll(w, `"`, `""`)+`"*`)
		if len(terms) == 8 {
			break
		}
	}
	return strings.Join(terms, " ")
}

func dedupe(list []string, drop string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range list {
		v = strings.TrimSpace(v)
		if v == "" || v == drop || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }
