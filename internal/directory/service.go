package directory

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/commrules"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
	"github.com/preau-ent/preau/internal/rights"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the directory's tables; they come first.
var Migrations = db.Embedded("directory", migrations)

// Service reads and changes the directory, checking the actor's rights itself.
type Service struct {
	db     *db.DB
	audit  *audit.Log
	rights *rights.Service
	comm   *commrules.Engine
	now    func() time.Time
}

// New returns the directory service.
func New(d *db.DB, a *audit.Log, r *rights.Service, c *commrules.Engine) *Service {
	return &Service{db: d, audit: a, rights: r, comm: c, now: time.Now}
}

// DB gives the database to the feeds that write the directory in bulk.
func (s *Service) DB() *db.DB { return s.db }

func (s *Service) mustAdmin(ctx context.Context, a actor.Actor, structureID string) error {
	ok, err := s.rights.CanAdminStructure(ctx, a, structureID)
	if err != nil {
		return err
	}
	if !ok {
		return actor.ErrForbidden
	}
	return nil
}

func (s *Service) mustSuperAdmin(ctx context.Context, a actor.Actor) error {
	ok, err := s.rights.IsSuperAdmin(ctx, a)
	if err != nil {
		return err
	}
	if !ok {
		return actor.ErrForbidden
	}
	return nil
}

func (s *Service) entry(a actor.Actor, action, targetType, targetID, structureID string, details map[string]string) audit.Entry {
	return audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: action, TargetType: targetType, TargetID: targetID, StructureID: structureID, Success: true, Details: details}
}

// ---- Structures ----

// StructureInput is what a form or a feed gives to create or change a structure.
type StructureInput struct {
	ParentID   string
	Kind       string
	UAI        string
	ExternalID string
	Name       string
	City       string
	Type       string // school type, "" if not known; an école is always TypeEcole
	TypeCode   string // the AAF's code the type came from, if any
}

func (in *StructureInput) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	in.UAI = strings.ToUpper(strings.TrimSpace(in.UAI))
	in.City = strings.TrimSpace(in.City)
	if in.Name == "" {
		return actor.Invalid("name", "directory.name_required")
	}
	if len(in.Name) > 200 {
		return actor.Invalid("name", "directory.too_long")
	}
	valid := false
	for _, k := range StructureKinds {
		valid = valid || k == in.Kind
	}
	if !valid {
		return actor.Invalid("kind", "directory.bad_kind")
	}
	if IsSchool(in.Kind) {
		if !ValidUAI(in.UAI) {
			return actor.Invalid("uai", "directory.bad_uai")
		}
	} else if in.UAI != "" {
		return actor.Invalid("uai", "directory.uai_schools_only")
	}
	in.TypeCode = strings.TrimSpace(in.TypeCode)
	switch {
	case in.Type != "" && !slices.Contains(StructureTypes, in.Type):
		return actor.Invalid("type", "directory.bad_type")
	case !IsSchool(in.Kind) && (in.Type != "" || in.TypeCode != ""):
		return actor.Invalid("type", "directory.type_schools_only")
	case in.Kind == KindEcole && in.Type == "":
		in.Type = TypeEcole
	case (in.Kind == KindEcole) != (in.Type == TypeEcole):
		return actor.Invalid("type", "directory.type_kind_mismatch")
	case len(in.TypeCode) > 100:
		return actor.Invalid("type", "directory.too_long")
	}
	return nil
}

// ValidUAI checks the form of a UAI: seven digits and a letter, for example 0750001A.
// (The letter is a checksum of the digits; exports of test académies do not always
// respect it, so only the form is checked.)
func ValidUAI(u string) bool {
	if len(u) != 8 {
		return false
	}
	for i := 0; i < 7; i++ {
		if u[i] < '0' || u[i] > '9' {
			return false
		}
	}
	return u[7] >= 'A' && u[7] <= 'Z'
}

// CreateStructure adds a structure with its profile groups and default communication
// rules. Only a super administrator creates structures.
func (s *Service) CreateStructure(ctx context.Context, a actor.Actor, in StructureInput) (Structure, error) {
	if err := in.validate(); err != nil {
		return Structure{}, err
	}
	if err := s.mustSuperAdmin(ctx, a); err != nil {
		return Structure{}, err
	}
	var st Structure
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if in.ParentID != "" {
			if _, err := structureByID(ctx, tx, in.ParentID); err != nil {
				return actor.Invalid("parent", "directory.unknown_parent")
			}
		}
		var err error
		if st, err = s.CreateStructureTx(ctx, tx, in); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "structure.create", "structure", st.ID, st.ID, map[string]string{"name": st.Name, "uai": st.UAI, "type": st.Type}))
	})
	return st, err
}

