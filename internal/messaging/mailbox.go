package messaging

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Message is a message as one person sees it through their copy.
type Message struct {
	ID          string
	SenderID    string
	SenderName  string
	Subject     string
	Body        string
	To, Cc, Bcc []Recipient // Bcc: all of it for the sender, the reader alone for a bcc recipient
	ParentID    string
	State       string
	SentAt      time.Time
	Size        int64
	Recipients  int
	Attachments []Attachment
	// The reader's copy.
	Folder string
	Role   string
	Unread bool
}

// IsSender tells whether the reader sent it.
func (m Message) IsSender() bool { return m.Role == RoleSender }

// Message returns a message the actor holds (sender or recipient), marking it read
// when markRead is set. Nobody else may read it: not an administrator, not the
// operator; moderators go through the moderation queue, for reported messages only.
func (s *Service) Message(ctx context.Context, a actor.Actor, id string, markRead bool) (Message, error) {
	var m Message
	var to, cc, bcc string
	var sent int64
	err := s.db.QueryRowContext(ctx, `SELECT m.id, m.sender_id, m.sender_name, m.subject, m.body, m.rcpt_to, m.rcpt_cc, m.rcpt_bcc, m.parent_id, m.state,
		m.sent_at, m.size, m.recipients, c.folder, c.role, c.unread
		FROM mail_copies c JOIN mail_messages m ON m.id = c.message_id
		WHERE c.person_id = $1 AND c.message_id = $2 AND NOT c.deleted`, a.PersonID, id).
		Scan(&m.ID, &m.SenderID, &m.SenderName, &m.Subject, &m.Body, &to, &cc, &bcc, &m.ParentID, &m.State, &sent, &m.Size, &m.Recipients, &m.Folder, &m.Role, &m.Unread)
	if errors.Is(err, sql.ErrNoRows) || a.PersonID == "" {
		return Message{}, actor.ErrNotFound
	}
	if err != nil {
		return Message{}, err
	}
	m.To, m.Cc, m.SentAt = decodeRecipients(to), decodeRecipients(cc), time.UnixMilli(sent)
	switch m.Role {
	case RoleSender:
		m.Bcc = decodeRecipients(bcc)
	case RoleBcc:
		name, err := s.personName(ctx, s.db, a.PersonID)
		if err != nil {
			return Message{}, err
		}
		m.Bcc = []Recipient{{Kind: KindPerson, ID: a.PersonID, Name: name}}
	}
	if m.Attachments, err = s.attachments(ctx, m.ID); err != nil {
		return Message{}, err
	}
	if markRead && m.Unread {
		if _, err := s.db.ExecContext(ctx, `UPDATE mail_copies SET unread=FALSE, read_at=$1 WHERE person_id=$2 AND message_id=$3 AND unread`,
			s.now().UnixMilli(), a.PersonID, id); err != nil {
			return Message{}, err
		}
	}
	return m, nil
}

