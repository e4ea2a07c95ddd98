package directory

import (
	"context"
	"database/sql"
	"errors"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/commrules"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
)

// PersonInput creates or changes a person.
type PersonInput struct {
	ExternalID   string
	FirstName    string
	LastName     string
	Profile      string
	Email        string
	BirthDate    string   // yyyy-mm-dd or empty
	StructureIDs []string // at least one
	Functions    []Function
}

func (in *PersonInput) validate() error {
	in.FirstName = strings.TrimSpace(in.FirstName)
	in.LastName = strings.TrimSpace(in.LastName)
	in.Email = strings.TrimSpace(in.Email)
	in.BirthDate = strings.TrimSpace(in.BirthDate)
	switch {
	case in.FirstName == "":
		return actor.Invalid("first_name", "directory.first_name_required")
	case in.LastName == "":
		return actor.Invalid("last_name", "directory.last_name_required")
	case len(in.FirstName) > 100 || len(in.LastName) > 100:
		return actor.Invalid("last_name", "directory.too_long")
	case !ValidProfile(in.Profile):
		return actor.Invalid("profile", "directory.bad_profile")
	case len(in.StructureIDs) == 0:
		return actor.Invalid("structure", "directory.structure_required")
	}
	if in.Email != "" {
		if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email {
			return actor.Invalid("email", "directory.bad_email")
		}
	}
	if in.BirthDate != "" {
		if _, err := time.Parse("2006-01-02", in.BirthDate); err != nil {
			return actor.Invalid("birth_date", "directory.bad_date")
		}
	}
	return nil
}

const personCols = `p.id, COALESCE(p.external_id,''), p.login, p.first_name, p.last_name, p.profile, p.email, p.birth_date, p.state, p.language, p.created_at, p.updated_at`

func scanPerson(sc interface{ Scan(...any) error }) (Person, error) {
	var p Person
	var c, u int64
	err := sc.Scan(&p.ID, &p.ExternalID, &p.Login, &p.FirstName, &p.LastName, &p.Profile, &p.Email, &p.BirthDate, &p.State, &p.Language, &c, &u)
	p.CreatedAt, p.UpdatedAt = time.UnixMilli(c), time.UnixMilli(u)
	return p, err
}

