package directory

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/preau-ent/preau/internal/commrules"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
)

// SearchQuery filters the annuaire.
type SearchQuery struct {
	Text        string // words matched against the start of first names, last names and logins
	StructureID string
	Profile     string
	Limit       int
	Offset      int
}

// Search returns the persons matching q that the actor may see: the persons they may
// reach under the communication rules, plus everyone in the structures they
// administer. An empty text lists in alphabetical order.
func (s *Service) Search(ctx context.Context, a actor.Actor, q SearchQuery) ([]Person, error) {
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	var where []string
	args := []any{a.PersonID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	words := strings.Fields(Fold(q.Text))
	if len(words) > 5 {
		words = words[:5]
	}
	for i, w := range words {
		if i == 0 {
			// A range on the indexed keys: the engine can use the indexes for it.
			lo, hi := arg(w), arg(w+"\x7f")
			where = append(where, fmt.Sprintf("((p.last_key >= %[1]s AND p.last_key < %[2]s) OR (p.first_key >= %[1]s AND p.first_key < %[2]s) OR (p.login >= %[1]s AND p.login < %[2]s))", lo, hi))
			continue
		}
		like := arg("%" + w + "%")
		where = append(where, fmt.Sprintf("(p.last_key LIKE %[1]s OR p.first_key LIKE %[1]s)", like))
	}
	if q.Profile != "" {
		where = append(where, "p.profile = "+arg(q.Profile))
	}
	if q.StructureID != "" {
		where = append(where, "p.id IN (SELECT person_id FROM person_structures WHERE structure_id = "+arg(q.StructureID)+")")
	}
	all, scope, err := s.rights.AdminScope(ctx, a)
	if err != nil {
		return nil, err
	}
	if !all {
		visible := "p.id = $1 OR p.id IN (" + commrules.VisibleSQL + ")"
		if len(scope) > 0 {
			visible += " OR p.id IN (SELECT person_id FROM person_structures WHERE structure_id IN (" + db.In(len(args)+1, len(scope)) + "))"
			for _, sid := range scope {
				args = append(args, sid)
			}
		}
		where = append(where, "("+visible+")")
	} else {
		where = append(where, "$1 = $1")
	}
	cond := strings.Join(where, " AND ")
	query := `SELECT ` + personCols + ` FROM persons p WHERE ` + cond
	if len(words) > 0 && s.db.Dialect == db.Postgres {
		// The matches first, then their order: otherwise PostgreSQL walks the index
		// of last names in order until it has a page of matches, which for a common
		// name in the middle of the alphabet meant most of the index (at a million
		// persons, "martin" took 0.75–1.3 s and "dup" 1.2 s; found first, 30–45 ms,
		// and a prefix of one or two letters 150–160 ms). A list without words keeps
		// the walk: its first page comes from the start of the index. SQLite finds
		// the matches first by itself, and was slower told to.
		query = `WITH found AS MATERIALIZED (SELECT p.* FROM persons p WHERE ` + cond + `) SELECT ` + personCols + ` FROM found p`
	}
	query += fmt.Sprintf(` ORDER BY p.last_key, p.first_key, p.id LIMIT %d OFFSET %d`, q.Limit, q.Offset)
	return s.queryPersons(ctx, query, args...)
}

// MayView tells whether the actor may see a person's directory card.
func (s *Service) MayView(ctx context.Context, a actor.Actor, personID string) (bool, error) {
	if a.System || a.PersonID == personID {
		return true, nil
	}
	if ok, err := s.CanAdminPerson(ctx, a, personID); ok || err != nil {
		return ok, err
	}
	return s.comm.MayWrite(ctx, a.PersonID, personID)
}

// ClassRef is a class or group with the school it belongs to, for pages.
type ClassRef struct {
	Group
	StructureName string
	Subjects      []string // for a teacher: what they teach there
}

// Child is a responsable's child with their classes.
type Child struct {
	Person
	Classes []ClassRef
}

// Situation is what the dashboard and "Mon compte" show of a person: where they are,
// what they belong to, whom they are responsible for.
type Situation struct {
	Structures []Structure
	Functions  []Function
	Classes    []ClassRef // a pupil's classes and groups; a teacher's taught classes and groups
	Groups     []ClassRef // hand-made groups
	Children   []Child    // a responsable's children
	Parents    []Person   // a pupil's responsables
}

// SituationOf assembles a person's situation (current school year only).
func (s *Service) SituationOf(ctx context.Context, p Person) (Situation, error) {
	var sit Situation
	// Structures and the functions held in them in one round trip: the dashboard
	// asks for this on every visit.
	rows, err := s.db.QueryContext(ctx, `SELECT `+structureCols+`, COALESCE(f.code,''), COALESCE(f.label,'')
		FROM structures JOIN person_structures ps ON ps.structure_id = structures.id
		LEFT JOIN person_functions f ON f.person_id = ps.person_id AND f.structure_id = ps.structure_id
		WHERE ps.person_id = $1 ORDER BY name, structures.id, f.code`, p.ID)
	if err != nil {
		return sit, err
	}
	for rows.Next() {
		var f Function
		st, err := scanStructure(rows, &f.Code, &f.Label)
		if err != nil {
			rows.Close()
			return sit, err
		}
		if n := len(sit.Structures); n == 0 || sit.Structures[n-1].ID != st.ID {
			sit.Structures = append(sit.Structures, st)
		}
		if f.Code != "" {
			f.StructureID = st.ID
			sit.Functions = append(sit.Functions, f)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return sit, err
	}
	names := map[string]string{}
	for _, st := range sit.Structures {
		names[st.ID] = st.Name
	}
	all, err := s.classesOf(ctx, p.ID, names)
	if err != nil {
		return sit, err
	}
	for _, c := range all {
		if c.Kind == GroupManual {
			sit.Groups = append(sit.Groups, c)
		} else {
			sit.Classes = append(sit.Classes, c)
		}
	}
	switch p.Profile {
	case Responsable:
		children, err := s.queryPersons(ctx, `SELECT `+personCols+` FROM persons p JOIN person_links l ON l.child_id = p.id WHERE l.parent_id=$1 ORDER BY p.first_key`, p.ID)
		if err != nil {
			return sit, err
		}
		for _, c := range children {
			classes, err := s.classesOf(ctx, c.ID, nil)
			if err != nil {
				return sit, err
			}
			sit.Children = append(sit.Children, Child{Person: c, Classes: classes})
		}
	case Eleve:
		if sit.Parents, err = s.queryPersons(ctx, `SELECT `+personCols+` FROM persons p JOIN person_links l ON l.parent_id = p.id WHERE l.child_id=$1 ORDER BY p.last_key, p.first_key`, p.ID); err != nil {
			return sit, err
		}
	}
	return sit, nil
}

// classesOf lists the current classes and groups a person belongs to or teaches.
func (s *Service) classesOf(ctx context.Context, personID string, names map[string]string) ([]ClassRef, error) {
	// Two indexed lookups (memberships, teaching) rather than one OR over every group.
	rows, err := s.db.QueryContext(ctx, `SELECT `+groupCols+`, st.name, '' FROM group_members m
		JOIN groups g ON g.id = m.group_id JOIN structures st ON st.id = g.structure_id
		WHERE m.person_id = $1 AND m.source = 'direct' AND NOT g.archived AND g.kind IN ('class','group','manual')
		UNION ALL
		SELECT `+groupCols+`, st.name, COALESCE(sub.name, '') FROM teaching t
		JOIN groups g ON g.id = t.group_id JOIN structures st ON st.id = g.structure_id
		LEFT JOIN subjects sub ON sub.id = t.subject_id
		WHERE t.teacher_id = $1 AND NOT g.archived
		ORDER BY 3, 5`, personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ClassRef
	index := map[string]int{}
	for rows.Next() {
		var c ClassRef
		var subject string
		if err := scanGroup(rows, &c.Group, &c.StructureName, &subject); err != nil {
			return nil, err
		}
		if i, ok := index[c.ID]; ok {
			if subject != "" {
				out[i].Subjects = append(out[i].Subjects, subject)
			}
			continue
		}
		if subject != "" {
			c.Subjects = []string{subject}
		}
		index[c.ID] = len(out)
		out = append(out, c)
	}
	for i := range out {
		sort.Strings(out[i].Subjects)
	}
	return out, rows.Err()
}

// Subjects lists a structure's subjects.
func (s *Service) Subjects(ctx context.Context, structureID string) ([]Subject, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, structure_id, code, name FROM subjects WHERE structure_id=$1 ORDER BY name`, structureID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Subject
	for rows.Next() {
		var sub Subject
		if err := rows.Scan(&sub.ID, &sub.StructureID, &sub.Code, &sub.Name); err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// CreateSubject adds a subject to a structure the actor administers.
func (s *Service) CreateSubject(ctx context.Context, a actor.Actor, sub Subject) (Subject, error) {
	sub.Code, sub.Name = strings.ToUpper(strings.TrimSpace(sub.Code)), strings.TrimSpace(sub.Name)
	if sub.Name == "" || sub.Code == "" {
		return sub, actor.Invalid("name", "directory.name_required")
	}
	if err := s.mustAdmin(ctx, a, sub.StructureID); err != nil {
		return sub, err
	}
	sub.ID = newID()
	_, err := s.db.ExecContext(ctx, `INSERT INTO subjects(id, structure_id, code, name) VALUES ($1,$2,$3,$4)`, sub.ID, sub.StructureID, sub.Code, sub.Name)
	if db.IsUniqueViolation(err) {
		return sub, actor.Invalid("code", "directory.subject_code_taken")
	}
	if err == nil {
		s.audit.Write(ctx, s.entry(a, "subject.create", "subject", sub.ID, sub.StructureID, map[string]string{"code": sub.Code}))
	}
	return sub, err
}
