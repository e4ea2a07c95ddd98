// Package commrules is the communication-rules engine: it answers "may A write to B"
// and "whom may A write to", for the messagerie, the instant messaging and the
// directory alike.
//
// The model is the one proven in the field: rules are edges between groups ("members of
// G may reach members of H"), and each group says how its own members relate to it
// (groups.communicate): BOTH, members reach each other and may start from the group;
// INCOMING, members may start from it; OUTGOING, whoever reaches the group reaches its
// members; NONE. A responsable and their own child always reach each other.
//
// The answer is computed from indexes on small tables (the groups of a person, the
// edges of those groups), never by walking every person, so that it stays cheap on
// the hot path of every page that lists recipients.
package commrules

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"time"

	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the rules table (it needs the directory's groups table).
var Migrations = db.Embedded("commrules", migrations)

// How members relate to their group.
const (
	Both     = "BOTH"
	Incoming = "INCOMING"
	Outgoing = "OUTGOING"
	NoneRel  = "NONE"
)

// ValidRelation tells whether v is one of the four relations.
func ValidRelation(v string) bool {
	return v == Both || v == Incoming || v == Outgoing || v == NoneRel
}

// AdminChecker is the part of the rights service the engine needs.
type AdminChecker interface {
	CanAdminStructure(ctx context.Context, a actor.Actor, structureID string) (bool, error)
}

// Engine answers and edits communication rules.
type Engine struct {
	db     *db.DB
	audit  *audit.Log
	rights AdminChecker
}

// New returns the engine.
func New(d *db.DB, a *audit.Log, r AdminChecker) *Engine {
	return &Engine{db: d, audit: a, rights: r}
}

// reachableGroupsSQL lists the groups whose members person $1 may reach: through an
// edge from a group they start from, or a BOTH group of their own. Archived groups
// (last school year's) carry no rule.
const reachableGroupsSQL = `
	SELECT gb.id FROM group_members ma
	JOIN groups ga ON ga.id = ma.group_id AND ga.communicate IN ('INCOMING','BOTH') AND NOT ga.archived
	JOIN comm_rules r ON r.from_group = ga.id
	JOIN groups gb ON gb.id = r.to_group AND gb.communicate IN ('OUTGOING','BOTH') AND NOT gb.archived
	WHERE ma.person_id = $1
	UNION
	SELECT ga.id FROM group_members ma
	JOIN groups ga ON ga.id = ma.group_id AND ga.communicate = 'BOTH' AND NOT ga.archived
	WHERE ma.person_id = $1`

// ReachableGroupsSQL is reachableGroupsSQL for other packages: a sub-query, with the
// acting person as $1, listing the ids (column id) of the groups whose members that
// person may reach. The messagerie offers them as group recipients.
const ReachableGroupsSQL = reachableGroupsSQL

// ReachableGroups returns the ids of the groups whose members the person may reach.
func (e *Engine) ReachableGroups(ctx context.Context, personID string) ([]string, error) {
	return db.Strings(ctx, e.db, reachableGroupsSQL, personID)
}

// MayWrite tells whether person a may write to person b.
func (e *Engine) MayWrite(ctx context.Context, a, b string) (bool, error) {
	if a == b {
		return true, nil
	}
	var one int
	err := e.db.QueryRowContext(ctx, `SELECT 1 FROM group_members mb WHERE mb.person_id = $2 AND mb.group_id IN (`+reachableGroupsSQL+`)
		UNION ALL SELECT 1 FROM person_links WHERE (parent_id=$1 AND child_id=$2) OR (parent_id=$2 AND child_id=$1)
		LIMIT 1`, a, b).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// MayWriteToGroup tells whether person a may write to group g as a whole (the
// messagerie's group recipients): g must be one of the groups a reaches.
func (e *Engine) MayWriteToGroup(ctx context.Context, a, g string) (bool, error) {
	var one int
	err := e.db.QueryRowContext(ctx, `SELECT 1 FROM (`+reachableGroupsSQL+`) r WHERE r.id = $2`, a, g).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// VisibleSQL is a sub-query, with the acting person as $1, listing the persons that
// person may reach; callers use it as "p.id IN (VisibleSQL)" to filter lists.
const VisibleSQL = `SELECT mb.person_id FROM group_members mb WHERE mb.group_id IN (` + reachableGroupsSQL + `)
	UNION SELECT child_id FROM person_links WHERE parent_id = $1
	UNION SELECT parent_id FROM person_links WHERE child_id = $1`

// Rule is an edge, with the names of both groups for display.
type Rule struct {
	FromGroup, ToGroup         string
	FromName, ToName           string
	FromStructure, ToStructure string
}

// Rules lists the edges leaving or entering the groups of a structure.
func (e *Engine) Rules(ctx context.Context, structureID string) ([]Rule, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT r.from_group, r.to_group, gf.name, gt.name, gf.structure_id, gt.structure_id
		FROM comm_rules r JOIN groups gf ON gf.id = r.from_group JOIN groups gt ON gt.id = r.to_group
		WHERE gf.structure_id = $1 OR gt.structure_id = $1 ORDER BY gf.name, gt.name`, structureID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Rule
	for rows.Next() {
		var r Rule
		if err := rows.Scan(&r.FromGroup, &r.ToGroup, &r.FromName, &r.ToName, &r.FromStructure, &r.ToStructure); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AddRule adds an edge. A local administrator may add edges between groups of the
// structures they administer; an edge between two structures needs an administrator
// of both (that is how pupils of two schools come to reach each other).
func (e *Engine) AddRule(ctx context.Context, a actor.Actor, from, to string) error {
	return e.changeRule(ctx, a, from, to, true)
}

// RemoveRule removes an edge, under the same rule as AddRule.
func (e *Engine) RemoveRule(ctx context.Context, a actor.Actor, from, to string) error {
	return e.changeRule(ctx, a, from, to, false)
}

func (e *Engine) changeRule(ctx context.Context, a actor.Actor, from, to string, add bool) error {
	sf, err := e.groupStructure(ctx, from)
	if err != nil {
		return err
	}
	st, err := e.groupStructure(ctx, to)
	if err != nil {
		return err
	}
	for _, sid := range []string{sf, st} {
		ok, err := e.rights.CanAdminStructure(ctx, a, sid)
		if err != nil {
			return err
		}
		if !ok {
			return actor.ErrForbidden
		}
	}
	action := "commrule.remove"
	return e.db.Tx(ctx, func(tx *sql.Tx) error {
		if add {
			action = "commrule.add"
			err = AddEdge(ctx, tx, e.db.Dialect, from, to)
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM comm_rules WHERE from_group=$1 AND to_group=$2`, from, to)
		}
		if err != nil {
			return err
		}
		return e.audit.WriteTx(ctx, tx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: action, TargetType: "group", TargetID: from, StructureID: sf, Success: true, Details: map[string]string{"to": to}})
	})
}