func (s *Service) queryPersons(ctx context.Context, q string, args ...any) ([]Person, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Person
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Person returns a person by id. It is the raw record: pages decide what they show.
func (s *Service) Person(ctx context.Context, id string) (Person, error) {
	p, err := scanPerson(s.db.QueryRowContext(ctx, `SELECT `+personCols+` FROM persons p WHERE p.id=$1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, actor.ErrNotFound
	}
	return p, err
}

// PersonByLogin returns a person by login (case-insensitive).
func (s *Service) PersonByLogin(ctx context.Context, login string) (Person, error) {
	p, err := scanPerson(s.db.QueryRowContext(ctx, `SELECT `+personCols+` FROM persons p WHERE p.login=$1`, strings.ToLower(strings.TrimSpace(login))))
	if errors.Is(err, sql.ErrNoRows) {
		return p, actor.ErrNotFound
	}
	return p, err
}

// PersonByExternalID returns a person by AAF jointure.
func (s *Service) PersonByExternalID(ctx context.Context, ext string) (Person, error) {
	p, err := scanPerson(s.db.QueryRowContext(ctx, `SELECT `+personCols+` FROM persons p WHERE p.external_id=$1`, ext))
	if errors.Is(err, sql.ErrNoRows) {
		return p, actor.ErrNotFound
	}
	return p, err
}

// CreatePerson adds a person to structures the actor administers, with a login
// prenom.nom made unique across the deployment. The account starts pending: the
// account service issues its activation code.
func (s *Service) CreatePerson(ctx context.Context, a actor.Actor, in PersonInput) (Person, error) {
	if err := in.validate(); err != nil {
		return Person{}, err
	}
	for _, sid := range in.StructureIDs {
		if err := s.mustAdmin(ctx, a, sid); err != nil {
			return Person{}, err
		}
	}
	var p Person
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = s.InsertPerson(ctx, tx, in)
		if err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "person.create", "person", p.ID, in.StructureIDs[0], map[string]string{"login": p.Login, "profile": p.Profile}))
	})
	return p, err
}

// InsertPerson writes a new person through q without checking rights: for feeds and
// the demo, which run as the system and audit in bulk.
func (s *Service) InsertPerson(ctx context.Context, q db.Querier, in PersonInput) (Person, error) {
	if err := in.validate(); err != nil {
		return Person{}, err
	}
	now := s.now()
	p := Person{ID: ids.New(), ExternalID: in.ExternalID, FirstName: in.FirstName, LastName: in.LastName, Profile: in.Profile,
		Email: in.Email, BirthDate: in.BirthDate, State: StatePending, CreatedAt: now, UpdatedAt: now}
	login, err := freeLogin(ctx, q, LoginBase(in.FirstName, in.LastName))
	if err != nil {
		return p, err
	}
	p.Login = login
	_, err = q.ExecContext(ctx, `INSERT INTO persons(id, external_id, login, first_name, last_name, first_key, last_key, profile, email, birth_date, state, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$12)`,
		p.ID, nullable(p.ExternalID), p.Login, p.FirstName, p.LastName, Fold(p.FirstName), Fold(p.LastName), p.Profile, p.Email, p.BirthDate, p.State, now.UnixMilli())
	if db.IsUniqueViolation(err) {
		return p, actor.Invalid("external_id", "directory.external_id_taken")
	}
	if err != nil {
		return p, err
	}
	for _, sid := range in.StructureIDs {
		if err := ensureStructure(ctx, q, p.ID, sid); err != nil {
			return p, err
		}
	}
	for _, f := range in.Functions {
		if _, err := q.ExecContext(ctx, `INSERT INTO person_functions(person_id, structure_id, code, label) VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING`,
			p.ID, f.StructureID, strings.ToUpper(f.Code), f.Label); err != nil {
			return p, err
		}
	}
	return p, s.rebuild(ctx, q, p.ID)
}

// freeLogin returns base, or base2, base3... whichever is free. Logins are unique in
// the table, so a concurrent creation that takes the same one fails and is retried
// by its caller's transaction.
func freeLogin(ctx context.Context, q db.Querier, base string) (string, error) {
	rows, err := q.QueryContext(ctx, `SELECT login FROM persons WHERE login >= $1 AND login < $2`, base, base+"\x7f")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	taken := map[string]bool{}
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return "", err
		}
		taken[l] = true
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if !taken[base] {
		return base, nil
	}
	for n := 2; ; n++ {
		if l := base + strconv.Itoa(n); !taken[l] {
			return l, nil
		}
	}
}

func ensureStructure(ctx context.Context, q db.Querier, personID, structureID string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO person_structures(person_id, structure_id) VALUES ($1,$2) ON CONFLICT DO NOTHING`, personID, structureID)
	return err
}

// UpdatePerson changes names, e-mail and birth date, by an administrator of one of the
// person's structures. The login does not change: people know it.
func (s *Service) UpdatePerson(ctx context.Context, a actor.Actor, id string, in PersonInput) error {
	old, err := s.Person(ctx, id)
	if err != nil {
		return err
	}
	in.Profile = old.Profile
	if len(in.StructureIDs) == 0 {
		in.StructureIDs = []string{"-"} // structures are not changed here
	}
	if err := in.validate(); err != nil {
		return err
	}
	sid, err := s.mustAdminPerson(ctx, a, id)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE persons SET first_name=$1, last_name=$2, first_key=$3, last_key=$4, email=$5, birth_date=$6, updated_at=$7 WHERE id=$8`,
			in.FirstName, in.LastName, Fold(in.FirstName), Fold(in.LastName), in.Email, in.BirthDate, s.now().UnixMilli(), id); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "person.update", "person", id, sid, nil))
	})
}

// mustAdminPerson checks that the actor administers one of the person's structures and
// returns that structure, so that the audit entry lands in the journal of the
// administrators who may read it.
func (s *Service) mustAdminPerson(ctx context.Context, a actor.Actor, personID string) (string, error) {
	all, scope, err := s.rights.AdminScope(ctx, a)
	if err != nil {
		return "", err
	}
	sids, err := s.PersonStructureIDs(ctx, personID)
	if err != nil {
		return "", err
	}
	for _, sid := range sids {
		if all || slices.Contains(scope, sid) {
			return sid, nil
		}
	}
	if all {
		return "", nil
	}
	return "", actor.ErrForbidden
}

// CanAdminPerson tells whether the actor administers one of the person's structures.
func (s *Service) CanAdminPerson(ctx context.Context, a actor.Actor, personID string) (bool, error) {
	_, err := s.mustAdminPerson(ctx, a, personID)
	if errors.Is(err, actor.ErrForbidden) {
		return false, nil
	}
	return err == nil, err
}

// mustAttach checks that the actor may attach the person to structureID (a class, a
// teaching, a function, the structure itself): they administer that structure, and
// the person is new (in no structure yet) or already under their administration. A
// local administrator cannot pull a pupil or a teacher of another school into theirs,
// which would give them that person's data; the feeds and the super administrators do.
func (s *Service) mustAttach(ctx context.Context, a actor.Actor, personID, structureID string) error {
	if err := s.mustAdmin(ctx, a, structureID); err != nil {
		return err
	}
	sids, err := s.PersonStructureIDs(ctx, personID)
	if err != nil || len(sids) == 0 {
		return err
	}
	_, err = s.mustAdminPerson(ctx, a, personID)
	return err
}

// SetState blocks or unblocks an account (pending accounts become active by activation).
func (s *Service) SetState(ctx context.Context, a actor.Actor, id, state string) error {
	if state != StateActive && state != StateBlocked {
		return actor.Invalid("state", "directory.bad_state")
	}
	sid, err := s.mustAdminPerson(ctx, a, id)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		// Unblocking a never-activated account puts it back to pending.
		res, err := tx.ExecContext(ctx, `UPDATE persons SET state = CASE WHEN $1='active' AND NOT EXISTS
			(SELECT 1 FROM credentials c WHERE c.person_id=persons.id AND c.password_hash<>'') THEN 'pending' ELSE $1 END, updated_at=$2 WHERE id=$3`,
			state, s.now().UnixMilli(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return actor.ErrNotFound
		}
		if state == StateBlocked {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE person_id=$1`, id); err != nil {
				return err
			}
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "person."+map[string]string{StateActive: "unblock", StateBlocked: "block"}[state], "person", id, sid, nil))
	})
}