// MarkUnread marks one of the actor's messages unread again.
func (s *Service) MarkUnread(ctx context.Context, a actor.Actor, id string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE mail_copies SET unread=TRUE WHERE person_id=$1 AND message_id=$2 AND NOT deleted AND role <> 'sender'`, a.PersonID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return actor.ErrNotFound
	}
	return nil
}

// Summary is a line of a folder listing.
type Summary struct {
	ID          string
	SenderID    string
	SenderName  string
	Subject     string
	To          []Recipient
	At          time.Time
	Unread      bool
	Attachments int
	Folder      string
	State       string
}

// Listing is a page of a folder, newest first; Next is the cursor of the next page.
type Listing struct {
	Items []Summary
	Next  string
}

const summaryCols = `c.message_id, c.at, c.unread, c.folder, m.sender_id, m.sender_name, m.subject, m.rcpt_to, m.attachments, m.state`

func scanSummaries(rows *sql.Rows) ([]Summary, error) {
	defer rows.Close()
	var out []Summary
	for rows.Next() {
		var x Summary
		var at int64
		var to string
		if err := rows.Scan(&x.ID, &at, &x.Unread, &x.Folder, &x.SenderID, &x.SenderName, &x.Subject, &to, &x.Attachments, &x.State); err != nil {
			return nil, err
		}
		x.At, x.To = time.UnixMilli(at), decodeRecipients(to)
		out = append(out, x)
	}
	return out, rows.Err()
}

// List returns a page of one of the actor's folders, with keyset pagination: the
// cursor is the position of the last line shown, so that a page costs the same
// however deep it is.
func (s *Service) List(ctx context.Context, a actor.Actor, folder, cursor string, limit int) (Listing, error) {
	if a.PersonID == "" {
		return Listing{}, actor.ErrForbidden
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if err := s.checkFolder(ctx, a, folder); err != nil {
		return Listing{}, err
	}
	q := `SELECT ` + summaryCols + ` FROM mail_copies c JOIN mail_messages m ON m.id = c.message_id WHERE c.person_id = $1 AND c.folder = $2`
	args := []any{a.PersonID, folder}
	if at, id, ok := parseCursor(cursor); ok {
		// A row-value comparison: both engines read it as a range of the index.
		q += ` AND (c.at, c.message_id) < ($3, $4)`
		args = append(args, at, id)
	}
	q += ` ORDER BY c.at DESC, c.message_id DESC LIMIT ` + strconv.Itoa(limit+1)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return Listing{}, err
	}
	items, err := scanSummaries(rows)
	if err != nil {
		return Listing{}, err
	}
	var l Listing
	if len(items) > limit {
		items = items[:limit]
		last := items[limit-1]
		l.Next = itoa(last.At.UnixMilli()) + "." + last.ID
	}
	l.Items = items
	return l, nil
}

func parseCursor(c string) (int64, string, bool) {
	at, id, ok := strings.Cut(c, ".")
	if !ok || id == "" {
		return 0, "", false
	}
	n, err := strconv.ParseInt(at, 10, 64)
	return n, id, err == nil
}

// Folder is a folder of the actor, built in or their own.
type Folder struct {
	ID     string // inbox, sent, drafts, trash, or an id
	Name   string // own folders only: built-in ones are named by the pages
	Unread int
	Own    bool
}

// Folders lists the actor's folders with their unread counts.
func (s *Service) Folders(ctx context.Context, a actor.Actor) ([]Folder, error) {
	if a.PersonID == "" {
		return nil, actor.ErrForbidden
	}
	counts, err := s.unreadByFolder(ctx, a.PersonID)
	if err != nil {
		return nil, err
	}
	out := []Folder{{ID: Inbox, Unread: counts[Inbox]}, {ID: Sent}, {ID: Drafts}, {ID: Trash, Unread: counts[Trash]}}
	rows, err := s.db.QueryContext(ctx, `SELECT id, name FROM mail_folders WHERE person_id=$1 ORDER BY name`, a.PersonID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		f := Folder{Own: true}
		if err := rows.Scan(&f.ID, &f.Name); err != nil {
			return nil, err
		}
		f.Unread = counts[f.ID]
		out = append(out, f)
	}
	return out, rows.Err()
}

func (s *Service) unreadByFolder(ctx context.Context, personID string) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT folder, COUNT(*) FROM mail_copies WHERE person_id=$1 AND unread GROUP BY folder`, personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var f string
		var n int
		if err := rows.Scan(&f, &n); err != nil {
			return nil, err
		}
		out[f] = n
	}
	return out, rows.Err()
}

// Unread counts a person's unread messages outside the trash (the header's link).
func (s *Service) Unread(ctx context.Context, personID string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_copies WHERE person_id=$1 AND unread AND folder <> 'trash'`, personID).Scan(&n)
	return n, err
}

func (s *Service) checkFolder(ctx context.Context, a actor.Actor, folder string) error {
	switch folder {
	case Inbox, Sent, Drafts, Trash:
		return nil
	}
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM mail_folders WHERE id=$1 AND person_id=$2`, folder, a.PersonID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return actor.ErrNotFound
	}
	return err
}

func cleanFolderName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 60 {
		return "", actor.Invalid("name", "messagerie.error.folder_name")
	}
	return name, nil
}

// CreateFolder makes one of the actor's own folders.
func (s *Service) CreateFolder(ctx context.Context, a actor.Actor, name string) (Folder, error) {
	name, err := cleanFolderName(name)
	if err != nil {
		return Folder{}, err
	}
	if a.PersonID == "" {
		return Folder{}, actor.ErrForbidden
	}
	f := Folder{ID: ids.New(), Name: name, Own: true}
	_, err = s.db.ExecContext(ctx, `INSERT INTO mail_folders(id, person_id, name, created_at) VALUES ($1,$2,$3,$4)`, f.ID, a.PersonID, name, s.now().UnixMilli())
	if db.IsUniqueViolation(err) {
		return Folder{}, actor.Invalid("name", "messagerie.error.folder_exists")
	}
	return f, err
}

