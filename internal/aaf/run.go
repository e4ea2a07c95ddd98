package aaf

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
)

// structRef is an AAF structure as the import knows it.
type structRef struct {
	id   string
	data structData
}

// run is one import inside its transaction.
type run struct {
	ctx   context.Context
	im    *Importer
	tx    syncedTx // the transaction, after the batches written in the background
	rep   *Report
	files []plannedFile
	full  bool
	// pre is what the prescan of a full export set aside, nil when the files are
	// read here; preloaded says that every person with a jointure is loaded at the
	// start (a full export read here, or a large spool), rather than looked up.
	pre       *prescan
	preloaded bool
	// known is how many persons with a jointure the directory had (preloaded);
	// deferred holds the indexes dropped for a bulk load, to create again, by table.
	known    int32
	deferred map[string][]string
	// keysUnchecked says that the foreign keys are checked at the end (checkKeys).
	keysUnchecked bool
	// lenient says that a first import met a person twice: its relations' batches
	// skip the rows already there again (bulk.lenient).
	lenient bool
	// mem is what a first import keeps of the relations, to write the rest itself
	// (firstTail); nil for other imports.
	mem  *firstRelations
	now  time.Time
	year string

	bulk   *bulk
	logins *directory.LoginAllocator

	byJointure map[string]*structRef // structure jointure → structure
	byUAI      map[string]*structRef
	groups     map[string]string // structure id, kind, code → group id (this year's)
	subjects   map[string]string // structure id, code → subject id
	labels     map[string]string // subject code → label, from the MatiereEducNat files
	persons    *people
	personIDs  *ids.Sequence   // the ids of the persons the import creates
	scope      map[string]bool // structures a full export covers

	findPerson, updatePerson, markPerson, personAttrs syncedStmt
	// stored is what was imported of the persons the current batch of records
	// modifies, by jointure (lookUp).
	stored map[string]string
}

func newRun(ctx context.Context, im *Importer, conn *sql.Conn, tx *sql.Tx, rep *Report, files []plannedFile, pre *prescan) (*run, error) {
	r := &run{ctx: ctx, im: im, rep: rep, files: files, full: rep.Kind == KindFull, now: im.opts.Now(),
		year: im.dir.SchoolYearNow(), byJointure: map[string]*structRef{}, byUAI: map[string]*structRef{},
		groups: map[string]string{}, subjects: map[string]string{}, labels: map[string]string{},
		persons: newPeople(), personIDs: ids.NewSequence(), scope: map[string]bool{}, stored: map[string]string{}}
	// The lock row: a second import waits here until the first one ends, so that
	// they never share the work tables. Its generation counts the imports that
	// committed: the prescan's snapshot holds if none did since.
	var generation int64
	if err := tx.QueryRowContext(ctx, `UPDATE aaf_lock SET imported_at = $1, generation = generation + 1 WHERE id = 1 RETURNING generation`,
		r.now.UnixMilli()).Scan(&generation); err != nil {
		return nil, err
	}
	if pre != nil && generation != pre.generation+1 {
		slog.Info("import AAF : un autre import a modifié l'annuaire depuis la lecture ; les fichiers sont relus")
		rep.resetReading()
		pre = nil
	}
	r.pre = pre
	r.preloaded = r.full && (pre == nil || pre.persons >= preloadFrom)
	r.bulk = newBulk(conn, tx, im.db.Dialect, r.year)
	r.tx = syncedTx{tx, r.bulk}
	if err := r.clearWork(); err != nil {
		return nil, err
	}
	r.logins = directory.NewLoginAllocator(r.tx)
	var err error
	prep := func(q string) syncedStmt {
		if err != nil {
			return syncedStmt{}
		}
		var st *sql.Stmt
		st, err = tx.PrepareContext(ctx, q)
		return syncedStmt{st, r.bulk}
	}
	r.findPerson = prep(personRefSQL + ` WHERE p.external_id = $1`)
	// A person whose record changed elsewhere (a class, a school) keeps its row as
	// it is: on SQLite an UPDATE rewrites the entries of every index on the columns
	// it sets, changed or not, a dozen pages all over the file for each person of
	// a delta.
	r.updatePerson = prep(`UPDATE persons SET first_name = $1, last_name = $2, first_key = $3, last_key = $4, profile = $5, email = $6,
		birth_date = $7, updated_at = $8, removed_at = 0,
		state = CASE WHEN state = 'removed' AND removed_state <> '' THEN removed_state ELSE state END, removed_state = ''
		WHERE id = $9 AND (first_name <> $1 OR last_name <> $2 OR first_key <> $3 OR last_key <> $4 OR profile <> $5 OR email <> $6
			OR birth_date <> $7 OR removed_at <> 0 OR removed_state <> '')`)
	r.markPerson = prep(`UPDATE persons SET removed_at = $1 WHERE id = $2 AND removed_at = 0`)
	r.personAttrs = prep(`SELECT attrs FROM aaf_persons WHERE person_id = $1`)
	if err != nil {
		r.close()
		return nil, err
	}
	if err := r.load(); err != nil {
		r.close()
		return nil, err
	}
	if r.preloaded {
		if err := r.logins.Preload(ctx); err != nil {
			r.close()
			return nil, err
		}
	}
	if r.first() {
		r.mem = newFirstRelations()
		r.bulk.firstImport()
		if r.keysUnchecked, err = r.uncheckKeys(); err != nil {
			r.close()
			return nil, err
		}
	}
	return r, nil
}

func (r *run) close() {
	for _, st := range []syncedStmt{r.findPerson, r.updatePerson, r.markPerson, r.personAttrs} {
		if st.Stmt != nil {
			st.Close()
		}
	}
	if r.bulk != nil {
		r.bulk.close()
	}
}

func (r *run) clearWork() error {
	for _, t := range []string{"aaf_work_scope", "aaf_work_touched", "aaf_work_owners", "aaf_work_links", "aaf_work_missing"} {
		if _, err := r.tx.ExecContext(r.ctx, `DELETE FROM `+t); err != nil {
			return err
		}
	}
	return nil
}

const personRefSQL = `SELECT p.id, p.external_id, p.removed_at, COALESCE(a.category, ''), COALESCE(a.checksum, ''), COALESCE(a.structures, '')
	FROM persons p LEFT JOIN aaf_persons a ON a.person_id = p.id`

