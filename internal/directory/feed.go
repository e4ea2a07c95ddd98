package directory

import (
	"context"
	"database/sql"
	"hash/maphash"
	"strconv"

	"github.com/preau-ent/preau/internal/platform/db"
)

// StateRemoved is the state of a person who left the feeds (missing from a full
// export, deleted by a delta) and whose grace period is over: like a blocked account
// it cannot log in, and it is purged after a second period. persons.removed_at says
// since when the person is missing; persons.removed_state keeps the state to give
// back if the person returns.
const StateRemoved = "removed"

// SchoolYearNow names the current school year by the directory's clock: the one
// CreateClassTx gives the classes it creates.
func (s *Service) SchoolYearNow() string { return SchoolYear(s.now()) }

// RebuildPersons recomputes the automatic memberships of the persons that the
// sub-query idsSQL (one column of person ids, arguments args) lists, with the same
// set-based rules as RebuildAll restricted to them: for feeds that changed a part of
// a large directory, where RebuildAll would rewrite every membership and Rebuild
// would cost round trips per person. idsSQL is code, never user input; "" stands for
// every person, a plain join cheaper than a list of them all.
//
// When some of these persons already have automatic memberships, the memberships
// due are computed in group_members_wanted first and only the difference is
// written: a nightly delta touches a few thousand persons whose memberships nearly
// all stay, and deleting then inserting them again was most of its time in the
// database. When none has any yet (a directory filled in bulk, as the demo's), they
// are inserted directly. (An AAF import's first import computes them itself.)
func (s *Service) RebuildPersons(ctx context.Context, q db.Querier, idsSQL string, args ...any) error {
	among := "true"
	if idsSQL != "" {
		among = `person_id IN (` + idsSQL + `)`
	}
	var existing int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM group_members WHERE source = 'auto' AND `+among+` LIMIT 1) x`, args...).Scan(&existing)
	if err != nil {
		return err
	}
	into := `group_members(group_id, person_id, source) SELECT group_id, person_id, 'auto' FROM (`
	if existing > 0 {
		into = `group_members_wanted(group_id, person_id) SELECT group_id, person_id FROM (`
	}
	// Inserted directly (possibly millions of rows), in key order where that pays;
	// the work table of the other case is written in key order below.
	order := ""
	if existing == 0 {
		order = s.db.Dialect.InKeyOrder("group_id, person_id")
	}
	for _, rule := range autoMembershipRules(idsSQL) {
		if _, err := q.ExecContext(ctx, s.db.Dialect.IgnoringConflicts(`INSERT INTO `+into+rule+`) r WHERE true`+order+
			` ON CONFLICT DO NOTHING`), args...); err != nil {
			return err
		}
	}
	if existing == 0 {
		return nil
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM group_members WHERE source = 'auto' AND `+among+`
		AND NOT EXISTS (SELECT 1 FROM group_members_wanted w WHERE w.group_id = group_members.group_id AND w.person_id = group_members.person_id)`, args...); err != nil {
		return err
	}
	// A direct membership stays direct (ON CONFLICT): a feed or an administrator put
	// the person there. In key order, the rows of one group go to the same pages of
	// the primary key one after the other (SQLite reads the work table in that order
	// anyway).
	for _, st := range []string{
		s.db.Dialect.IgnoringConflicts(`INSERT INTO group_members(group_id, person_id, source) SELECT group_id, person_id, 'auto' FROM group_members_wanted
		 WHERE true ORDER BY group_id, person_id ON CONFLICT DO NOTHING`),
		`DELETE FROM group_members_wanted`,
	} {
		if _, err := q.ExecContext(ctx, st); err != nil {
			return err
		}
	}
	return nil
}

