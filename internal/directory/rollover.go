package directory

import (
	"context"
	"database/sql"
	"strconv"

	"github.com/preau-ent/preau/internal/platform/actor"
)

// Rollover is what closing a school year did.
type Rollover struct {
	Classes, Groups int // archived
	Pupils          int // pupils detached from them
}

// CloseSchoolYear closes the school year of one structure, or of every structure
// when structureID is empty (super administrators only): its classes and teaching
// groups are archived (kept, read-only, with their names and year), pupils leave
// them, and so do the responsables through their children. Teaching links stay as
// the record of who taught what. Persons, accounts, hand-made groups and everything
// a person owns are untouched; the next import or CSV creates the new year's classes.
func (s *Service) CloseSchoolYear(ctx context.Context, a actor.Actor, structureID string) (Rollover, error) {
	var out Rollover
	if structureID == "" {
		if err := s.mustSuperAdmin(ctx, a); err != nil {
			return out, err
		}
	} else if err := s.mustAdmin(ctx, a, structureID); err != nil {
		return out, err
	}
	// The groups to close, as a sub-query over the structure argument ($1, empty
	// for every structure).
	open := `SELECT id FROM groups WHERE kind IN ('class','group') AND NOT archived AND ($1 = '' OR structure_id = $1)`
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		counts := map[string]*int{GroupClass: &out.Classes, GroupTeaching: &out.Groups}
		for kind, into := range counts {
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM groups WHERE kind = $2 AND NOT archived AND ($1 = '' OR structure_id = $1)`, structureID, kind).Scan(into); err != nil {
				return err
			}
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(DISTINCT m.person_id) FROM group_members m JOIN persons p ON p.id = m.person_id AND p.profile = 'Eleve'
			WHERE m.source = 'direct' AND m.group_id IN (`+open+`)`, structureID).Scan(&out.Pupils); err != nil {
			return err
		}
		stmts := []string{
			// Pupils leave last year's classes and groups...
			`DELETE FROM group_members WHERE source = 'direct' AND group_id IN (` + open + `)
			 AND person_id IN (SELECT id FROM persons WHERE profile = 'Eleve')`,
			// ...and with them the class's pupils and parents groups, whose
			// membership derives from theirs only.
			`DELETE FROM group_members WHERE source = 'auto' AND group_id IN (SELECT id FROM groups WHERE kind = 'class_profile'
			 AND profile IN ('Eleve','Responsable') AND class_id IN (` + open + `))`,
			`UPDATE groups SET archived = TRUE WHERE kind = 'class_profile' AND class_id IN (` + open + `)`,
			`UPDATE groups SET archived = TRUE WHERE id IN (` + open + `)`,
		}
		for _, st := range stmts {
			if _, err := tx.ExecContext(ctx, st, structureID); err != nil {
				return err
			}
		}
		target, targetType := structureID, "structure"
		if target == "" {
			targetType = "deployment"
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "directory.close_year", targetType, target, structureID, map[string]string{
			"year": s.SchoolYearNow(), "classes": strconv.Itoa(out.Classes), "groups": strconv.Itoa(out.Groups), "pupils": strconv.Itoa(out.Pupils)}))
	})
	return out, err
}
