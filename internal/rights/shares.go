package rights

import (
	"context"
	"database/sql"
	"time"

	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
)

// Level is a share level; a higher level includes the lower ones.
type Level int

const (
	None Level = iota
	Read
	Contribute
	Manage
)

// String names the level as stored.
func (l Level) String() string {
	return [...]string{"none", "read", "contribute", "manage"}[l]
}

// ParseLevel reads a stored or submitted level name.
func ParseLevel(s string) (Level, bool) {
	switch s {
	case "read":
		return Read, true
	case "contribute":
		return Contribute, true
	case "manage":
		return Manage, true
	}
	return None, false
}

// Grantee is a person or a group.
type Grantee struct {
	Kind string // "person" or "group"
	ID   string
}

// Resource names a shared resource: the application's type and its id, and its owner,
// who always manages it.
type Resource struct {
	Type, ID, OwnerID string
}

// Share is one grant on a resource.
type Share struct {
	Grantee
	Level     Level
	GrantedBy string
	GrantedAt time.Time
}

// LevelOf returns the highest level a person holds on a resource, directly or through
// a group they belong to; the owner manages.
func (s *Service) LevelOf(ctx context.Context, personID string, r Resource) (Level, error) {
	if personID != "" && personID == r.OwnerID {
		return Manage, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT level FROM shares WHERE resource_type=$1 AND resource_id=$2 AND (
			(grantee_kind='person' AND grantee_id=$3) OR
			(grantee_kind='group' AND grantee_id IN (SELECT group_id FROM group_members WHERE person_id=$3)))`,
		r.Type, r.ID, personID)
	if err != nil {
		return None, err
	}
	defer rows.Close()
	best := None
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return None, err
		}
		if l, ok := ParseLevel(name); ok && l > best {
			best = l
		}
	}
	return best, rows.Err()
}

// Can tells whether the actor holds at least level on the resource.
func (s *Service) Can(ctx context.Context, a actor.Actor, r Resource, level Level) (bool, error) {
	if a.System {
		return true, nil
	}
	l, err := s.LevelOf(ctx, a.PersonID, r)
	return l >= level, err
}

// SetShare grants (or, with level None, removes) a share. The actor must manage
// the resource. It runs in q so that an application can share inside its own transaction.
func (s *Service) SetShare(ctx context.Context, a actor.Actor, r Resource, g Grantee, level Level) error {
	if g.Kind != "person" && g.Kind != "group" {
		return actor.Invalid("grantee", "rights.bad_grantee")
	}
	ok, err := s.Can(ctx, a, r, Manage)
	if err != nil {
		return err
	}
	if !ok {
		return actor.ErrForbidden
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if level == None {
			_, err = tx.ExecContext(ctx, `DELETE FROM shares WHERE resource_type=$1 AND resource_id=$2 AND grantee_kind=$3 AND grantee_id=$4`, r.Type, r.ID, g.Kind, g.ID)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO shares(resource_type, resource_id, grantee_kind, grantee_id, level, granted_by, granted_at) VALUES ($1,$2,$3,$4,$5,$6,$7)
				ON CONFLICT (resource_type, resource_id, grantee_kind, grantee_id) DO UPDATE SET level=excluded.level, granted_by=excluded.granted_by, granted_at=excluded.granted_at`,
				r.Type, r.ID, g.Kind, g.ID, level.String(), a.PersonID, time.Now().UnixMilli())
		}
		if err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: "share.set", TargetType: r.Type, TargetID: r.ID, Success: true,
			Details: map[string]string{"grantee": g.Kind + ":" + g.ID, "level": level.String()}})
	})
}

// Shares lists the grants on a resource.
func (s *Service) Shares(ctx context.Context, r Resource) ([]Share, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT grantee_kind, grantee_id, level, granted_by, granted_at FROM shares WHERE resource_type=$1 AND resource_id=$2 ORDER BY grantee_kind, grantee_id`, r.Type, r.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Share
	for rows.Next() {
		var sh Share
		var level string
		var at int64
		if err := rows.Scan(&sh.Kind, &sh.ID, &level, &sh.GrantedBy, &at); err != nil {
			return nil, err
		}
		sh.Level, _ = ParseLevel(level)
		sh.GrantedAt = time.UnixMilli(at)
		out = append(out, sh)
	}
	return out, rows.Err()
}

// SharedWith lists the ids of resources of a type the person may reach at level or above,
// directly or through their groups (owned resources are the application's to add).
func (s *Service) SharedWith(ctx context.Context, q db.Querier, personID, resourceType string, level Level) ([]string, error) {
	var levels []any
	for l := level; l <= Manage; l++ {
		levels = append(levels, l.String())
	}
	args := append([]any{resourceType, personID}, levels...)
	return db.Strings(ctx, q, `SELECT DISTINCT resource_id FROM shares WHERE resource_type=$1 AND level IN (`+db.In(3, len(levels))+`) AND (
			(grantee_kind='person' AND grantee_id=$2) OR
			(grantee_kind='group' AND grantee_id IN (SELECT group_id FROM group_members WHERE person_id=$2))) ORDER BY resource_id`, args...)
}