// LinkParent records that parent is a responsable of child. The parent joins the
// child's structures.
func (s *Service) LinkParent(ctx context.Context, a actor.Actor, parentID, childID string) error {
	parent, err := s.Person(ctx, parentID)
	if err != nil {
		return err
	}
	child, err := s.Person(ctx, childID)
	if err != nil {
		return err
	}
	if parent.Profile != Responsable || child.Profile != Eleve {
		return actor.Invalid("parent", "directory.link_profiles")
	}
	sid, err := s.mustAdminPerson(ctx, a, childID)
	if err != nil {
		return err
	}
	// The parent joins the child's structures: the same rule as any attachment.
	if err := s.mustAttach(ctx, a, parentID, sid); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := LinkParentTx(ctx, tx, parentID, childID); err != nil {
			return err
		}
		if err := s.rebuild(ctx, tx, parentID); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "person.link_parent", "person", childID, sid, map[string]string{"parent": parentID}))
	})
}

// LinkParentTx writes the link and the parent's structures through q (feeds use it).
func LinkParentTx(ctx context.Context, q db.Querier, parentID, childID string) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO person_links(parent_id, child_id) VALUES ($1,$2) ON CONFLICT DO NOTHING`, parentID, childID); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `INSERT INTO person_structures(person_id, structure_id) SELECT $1, structure_id FROM person_structures WHERE person_id=$2 ON CONFLICT DO NOTHING`, parentID, childID)
	return err
}

// UnlinkParent removes a responsable ↔ élève link.
func (s *Service) UnlinkParent(ctx context.Context, a actor.Actor, parentID, childID string) error {
	sid, err := s.mustAdminPerson(ctx, a, childID)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM person_links WHERE parent_id=$1 AND child_id=$2`, parentID, childID); err != nil {
			return err
		}
		if err := s.rebuild(ctx, tx, parentID); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "person.unlink_parent", "person", childID, sid, map[string]string{"parent": parentID}))
	})
}

