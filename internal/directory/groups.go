package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/commrules"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
)

// SchoolYear names the school year of a date: from August on, "2026-2027".
func SchoolYear(t time.Time) string {
	y := t.Year()
	if t.Month() < time.August {
		y--
	}
	return fmt.Sprintf("%d-%d", y, y+1)
}

// GroupInput creates a class, a teaching group or a hand-made group.
type GroupInput struct {
	StructureID string
	Kind        string // GroupClass, GroupTeaching or GroupManual
	Code        string
	Name        string
}

// CreateGroup adds a class or group to a structure the actor administers. A class gets
// its own profile groups (pupils, parents, teachers of the class) and the default rules:
// the class's pupils reach each other, their teachers, the staff and the direction; the
// class's parents reach those teachers, the staff and the direction.
func (s *Service) CreateGroup(ctx context.Context, a actor.Actor, in GroupInput) (Group, error) {
	in.Name = strings.TrimSpace(in.Name)
	in.Code = strings.TrimSpace(in.Code)
	if in.Name == "" {
		return Group{}, actor.Invalid("name", "directory.name_required")
	}
	if len(in.Name) > 120 || len(in.Code) > 60 {
		return Group{}, actor.Invalid("name", "directory.too_long")
	}
	if in.Code == "" {
		in.Code = in.Name
	}
	if in.Kind != GroupClass && in.Kind != GroupTeaching && in.Kind != GroupManual {
		return Group{}, actor.Invalid("kind", "directory.bad_group_kind")
	}
	if err := s.mustAdmin(ctx, a, in.StructureID); err != nil {
		return Group{}, err
	}
	st, err := s.Structure(ctx, in.StructureID)
	if err != nil {
		return Group{}, err
	}
	if in.Kind == GroupClass && !IsSchool(st.Kind) {
		return Group{}, actor.Invalid("kind", "directory.classes_in_schools")
	}
	var g Group
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if g, err = s.CreateClassTx(ctx, tx, in.StructureID, in.Kind, in.Code, in.Name); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "group.create", "group", g.ID, g.StructureID, map[string]string{"name": g.Name, "kind": g.Kind}))
	})
	return g, err
}

var classProfileRelations = map[string]string{Eleve: commrules.Both, Responsable: commrules.Incoming, Enseignant: commrules.Outgoing}

const groupCols = `g.id, g.structure_id, g.kind, g.code, g.name, g.profile, COALESCE(g.class_id,''), g.communicate, g.school_year, g.archived`

func scanGroup(sc interface{ Scan(...any) error }, g *Group, extra ...any) error {
	return sc.Scan(append([]any{&g.ID, &g.StructureID, &g.Kind, &g.Code, &g.Name, &g.Profile, &g.ClassID, &g.Communicate, &g.SchoolYear, &g.Archived}, extra...)...)
}

// Group returns one group.
func (s *Service) Group(ctx context.Context, id string) (Group, error) {
	var g Group
	err := scanGroup(s.db.QueryRowContext(ctx, `SELECT `+groupCols+` FROM groups g WHERE g.id=$1`, id), &g)
	if errors.Is(err, sql.ErrNoRows) {
		return g, actor.ErrNotFound
	}
	return g, err
}

// Groups lists a structure's groups of the given kinds (all kinds if none), with
// their member counts, classes first, archived last.
func (s *Service) Groups(ctx context.Context, structureID string, kinds ...string) ([]Group, error) {
	q := `SELECT ` + groupCols + `, (SELECT COUNT(*) FROM group_members m WHERE m.group_id=g.id) FROM groups g WHERE g.structure_id=$1`
	args := []any{structureID}
	if len(kinds) > 0 {
		q += ` AND g.kind IN (` + db.In(2, len(kinds)) + `)`
		for _, k := range kinds {
			args = append(args, k)
		}
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY g.archived, CASE g.kind WHEN 'class' THEN 0 WHEN 'group' THEN 1 WHEN 'manual' THEN 2 ELSE 3 END, g.name`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Group
	for rows.Next() {
		var g Group
		if err := scanGroup(rows, &g, &g.Members); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// AddMember puts a person in a class or group of a structure the actor administers.
// A pupil belongs to one class per school year: adding them to a class moves them.
func (s *Service) AddMember(ctx context.Context, a actor.Actor, groupID, personID string) error {
	g, err := s.Group(ctx, groupID)
	if err != nil {
		return err
	}
	if g.Kind != GroupClass && g.Kind != GroupTeaching && g.Kind != GroupManual {
		return actor.Invalid("group", "directory.group_automatic")
	}
	if g.Archived {
		return actor.Invalid("group", "directory.group_archived")
	}
	p, err := s.Person(ctx, personID)
	if err != nil {
		return err
	}
	if err := s.mustAttach(ctx, a, personID, g.StructureID); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if g.Kind == GroupClass && p.Profile == Eleve {
			if _, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE person_id=$1 AND source='direct' AND group_id IN
				(SELECT id FROM groups WHERE kind='class' AND NOT archived AND structure_id=$2)`, personID, g.StructureID); err != nil {
				return err
			}
		}
		if g.Kind == GroupClass && p.Profile == Enseignant {
			// A teacher is linked to a class by teaching it, not by membership.
			if _, err := tx.ExecContext(ctx, `INSERT INTO teaching(teacher_id, group_id, subject_id) VALUES ($1,$2,'') ON CONFLICT DO NOTHING`, personID, groupID); err != nil {
				return err
			}
		} else if _, err := tx.ExecContext(ctx, `INSERT INTO group_members(group_id, person_id, source) VALUES ($1,$2,'direct')
			ON CONFLICT (group_id, person_id) DO UPDATE SET source='direct'`, groupID, personID); err != nil {
			return err
		}
		if err := ensureStructure(ctx, tx, personID, g.StructureID); err != nil {
			return err
		}
		if err := s.rebuildFamily(ctx, tx, personID); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "group.add_member", "group", groupID, g.StructureID, map[string]string{"person": personID}))
	})
}

// RemoveMember takes a person out of a class or group.
func (s *Service) RemoveMember(ctx context.Context, a actor.Actor, groupID, personID string) error {
	g, err := s.Group(ctx, groupID)
	if err != nil {
		return err
	}
	if err := s.mustAdmin(ctx, a, g.StructureID); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE group_id=$1 AND person_id=$2 AND source='direct'`, groupID, personID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM teaching WHERE group_id=$1 AND teacher_id=$2`, groupID, personID); err != nil {
			return err
		}
		if err := s.rebuildFamily(ctx, tx, personID); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "group.remove_member", "group", groupID, g.StructureID, map[string]string{"person": personID}))
	})
}

// Members lists the persons of a group, for whoever may see them: administrators of
// the structure see everyone; others see the members they may reach, and themselves.
func (s *Service) Members(ctx context.Context, a actor.Actor, groupID string) ([]Person, error) {
	g, err := s.Group(ctx, groupID)
	if err != nil {
		return nil, err
	}
	admin, err := s.rights.CanAdminStructure(ctx, a, g.StructureID)
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + personCols + ` FROM persons p WHERE p.id IN (SELECT person_id FROM group_members WHERE group_id=$2
		UNION SELECT teacher_id FROM teaching WHERE group_id=$2)`
	if !admin {
		q += ` AND (p.id = $1 OR p.id IN (` + commrules.VisibleSQL + `))`
	} else {
		q += ` AND $1 = $1`
	}
	return s.queryPersons(ctx, q+` ORDER BY p.last_key, p.first_key`, a.PersonID, groupID)
}