// UpdateStructure changes name, city, UAI and parent; a local administrator may
// rename their own structure, the rest needs a super administrator.
func (s *Service) UpdateStructure(ctx context.Context, a actor.Actor, id string, in StructureInput) error {
	if err := in.validate(); err != nil {
		return err
	}
	old, err := s.Structure(ctx, id)
	if err != nil {
		return err
	}
	if in.TypeCode == "" && in.Type == old.Type {
		in.TypeCode = old.TypeCode // the AAF's code stays while the type it gave does
	}
	if old.Kind != in.Kind || old.UAI != in.UAI || old.ParentID != in.ParentID || old.Type != in.Type {
		if err := s.mustSuperAdmin(ctx, a); err != nil {
			return err
		}
	} else if err := s.mustAdmin(ctx, a, id); err != nil {
		return err
	}
	if in.ParentID == id {
		return actor.Invalid("parent", "directory.unknown_parent")
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE structures SET parent_id=$1, kind=$2, uai=$3, name=$4, city=$5, school_type=$6, type_code=$7 WHERE id=$8`,
			nullable(in.ParentID), in.Kind, nullable(in.UAI), in.Name, in.City, in.Type, in.TypeCode, id)
		if db.IsUniqueViolation(err) {
			return actor.Invalid("uai", "directory.uai_taken")
		}
		if err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "structure.update", "structure", id, id, map[string]string{"name": in.Name, "type": in.Type}))
	})
}

const structureCols = `id, COALESCE(parent_id,''), kind, COALESCE(uai,''), COALESCE(external_id,''), name, city, school_type, type_code, created_at`

// scanStructure reads the structureCols of a row, then into the extra destinations.
func scanStructure(sc interface{ Scan(...any) error }, extra ...any) (Structure, error) {
	var st Structure
	var at int64
	err := sc.Scan(append([]any{&st.ID, &st.ParentID, &st.Kind, &st.UAI, &st.ExternalID, &st.Name, &st.City, &st.Type, &st.TypeCode, &at}, extra...)...)
	st.CreatedAt = time.UnixMilli(at)
	return st, err
}

func structureByID(ctx context.Context, q db.Querier, id string) (Structure, error) {
	st, err := scanStructure(q.QueryRowContext(ctx, `SELECT `+structureCols+` FROM structures WHERE id=$1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return st, actor.ErrNotFound
	}
	return st, err
}

// Structure returns one structure. Structures are public facts (names of schools).
func (s *Service) Structure(ctx context.Context, id string) (Structure, error) {
	return structureByID(ctx, s.db, id)
}

// StructureByUAI returns the school with this UAI.
func (s *Service) StructureByUAI(ctx context.Context, uai string) (Structure, error) {
	st, err := scanStructure(s.db.QueryRowContext(ctx, `SELECT `+structureCols+` FROM structures WHERE uai=$1`, strings.ToUpper(uai)))
	if errors.Is(err, sql.ErrNoRows) {
		return st, actor.ErrNotFound
	}
	return st, err
}

// Structures lists structures by name; ids nil means all of them.
func (s *Service) Structures(ctx context.Context, idsFilter []string) ([]Structure, error) {
	q := `SELECT ` + structureCols + ` FROM structures`
	var args []any
	if idsFilter != nil {
		if len(idsFilter) == 0 {
			return nil, nil
		}
		q += ` WHERE id IN (` + db.In(1, len(idsFilter)) + `)`
		for _, id := range idsFilter {
			args = append(args, id)
		}
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY name`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Structure
	for rows.Next() {
		st, err := scanStructure(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// profileRelations is how members relate to their structure's profile groups by
// default: staff reach each other, pupils and parents are reached but do not reach
// each other through their structure.
var profileRelations = map[string]string{
	Eleve: commrules.Outgoing, Responsable: commrules.Outgoing, Enseignant: commrules.Both,
	Personnel: commrules.Both, Direction: commrules.Both, Invite: commrules.NoneRel, Collectivite: commrules.Both,
}

// createStructureGroups makes the profile groups of a structure and the default rules:
// teachers, staff and direction reach each other and the structure's pupils and parents.
func (s *Service) createStructureGroups(ctx context.Context, q db.Querier, st Structure) error {
	// Two statements rather than one a group and one a rule: an académie's first
	// import creates hundreds of structures before it reads a person.
	profiles := append(append([]string{}, Profiles...), Direction)
	g := map[string]string{}
	for _, p := range profiles {
		g[p] = ids.New()
	}
	now := s.now().UnixMilli()
	err := s.db.Dialect.InsertRows(ctx, q, `INSERT INTO groups(id, structure_id, kind, code, name, profile, communicate, created_at)`, ``,
		8, len(profiles), func(i int) []any {
			p := profiles[i]
			return []any{g[p], st.ID, GroupProfile, strings.ToLower(p), ProfileGroupName(p, st.Name), p, profileRelations[p], now}
		})
	if err != nil {
		return err
	}
	var edges [][2]string
	for _, from := range []string{Enseignant, Personnel, Direction} {
		for _, to := range []string{Eleve, Responsable, Enseignant, Personnel, Direction} {
			if from != to {
				edges = append(edges, [2]string{g[from], g[to]})
			}
		}
	}
	return commrules.AddEdges(ctx, q, s.db.Dialect, edges)
}

// ProfileGroupName names a profile group: "Enseignants — Collège Jean Moulin".
// The French name is stored; pages translate the profile part.
func ProfileGroupName(profile, of string) string {
	label := map[string]string{Eleve: "Élèves", Responsable: "Responsables", Enseignant: "Enseignants",
		Personnel: "Personnels", Invite: "Invités", Collectivite: "Collectivité", Direction: "Direction"}[profile]
	return label + " — " + of
}

// profileGroup returns the id of a structure's profile group.
func profileGroup(ctx context.Context, q db.Querier, structureID, profile string) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT id FROM groups WHERE structure_id=$1 AND kind=$2 AND profile=$3`, structureID, GroupProfile, profile).Scan(&id)
	return id, err
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func newID() string { return ids.New() }
