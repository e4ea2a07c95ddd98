package rights

import (
	"context"

	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
)

// ModeratedStructures lists the structures whose reported content the actor handles:
// those they administer and those they moderate (all: every structure).
func (s *Service) ModeratedStructures(ctx context.Context, a actor.Actor) (all bool, structureIDs []string, err error) {
	if a.PersonID == "" && !a.System {
		return false, nil, nil
	}
	all, sids, err := s.AdminScope(ctx, a)
	if err != nil || all {
		return all, nil, err
	}
	mods, err := db.Strings(ctx, s.db, `SELECT structure_id FROM role_assignments WHERE person_id=$1 AND role=$2`, a.PersonID, Moderator)
	return false, append(sids, mods...), err
}

// MayResolve checks that the actor moderates the structure of a report and that the
// report is still open (outcome ""); closedKey is the message of a closed report.
func (s *Service) MayResolve(ctx context.Context, a actor.Actor, structureID, outcome, closedKey string) error {
	switch mod, err := s.IsModerator(ctx, a, structureID); {
	case err != nil:
		return err
	case !mod:
		return actor.ErrForbidden
	case outcome != "":
		return actor.Invalid("state", closedKey)
	}
	return nil
}