// SetTeaching records that a teacher teaches a subject (optional) in a class or group.
func (s *Service) SetTeaching(ctx context.Context, a actor.Actor, teacherID, groupID, subjectID string) error {
	g, err := s.Group(ctx, groupID)
	if err != nil {
		return err
	}
	t, err := s.Person(ctx, teacherID)
	if err != nil {
		return err
	}
	if t.Profile != Enseignant {
		return actor.Invalid("teacher", "directory.not_teacher")
	}
	if err := s.mustAttach(ctx, a, teacherID, g.StructureID); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO teaching(teacher_id, group_id, subject_id) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING`, teacherID, groupID, subjectID); err != nil {
			return err
		}
		if err := ensureStructure(ctx, tx, teacherID, g.StructureID); err != nil {
			return err
		}
		if err := s.rebuild(ctx, tx, teacherID); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "person.set_teaching", "person", teacherID, g.StructureID, map[string]string{"group": groupID, "subject": subjectID}))
	})
}

// SetFunction gives or removes a function (DIR, EDU, DOC...) in a structure.
func (s *Service) SetFunction(ctx context.Context, a actor.Actor, personID string, f Function, on bool) error {
	f.Code = strings.ToUpper(strings.TrimSpace(f.Code))
	if f.Code == "" || len(f.Code) > 20 {
		return actor.Invalid("code", "directory.bad_function")
	}
	if err := s.mustAttach(ctx, a, personID, f.StructureID); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if on {
			_, err = tx.ExecContext(ctx, `INSERT INTO person_functions(person_id, structure_id, code, label) VALUES ($1,$2,$3,$4) ON CONFLICT (person_id, structure_id, code) DO UPDATE SET label=excluded.label`,
				personID, f.StructureID, f.Code, f.Label)
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM person_functions WHERE person_id=$1 AND structure_id=$2 AND code=$3`, personID, f.StructureID, f.Code)
		}
		if err != nil {
			return err
		}
		if err := ensureStructure(ctx, tx, personID, f.StructureID); err != nil {
			return err
		}
		if err := s.rebuild(ctx, tx, personID); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "person.set_function", "person", personID, f.StructureID, map[string]string{"code": f.Code, "on": strconv.FormatBool(on)}))
	})
}

// AddToStructure attaches a person to one more structure (a teacher in two schools).
func (s *Service) AddToStructure(ctx context.Context, a actor.Actor, personID, structureID string) error {
	if _, err := s.Person(ctx, personID); err != nil {
		return err
	}
	if err := s.mustAttach(ctx, a, personID, structureID); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := ensureStructure(ctx, tx, personID, structureID); err != nil {
			return err
		}
		if err := s.rebuildFamily(ctx, tx, personID); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "person.add_structure", "person", personID, structureID, nil))
	})
}

