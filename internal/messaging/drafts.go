package messaging

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/blob"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
)

// Draft is what the compose form holds.
type Draft struct {
	ID          string
	To, Cc, Bcc []Recipient
	Subject     string
	Body        string
	ParentID    string
	Attachments []Attachment
	UpdatedAt   time.Time
}

// Attachment is a file joined to a message.
type Attachment struct {
	ID          string `json:"id"`
	MessageID   string `json:"-"`
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	blobKey     string
}

const maxSubject = 200

func (s *Service) checkDraft(d *Draft) error {
	d.Subject = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(d.Subject, "\r", ""), "\n", " "))
	if utf8.RuneCountInString(d.Subject) > maxSubject {
		return actor.Invalid("subject", "messagerie.error.subject_long")
	}
	d.Body = strings.ReplaceAll(d.Body, "\r\n", "\n")
	if len(d.Body) > s.cfg.MaxBody {
		return actor.Invalid("body", "messagerie.error.body_long")
	}
	if !utf8.ValidString(d.Subject) || !utf8.ValidString(d.Body) {
		return actor.Invalid("body", "messagerie.error.body_long")
	}
	if len(d.To)+len(d.Cc)+len(d.Bcc) > 500 {
		return actor.Invalid("to", "messagerie.error.too_many")
	}
	return nil
}

// SaveDraft creates (d.ID empty) or updates one of the actor's drafts and returns its id.
// Recipients must be within the actor's reach already.
func (s *Service) SaveDraft(ctx context.Context, a actor.Actor, d Draft) (string, error) {
	if a.PersonID == "" {
		return "", actor.ErrForbidden
	}
	if err := s.checkDraft(&d); err != nil {
		return "", err
	}
	var err error
	for _, f := range []struct {
		field string
		rs    *[]Recipient
	}{{"to", &d.To}, {"cc", &d.Cc}, {"bcc", &d.Bcc}} {
		if *f.rs, err = s.resolve(ctx, s.db, a, f.field, *f.rs); err != nil {
			return "", err
		}
	}
	now := s.now().UnixMilli()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if d.ID == "" {
			name, err := s.personName(ctx, tx, a.PersonID)
			if err != nil {
				return err
			}
			d.ID = ids.New()
			if _, err := tx.ExecContext(ctx, `INSERT INTO mail_messages(id, sender_id, sender_name, subject, body, rcpt_to, rcpt_cc, rcpt_bcc, parent_id, state, size, created_at, updated_at)
				VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,'draft',$10,$11,$11)`,
				d.ID, a.PersonID, name, d.Subject, d.Body, encodeRecipients(d.To), encodeRecipients(d.Cc), encodeRecipients(d.Bcc), d.ParentID,
				int64(len(d.Subject)+len(d.Body)), now); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO mail_copies(person_id, message_id, folder, role, at) VALUES ($1,$2,$3,$4,$5)`, a.PersonID, d.ID, Drafts, RoleSender, now)
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE mail_messages SET subject=$1, body=$2, rcpt_to=$3, rcpt_cc=$4, rcpt_bcc=$5, updated_at=$6,
			size = $7 + COALESCE((SELECT SUM(size) FROM mail_attachments WHERE message_id=$8), 0)
			WHERE id=$8 AND sender_id=$9 AND state='draft'`,
			d.Subject, d.Body, encodeRecipients(d.To), encodeRecipients(d.Cc), encodeRecipients(d.Bcc), now, int64(len(d.Subject)+len(d.Body)), d.ID, a.PersonID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return actor.ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `UPDATE mail_copies SET at=$1 WHERE person_id=$2 AND message_id=$3`, now, a.PersonID, d.ID)
		return err
	})
	if err != nil {
		return "", err
	}
	return d.ID, nil
}

func (s *Service) personName(ctx context.Context, q db.Querier, id string) (string, error) {
	var first, last string
	err := q.QueryRowContext(ctx, `SELECT first_name, last_name FROM persons WHERE id=$1`, id).Scan(&first, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return "", actor.ErrForbidden
	}
	return displayName(first, last), err
}

