package rights

import (
	"context"

	"github.com/preau-ent/preau/internal/platform/db"
)

// VisibleWhere returns the SQL condition (placeholders from $1) and its arguments that
// select the resources of a type a person owns (column ownerCol) or is shared at level
// or above (column idCol), for an application's listing of "my blogs", "my forums"…
func (s *Service) VisibleWhere(ctx context.Context, q db.Querier, personID, resourceType, ownerCol, idCol string, level Level) (string, []any, error) {
	shared, err := s.SharedWith(ctx, q, personID, resourceType, level)
	if err != nil {
		return "", nil, err
	}
	cond, args := ownerCol+`=$1`, []any{personID}
	if len(shared) > 0 {
		cond += ` OR ` + idCol + ` IN (` + db.In(2, len(shared)) + `)`
		for _, id := range shared {
			args = append(args, id)
		}
	}
	return `(` + cond + `)`, args, nil
}