// SetLanguage records a person's own choice of language.
func (s *Service) SetLanguage(ctx context.Context, a actor.Actor, lang string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE persons SET language=$1 WHERE id=$2`, lang, a.PersonID)
	return err
}

// Rebuild recomputes the automatic memberships of persons (for feeds after bulk writes).
func (s *Service) Rebuild(ctx context.Context, q db.Querier, personIDs ...string) error {
	for _, id := range personIDs {
		if err := s.rebuild(ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}

// rebuildFamily rebuilds a person and, for a pupil, their responsables, whose class
// groups follow their children's classes.
func (s *Service) rebuildFamily(ctx context.Context, q db.Querier, personID string) error {
	if err := s.rebuild(ctx, q, personID); err != nil {
		return err
	}
	parents, err := db.Strings(ctx, q, `SELECT parent_id FROM person_links WHERE child_id=$1`, personID)
	if err != nil {
		return err
	}
	for _, id := range parents {
		if err := s.rebuild(ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}

// autoMembershipSQL lists, for person $1, the profile groups their situation puts them
// in: their structures' group of their profile, the direction group where they hold
// DIR, their class's pupils group, their children's classes' parents groups, and the
// teachers group of the classes they teach.
const autoMembershipSQL = `
	SELECT g.id FROM groups g JOIN persons p ON p.id = $1
	  WHERE g.kind = 'profile' AND g.profile = p.profile
	  AND g.structure_id IN (SELECT structure_id FROM person_structures WHERE person_id = $1)
	UNION SELECT g.id FROM groups g JOIN person_functions f ON f.structure_id = g.structure_id AND f.person_id = $1 AND f.code = 'DIR'
	  WHERE g.kind = 'profile' AND g.profile = 'Direction'
	UNION SELECT g.id FROM groups g JOIN group_members m ON m.group_id = g.class_id AND m.person_id = $1 AND m.source = 'direct'
	  JOIN persons p ON p.id = $1 AND p.profile = 'Eleve'
	  WHERE g.kind = 'class_profile' AND g.profile = 'Eleve'
	UNION SELECT g.id FROM groups g JOIN group_members m ON m.group_id = g.class_id AND m.source = 'direct'
	  JOIN person_links l ON l.child_id = m.person_id AND l.parent_id = $1
	  WHERE g.kind = 'class_profile' AND g.profile = 'Responsable'
	UNION SELECT g.id FROM groups g JOIN teaching t ON t.group_id = g.class_id AND t.teacher_id = $1
	  WHERE g.kind = 'class_profile' AND g.profile = 'Enseignant'`

// rebuild recomputes one person's automatic memberships. (The "WHERE true" in
// INSERT ... SELECT ... ON CONFLICT is what SQLite needs to parse the upsert.)
func (s *Service) rebuild(ctx context.Context, q db.Querier, personID string) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM group_members WHERE person_id=$1 AND source='auto' AND group_id NOT IN (`+autoMembershipSQL+`)`, personID); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `INSERT INTO group_members(group_id, person_id, source) SELECT a.id, $1, 'auto' FROM (`+autoMembershipSQL+`) a
		WHERE true ON CONFLICT (group_id, person_id) DO NOTHING`, personID)
	return err
}

// PersonStructureIDs returns the ids of a person's structures.
func (s *Service) PersonStructureIDs(ctx context.Context, personID string) ([]string, error) {
	return db.Strings(ctx, s.db, `SELECT structure_id FROM person_structures WHERE person_id=$1 ORDER BY structure_id`, personID)
}

// RebuildAll recomputes every automatic membership with a few set-based statements:
// for bulk feeds and generated directories, where rebuilding person by person would
// cost one round trip each.
func (s *Service) RebuildAll(ctx context.Context, q db.Querier) error {
	return s.RebuildPersons(ctx, q, "")
}

