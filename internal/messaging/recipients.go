package messaging

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/preau-ent/preau/internal/commrules"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
)

// Recipient is one entry of a header: a person or a group, with its name as it was
// when the message was written.
type Recipient struct {
	Kind    string `json:"k"` // KindPerson or KindGroup
	ID      string `json:"id"`
	Name    string `json:"name"`
	Members int    `json:"members,omitempty"` // groups, in choices
}

// Token is how forms carry a recipient: "p:<id>" or "g:<id>".
func (r Recipient) Token() string { return r.Kind + ":" + r.ID }

// ParseToken reads a form token; ok is false for anything else.
func ParseToken(t string) (Recipient, bool) {
	k, id, found := strings.Cut(strings.TrimSpace(t), ":")
	if !found || id == "" || len(id) > 64 || (k != KindPerson && k != KindGroup) {
		return Recipient{}, false
	}
	return Recipient{Kind: k, ID: id}, true
}

func encodeRecipients(rs []Recipient) string {
	if len(rs) == 0 {
		return "[]"
	}
	for i := range rs {
		rs[i].Members = 0
	}
	b, _ := json.Marshal(rs)
	return string(b)
}

func decodeRecipients(s string) []Recipient {
	var rs []Recipient
	_ = json.Unmarshal([]byte(s), &rs)
	return rs
}

// groupChoiceSQL lists the groups person $1 may write to as a whole: the groups the
// communication rules let them reach, and the per-class profile groups ("Responsables
// — 4e A") inside a structure profile group they reach ("Responsables — Collège"): a
// teacher reaching every parent of the school may write to the parents of one class.
const groupChoiceSQL = `SELECT g.id, g.name, g.kind FROM groups g
	WHERE NOT g.archived AND (g.id IN (` + commrules.ReachableGroupsSQL + `)
	OR (g.kind = 'class_profile' AND EXISTS (SELECT 1 FROM groups sp WHERE sp.structure_id = g.structure_id AND sp.kind = 'profile'
		AND sp.profile = g.profile AND sp.id IN (` + commrules.ReachableGroupsSQL + `))))`

// GroupChoices lists the groups the actor may write to, with their member counts.
func (s *Service) GroupChoices(ctx context.Context, a actor.Actor) ([]Recipient, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT c.id, c.name, (SELECT COUNT(*) FROM group_members m WHERE m.group_id = c.id)
		FROM (`+groupChoiceSQL+`) c ORDER BY c.kind = 'profile', c.name`, a.PersonID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Recipient
	for rows.Next() {
		r := Recipient{Kind: KindGroup}
		if err := rows.Scan(&r.ID, &r.Name, &r.Members); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// PersonChoices finds persons the actor may write to whose names or logins start
// with the words of text (at most limit).
func (s *Service) PersonChoices(ctx context.Context, a actor.Actor, text string, limit int) ([]Recipient, error) {
	words := strings.Fields(directory.Fold(text))
	if len(words) == 0 {
		return nil, nil
	}
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	args := []any{a.PersonID, words[0], words[0] + "\x7f"}
	q := `SELECT p.id, p.first_name, p.last_name FROM persons p WHERE p.id <> $1 AND p.state <> 'removed'
		AND ((p.last_key >= $2 AND p.last_key < $3) OR (p.first_key >= $2 AND p.first_key < $3) OR (p.login >= $2 AND p.login < $3))`
	for i, w := range words[1:] {
		if i >= 3 {
			break
		}
		args = append(args, "%"+w+"%")
		n := len(args)
		q += ` AND (p.last_key LIKE $` + strconv.Itoa(n) + ` OR p.first_key LIKE $` + strconv.Itoa(n) + `)`
	}
	q += ` AND p.id IN (` + commrules.VisibleSQL + `) ORDER BY p.last_key, p.first_key, p.id LIMIT ` + strconv.Itoa(limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Recipient
	for rows.Next() {
		var id, first, last string
		if err := rows.Scan(&id, &first, &last); err != nil {
			return nil, err
		}
		out = append(out, Recipient{Kind: KindPerson, ID: id, Name: displayName(first, last)})
	}
	return out, rows.Err()
}

func displayName(first, last string) string {
	return strings.TrimSpace(first + " " + strings.ToUpper(last))
}

// resolve checks that the actor may write to each recipient under the communication
// rules and fills in their names; duplicates are dropped. A recipient the actor may
// not write to is an error naming the field.
func (s *Service) resolve(ctx context.Context, q db.Querier, a actor.Actor, field string, in []Recipient) ([]Recipient, error) {
	var out []Recipient
	seen := map[string]bool{}
	for _, r := range in {
		if seen[r.Token()] {
			continue
		}
		seen[r.Token()] = true
		var err error
		switch r.Kind {
		case KindPerson:
			var first, last string
			err = q.QueryRowContext(ctx, `SELECT first_name, last_name FROM persons WHERE id=$1`, r.ID).Scan(&first, &last)
			if err == nil {
				r.Name = displayName(first, last)
				var ok bool
				if ok, err = s.comm.MayWrite(ctx, a.PersonID, r.ID); err == nil && !ok {
					return nil, actor.Invalid(field, "messagerie.error.recipient_forbidden")
				}
			}
		case KindGroup:
			err = q.QueryRowContext(ctx, `SELECT c.name FROM (`+groupChoiceSQL+`) c WHERE c.id = $2`, a.PersonID, r.ID).Scan(&r.Name)
			if errors.Is(err, sql.ErrNoRows) {
				return nil, actor.Invalid(field, "messagerie.error.recipient_forbidden")
			}
		default:
			return nil, actor.Invalid(field, "messagerie.error.recipient_forbidden")
		}
		if errors.Is(err, sql.ErrNoRows) {
			return nil, actor.Invalid(field, "messagerie.error.recipient_unknown")
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// allowedOnly keeps the recipients the actor may write to (replies to all, where
// some of the first message's recipients may be out of the replier's reach).
func (s *Service) allowedOnly(ctx context.Context, a actor.Actor, in []Recipient) []Recipient {
	var out []Recipient
	for _, r := range in {
		if r.Kind == KindPerson && r.ID == a.PersonID {
			continue
		}
		if res, err := s.resolve(ctx, s.db, a, "to", []Recipient{r}); err == nil {
			out = append(out, res...)
		}
	}
	return out
}

// Describe fills in the names of recipients for display (a form given back after an
// error); unknown ones are dropped. It grants nothing: sends check the rules.
func (s *Service) Describe(ctx context.Context, in []Recipient) []Recipient {
	var out []Recipient
	for _, r := range in {
		var err error
		switch r.Kind {
		case KindPerson:
			r.Name, err = s.personName(ctx, s.db, r.ID)
		case KindGroup:
			err = s.db.QueryRowContext(ctx, `SELECT name FROM groups WHERE id=$1`, r.ID).Scan(&r.Name)
		default:
			continue
		}
		if err == nil {
			out = append(out, r)
		}
	}
	return out
}
