// Package csvfeed imports persons from a CSV file into one structure, for the schools
// the national directory (AAF) does not feed: écoles outside it, private schools,
// partners. A file is first previewed — what it would create and change, and every
// problem with its line — and imported only once it has no problem, in one
// transaction.
package csvfeed

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"io"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/rights"
)

// MaxSize bounds a file: a large school is a few thousand lines.
const MaxSize = 2 << 20

// Columns of the file, in the order the documentation lists them. The header line
// names them, in any order; only identifiant, profil, nom and prenom are required.
var Columns = []string{"identifiant", "profil", "nom", "prenom", "date_naissance", "email", "classes", "enfants", "fonction"}

var required = []string{"identifiant", "profil", "nom", "prenom"}

// profiles maps the profil column's accepted values (folded) to profiles.
var profiles = map[string]string{
	"eleve": directory.Eleve, "responsable": directory.Responsable, "parent": directory.Responsable,
	"enseignant": directory.Enseignant, "personnel": directory.Personnel, "invite": directory.Invite,
}

// Problem is what is wrong with a line (0: the file itself). Key is a message of the
// i18n catalog, Args its arguments.
type Problem struct {
	Line   int
	Column string
	Key    string
	Args   []any
}

// Change is what a line does.
type Change struct {
	Line    int
	Kind    string // ChangeCreate, ChangeUpdate, ChangeUnchanged
	Name    string // Prénom NOM
	Profile string
	Fields  []string // the columns that change, for an update
}

// Change kinds.
const (
	ChangeCreate    = "create"
	ChangeUpdate    = "update"
	ChangeUnchanged = "unchanged"
)

// Preview is what a file would do.
type Preview struct {
	Lines                       int
	Problems                    []Problem
	Changes                     []Change
	Created, Updated, Unchanged int
	ClassesCreated              int
	rows                        []row
	existing                    map[string]directory.Person // by external id
	existingClasses, newClasses map[string]bool
	// declared is every identifier of the file with its profile, lines with errors
	// included: a responsable's child on a wrong line is not "unknown" as well.
	declared map[string]string
}

// ErrProblems is returned by Import when the file still has problems: nothing was written.
var ErrProblems = errors.New("le fichier comporte des erreurs : rien n'a été importé")

// Feed imports CSV files.
type Feed struct {
	db     *db.DB
	dir    *directory.Service
	audit  *audit.Log
	rights *rights.Service
}

// New returns the CSV feed.
func New(d *db.DB, dir *directory.Service, al *audit.Log, rs *rights.Service) *Feed {
	return &Feed{db: d, dir: dir, audit: al, rights: rs}
}

type row struct {
	line                                 int
	id, profile, last, first             string
	birth, email, function               string
	classes, children                    []string
	externalID                           string
	hasBirth, hasEmail, hasClasses, hasF bool
}

// ExternalID is how a CSV identifier is kept: per structure, so that two schools
// may both number their pupils from 1, and apart from AAF jointures.
func ExternalID(structureID, id string) string { return "csv:" + structureID + ":" + id }

var functionCode = regexp.MustCompile(`^[A-Z]{2,8}$`)

// Preview reads a file for a structure the actor administers and tells what it
// would do, without writing anything.
func (f *Feed) Preview(ctx context.Context, a actor.Actor, structureID string, data []byte) (*Preview, error) {
	ok, err := f.rights.CanAdminStructure(ctx, a, structureID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, actor.ErrForbidden
	}
	st, err := f.dir.Structure(ctx, structureID)
	if err != nil {
		return nil, err
	}
	p := &Preview{existing: map[string]directory.Person{}, existingClasses: map[string]bool{}, newClasses: map[string]bool{}, declared: map[string]string{}}
	if len(data) > MaxSize {
		p.problem(0, "", "csvfeed.too_big")
		return p, nil
	}
	p.rows = p.parse(data)
	if len(p.Problems) > 0 && len(p.rows) == 0 {
		return p, nil
	}
	if err := f.compare(ctx, p, st); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Preview) problem(line int, column, key string, args ...any) {
	p.Problems = append(p.Problems, Problem{Line: line, Column: column, Key: key, Args: args})
}