// autoMembershipRules are the rules of automatic membership, each a SELECT of (group
// id, person id): a person is in their structures' group of their profile, in the
// direction group where they hold DIR, in their class's pupils group, in their
// children's classes' parents groups and in the teachers group of the classes they
// teach. With idsSQL, only for the persons it lists ("" : everyone). autoMembershipSQL
// says the same for one person.
func autoMembershipRules(idsSQL string) []string {
	among := func(col string) string {
		if idsSQL == "" {
			return "true"
		}
		return col + " IN (" + idsSQL + ")"
	}
	// The parents of a class's pupils: from the listed parents' links when there is
	// a list; for everyone, from the classes' memberships, so that the rows come out
	// class by class, in the order of group_members' key, and the statement needs no
	// index of memberships by person (a directory filled in bulk may build it
	// afterwards).
	parentsRule := `SELECT g.id AS group_id, l.parent_id AS person_id FROM person_links l CROSS JOIN group_members m CROSS JOIN groups g
		 WHERE m.person_id = l.child_id AND m.source = 'direct'
		 AND g.class_id = m.group_id AND g.kind = 'class_profile' AND g.profile = 'Responsable' AND ` + among("l.parent_id")
	if idsSQL == "" {
		parentsRule = `SELECT g.id AS group_id, l.parent_id AS person_id FROM group_members m CROSS JOIN groups g CROSS JOIN person_links l
		 WHERE m.source = 'direct' AND g.class_id = m.group_id AND g.kind = 'class_profile' AND g.profile = 'Responsable'
		 AND l.child_id = m.person_id`
	}
	// CROSS JOIN fixes SQLite's join order, the one that follows the keys from the
	// person's side. Without statistics (a first import into a new database), SQLite
	// took the groups first and, for each of thousands of profile groups, read every
	// person of that profile. PostgreSQL reads CROSS JOIN ... WHERE as a plain join.
	return []string{
		`SELECT g.id AS group_id, ps.person_id FROM person_structures ps CROSS JOIN persons p CROSS JOIN groups g
		 WHERE p.id = ps.person_id AND g.structure_id = ps.structure_id AND g.kind = 'profile' AND g.profile = p.profile
		 AND ` + among("ps.person_id"),
		`SELECT g.id AS group_id, f.person_id FROM person_functions f CROSS JOIN groups g
		 WHERE g.structure_id = f.structure_id AND g.kind = 'profile' AND g.profile = 'Direction' AND f.code = 'DIR'
		 AND ` + among("f.person_id"),
		`SELECT g.id AS group_id, m.person_id FROM group_members m CROSS JOIN persons p CROSS JOIN groups g
		 WHERE m.source = 'direct' AND p.id = m.person_id AND p.profile = 'Eleve'
		 AND g.class_id = m.group_id AND g.kind = 'class_profile' AND g.profile = 'Eleve' AND ` + among("m.person_id"),
		parentsRule,
		`SELECT DISTINCT g.id AS group_id, t.teacher_id AS person_id FROM teaching t CROSS JOIN groups g
		 WHERE g.class_id = t.group_id AND g.kind = 'class_profile' AND g.profile = 'Enseignant' AND ` + among("t.teacher_id"),
	}
}

// LoginAllocator hands out the logins of persons a feed creates in bulk, by the same
// rule as InsertPerson (prenom.nom, then prenom.nom2, prenom.nom3...), without a
// round trip per person once many are created: after loadAfter look-ups it reads
// every login once and works from memory. It remembers the logins it handed out, so
// that persons not yet written (batched inserts) do not get the same one. Use one
// allocator per transaction.
//
// A million logins are held as 64-bit hashes (a few bytes each rather than a string
// and a map entry): two logins with the same hash would only make the second one take
// a number it did not need, once in billions of imports.
type LoginAllocator struct {
	q       db.Querier
	seed    maphash.Seed
	taken   map[uint64]struct{} // hashes of the logins in use
	next    map[string]int      // base → the first number worth trying, for bases in use
	queried map[string]bool     // bases looked up before loading every login
	loaded  bool
	lookups int
}

// loadAfter is how many single look-ups are worth doing before reading all logins.
const loadAfter = 2000

// NewLoginAllocator returns an allocator working through q (the feed's transaction).
func NewLoginAllocator(q db.Querier) *LoginAllocator {
	return &LoginAllocator{q: q, seed: maphash.MakeSeed(), taken: map[uint64]struct{}{}, next: map[string]int{}, queried: map[string]bool{}}
}

func (a *LoginAllocator) isTaken(login string) bool {
	_, ok := a.taken[maphash.String(a.seed, login)]
	return ok
}

func (a *LoginAllocator) take(login string) { a.taken[maphash.String(a.seed, login)] = struct{}{} }

// Preload reads every login at once: for a feed that knows it will create many
// persons (a full export), one query instead of a look-up per name first.
func (a *LoginAllocator) Preload(ctx context.Context) error {
	if err := a.read(ctx, `SELECT login FROM persons`); err != nil {
		return err
	}
	a.loaded = true
	return nil
}

// read marks as taken the logins a query returns, row by row.
func (a *LoginAllocator) read(ctx context.Context, query string, args ...any) error {
	rows, err := a.q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var l sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&l); err != nil {
			return err
		}
		a.taken[maphash.Bytes(a.seed, l)] = struct{}{}
	}
	return rows.Err()
}

// Next returns a free login for a person named first last, and reserves it.
func (a *LoginAllocator) Next(ctx context.Context, first, last string) (string, error) {
	base := LoginBase(first, last)
	if !a.loaded {
		a.lookups++
		if a.lookups > loadAfter {
			if err := a.Preload(ctx); err != nil {
				return "", err
			}
			a.queried = nil
		} else if !a.queried[base] {
			// The same range query as freeLogin, once per base.
			if err := a.read(ctx, `SELECT login FROM persons WHERE login >= $1 AND login < $2`, base, base+"\x7f"); err != nil {
				return "", err
			}
			a.queried[base] = true
		}
	}
	if !a.isTaken(base) {
		a.take(base)
		return base, nil
	}
	n, ok := a.next[base]
	if !ok {
		n = 2
	}
	for ; ; n++ {
		if l := base + strconv.Itoa(n); !a.isTaken(l) {
			a.next[base] = n + 1
			a.take(l)
			return l, nil
		}
	}
}