// Draft returns one of the actor's drafts.
func (s *Service) Draft(ctx context.Context, a actor.Actor, id string) (Draft, error) {
	var d Draft
	var to, cc, bcc string
	var updated int64
	err := s.db.QueryRowContext(ctx, `SELECT id, subject, body, rcpt_to, rcpt_cc, rcpt_bcc, parent_id, updated_at FROM mail_messages
		WHERE id=$1 AND sender_id=$2 AND state='draft'`, id, a.PersonID).Scan(&d.ID, &d.Subject, &d.Body, &to, &cc, &bcc, &d.ParentID, &updated)
	if errors.Is(err, sql.ErrNoRows) || a.PersonID == "" {
		return Draft{}, actor.ErrNotFound
	}
	if err != nil {
		return Draft{}, err
	}
	d.To, d.Cc, d.Bcc, d.UpdatedAt = decodeRecipients(to), decodeRecipients(cc), decodeRecipients(bcc), time.UnixMilli(updated)
	d.Attachments, err = s.attachments(ctx, d.ID)
	return d, err
}

// DeleteDraft throws a draft away (with its attachments).
func (s *Service) DeleteDraft(ctx context.Context, a actor.Actor, id string) error {
	if _, err := s.Draft(ctx, a, id); err != nil {
		return err
	}
	return s.deleteCopies(ctx, a, []string{id}, "")
}

func (s *Service) attachments(ctx context.Context, messageID string) ([]Attachment, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, message_id, name, content_type, size, blob_key FROM mail_attachments WHERE message_id=$1 ORDER BY created_at, id`, messageID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Attachment
	for rows.Next() {
		var at Attachment
		if err := rows.Scan(&at.ID, &at.MessageID, &at.Name, &at.ContentType, &at.Size, &at.blobKey); err != nil {
			return nil, err
		}
		out = append(out, at)
	}
	return out, rows.Err()
}

// cleanName keeps the base name of an uploaded file, without control characters.
func cleanName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, name)
	if name == "" || name == "." || name == "/" {
		name = "fichier"
	}
	if utf8.RuneCountInString(name) > 150 {
		name = string([]rune(name)[:150])
	}
	return name
}

// AddAttachment stores a file on one of the actor's drafts: at most the per-file
// limit, the message's attachments together at most the per-message limit, scanned
// by the configured scanner before it is kept.
func (s *Service) AddAttachment(ctx context.Context, a actor.Actor, draftID, name, contentType string, r io.Reader) (Attachment, error) {
	d, err := s.Draft(ctx, a, draftID)
	if err != nil {
		return Attachment{}, err
	}
	if len(d.Attachments) >= s.cfg.MaxAttach {
		return Attachment{}, actor.Invalid("attachments", "messagerie.error.too_many_files")
	}
	var total int64
	for _, at := range d.Attachments {
		total += at.Size
	}
	limit := min(s.cfg.FileLimit, s.cfg.MessageLimit-total)
	if limit <= 0 {
		return Attachment{}, actor.Invalid("attachments", "messagerie.error.message_too_large")
	}
	st, err := s.blobs.Put(ctx, r, limit)
	if errors.Is(err, blob.ErrTooLarge) {
		if limit < s.cfg.FileLimit {
			return Attachment{}, actor.Invalid("attachments", "messagerie.error.message_too_large")
		}
		return Attachment{}, actor.Invalid("attachments", "messagerie.error.file_too_large")
	}
	if err != nil {
		return Attachment{}, err
	}
	drop := func(err error) (Attachment, error) {
		_ = s.blobs.Delete(context.WithoutCancel(ctx), st.Key)
		return Attachment{}, err
	}
	if s.Scan != nil {
		f, err := s.blobs.Open(ctx, st.Key)
		if err != nil {
			return drop(err)
		}
		err = s.Scan(ctx, f)
		f.Close()
		if err != nil {
			slog.Warn("messagerie : pièce jointe refusée par l'analyse", "name", cleanName(name), "person", a.PersonID, "err", err)
			return drop(actor.Invalid("attachments", "messagerie.error.infected"))
		}
	}
	if mt, _, err := mime.ParseMediaType(contentType); err == nil {
		contentType = mt
	} else {
		contentType = "application/octet-stream"
	}
	at := Attachment{ID: ids.New(), MessageID: draftID, Name: cleanName(name), ContentType: contentType, Size: st.Size, blobKey: st.Key}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO mail_attachments(id, message_id, blob_key, name, content_type, size, sha256, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
			at.ID, at.MessageID, st.Key, at.Name, at.ContentType, at.Size, st.SHA256, s.now().UnixMilli()); err != nil {
			return err
		}
		return s.resize(ctx, tx, draftID)
	})
	if err != nil {
		return drop(err)
	}
	return at, nil
}

// resize recomputes a message's size and attachment count.
func (s *Service) resize(ctx context.Context, q db.Querier, id string) error {
	_, err := q.ExecContext(ctx, `UPDATE mail_messages SET
		size = LENGTH(subject) + LENGTH(body) + COALESCE((SELECT SUM(size) FROM mail_attachments WHERE message_id=$1), 0),
		attachments = (SELECT COUNT(*) FROM mail_attachments WHERE message_id=$1) WHERE id=$1`, id)
	return err
}

// RemoveAttachment takes a file off one of the actor's drafts.
func (s *Service) RemoveAttachment(ctx context.Context, a actor.Actor, draftID, attachmentID string) error {
	if _, err := s.Draft(ctx, a, draftID); err != nil {
		return err
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var key string
		err := tx.QueryRowContext(ctx, `SELECT blob_key FROM mail_attachments WHERE id=$1 AND message_id=$2`, attachmentID, draftID).Scan(&key)
		if errors.Is(err, sql.ErrNoRows) {
			return actor.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM mail_attachments WHERE id=$1`, attachmentID); err != nil {
			return err
		}
		if err := s.trashBlob(ctx, tx, key); err != nil {
			return err
		}
		return s.resize(ctx, tx, draftID)
	})
	if err != nil {
		return err
	}
	s.flushBlobs(ctx)
	return nil
}