// SetRelation changes how the members of a group relate to it.
func (e *Engine) SetRelation(ctx context.Context, a actor.Actor, groupID, relation string) error {
	if !ValidRelation(relation) {
		return actor.Invalid("communicate", "commrules.bad_relation")
	}
	sid, err := e.groupStructure(ctx, groupID)
	if err != nil {
		return err
	}
	ok, err := e.rights.CanAdminStructure(ctx, a, sid)
	if err != nil {
		return err
	}
	if !ok {
		return actor.ErrForbidden
	}
	return e.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE groups SET communicate=$1 WHERE id=$2`, relation, groupID); err != nil {
			return err
		}
		return e.audit.WriteTx(ctx, tx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: "commrule.relation", TargetType: "group", TargetID: groupID, StructureID: sid, Success: true, Details: map[string]string{"communicate": relation}})
	})
}

func (e *Engine) groupStructure(ctx context.Context, groupID string) (string, error) {
	var sid string
	err := e.db.QueryRowContext(ctx, `SELECT structure_id FROM groups WHERE id=$1`, groupID).Scan(&sid)
	if errors.Is(err, sql.ErrNoRows) {
		return "", actor.ErrNotFound
	}
	return sid, err
}

// AddEdge inserts an edge through q, ignoring one that exists. The directory uses it
// to lay the default rules when it creates a structure or a class.
func AddEdge(ctx context.Context, q db.Querier, d db.Dialect, from, to string) error {
	return AddEdges(ctx, q, d, [][2]string{{from, to}})
}

// AddEdges adds many rules (from, to) in a few statements, for feeds that create the
// classes of an académie; d is the dialect of q's database.
func AddEdges(ctx context.Context, q db.Querier, d db.Dialect, edges [][2]string) error {
	now := time.Now().UnixMilli()
	return d.InsertRows(ctx, q, `INSERT INTO comm_rules(from_group, to_group, created_at)`, `ON CONFLICT (from_group, to_group) DO NOTHING`,
		3, len(edges), func(i int) []any { return []any{edges[i][0], edges[i][1], now} })
}