// CreateStructureTx creates a structure with its profile groups through q, as the
// system: for feeds and generators that run inside their own transaction.
func (s *Service) CreateStructureTx(ctx context.Context, q db.Querier, in StructureInput) (Structure, error) {
	if err := in.validate(); err != nil {
		return Structure{}, err
	}
	st := Structure{ID: ids.New(), ParentID: in.ParentID, Kind: in.Kind, UAI: in.UAI, ExternalID: in.ExternalID, Name: in.Name, City: in.City, Type: in.Type, TypeCode: in.TypeCode, CreatedAt: s.now()}
	_, err := q.ExecContext(ctx, `INSERT INTO structures(id, parent_id, kind, uai, external_id, name, city, school_type, type_code, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
		st.ID, nullable(st.ParentID), st.Kind, nullable(st.UAI), nullable(st.ExternalID), st.Name, st.City, st.Type, st.TypeCode, st.CreatedAt.UnixMilli())
	if db.IsUniqueViolation(err) {
		return st, actor.Invalid("uai", "directory.uai_taken")
	}
	if err != nil {
		return st, err
	}
	return st, s.createStructureGroups(ctx, q, st)
}

// CreateClassTx creates a class (with its profile groups and rules) or a group through q, as the system.
func (s *Service) CreateClassTx(ctx context.Context, q db.Querier, structureID, kind, code, name string) (Group, error) {
	gs, err := s.CreateClassesTx(ctx, q, structureID, kind, []ClassInput{{Code: code, Name: name}})
	if err != nil {
		return Group{}, err
	}
	return gs[0], nil
}

// ClassInput names a class or group for CreateClassesTx.
type ClassInput struct{ Code, Name string }

// CreateClassesTx creates classes or groups of one kind in one structure through q, as
// the system, with a few multi-row statements: a feed that creates the thousands of
// classes of an académie (each with three profile groups and six rules) would
// otherwise cost a dozen round trips per class.
func (s *Service) CreateClassesTx(ctx context.Context, q db.Querier, structureID, kind string, in []ClassInput) ([]Group, error) {
	year := SchoolYear(s.now())
	var out, rows []Group
	var edges [][2]string
	var staff, direction string
	if kind == GroupClass && len(in) > 0 {
		var err error
		if staff, err = profileGroup(ctx, q, structureID, Personnel); err != nil {
			return nil, err
		}
		if direction, err = profileGroup(ctx, q, structureID, Direction); err != nil {
			return nil, err
		}
	}
	for _, c := range in {
		g := Group{ID: ids.New(), StructureID: structureID, Kind: kind, Code: c.Code, Name: c.Name, Communicate: commrules.NoneRel, SchoolYear: year}
		if kind == GroupManual {
			g.Communicate = commrules.Outgoing
		}
		out, rows = append(out, g), append(rows, g)
		if kind != GroupClass {
			continue
		}
		// The class's profile groups, and the default rules: its pupils and parents
		// reach its teachers, the staff and the direction.
		byProfile := map[string]string{}
		for _, p := range []string{Eleve, Responsable, Enseignant} {
			cg := Group{ID: ids.New(), StructureID: structureID, Kind: GroupClassProfile, Code: g.Code, Name: ProfileGroupName(p, g.Name),
				Profile: p, ClassID: g.ID, Communicate: classProfileRelations[p], SchoolYear: year}
			rows, byProfile[p] = append(rows, cg), cg.ID
		}
		for _, from := range []string{byProfile[Eleve], byProfile[Responsable]} {
			for _, to := range []string{byProfile[Enseignant], staff, direction} {
				edges = append(edges, [2]string{from, to})
			}
		}
	}
	now := s.now().UnixMilli()
	err := s.db.Dialect.InsertRows(ctx, q, `INSERT INTO groups(id, structure_id, kind, code, name, profile, class_id, communicate, school_year, created_at)`, ``,
		10, len(rows), func(i int) []any {
			g := rows[i]
			return []any{g.ID, g.StructureID, g.Kind, g.Code, g.Name, g.Profile, nullable(g.ClassID), g.Communicate, g.SchoolYear, now}
		})
	if db.IsUniqueViolation(err) {
		return nil, actor.Invalid("code", "directory.group_code_taken")
	}
	if err != nil {
		return nil, err
	}
	return out, commrules.AddEdges(ctx, q, s.db.Dialect, edges)
}