// OpenAttachment opens a file for the sender or a recipient of its message; anyone
// else learns nothing of it.
func (s *Service) OpenAttachment(ctx context.Context, a actor.Actor, id string) (Attachment, io.ReadSeekCloser, error) {
	var at Attachment
	err := s.db.QueryRowContext(ctx, `SELECT t.id, t.message_id, t.name, t.content_type, t.size, t.blob_key FROM mail_attachments t
		JOIN mail_copies c ON c.message_id = t.message_id AND c.person_id = $2 AND NOT c.deleted WHERE t.id = $1`, id, a.PersonID).
		Scan(&at.ID, &at.MessageID, &at.Name, &at.ContentType, &at.Size, &at.blobKey)
	if errors.Is(err, sql.ErrNoRows) || a.PersonID == "" {
		return Attachment{}, nil, actor.ErrNotFound
	}
	if err != nil {
		return Attachment{}, nil, err
	}
	f, err := s.blobs.Open(ctx, at.blobKey)
	if err != nil {
		return Attachment{}, nil, fmt.Errorf("pièce jointe %s : %w", at.ID, err)
	}
	return at, f, nil
}

// Usage is what the person's quota counts: the messages they sent or drafted and
// still keep (subject, body and attachments; a message kept by its sender counts
// once however many recipients it has).
func (s *Service) Usage(ctx context.Context, personID string) (int64, error) {
	return s.usage(ctx, s.db, personID)
}

func (s *Service) usage(ctx context.Context, q db.Querier, personID string) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(SUM(m.size), 0) FROM mail_messages m
		JOIN mail_copies c ON c.message_id = m.id AND c.person_id = m.sender_id AND NOT c.deleted
		WHERE m.sender_id = $1`, personID).Scan(&n)
	return n, err
}
