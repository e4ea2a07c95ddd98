package demo

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
)

// Generated describes a generated directory.
type Generated struct {
	Structures, Classes, Persons int
	// Sample logins (all with the password given to Generate), by profile, for
	// load tests that log in.
	Logins map[string][]string
}

// Generate writes a synthetic directory of about n persons in bulk: schools of about
// 1,000 persons, classes of 25 pupils, one or two responsables per pupil, a teacher
// per 12 pupils teaching 4 classes, staff. sample accounts of each profile get the
// password passwordHash (a hash made by the account service), and are active.
func Generate(ctx context.Context, d *db.DB, dir *directory.Service, n int, passwordHash string, sample int, seed uint64) (Generated, error) {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	out := Generated{Logins: map[string][]string{}}
	now := time.Now().UnixMilli()
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		insPerson, err := tx.PrepareContext(ctx, `INSERT INTO persons(id, login, first_name, last_name, first_key, last_key, profile, state, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$9)`)
		if err != nil {
			return err
		}
		insPS, err := tx.PrepareContext(ctx, `INSERT INTO person_structures(person_id, structure_id) VALUES ($1,$2)`)
		if err != nil {
			return err
		}
		insMember, err := tx.PrepareContext(ctx, `INSERT INTO group_members(group_id, person_id, source) VALUES ($1,$2,'direct')`)
		if err != nil {
			return err
		}
		insLink, err := tx.PrepareContext(ctx, `INSERT INTO person_links(parent_id, child_id) VALUES ($1,$2)`)
		if err != nil {
			return err
		}
		insTeach, err := tx.PrepareContext(ctx, `INSERT INTO teaching(teacher_id, group_id, subject_id) VALUES ($1,$2,'')`)
		if err != nil {
			return err
		}
		insCred, err := tx.PrepareContext(ctx, `INSERT INTO credentials(person_id, password_hash) VALUES ($1,$2)`)
		if err != nil {
			return err
		}
		seq := 0
		person := func(profile, structureID string) (string, error) {
			seq++
			first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
			id := ids.New()
			// Generated logins carry a sequence number: unique without a look-up.
			login := fmt.Sprintf("%s.%d", directory.LoginBase(first, last), seq)
			state := directory.StatePending
			withPassword := len(out.Logins[profile]) < sample
			if withPassword {
				state = directory.StateActive
			}
			if _, err := insPerson.ExecContext(ctx, id, login, first, last, directory.Fold(first), directory.Fold(last), profile, state, now); err != nil {
				return "", err
			}
			if _, err := insPS.ExecContext(ctx, id, structureID); err != nil {
				return "", err
			}
			if withPassword {
				if _, err := insCred.ExecContext(ctx, id, passwordHash); err != nil {
					return "", err
				}
				out.Logins[profile] = append(out.Logins[profile], login)
			}
			out.Persons++
			return id, nil
		}
		for school := 0; out.Persons < n; school++ {
			st, err := dir.CreateStructureTx(ctx, tx, directory.StructureInput{Kind: directory.KindEtablissement, UAI: fmt.Sprintf("%07dG", 1000000+school), Name: fmt.Sprintf("Établissement généré n° %d", school+1), Type: directory.TypeCollege})
			if err != nil {
				return err
			}
			out.Structures++
			// ~1,000 persons: 400 pupils (16 classes of 25), ~600 parents, 33 teachers, 8 staff.
			var classes []string
			for c := 0; c < 16; c++ {
				g, err := dir.CreateClassTx(ctx, tx, st.ID, directory.GroupClass, fmt.Sprintf("C%02d", c+1), fmt.Sprintf("Classe %d", c+1))
				if err != nil {
					return err
				}
				classes = append(classes, g.ID)
				out.Classes++
				for p := 0; p < 25; p++ {
					pupil, err := person(directory.Eleve, st.ID)
					if err != nil {
						return err
					}
					if _, err := insMember.ExecContext(ctx, g.ID, pupil); err != nil {
						return err
					}
					for k := 0; k < 1+rng.IntN(2); k++ {
						parent, err := person(directory.Responsable, st.ID)
						if err != nil {
							return err
						}
						if _, err := insLink.ExecContext(ctx, parent, pupil); err != nil {
							return err
						}
					}
				}
			}
			for t := 0; t < 33; t++ {
				teacher, err := person(directory.Enseignant, st.ID)
				if err != nil {
					return err
				}
				for k := 0; k < 4; k++ {
					if _, err := insTeach.ExecContext(ctx, teacher, classes[(t*4+k)%len(classes)]); err != nil && !db.IsUniqueViolation(err) {
						return err
					}
				}
			}
			for s := 0; s < 8; s++ {
				if _, err := person(directory.Personnel, st.ID); err != nil {
					return err
				}
			}
		}
		return dir.RebuildAll(ctx, tx)
	})
	if err != nil {
		return out, err
	}
	return out, d.Analyze(ctx)
}