// decode gives the file as UTF-8: as it is when it is valid UTF-8 (a byte order mark
// dropped), else as Windows-1252, what spreadsheets save in France by default.
func decode(data []byte) string {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if utf8.Valid(data) {
		return string(data)
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(data)
	if err != nil {
		return string(data)
	}
	return string(out)
}

// fold makes header names and profiles comparable: "Date-Naissance", "date naissance"
// and "date_naissance" are the same column, "Élève" is "eleve".
func fold(s string) string {
	s = strings.NewReplacer("_", " ", "-", " ").Replace(s)
	return strings.ReplaceAll(directory.Fold(s), " ", "_")
}

// parse checks the file line by line.
func (p *Preview) parse(data []byte) []row {
	text := decode(data)
	firstLine, _, _ := strings.Cut(text, "\n")
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = ';'
	if strings.Count(firstLine, ",") > strings.Count(firstLine, ";") {
		r.Comma = ','
	}
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		p.problem(1, "", "csvfeed.no_header")
		return nil
	}
	col := map[string]int{}
	for i, h := range header {
		name := fold(h)
		if !slices.Contains(Columns, name) {
			p.problem(1, h, "csvfeed.unknown_column", h)
			continue
		}
		if _, dup := col[name]; dup {
			p.problem(1, h, "csvfeed.duplicate_column", h)
		}
		col[name] = i
	}
	for _, c := range required {
		if _, ok := col[c]; !ok {
			p.problem(1, c, "csvfeed.missing_column", c)
		}
	}
	if len(p.Problems) > 0 {
		return nil
	}
	var rows []row
	seen := map[string]int{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			p.problem(perr.Line, "", "csvfeed.bad_quotes")
			continue
		}
		if err != nil && !errors.Is(err, csv.ErrFieldCount) {
			p.problem(line, "", "csvfeed.bad_quotes")
			continue
		}
		blank := true
		for _, v := range rec {
			blank = blank && strings.TrimSpace(v) == ""
		}
		if blank {
			continue
		}
		p.Lines++
		if len(rec) != len(header) {
			p.problem(line, "", "csvfeed.field_count", len(rec), len(header))
			continue
		}
		get := func(c string) (string, bool) {
			i, ok := col[c]
			if !ok {
				return "", false
			}
			return strings.TrimSpace(rec[i]), true
		}
		x := row{line: line}
		x.id, _ = get("identifiant")
		prof, _ := get("profil")
		x.last, _ = get("nom")
		x.first, _ = get("prenom")
		x.birth, x.hasBirth = get("date_naissance")
		x.email, x.hasEmail = get("email")
		x.function, x.hasF = get("fonction")
		classes, hasClasses := get("classes")
		children, _ := get("enfants")
		bad := func(column, key string, args ...any) {
			p.problem(line, column, key, args...)
		}
		before := len(p.Problems)
		switch {
		case x.id == "":
			bad("identifiant", "csvfeed.id_required")
		case len(x.id) > 64:
			bad("identifiant", "csvfeed.too_long")
		case seen[x.id] != 0:
			bad("identifiant", "csvfeed.duplicate_id", x.id, seen[x.id])
		}
		if x.id != "" && seen[x.id] == 0 {
			seen[x.id] = line
		}
		if x.profile = profiles[fold(prof)]; x.profile == "" {
			bad("profil", "csvfeed.bad_profile", prof)
		}
		if _, ok := p.declared[x.id]; !ok && x.id != "" {
			p.declared[x.id] = x.profile
		}
		if x.last == "" {
			bad("nom", "csvfeed.last_required")
		}
		if x.first == "" {
			bad("prenom", "csvfeed.first_required")
		}
		if len(x.last) > 100 || len(x.first) > 100 {
			bad("nom", "csvfeed.too_long")
		}
		if x.birth != "" {
			t, err := time.Parse("02/01/2006", x.birth)
			if err != nil {
				bad("date_naissance", "csvfeed.bad_date", x.birth)
			} else {
				x.birth = t.Format("2006-01-02")
			}
		}
		if x.email != "" {
			if ad, err := mail.ParseAddress(x.email); err != nil || ad.Address != x.email {
				bad("email", "csvfeed.bad_email", x.email)
			}
		}
		if x.function != "" {
			x.function = strings.ToUpper(x.function)
			if !functionCode.MatchString(x.function) {
				bad("fonction", "csvfeed.bad_function", x.function)
			}
		}
		x.classes, x.hasClasses = splitList(classes), hasClasses
		for _, c := range x.classes {
			if len(c) > 60 {
				bad("classes", "csvfeed.too_long")
			}
		}
		if x.profile == directory.Eleve && len(x.classes) > 1 {
			bad("classes", "csvfeed.one_class")
		}
		if (x.profile == directory.Responsable || x.profile == directory.Personnel || x.profile == directory.Invite) && len(x.classes) > 0 {
			bad("classes", "csvfeed.classes_not_for_profile")
		}
		x.children = splitList(children)
		if len(x.children) > 0 && x.profile != directory.Responsable {
			bad("enfants", "csvfeed.children_for_responsables")
		}
		if len(p.Problems) == before {
			rows = append(rows, x)
		}
	}
	if p.Lines == 0 && len(p.Problems) == 0 {
		p.problem(0, "", "csvfeed.empty")
	}
	return rows
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, "|") {
		if v = strings.TrimSpace(v); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// compare reads what the directory holds for the file's persons and tells what
// each line changes; children a responsable names must be pupils of the file or of
// the structure.
func (f *Feed) compare(ctx context.Context, p *Preview, st directory.Structure) error {
	codes, err := db.Strings(ctx, f.db, `SELECT code FROM groups WHERE structure_id = $1 AND kind = 'class' AND NOT archived`, st.ID)
	if err != nil {
		return err
	}
	for _, c := range codes {
		p.existingClasses[c] = true
	}
	for i := range p.rows {
		x := &p.rows[i]
		x.externalID = ExternalID(st.ID, x.id)
		old, err := f.dir.PersonByExternalID(ctx, x.externalID)
		if err != nil && !errors.Is(err, actor.ErrNotFound) {
			return err
		}
		for _, c := range x.classes {
			if !p.existingClasses[c] && !p.newClasses[c] {
				p.newClasses[c] = true
				p.ClassesCreated++
			}
		}
		for _, child := range x.children {
			if prof, ok := p.declared[child]; ok {
				if prof != directory.Eleve {
					p.problem(x.line, "enfants", "csvfeed.child_not_pupil", child)
				}
				continue
			}
			kid, err := f.dir.PersonByExternalID(ctx, ExternalID(st.ID, child))
			if errors.Is(err, actor.ErrNotFound) || (err == nil && kid.Profile != directory.Eleve) {
				p.problem(x.line, "enfants", "csvfeed.unknown_child", child)
				continue
			}
			if err != nil {
				return err
			}
		}
		ch := Change{Line: x.line, Name: strings.TrimSpace(x.first + " " + strings.ToUpper(x.last)), Profile: x.profile}
		if errors.Is(err, actor.ErrNotFound) {
			ch.Kind = ChangeCreate
			p.Created++
			p.Changes = append(p.Changes, ch)
			continue
		}
		if old.Profile != x.profile {
			p.problem(x.line, "profil", "csvfeed.profile_changed", x.id)
			continue
		}
		p.existing[x.externalID] = old
		if old.LastName != x.last {
			ch.Fields = append(ch.Fields, "nom")
		}
		if old.FirstName != x.first {
			ch.Fields = append(ch.Fields, "prenom")
		}
		if x.hasBirth && old.BirthDate != x.birth {
			ch.Fields = append(ch.Fields, "date_naissance")
		}
		if x.hasEmail && old.Email != x.email {
			ch.Fields = append(ch.Fields, "email")
		}
		if x.hasClasses {
			current, err := f.currentClasses(ctx, f.db, old.ID, st.ID)
			if err != nil {
				return err
			}
			want := slices.Clone(x.classes)
			slices.Sort(want)
			if !slices.Equal(current, want) {
				ch.Fields = append(ch.Fields, "classes")
			}
		}
		if len(x.children) > 0 {
			kids, err := db.Strings(ctx, f.db, `SELECT c.external_id FROM person_links l JOIN persons c ON c.id = l.child_id
				JOIN person_structures ps ON ps.person_id = c.id AND ps.structure_id = $2 WHERE l.parent_id = $1 ORDER BY c.external_id`, old.ID, st.ID)
			if err != nil {
				return err
			}
			var want []string
			for _, c := range x.children {
				want = append(want, ExternalID(st.ID, c))
			}
			slices.Sort(want)
			if !slices.Equal(kids, want) {
				ch.Fields = append(ch.Fields, "enfants")
			}
		}
		if x.hasF && x.function != "" {
			var n int
			if err := f.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM person_functions WHERE person_id = $1 AND structure_id = $2 AND code = $3`,
				old.ID, st.ID, x.function).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				ch.Fields = append(ch.Fields, "fonction")
			}
		}
		if len(ch.Fields) == 0 {
			ch.Kind = ChangeUnchanged
			p.Unchanged++
		} else {
			ch.Kind = ChangeUpdate
			p.Updated++
		}
		p.Changes = append(p.Changes, ch)
	}
	return nil
}

// currentClasses lists the codes of the open classes a person is in (a pupil) or
// teaches (a teacher) in a structure, sorted.
func (f *Feed) currentClasses(ctx context.Context, q db.Querier, personID, structureID string) ([]string, error) {
	return db.Strings(ctx, q, `SELECT g.code FROM groups g WHERE g.structure_id = $2 AND g.kind = 'class' AND NOT g.archived AND g.id IN
		(SELECT group_id FROM group_members WHERE person_id = $1 AND source = 'direct' UNION SELECT group_id FROM teaching WHERE teacher_id = $1)
		ORDER BY g.code`, personID, structureID)
}

// Import previews the file again and, if it has no problem, writes it in one
// transaction; with problems it returns the preview and ErrProblems.
func (f *Feed) Import(ctx context.Context, a actor.Actor, structureID string, data []byte) (*Preview, error) {
	p, err := f.Preview(ctx, a, structureID, data)
	if err != nil {
		return nil, err
	}
	if len(p.Problems) > 0 {
		// The refused attempt is audited too: an administrator's action on personal data.
		f.audit.Write(ctx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: "csv.import", TargetType: "structure",
			TargetID: structureID, StructureID: structureID, Success: false, Details: map[string]string{"problems": strconv.Itoa(len(p.Problems))}})
		return p, ErrProblems
	}
	err = f.db.Tx(ctx, func(tx *sql.Tx) error {
		classes := map[string]string{}
		rows, err := tx.QueryContext(ctx, `SELECT code, id FROM groups WHERE structure_id = $1 AND kind = 'class' AND NOT archived`, structureID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var code, id string
			if err := rows.Scan(&code, &id); err != nil {
				rows.Close()
				return err
			}
			classes[code] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		class := func(code string) (string, error) {
			if id, ok := classes[code]; ok {
				return id, nil
			}
			g, err := f.dir.CreateClassTx(ctx, tx, structureID, directory.GroupClass, code, code)
			if err != nil {
				return "", err
			}
			classes[code] = g.ID
			return g.ID, nil
		}
		ids := map[string]string{} // external id → person id
		var touched []string
		for _, x := range p.rows {
			old, exists := p.existing[x.externalID]
			id := old.ID
			if !exists {
				in := directory.PersonInput{ExternalID: x.externalID, FirstName: x.first, LastName: x.last, Profile: x.profile,
					Email: x.email, BirthDate: x.birth, StructureIDs: []string{structureID}}
				np, err := f.dir.InsertPerson(ctx, tx, in)
				if err != nil {
					return err
				}
				id = np.ID
			} else {
				birth, email := old.BirthDate, old.Email
				if x.hasBirth {
					birth = x.birth
				}
				if x.hasEmail {
					email = x.email
				}
				if _, err := tx.ExecContext(ctx, `UPDATE persons SET first_name = $1, last_name = $2, first_key = $3, last_key = $4,
					birth_date = $5, email = $6, updated_at = $7 WHERE id = $8`, x.first, x.last, directory.Fold(x.first), directory.Fold(x.last),
					birth, email, time.Now().UnixMilli(), id); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO person_structures(person_id, structure_id) VALUES ($1,$2) ON CONFLICT DO NOTHING`, id, structureID); err != nil {
					return err
				}
			}
			ids[x.externalID] = id
			touched = append(touched, id)
			if x.function != "" {
				if _, err := tx.ExecContext(ctx, `INSERT INTO person_functions(person_id, structure_id, code, label) VALUES ($1,$2,$3,$3) ON CONFLICT DO NOTHING`,
					id, structureID, x.function); err != nil {
					return err
				}
			}
			if !x.hasClasses {
				continue
			}
			// The file says the person's classes in this structure: they replace
			// the open ones (last year's archived classes are history).
			open := `(SELECT id FROM groups WHERE structure_id = $2 AND kind = 'class' AND NOT archived)`
			switch x.profile {
			case directory.Eleve:
				if _, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE person_id = $1 AND source = 'direct' AND group_id IN `+open, id, structureID); err != nil {
					return err
				}
			case directory.Enseignant:
				if _, err := tx.ExecContext(ctx, `DELETE FROM teaching WHERE teacher_id = $1 AND group_id IN `+open, id, structureID); err != nil {
					return err
				}
			}
			for _, c := range x.classes {
				gid, err := class(c)
				if err != nil {
					return err
				}
				q := `INSERT INTO group_members(group_id, person_id, source) VALUES ($1,$2,'direct') ON CONFLICT DO NOTHING`
				if x.profile == directory.Enseignant {
					q = `INSERT INTO teaching(teacher_id, group_id, subject_id) VALUES ($2,$1,'') ON CONFLICT DO NOTHING`
				}
				if _, err := tx.ExecContext(ctx, q, gid, id); err != nil {
					return err
				}
			}
		}
		for _, x := range p.rows {
			if len(x.children) == 0 {
				continue
			}
			parent := ids[x.externalID]
			if _, err := tx.ExecContext(ctx, `DELETE FROM person_links WHERE parent_id = $1 AND child_id IN
				(SELECT person_id FROM person_structures WHERE structure_id = $2)`, parent, structureID); err != nil {
				return err
			}
			for _, c := range x.children {
				ext := ExternalID(structureID, c)
				child, ok := ids[ext]
				if !ok {
					if err := tx.QueryRowContext(ctx, `SELECT id FROM persons WHERE external_id = $1`, ext).Scan(&child); err != nil {
						return err
					}
				}
				if err := directory.LinkParentTx(ctx, tx, parent, child); err != nil {
					return err
				}
			}
		}
		// Pupils first, then their responsables, whose groups follow their classes.
		if err := f.dir.Rebuild(ctx, tx, touched...); err != nil {
			return err
		}
		parents, err := db.Strings(ctx, tx, `SELECT DISTINCT l.parent_id FROM person_links l JOIN person_structures ps ON ps.person_id = l.child_id AND ps.structure_id = $1`, structureID)
		if err != nil {
			return err
		}
		if err := f.dir.Rebuild(ctx, tx, parents...); err != nil {
			return err
		}
		return f.audit.WriteTx(ctx, tx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: "csv.import",
			TargetType: "structure", TargetID: structureID, StructureID: structureID, Success: true, Details: map[string]string{
				"lines": strconv.Itoa(p.Lines), "created": strconv.Itoa(p.Created), "updated": strconv.Itoa(p.Updated),
				"unchanged": strconv.Itoa(p.Unchanged), "classes": strconv.Itoa(p.ClassesCreated)}})
	})
	if err != nil {
		return p, err
	}
	return p, nil
}