// RenameFolder renames one of the actor's folders.
func (s *Service) RenameFolder(ctx context.Context, a actor.Actor, id, name string) error {
	name, err := cleanFolderName(name)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE mail_folders SET name=$1 WHERE id=$2 AND person_id=$3`, name, id, a.PersonID)
	if db.IsUniqueViolation(err) {
		return actor.Invalid("name", "messagerie.error.folder_exists")
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return actor.ErrNotFound
	}
	return nil
}

// DeleteFolder removes one of the actor's folders; its messages go back to the inbox
// (or to the sent folder, for the actor's own): deleting a folder loses no message.
func (s *Service) DeleteFolder(ctx context.Context, a actor.Actor, id string) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM mail_folders WHERE id=$1 AND person_id=$2`, id, a.PersonID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return actor.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `UPDATE mail_copies SET folder = CASE WHEN role='sender' THEN 'sent' ELSE 'inbox' END WHERE person_id=$1 AND folder=$2`, a.PersonID, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE mail_copies SET prev_folder = '' WHERE person_id=$1 AND prev_folder=$2`, a.PersonID, id)
		return err
	})
}

// Move puts messages of the actor into a folder: the inbox, the trash or one of
// their own (sent messages and drafts stay where they are, except to the trash).
func (s *Service) Move(ctx context.Context, a actor.Actor, ids []string, folder string) error {
	if folder == Sent || folder == Drafts {
		return actor.Invalid("folder", "messagerie.error.folder_target")
	}
	if err := s.checkFolder(ctx, a, folder); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			var err error
			if folder == Trash {
				_, err = tx.ExecContext(ctx, `UPDATE mail_copies SET prev_folder=folder, folder='trash' WHERE person_id=$1 AND message_id=$2 AND NOT deleted AND folder <> 'trash'`, a.PersonID, id)
			} else {
				_, err = tx.ExecContext(ctx, `UPDATE mail_copies SET folder=$3, prev_folder='' WHERE person_id=$1 AND message_id=$2 AND NOT deleted AND folder NOT IN ('drafts')`, a.PersonID, id, folder)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Restore takes messages out of the trash, back where they were.
func (s *Service) Restore(ctx context.Context, a actor.Actor, ids []string) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE mail_copies SET folder = CASE WHEN prev_folder <> '' THEN prev_folder WHEN role='sender' THEN 'sent' ELSE 'inbox' END,
				prev_folder='' WHERE person_id=$1 AND message_id=$2 AND folder='trash'`, a.PersonID, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// Delete removes the actor's copies of messages for good; others' copies stay. A
// message nobody holds any more is purged, its attachments with it.
func (s *Service) Delete(ctx context.Context, a actor.Actor, ids []string) error {
	return s.deleteCopies(ctx, a, ids, "")
}

// EmptyTrash deletes every message in the actor's trash.
func (s *Service) EmptyTrash(ctx context.Context, a actor.Actor) (int, error) {
	ids, err := db.Strings(ctx, s.db, `SELECT message_id FROM mail_copies WHERE person_id=$1 AND folder='trash'`, a.PersonID)
	if err != nil {
		return 0, err
	}
	return len(ids), s.deleteCopies(ctx, a, ids, Trash)
}

func (s *Service) deleteCopies(ctx context.Context, a actor.Actor, ids []string, onlyFolder string) error {
	if a.PersonID == "" {
		return actor.ErrForbidden
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			q := `UPDATE mail_copies SET deleted=TRUE, unread=FALSE, folder='', prev_folder='' WHERE person_id=$1 AND message_id=$2 AND NOT deleted`
			args := []any{a.PersonID, id}
			if onlyFolder != "" {
				q += ` AND folder=$3`
				args = append(args, onlyFolder)
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
			if err := s.purgeIfOrphan(ctx, tx, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.flushBlobs(ctx)
	return nil
}

// purgeIfOrphan deletes a message (body, copies, attachment rows) that nobody holds
// any more, and queues its files for deletion from the blob store.
func (s *Service) purgeIfOrphan(ctx context.Context, tx db.Querier, id string) error {
	var live int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_copies WHERE message_id=$1 AND NOT deleted`, id).Scan(&live); err != nil {
		return err
	}
	if live > 0 {
		return nil
	}
	keys, err := db.Strings(ctx, tx, `SELECT blob_key FROM mail_attachments WHERE message_id=$1`, id)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM mail_messages WHERE id=$1`, id); err != nil {
		return err
	}
	for _, k := range keys {
		if err := s.trashBlob(ctx, tx, k); err != nil {
			return err
		}
	}
	return nil
}

// trashBlob queues a file for deletion if no attachment row uses it any more (a
// forwarded attachment shares its file with the first message).
func (s *Service) trashBlob(ctx context.Context, tx db.Querier, key string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO mail_blob_trash(blob_key, created_at) SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM mail_attachments WHERE blob_key=$1)
		ON CONFLICT (blob_key) DO NOTHING`, key, s.now().UnixMilli())
	return err
}

// flushBlobs deletes the queued files that no attachment uses.
func (s *Service) flushBlobs(ctx context.Context) int {
	ctx = context.WithoutCancel(ctx)
	keys, err := db.Strings(ctx, s.db, `SELECT blob_key FROM mail_blob_trash t WHERE NOT EXISTS (SELECT 1 FROM mail_attachments a WHERE a.blob_key = t.blob_key) LIMIT 1000`)
	if err != nil {
		slog.Error("messagerie : fichiers à supprimer", "err", err)
		return 0
	}
	n := 0
	for _, k := range keys {
		if err := s.blobs.Delete(ctx, k); err != nil {
			slog.Error("messagerie : suppression d'un fichier", "err", err)
			continue
		}
		if _, err := s.db.ExecContext(ctx, `DELETE FROM mail_blob_trash WHERE blob_key=$1`, k); err != nil {
			slog.Error("messagerie : suppression d'un fichier", "err", err)
			continue
		}
		n++
	}
	// A key used again meanwhile (a forward) leaves the queue without deletion.
	_, _ = s.db.ExecContext(ctx, `DELETE FROM mail_blob_trash WHERE EXISTS (SELECT 1 FROM mail_attachments a WHERE a.blob_key = mail_blob_trash.blob_key)`)
	return n
}

// Sweep is the housekeeping pass: it purges the messages nobody holds any more
// (left by a crash, or by recalls) and deletes the files they leave.
func (s *Service) Sweep(ctx context.Context) (messages, files int, err error) {
	orphans, err := db.Strings(ctx, s.db, `SELECT m.id FROM mail_messages m WHERE NOT EXISTS (SELECT 1 FROM mail_copies c WHERE c.message_id = m.id AND NOT c.deleted) LIMIT 1000`)
	if err != nil {
		return 0, 0, err
	}
	for _, id := range orphans {
		if err := s.db.Tx(ctx, func(tx *sql.Tx) error { return s.purgeIfOrphan(ctx, tx, id) }); err != nil {
			return messages, files, err
		}
		messages++
	}
	return messages, s.flushBlobs(ctx), nil
}

// foldAccents folds a word as the PostgreSQL search column does (translate).
var foldAccents = func() *strings.Replacer {
	from, to := []rune("àâäáãåçéèêëíìîïñóòôöõúùûüýÿ"), []rune("aaaaaaceeeeiiiinooooouuuuyy")
	var pairs []string
	for i := range from {
		pairs = append(pairs, string(from[i]), string(to[i]))
	}
	return strings.NewReplacer(pairs...)
}()

// Search finds words in the subjects, bodies and sender names of the actor's own
// messages (not deleted), newest first: FTS5 on SQLite, tsvector on PostgreSQL.
func (s *Service) Search(ctx context.Context, a actor.Actor, text string, limit int) ([]Summary, error) {
	if a.PersonID == "" {
		return nil, actor.ErrForbidden
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	var words []string
	for _, w := range strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if len(words) < 8 {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		return nil, nil
	}
	var q string
	var match string
	if s.db.Dialect == db.Postgres {
		var parts []string
		for _, w := range words {
			parts = append(parts, foldAccents.Replace(strings.ToLower(w))+":*")
		}
		match = strings.Join(parts, " & ")
		q = `SELECT ` + summaryCols + ` FROM mail_messages m JOIN mail_copies c ON c.message_id = m.id AND c.person_id = $1 AND NOT c.deleted
			WHERE m.search @@ to_tsquery('simple', $2) ORDER BY c.at DESC LIMIT ` + strconv.Itoa(limit)
	} else {
		var parts []string
		for _, w := range words {
			parts = append(parts, `"`+w+`"*`)
		}
		match = strings.Join(parts, " ")
		q = `SELECT ` + summaryCols + ` FROM mail_fts f JOIN mail_messages m ON m.seq = f.rowid
			JOIN mail_copies c ON c.message_id = m.id AND c.person_id = $1 AND NOT c.deleted
			WHERE mail_fts MATCH $2 ORDER BY c.at DESC LIMIT ` + strconv.Itoa(limit)
	}
	rows, err := s.db.QueryContext(ctx, q, a.PersonID, match)
	if err != nil {
		return nil, err
	}
	return scanSummaries(rows)
}
