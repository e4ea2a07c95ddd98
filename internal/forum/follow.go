package forum

import (
	"context"
	"database/sql"
	"errors"

	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/rights"
)

// NotifyFunc tells persons of a new message in a subject they follow.
type NotifyFunc func(ctx context.Context, recipients []string, actorID, title, link, structureID string)

// maxNotified bounds the persons told of one message (a subject's followers).
const maxNotified = 2000

// Following tells whether the actor follows a subject: they asked to, or they posted
// in it and did not ask not to.
func (s *Service) Following(ctx context.Context, a actor.Actor, subjectID string) (bool, error) {
	if a.PersonID == "" {
		return false, nil
	}
	var following bool
	err := s.db.QueryRowContext(ctx, `SELECT following FROM forum_follows WHERE subject_id=$1 AND person_id=$2`, subjectID, a.PersonID).Scan(&following)
	if err == nil {
		return following, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	var one int
	err = s.db.QueryRowContext(ctx, `SELECT 1 FROM forum_messages WHERE subject_id=$1 AND author_id=$2 AND NOT removed LIMIT 1`, subjectID, a.PersonID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Follow makes the actor follow a subject they read, or stop following it (a
// participant then hears no more of it).
func (s *Service) Follow(ctx context.Context, a actor.Actor, subjectID string, on bool) error {
	if a.PersonID == "" {
		return actor.ErrForbidden
	}
	if _, _, _, err := s.Subject(ctx, a, subjectID); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO forum_follows(subject_id, person_id, following, updated_at) VALUES ($1,$2,$3,$4)
		ON CONFLICT (subject_id, person_id) DO UPDATE SET following=excluded.following, updated_at=excluded.updated_at`, subjectID, a.PersonID, on, s.now().UnixMilli())
	return err
}

// followers lists who is told of a new message in a subject: those who posted in it
// and those who follow it, less those who stopped following it and the author, and
// only while they still read the category.
func (s *Service) followers(ctx context.Context, c Category, subjectID, authorID string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT person_id FROM (
			SELECT DISTINCT author_id AS person_id FROM forum_messages WHERE subject_id=$1 AND NOT removed
			UNION SELECT person_id FROM forum_follows WHERE subject_id=$1 AND following) x
		WHERE person_id<>$2 AND person_id NOT IN (SELECT person_id FROM forum_follows WHERE subject_id=$1 AND NOT following)
		ORDER BY person_id LIMIT $3`, subjectID, authorID, maxNotified)
	ids, err := db.Collect(rows, err, func(sc db.Scanner) (string, error) {
		var id string
		return id, sc.Scan(&id)
	})
	if err != nil {
		return nil, err
	}
	out := ids[:0]
	for _, id := range ids {
		l, err := s.level(ctx, actor.Actor{PersonID: id}, c)
		if err != nil {
			return nil, err
		}
		if l >= rights.Read {
			out = append(out, id)
		}
	}
	return out, nil
}

// notifyReply tells a subject's followers of a new message, after it is stored.
func (s *Service) notifyReply(ctx context.Context, c Category, o Subject, authorID string) error {
	if s.Notify == nil {
		return nil
	}
	to, err := s.followers(ctx, c, o.ID, authorID)
	if err != nil || len(to) == 0 {
		return err
	}
	s.Notify(ctx, to, authorID, o.Title, "/forums/sujets/"+o.ID, c.StructureID)
	return nil
}