// preloadFrom is how many spooled person records make loading every person at the
// start of the transaction cheaper than looking each one up.
const preloadFrom = 20000

// scanPersonRef reads a row of personRefSQL into the people.
func scanPersonRef(pp *people, sc interface{ Scan(...any) error }) (*personRef, error) {
	var id, ext, cat, sum, ssum string
	var removedAt int64
	if err := sc.Scan(&id, &ext, &removedAt, &cat, &sum, &ssum); err != nil {
		return nil, err
	}
	p := pp.add(ext, id, cat)
	p.removedAt, p.sum, p.structSum = removedAt, parseSum(sum), parseSum(ssum)
	return p, nil
}

// load reads the structures, this year's classes and groups, the subjects and, for a
// full export read here or a large spool, every person with a jointure; a delta or a
// small spool looks its few persons up one by one instead.
func (r *run) load() error {
	rows, err := r.tx.QueryContext(r.ctx, `SELECT id, COALESCE(external_id, ''), COALESCE(uai, ''), name, city, kind, school_type, type_code FROM structures`)
	if err != nil {
		return err
	}
	for rows.Next() {
		s := &structRef{}
		var ext string
		if err := rows.Scan(&s.id, &ext, &s.data.uai, &s.data.name, &s.data.city, &s.data.kind, &s.data.schoolType, &s.data.typeCode); err != nil {
			rows.Close()
			return err
		}
		s.data.jointure = ext
		if ext != "" {
			r.byJointure[ext] = s
		}
		if s.data.uai != "" {
			r.byUAI[s.data.uai] = s
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = r.tx.QueryContext(r.ctx, `SELECT id, structure_id, kind, code FROM groups WHERE kind IN ('class','group') AND school_year = $1 AND NOT archived`, r.year)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id, sid, kind, code string
		if err := rows.Scan(&id, &sid, &kind, &code); err != nil {
			rows.Close()
			return err
		}
		r.groups[groupKey(sid, kind, code)] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = r.tx.QueryContext(r.ctx, `SELECT id, structure_id, code FROM subjects`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id, sid, code string
		if err := rows.Scan(&id, &sid, &code); err != nil {
			rows.Close()
			return err
		}
		r.subjects[sid+"\x00"+code] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if !r.preloaded {
		return nil
	}
	rows, err = r.tx.QueryContext(r.ctx, personRefSQL+` WHERE p.external_id IS NOT NULL`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if _, err := scanPersonRef(r.persons, rows); err != nil {
			return err
		}
	}
	r.known = r.persons.n
	return rows.Err()
}

// deferIndexes drops, on SQLite, the secondary indexes of the persons that no
// statement of the import reads before its last file (names, profile, e-mail,
// marks), once the import has created more persons than the directory had and at
// least Options.BulkFrom of them: a first import fills an empty directory, and
// inserting a million persons in three indexes in name order, all over the file,
// costs far more than building the indexes once sorted at the end. Unique indexes
// stay: they guard the data. The transaction keeps it all-or-nothing.
//
// A first import also drops the index of memberships by person: it writes three
// million memberships (the classes', then the automatic ones), whose persons come in
// no order, and no statement of a first import looks memberships up by person
// before the automatic ones are written (a later import does: it deletes the
// memberships of the persons it changed).
func (r *run) deferIndexes() error {
	if r.im.db.Dialect != db.SQLite || r.deferred != nil || !r.preloaded ||
		r.rep.Created < r.im.opts.BulkFrom || int32(r.rep.Created) <= r.known {
		return nil
	}
	tables := `'persons'`
	if r.first() {
		tables += `, 'group_members'`
	}
	rows, err := r.tx.QueryContext(r.ctx, `SELECT tbl_name, name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name IN (`+tables+`)
		AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name`)
	if err != nil {
		return err
	}
	var names []string
	r.deferred = map[string][]string{}
	for rows.Next() {
		var table, name, create string
		if err := rows.Scan(&table, &name, &create); err != nil {
			rows.Close()
			return err
		}
		names, r.deferred[table] = append(names, name), append(r.deferred[table], create)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if err := r.bulk.flush(r.ctx); err != nil {
		return err
	}
	for _, name := range names {
		if _, err := r.exec(`DROP INDEX "` + strings.ReplaceAll(name, `"`, `""`) + `"`); err != nil {
			return err
		}
	}
	slog.Debug("import AAF", "index différés", strings.Join(names, ", "))
	return nil
}

// restoreIndexes creates the indexes of table that deferIndexes dropped.
func (r *run) restoreIndexes(table string) error {
	for _, create := range r.deferred[table] {
		if _, err := r.exec(create); err != nil {
			return err
		}
	}
	delete(r.deferred, table)
	return nil
}

// aafStructure tells whether the structure with this id is one the AAF feeds (it
// has a jointure).
func (r *run) aafStructure(id string) bool {
	for _, s := range r.byJointure {
		if s.id == id {
			return true
		}
	}
	return false
}

// aafGroup tells whether the group with this id is one of this year's classes or
// groups of a structure the AAF feeds (isAAFGroup).
func (r *run) aafGroup(id string) bool {
	for key, g := range r.groups {
		if g == id {
			structureID, _, _ := strings.Cut(key, "\x00")
			return r.aafStructure(structureID)
		}
	}
	return false
}

func groupKey(structureID, kind, code string) string {
	return structureID + "\x00" + kind + "\x00" + code
}

// person returns the person with this jointure, or nil.
func (r *run) person(jointure string) (*personRef, error) {
	if p, ok := r.persons.get(jointure); ok || r.preloaded {
		return p, nil
	}
	p, err := scanPersonRef(r.persons, r.findPerson.QueryRowContext(r.ctx, jointure))
	if errors.Is(err, sql.ErrNoRows) {
		r.persons.absent(jointure)
		return nil, nil
	}
	return p, err
}

// lookUp loads, in one query per few hundred, the persons a batch of records
// names that the index of persons does not know yet, and remembers those the
// directory does not have; and what was imported of those a modification names.
// Without it a delta looked each person up on its own, a round trip each on
// PostgreSQL.
func (r *run) lookUp(batch []spooled) error {
	var todo, modified []any
	seen := map[string]bool{}
	for _, e := range batch {
		switch category(r.files[e.File], e.Rec) {
		case CatEleve, CatPersRelEleve, CatPersEducNat:
		default:
			continue
		}
		j := recordJointure(e.Rec)
		if j == "" || len(j) > maxJointure {
			continue
		}
		if e.Rec.Op == OpModify {
			modified = append(modified, j)
		}
		if _, looked := r.persons.get(j); !looked && !seen[j] {
			seen[j] = true
			todo = append(todo, j)
		}
	}
	clear(r.stored)
	err := r.queryIn(`SELECT p.external_id, a.attrs FROM persons p JOIN aaf_persons a ON a.person_id = p.id WHERE p.external_id`, modified,
		func(rows *sql.Rows) error {
			var j, attrs string
			if err := rows.Scan(&j, &attrs); err != nil {
				return err
			}
			r.stored[j] = attrs
			return nil
		})
	if err != nil {
		return err
	}
	err = r.queryIn(personRefSQL+` WHERE p.external_id`, todo, func(rows *sql.Rows) error {
		p, err := scanPersonRef(r.persons, rows)
		if err != nil {
			return err
		}
		delete(seen, r.persons.jointure(p))
		return nil
	})
	if err != nil {
		return err
	}
	for j := range seen {
		r.persons.absent(j)
	}
	return nil
}

// queryIn runs query + " IN (keys)" for a few hundred keys at a time, and scan on
// each row.
func (r *run) queryIn(query string, keys []any, scan func(*sql.Rows) error) error {
	for len(keys) > 0 {
		n := min(len(keys), 500)
		rows, err := r.tx.QueryContext(r.ctx, query+` IN (`+r.im.db.Dialect.In(1, n)+`)`, keys[:n]...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

// run reads the files in order and applies them, then does what needs every file
// read: family links, the persons a full export no longer lists, automatic groups.
func (r *run) run() error {
	if r.pre != nil {
		return r.runSpool()
	}
	start := time.Now()
	var before func(i int, recs []*Record) error
	if !r.preloaded {
		before = func(i int, recs []*Record) error {
			batch := make([]spooled, len(recs))
			for k, rec := range recs {
				batch[k] = spooled{File: i, Rec: rec}
			}
			return r.lookUp(batch)
		}
	}
	err := r.im.eachRecord(r.ctx, r.rep, r.files, before, func(i int, rec *Record) error {
		return r.apply(r.files[i], rec)
	})
	if err == nil {
		err = r.bulk.sync(r.ctx)
	}
	if err != nil {
		return r.failed(err)
	}
	slog.Debug("import AAF", "étape", "lecture des fichiers", "durée", time.Since(start))
	return r.failed(r.finish())
}

// failed returns the error that ended the run: the first error of a batch written
// in the background, when there was one, rather than that of a later statement (on
// PostgreSQL every statement after it fails: the transaction is lost). It waits for
// the batches still being written, so that nothing writes once the run is over.
func (r *run) failed(err error) error {
	if berr := r.bulk.wait(); berr != nil && r.ctx.Err() == nil {
		return berr
	}
	if err != nil && r.ctx.Err() != nil {
		return errCancelled
	}
	return err
}

// runSpool applies what the prescan set aside.
func (r *run) runSpool() error {
	start := time.Now()
	var before func([]spooled) error
	if !r.preloaded {
		before = r.lookUp
	}
	err := r.pre.each(r.ctx, before, func(e spooled) error {
		f := r.files[e.File]
		if e.Dup {
			r.reject(f, e.Rec, recordJointure(e.Rec), "", duplicateReason)
			return nil
		}
		return r.apply(f, e.Rec)
	})
	if err == nil {
		err = r.bulk.sync(r.ctx)
	}
	if err != nil {
		return r.failed(err)
	}
	slog.Debug("import AAF", "étape", "enregistrements mis de côté", "durée", time.Since(start))
	return r.failed(r.finish())
}

// reject records why a record was not imported. Without a structure, the one the
// record names is looked for, so that the school's administrators see it too.
func (r *run) reject(f plannedFile, rec *Record, jointure, structureID, reason string) {
	if structureID == "" {
		structureID = r.recordStructure(rec)
	}
	r.rep.issue(SeverityRejected, f.Name, rec.Index, jointure, structureID, reason)
}

// recordStructure returns the first known structure a person record names.
func (r *run) recordStructure(rec *Record) string {
	for _, name := range []string{"ENTPersonStructRattach", "ENTEleveClasses", "ENTPersonClasses", "ENTPersonFonctions", "ENTAuxEnsClassesMatieres"} {
		vals, _ := rec.Get(name)
		for _, v := range vals {
			if s := r.resolve(split(v, 1)[0]); s != nil {
				return s.id
			}
		}
	}
	return ""
}

func (r *run) warn(f plannedFile, rec *Record, jointure, structureID, reason string) {
	if structureID == "" {
		structureID = r.recordStructure(rec)
	}
	r.rep.issue(SeverityWarning, f.Name, rec.Index, jointure, structureID, reason)
}

// category is the record's category, or the one its file's type implies.
func category(f plannedFile, rec *Record) string {
	if rec.Category != "" {
		return rec.Category
	}
	switch f.typ {
	case "EtabEducNat":
		return CatEtab
	case "MatiereEducNat":
		return CatMatiere
	case "MefEducNat":
		return CatMef
	}
	return f.typ
}

// apply imports a record.
func (r *run) apply(f plannedFile, rec *Record) error {
	switch cat := category(f, rec); cat {
	case CatEtab:
		return r.structure(f, rec)
	case CatMatiere:
		return r.subject(f, rec)
	case CatMef:
		// MEF (modules élémentaires de formation) are read for their format only:
		// the directory has no use for them yet.
		return nil
	case CatEleve, CatPersRelEleve, CatPersEducNat:
		return r.personRecord(f, rec, cat)
	default:
		r.reject(f, rec, rec.ID, "", fmt.Sprintf("catégorie %q inconnue", cat))
		return nil
	}
}

func first(rec *Record, name string) string {
	vals, _ := rec.Get(name)
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// ---- structures and subjects ----

func (r *run) structure(f plannedFile, rec *Record) error {
	j := rec.ID
	if j == "" {
		j = first(rec, "ENTStructureJointure")
	}
	if j == "" {
		r.reject(f, rec, "", "", "identifiant d'établissement manquant")
		return nil
	}
	s := r.byJointure[j]
	if rec.Op == OpDelete {
		sid := ""
		if s != nil {
			sid = s.id
		}
		// Closing a school is an administrative decision with its archives: no feed
		// deletes one.
		r.warn(f, rec, j, sid, "suppression d'établissement ignorée : un établissement n'est jamais supprimé par un import")
		return nil
	}
	base := structData{jointure: j}
	if s != nil {
		base = s.data
	}
	d, reason := interpretStructure(rec.Attrs, base)
	if reason != "" {
		r.reject(f, rec, j, "", reason)
		return nil
	}
	if other := r.byUAI[d.uai]; other != nil && other != s {
		if other.data.jointure != "" || s != nil {
			r.reject(f, rec, j, other.id, "UAI "+d.uai+" déjà attribué à un autre établissement")
			return nil
		}
		// A school created by hand before the AAF fed it: the export adopts it.
		s = other
	}
	switch {
	case s == nil:
		st, err := r.im.dir.CreateStructureTx(r.ctx, r.tx, directory.StructureInput{Kind: d.kind, UAI: d.uai, ExternalID: j, Name: d.name, City: d.city, Type: d.schoolType, TypeCode: d.typeCode})
		var inv *actor.InvalidError
		if errors.As(err, &inv) {
			// interpretStructure checks what CreateStructureTx does; this is a
			// safety net, reached before any statement ran.
			r.reject(f, rec, j, "", "établissement refusé : "+inv.Message)
			return nil
		}
		if err != nil {
			return err
		}
		s = &structRef{id: st.ID, data: d}
		r.rep.StructuresCreated++
	case s.data.uai != d.uai || s.data.name != d.name || s.data.city != d.city || s.data.kind != d.kind || s.data.jointure != j || s.data.schoolType != d.schoolType || s.data.typeCode != d.typeCode:
		if _, err := r.tx.ExecContext(r.ctx, `UPDATE structures SET external_id = $1, uai = $2, name = $3, city = $4, kind = $5, school_type = $6, type_code = $7 WHERE id = $8`,
			j, d.uai, d.name, d.city, d.kind, d.schoolType, d.typeCode, s.id); err != nil {
			return err
		}
		if s.data.uai != d.uai {
			delete(r.byUAI, s.data.uai)
		}
		s.data = d
		r.rep.StructuresUpdated++
	}
	s.data.jointure = j
	r.byJointure[j], r.byUAI[d.uai] = s, s
	r.scope[s.id] = true
	if err := r.groupsOf(s.id, directory.GroupClass, d.classes); err != nil {
		return err
	}
	return r.groupsOf(s.id, directory.GroupTeaching, d.groups)
}

// groupsOf creates the classes or groups (code, name) of a structure's record that
// this year does not have yet, all at once: an académie has thousands.
func (r *run) groupsOf(structureID, kind string, list [][2]string) error {
	var in []directory.ClassInput
	seen := map[string]bool{}
	for _, c := range list {
		if _, ok := r.groups[groupKey(structureID, kind, c[0])]; ok || seen[c[0]] {
			continue
		}
		seen[c[0]] = true
		name := c[1]
		if name == "" {
			name = c[0]
		}
		in = append(in, directory.ClassInput{Code: c[0], Name: clip(name, 120)})
	}
	if len(in) == 0 {
		return nil
	}
	gs, err := r.im.dir.CreateClassesTx(r.ctx, r.tx, structureID, kind, in)
	if err != nil {
		return err
	}
	for _, g := range gs {
		r.groups[groupKey(structureID, kind, g.Code)] = g.ID
	}
	if kind == directory.GroupClass {
		r.rep.ClassesCreated += len(gs)
	} else {
		r.rep.GroupsCreated += len(gs)
	}
	return nil
}

// group returns this year's class or group of a structure, creating it if needed.
func (r *run) group(structureID, kind, code, name string) (string, error) {
	key := groupKey(structureID, kind, code)
	if id, ok := r.groups[key]; ok {
		return id, nil
	}
	if name == "" {
		name = code
	}
	g, err := r.im.dir.CreateClassTx(r.ctx, r.tx, structureID, kind, code, clip(name, 120))
	if err != nil {
		return "", err
	}
	r.groups[key] = g.ID
	if kind == directory.GroupClass {
		r.rep.ClassesCreated++
	} else {
		r.rep.GroupsCreated++
	}
	return g.ID, nil
}

func (r *run) subject(f plannedFile, rec *Record) error {
	code := first(rec, "ENTMatJointure")
	if code == "" {
		code = rec.ID
	}
	if code == "" || rec.Op == OpDelete {
		if code == "" {
			r.reject(f, rec, "", "", "code de matière manquant")
		}
		return nil
	}
	label := first(rec, "ENTLibelleMatiere")
	if label == "" {
		label = code
	}
	r.labels[code] = label
	if s := r.resolve(first(rec, "ENTMatiereRattach")); s != nil {
		_, err := r.subjectID(s.id, code)
		return err
	}
	return nil
}

// subjectID returns a structure's subject by code, creating it (named from the
// subject files when they named it) if needed.
func (r *run) subjectID(structureID, code string) (string, error) {
	key := structureID + "\x00" + code
	if id, ok := r.subjects[key]; ok {
		return id, nil
	}
	name := r.labels[code]
	if name == "" {
		name = code
	}
	id := ids.New()
	if _, err := r.tx.ExecContext(r.ctx, `INSERT INTO subjects(id, structure_id, code, name) VALUES ($1,$2,$3,$4)`, id, structureID, code, clip(name, 200)); err != nil {
		return "", err
	}
	r.subjects[key] = id
	r.rep.SubjectsCreated++
	return id, nil
}

// resolve finds a structure by jointure or, failing that, by UAI (some exports pack
// the UAI in classes and functions).
func (r *run) resolve(ref string) *structRef {
	if ref == "" {
		return nil
	}
	if s := r.byJointure[ref]; s != nil {
		return s
	}
	return r.byUAI[strings.ToUpper(ref)]
}

// ---- persons ----

// recordJointure is the jointure a person record names.
func recordJointure(rec *Record) string {
	if rec.ID != "" {
		return rec.ID
	}
	return first(rec, "ENTPersonJointure")
}

func (r *run) personRecord(f plannedFile, rec *Record, cat string) error {
	j := recordJointure(rec)
	if j == "" {
		r.reject(f, rec, "", "", "jointure manquante")
		return nil
	}
	if len(j) > maxJointure {
		r.reject(f, rec, clip(j, 40)+"…", "", "jointure trop longue")
		return nil
	}
	p, err := r.person(j)
	if err != nil {
		return err
	}
	var pid, pcat string
	if p != nil {
		pid, pcat = r.persons.id(p), r.persons.category(p)
	}
	if p != nil && p.seen != notSeen {
		if r.full && rec.Op != OpDelete && p.seen == seenPresent {
			r.reject(f, rec, j, "", duplicateReason)
			return nil
		}
		// The same person twice in successive deltas: what is queued for the first
		// must be written before the second deletes and rewrites it.
		if err := r.bulk.flush(r.ctx); err != nil {
			return err
		}
		if r.mem != nil && !r.lenient {
			r.lenient = true
			if err := r.bulk.lenient(r.ctx); err != nil {
				return err
			}
		}
	}
	if rec.Op == OpDelete {
		if p == nil {
			r.warn(f, rec, j, "", "suppression d'une personne inconnue ignorée")
			return nil
		}
		p.seen = seenDeleted
		if p.removedAt == 0 {
			p.removedAt = r.now.UnixMilli()
			if _, err := r.markPerson.ExecContext(r.ctx, p.removedAt, pid); err != nil {
				return err
			}
			r.rep.Marked++
		}
		return nil
	}
	if p != nil && pcat != "" && pcat != cat {
		r.reject(f, rec, j, "", fmt.Sprintf("jointure déjà utilisée par une personne de catégorie %s", pcat))
		return nil
	}
	var attrs attrSet
	// was is the person as the import last wrote them, when a modification tells:
	// a pupil who changes class keeps their name, and the person's row is left alone.
	var was *personData
	if rec.Op == OpModify && p != nil {
		// A modification carries only what changed: apply it to what was imported.
		// Looked up with the batch (lookUp), unless this import already changed the
		// person: then it was written (flushed above) and is read again.
		stored, ok := r.stored[j]
		if !ok || p.seen != notSeen {
			err := r.personAttrs.QueryRowContext(r.ctx, pid).Scan(&stored)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		before := decodeAttrs(stored)
		if d, reason := interpret(cat, before); stored != "" && reason == "" {
			was = &d
		}
		attrs = keep(cat, rec.Attrs, before)
	} else {
		attrs = keep(cat, rec.Attrs, nil)
	}
	encoded := attrs.encode()
	// The school year enters the checksum: after a rollover every record is new
	// again, and the import rebuilds the year's classes.
	sum := checksum(cat+"\x00"+r.year, encoded)
	if p != nil && p.sum == sum && p.removedAt == 0 {
		p.seen = seenPresent
		r.rep.Unchanged++
		return nil
	}
	d, reason := interpret(cat, attrs)
	if reason != "" {
		if p != nil {
			// A wrong record of someone who exists: they are still in the export, so
			// they are neither changed nor marked.
			p.seen = seenPresent
		}
		r.reject(f, rec, j, "", reason)
		return nil
	}
	rel, complete := r.relations(f, rec, j, d)
	if len(rel.structures) == 0 && cat != CatPersRelEleve {
		if p != nil {
			p.seen = seenPresent
		}
		r.reject(f, rec, j, "", "aucun établissement connu pour cette personne")
		return nil
	}
	if !complete {
		// Something the record names was not found: import the rest now, and read
		// the record again next time in case it is there then.
		sum = 0
	}
	ssum := hashStrings(rel.structures)
	now := r.now.UnixMilli()
	created := p == nil
	if created {
		login, err := r.logins.Next(r.ctx, d.first, d.last)
		if err != nil {
			return err
		}
		pid = r.personIDs.Next()
		p = r.persons.add(j, pid, cat)
		if err := r.bulk.add(r.ctx, r.bulk.persons, pid, j, login, d.first, d.last, directory.Fold(d.first), directory.Fold(d.last),
			d.profile, d.email, d.birth, directory.StatePending, now, now); err != nil {
			return err
		}
		r.rep.Created++
		if err := r.deferIndexes(); err != nil {
			return err
		}
	} else if p.removedAt != 0 || was == nil || !samePerson(*was, d) {
		if _, err := r.updatePerson.ExecContext(r.ctx, d.first, d.last, directory.Fold(d.first), directory.Fold(d.last), d.profile,
			d.email, d.birth, now, pid); err != nil {
			return err
		}
	}
	if !created {
		if p.removedAt != 0 {
			r.rep.Restored++
		}
		if p.structSum != 0 && p.structSum != ssum {
			r.rep.Moved++
		}
		r.rep.Updated++
		for _, b := range []*batch{r.bulk.delStructures, r.bulk.delMembers, r.bulk.delFunctions, r.bulk.delTeaching} {
			if err := r.bulk.add(r.ctx, b, pid); err != nil {
				return err
			}
		}
	}
	p.seen, p.sum, p.structSum, p.removedAt = seenPresent, sum, ssum, 0
	r.persons.setCategory(p, cat)
	for _, sid := range rel.structures {
		r.scope[sid] = true
		if err := r.bulk.add(r.ctx, r.bulk.structures, pid, sid); err != nil {
			return err
		}
	}
	for _, gid := range rel.groups {
		if err := r.bulk.add(r.ctx, r.bulk.members, gid, pid, "direct"); err != nil {
			return err
		}
	}
	for _, fn := range rel.functions {
		if err := r.bulk.add(r.ctx, r.bulk.functions, pid, fn.structure, fn.code, fn.label); err != nil {
			return err
		}
	}
	for _, t := range rel.teaching {
		if err := r.bulk.add(r.ctx, r.bulk.teaching, pid, t[0], t[1]); err != nil {
			return err
		}
	}
	switch {
	case r.mem != nil:
		// A first import computes the family links, and what follows from the
		// relations, itself (firstTail).
		person := r.persons.indexOf(j)
		if !created {
			r.mem.forget(person, r.aafStructure, r.aafGroup)
		}
		r.mem.record(r.persons, person, cat, rel, d)
	case cat == CatEleve:
		if hasLinkAttrs(attrs) {
			// The pupil's record says who its responsables are: its links are
			// rewritten. A record silent about them leaves them alone.
			if err := r.bulk.add(r.ctx, r.bulk.owners, pid); err != nil {
				return err
			}
		}
		for _, parent := range d.parents {
			if err := r.bulk.add(r.ctx, r.bulk.workLinks, parent, j); err != nil {
				return err
			}
		}
	case cat == CatPersRelEleve:
		for _, child := range d.children {
			if err := r.bulk.add(r.ctx, r.bulk.workLinks, j, child); err != nil {
				return err
			}
		}
	}
	if err := r.bulk.add(r.ctx, r.bulk.aafPersons, pid, cat, hexSum(sum), hexSum(ssum), encoded, now); err != nil {
		return err
	}
	if r.first() {
		// The last steps of a first import take every person: no list to keep.
		return nil
	}
	return r.bulk.add(r.ctx, r.bulk.touched, pid)
}

// samePerson tells whether two readings of a person's record give the same row
// of persons (the conditional UPDATE would change nothing).
func samePerson(a, b personData) bool {
	return a.first == b.first && a.last == b.last && a.profile == b.profile && a.email == b.email && a.birth == b.birth
}

// maxJointure is the longest jointure a person may have (the AAF's have about ten
// characters).
const maxJointure = 255

const duplicateReason = "jointure en double dans l'export : seul le premier enregistrement est importé"

func hasLinkAttrs(a attrSet) bool {
	for _, n := range []string{"ENTElevePersRelEleve", "ENTEleveAutoriteParentale", "ENTEleveParents", "ENTElevePere", "ENTEleveMere", "ENTElevePersRelEleve1", "ENTElevePersRelEleve2"} {
		if len(a[n]) > 0 {
			return true
		}
	}
	return false
}

// relations is a person's record resolved to directory ids.
type relations struct {
	structures []string
	groups     []string    // classes and groups the person is a member of
	functions  []fn        // with structure ids
	teaching   [][2]string // group id, subject id
}

// relations resolves what a person's record names. complete is false when a
// structure it names is unknown (a warning says which).
func (r *run) relations(f plannedFile, rec *Record, j string, d personData) (relations, bool) {
	var out relations
	complete := true
	seen := map[string]bool{}
	addStructure := func(id string) {
		if !seen[id] {
			seen[id] = true
			out.structures = append(out.structures, id)
		}
	}
	lookup := func(ref string) *structRef {
		s := r.resolve(ref)
		if s == nil {
			complete = false
			r.warn(f, rec, j, "", "établissement inconnu ignoré : "+ref)
		}
		return s
	}
	fail := func(err error) {
		// A failure to create a class is a database failure: the caller's next
		// statement reports it; here the class is only left out.
		complete = false
		r.warn(f, rec, j, "", "classe ou groupe non créé : "+err.Error())
	}
	// A responsable's structures are those of their children, computed once every
	// link is known.
	if d.profile != directory.Responsable {
		for _, ref := range d.rattach {
			if s := lookup(ref); s != nil {
				addStructure(s.id)
			}
		}
	}
	for _, x := range d.functions {
		if s := lookup(x.structure); s != nil {
			addStructure(s.id)
			if !slices.ContainsFunc(out.functions, func(f fn) bool { return f.structure == s.id && f.code == x.code }) {
				out.functions = append(out.functions, fn{s.id, x.code, clip(x.label, 200)})
			}
		}
	}
	// Each relation once: a first import inserts them without looking for them
	// (bulk.firstImport), and an export may name one twice.
	member := func(list []ref, kind string) {
		for _, c := range list {
			s := lookup(c.structure)
			if s == nil {
				continue
			}
			addStructure(s.id)
			gid, err := r.group(s.id, kind, c.code, c.code)
			if err != nil {
				fail(err)
				continue
			}
			if !slices.Contains(out.groups, gid) {
				out.groups = append(out.groups, gid)
			}
		}
	}
	member(d.classes, directory.GroupClass)
	member(d.groups, directory.GroupTeaching)
	for _, t := range d.teaching {
		s := lookup(t.structure)
		if s == nil {
			continue
		}
		addStructure(s.id)
		gid, err := r.group(s.id, t.kind, t.code, t.code)
		if err != nil {
			fail(err)
			continue
		}
		sub := ""
		if t.subject != "" {
			if sub, err = r.subjectID(s.id, t.subject); err != nil {
				fail(err)
				continue
			}
		}
		if pair := [2]string{gid, sub}; !slices.Contains(out.teaching, pair) {
			out.teaching = append(out.teaching, pair)
		}
	}
	for _, w := range d.warnings {
		r.warn(f, rec, j, firstOr(out.structures), w)
	}
	return out, complete
}

func firstOr(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}

// ---- after the last file ----

// slowLog is the import's transaction with its slow statements in the debug log.
type slowLog struct{ db.Querier }

func (s *slowLog) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	start := time.Now()
	res, err := s.Querier.ExecContext(ctx, q, args...)
	if err == nil {
		n, _ := res.RowsAffected()
		logSlow(q, start, n)
	}
	return res, err
}

func (r *run) exec(q string, args ...any) (int64, error) {
	start := time.Now()
	res, err := r.tx.ExecContext(r.ctx, q, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	logSlow(q, start, n)
	return n, err
}

// execIgnoring runs an "INSERT ... ON CONFLICT DO NOTHING" of rows read from the
// directory's tables, as the engine writes them best (db.Dialect.IgnoringConflicts).
func (r *run) execIgnoring(q string) (int64, error) {
	return r.exec(r.im.db.Dialect.IgnoringConflicts(q))
}

// logSlow writes to the debug log a statement of the import's last steps that took
// more than a tenth of a second, its first words and the rows it changed.
func logSlow(q string, start time.Time, rows int64) {
	if d := time.Since(start); d > 100*time.Millisecond {
		words := strings.Fields(q)
		slog.Debug("import AAF", "instruction", strings.Join(words[:min(len(words), 8)], " "), "lignes", rows, "durée", d)
	}
}

// first says that the directory had no person with a jointure before this import
// (a first import): every person it imports is new, and so is every relation,
// family link, responsable's structure and automatic membership it writes (but
// for a person the export adds twice: bulk.lenient). It writes them as new rows
// (bulk.firstImport), and computes the last three itself (firstTail) rather than
// with the set-wise steps that follow a later import. Persons made by hand keep
// what they have.
func (r *run) first() bool { return r.preloaded && r.known == 0 }

func (r *run) finish() error {
	if err := r.bulk.flush(r.ctx); err != nil {
		return err
	}
	if r.im.db.Dialect == db.Postgres {
		// The work tables were filled inside this transaction: without fresh
		// statistics the planner takes them for empty and joins them row by row.
		// So are the directory's tables after a large import (the first one
		// fills them); after a delta their statistics still hold.
		tables := `aaf_work_touched, aaf_work_owners, aaf_work_links`
		large := r.im.worthAnalyzing(r.ctx, r.rep)
		if large {
			tables += `, persons, person_links, person_structures, group_members`
		}
		if _, err := r.exec(`ANALYZE ` + tables); err != nil {
			return err
		}
		if !large && !r.first() {
			// The last steps start from the work tables, a few thousand persons,
			// and reach the rest by index. The planner, costing a random read four
			// times a sequential one, hashed whole tables of a million rows instead
			// (person_structures, person_links, group_members: 0.2 to 0.9 s a
			// statement in a 1% delta). Nested loops only, until the commit: every
			// join of the last steps has its index, and what follows them writes
			// single rows.
			for _, set := range []string{`SET LOCAL enable_hashjoin = off`, `SET LOCAL enable_mergejoin = off`} {
				if _, err := r.exec(set); err != nil {
					return err
				}
			}
		}
	}
	type step struct {
		what string
		fn   func() error
	}
	// Either way, the indexes a large import dropped (deferIndexes) are built once
	// the index of persons is freed: building them takes memory of its own
	// (SQLite's sorts), and no statement before needs them.
	common := []step{
		{"personnes absentes de l'export", r.missing},
		{"mémoire", r.release},
		{"index recréés", func() error { return r.restoreIndexes("persons") }},
	}
	var steps []step
	if r.mem != nil {
		steps = append([]step{{"liens familiaux, rattachement des responsables et groupes automatiques", r.firstTail}}, common...)
	} else {
		steps = append(append([]step{{"liens familiaux", r.links}}, common...),
			step{"rattachement des responsables", r.responsables},
			step{"groupes automatiques", func() error {
				return r.im.dir.RebuildPersons(r.ctx, &slowLog{r.tx}, `SELECT person_id FROM aaf_work_touched`)
			}})
	}
	steps = append(steps,
		step{"index des appartenances recréé", func() error { return r.restoreIndexes("group_members") }},
		// Before the purge, whose deletions cascade.
		step{"clés étrangères vérifiées", r.recheckKeys},
		step{"délais de conservation", func() error {
			ended, purged, err := r.im.sweep(r.ctx, r.tx, r.now)
			r.rep.AccessEnded, r.rep.Purged = ended, purged
			return err
		}})
	for _, s := range steps {
		start := time.Now()
		if err := s.fn(); err != nil {
			return fmt.Errorf("%s : %w", s.what, err)
		}
		slog.Debug("import AAF", "étape", s.what, "durée", time.Since(start))
	}
	r.bulk.logSpent()
	for id := range r.scope {
		r.rep.StructureIDs = append(r.rep.StructureIDs, id)
	}
	start := time.Now()
	err := r.clearWork()
	slog.Debug("import AAF", "étape", "tables de travail vidées", "durée", time.Since(start))
	return err
}

// links rewrites the family links of the pupils whose records spoke of them, and adds
// those the responsables' records declare; a responsable the directory does not know
// is reported and the pupil's record read again next time.
func (r *run) links() error {
	// The old responsables of a pupil whose links change leave the class's parents
	// group: their groups are rebuilt too.
	if _, err := r.execIgnoring(`INSERT INTO aaf_work_touched(person_id) SELECT parent_id FROM person_links
		WHERE child_id IN (SELECT person_id FROM aaf_work_owners) ON CONFLICT DO NOTHING`); err != nil {
		return err
	}
	// Only the links the export no longer gives are deleted: most of a changed
	// pupil's links stay, and writing them again cost a delta a good part of this step.
	if _, err := r.exec(`DELETE FROM person_links WHERE child_id IN (SELECT person_id FROM aaf_work_owners)
		AND NOT EXISTS (SELECT 1 FROM persons p, persons c, aaf_work_links w WHERE p.id = person_links.parent_id AND c.id = person_links.child_id
			AND w.parent_ext = p.external_id AND w.child_ext = c.external_id AND p.profile = 'Responsable' AND c.profile = 'Eleve')`); err != nil {
		return err
	}
	n, err := r.execIgnoring(`INSERT INTO person_links(parent_id, child_id)
		SELECT p.id, c.id FROM aaf_work_links w CROSS JOIN persons p CROSS JOIN persons c
		WHERE p.external_id = w.parent_ext AND c.external_id = w.child_ext AND p.profile = 'Responsable' AND c.profile = 'Eleve'
		ON CONFLICT DO NOTHING`)
	if err != nil {
		return err
	}
	r.rep.Links = int(n)
	// Responsables follow their children's classes and schools.
	if _, err := r.execIgnoring(`INSERT INTO aaf_work_touched(person_id) SELECT l.parent_id FROM person_links l
		WHERE l.child_id IN (SELECT person_id FROM aaf_work_touched) ON CONFLICT DO NOTHING`); err != nil {
		return err
	}
	rows, err := r.tx.QueryContext(r.ctx, `SELECT w.parent_ext, w.child_ext, COALESCE(c.id, ''), COALESCE(p.profile, '')
		FROM aaf_work_links w LEFT JOIN persons p ON p.external_id = w.parent_ext LEFT JOIN persons c ON c.external_id = w.child_ext
		WHERE w.parent_ext <> w.child_ext AND (p.id IS NULL OR c.id IS NULL) ORDER BY w.child_ext, w.parent_ext`)
	if err != nil {
		return err
	}
	var missing []missingLink
	for rows.Next() {
		var m missingLink
		var profile string
		if err := rows.Scan(&m.parent, &m.child, &m.childID, &profile); err != nil {
			rows.Close()
			return err
		}
		missing = append(missing, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return r.reportMissingLinks(missing)
}

// missingLink is a family link a record declares with a jointure no person has:
// childID is the pupil's id when the responsable is the one missing.
type missingLink struct{ parent, child, childID string }

// reportMissingLinks reports the links not created for want of a person, and makes
// the next import read again the records of the pupils whose responsable is
// missing, though they do not change, in case the responsable is there then.
func (r *run) reportMissingLinks(missing []missingLink) error {
	var redo []string
	for _, m := range missing {
		if m.childID == "" {
			r.rep.issue(SeverityWarning, "", 0, m.parent, "", "élève "+m.child+" introuvable : lien avec le responsable "+m.parent+" non créé")
			continue
		}
		r.rep.issue(SeverityWarning, "", 0, m.child, "", "responsable "+m.parent+" introuvable : lien avec l'élève non créé")
		redo = append(redo, m.childID)
	}
	for len(redo) > 0 {
		n := min(len(redo), 500)
		args := make([]any, n)
		for i := range args {
			args[i] = redo[i]
		}
		if _, err := r.exec(`UPDATE aaf_persons SET checksum = '' WHERE person_id IN (`+db.In(1, n)+`)`, args...); err != nil {
			return err
		}
		redo = redo[n:]
	}
	return nil
}

// reportWithoutChild reports the responsables left without a structure: none of
// their children is known.
func (r *run) reportWithoutChild(jointures []string) {
	for _, j := range jointures {
		r.rep.issue(SeverityWarning, "", 0, j, "", "responsable sans élève connu : compte créé sans établissement")
	}
}

// missing marks, after a full export, the persons of the structures it covers that
// it no longer lists. They keep their account for the grace period.
func (r *run) missing() error {
	if !r.full {
		return nil
	}
	for id := range r.scope {
		if _, err := r.exec(`INSERT INTO aaf_work_scope(structure_id) VALUES ($1)`, id); err != nil {
			return err
		}
	}
	var err error
	if r.pre != nil {
		for _, id := range r.pre.missing {
			if err = r.bulk.add(r.ctx, r.bulk.missing, id); err != nil {
				return err
			}
		}
	} else {
		r.persons.each(func(p *personRef) {
			if err == nil && p.seen == notSeen && p.removedAt == 0 && p.cat != 0 {
				err = r.bulk.add(r.ctx, r.bulk.missing, r.persons.id(p))
			}
		})
	}
	if err != nil {
		return err
	}
	if err := r.bulk.flush(r.ctx); err != nil {
		return err
	}
	// EXISTS, not "id IN (the persons of the structures covered)": that list is the
	// whole directory, which SQLite would build to check a few hundred persons.
	n, err := r.exec(`UPDATE persons SET removed_at = $1 WHERE removed_at = 0 AND id IN (SELECT person_id FROM aaf_work_missing)
		AND EXISTS (SELECT 1 FROM person_structures ps WHERE ps.person_id = persons.id
			AND ps.structure_id IN (SELECT structure_id FROM aaf_work_scope))`, r.now.UnixMilli())
	r.rep.Marked += int(n)
	return err
}

// release gives back the memory of the index of persons, which the remaining
// steps, set-wise statements in the database, no longer need: at a million persons
// it is a good part of the import's memory, and those statements need memory of
// their own (the database's, which the Go heap's free pages are no use to). (A larger
// SQLite page cache for these steps, tried at a million persons, made the process
// 200 MB larger and the import no faster.)
func (r *run) release() error {
	n := r.persons.n
	r.persons, r.logins = nil, nil
	if n >= releaseAfter {
		debug.FreeOSMemory()
	}
	return nil
}

// releaseAfter is how many persons make the index worth handing back at once.
const releaseAfter = 50000

// responsables gives the responsables whose children changed their children's
// structures, and reports those left without a child the directory knows.
func (r *run) responsables() error {
	// The work tables lead the joins ("CROSS JOIN" keeps SQLite's join order, which
	// knows nothing of their size): a delta touches a few hundred of the
	// hundreds of thousands of responsables.
	touchedResp := `(SELECT t.person_id FROM aaf_work_touched t CROSS JOIN persons p WHERE p.id = t.person_id AND p.profile = 'Responsable')`
	// The structures a responsable keeps stay as they are; only those none of
	// their children is in any more are deleted.
	if _, err := r.exec(`DELETE FROM person_structures WHERE person_id IN ` + touchedResp + ` AND ` + inAAFStructure("person_structures.structure_id") + `
		AND NOT EXISTS (SELECT 1 FROM person_links l JOIN person_structures ps ON ps.person_id = l.child_id
			WHERE l.parent_id = person_structures.person_id AND ps.structure_id = person_structures.structure_id)`); err != nil {
		return err
	}
	if _, err := r.execIgnoring(`INSERT INTO person_structures(person_id, structure_id)
		SELECT DISTINCT l.parent_id, ps.structure_id FROM person_links l JOIN person_structures ps ON ps.person_id = l.child_id
		JOIN structures s ON s.id = ps.structure_id AND s.external_id IS NOT NULL
		WHERE l.parent_id IN ` + touchedResp + ` ON CONFLICT DO NOTHING`); err != nil {
		return err
	}
	orphans, err := db.Strings(r.ctx, r.tx, `SELECT p.external_id FROM persons p WHERE p.id IN `+touchedResp+`
		AND p.removed_at = 0 AND NOT EXISTS (SELECT 1 FROM person_structures ps WHERE ps.person_id = p.id) ORDER BY p.external_id`)
	if err != nil {
		return err
	}
	r.reportWithoutChild(orphans)
	return nil
}

// sweep applies the retention rules: a person marked for deletion longer than the
// grace period loses access (state removed, the previous state kept for a return);
// longer than the grace period and the purge delay, the person is deleted with
// everything the directory holds about them.
func (im *Importer) sweep(ctx context.Context, q db.Querier, now time.Time) (ended, purged int, err error) {
	cutAccess := now.Add(-im.opts.Grace).UnixMilli()
	cutPurge := now.Add(-im.opts.Grace - im.opts.PurgeAfter).UnixMilli()
	res, err := q.ExecContext(ctx, `UPDATE persons SET removed_state = state, state = 'removed', updated_at = $1
		WHERE removed_at > 0 AND removed_at <= $2 AND state <> 'removed'`, now.UnixMilli(), cutAccess)
	if err != nil {
		return 0, 0, err
	}
	n, _ := res.RowsAffected()
	ended = int(n)
	// Sessions end with the access: a removed person is signed out everywhere.
	// (Marked persons are found through their index, not by reading every person.)
	if _, err := q.ExecContext(ctx, `DELETE FROM sessions WHERE person_id IN
		(SELECT id FROM persons WHERE removed_at > 0 AND removed_at <= $1 AND state = 'removed')`, cutAccess); err != nil {
		return ended, 0, err
	}
	res, err = q.ExecContext(ctx, `DELETE FROM persons WHERE removed_at > 0 AND removed_at <= $1`, cutPurge)
	if err != nil {
		return ended, 0, err
	}
	n, _ = res.RowsAffected()
	return ended, int(n), nil
}
