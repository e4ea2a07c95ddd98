package aaf

import (
	"cmp"
	"slices"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/db"
)

// firstRelations is what a first import keeps of each person's record to compute
// itself, once every record is read, the family links, the responsables'
// structures and the automatic memberships, and write them as new rows with the
// batches (run.firstTail). The directory's set-wise statements (links,
// responsables, directory.RebuildPersons) would compute the same from the tables:
// at a million persons they were two fifths of a first import on PostgreSQL,
// mostly in joins, sorts and unique-index look-ups the import has no need for,
// since it knows every row and that none is there yet. Persons are numbered as in
// the people (the order they were created in, which is their ids' order);
// structures and groups by their place in ids. The arrays by person hold no
// pointer: the garbage collector does not scan them.
type firstRelations struct {
	profiles     []uint8  // by person: index in profileNames
	profileNames []string // directory.Eleve...
	structures   []pair   // person, structure
	members      []pair   // person, class or group (direct memberships)
	directions   []pair   // person, structure where they hold the function DIR
	teaching     []pair   // teacher, class or group
	declared     []declaredLink
	jointures    []byte // the jointures of declaredLink.other not known when read
	ids          []string
	index        map[string]int32 // structure or group id → place in ids
}

type pair struct{ person, other int32 }

// declaredLink is a family link as one person's record declares it: a pupil's
// responsable, or a responsable's child.
type declaredLink struct {
	by       int32 // the person whose record declares it
	other    int32 // the person it names, or -1 when not known when read: jointures[at:at+n]
	at       uint32
	n        uint16
	byParent bool // by is the responsable
}

func newFirstRelations() *firstRelations {
	// Profile 0 is none: a person added without a record of their own (never).
	return &firstRelations{index: map[string]int32{}, profileNames: []string{""}}
}

func (m *firstRelations) id(s string) int32 {
	if i, ok := m.index[s]; ok {
		return i
	}
	m.ids = append(m.ids, s)
	m.index[s] = int32(len(m.ids) - 1)
	return int32(len(m.ids) - 1)
}

func (m *firstRelations) profile(person int32) string { return m.profileNames[m.profiles[person]] }

// record keeps what person's record says (a second record of the same person
// replaces the first: forget).
func (m *firstRelations) record(pp *people, person int32, cat string, rel relations, d personData) {
	code := slices.Index(m.profileNames, d.profile)
	if code < 0 {
		m.profileNames = append(m.profileNames, d.profile)
		code = len(m.profileNames) - 1
	}
	for int(person) >= len(m.profiles) {
		m.profiles = append(m.profiles, 0)
	}
	m.profiles[person] = uint8(code)
	for _, s := range rel.structures {
		m.structures = append(m.structures, pair{person, m.id(s)})
	}
	for _, g := range rel.groups {
		m.members = append(m.members, pair{person, m.id(g)})
	}
	for _, f := range rel.functions {
		if f.code == "DIR" {
			m.directions = append(m.directions, pair{person, m.id(f.structure)})
		}
	}
	for _, t := range rel.teaching {
		m.teaching = append(m.teaching, pair{person, m.id(t[0])})
	}
	declare := func(j string, byParent bool) {
		l := declaredLink{by: person, other: pp.indexOf(j), byParent: byParent}
		if l.other < 0 {
			l.at, l.n = uint32(len(m.jointures)), uint16(len(j))
			m.jointures = append(m.jointures, j...)
		}
		m.declared = append(m.declared, l)
	}
	switch cat {
	case CatEleve:
		for _, j := range d.parents {
			declare(j, false)
		}
	case CatPersRelEleve:
		for _, j := range d.children {
			declare(j, true)
		}
	}
}

// forget drops what a person's earlier record gave in the structures the AAF feeds,
// for a full export that adds, deletes, then adds again the same person: the import
// deletes the same rows then (the person's relations in structures made by hand
// stay, as do the family links either record declared, as with the set-wise
// steps). aafStructure and aafGroup tell which structures and groups those are. It
// reads every relation kept: a rare case, not worth an index.
func (m *firstRelations) forget(person int32, aafStructure, aafGroup func(id string) bool) {
	inStructure := func(p pair) bool { return p.person == person && aafStructure(m.ids[p.other]) }
	inGroup := func(p pair) bool { return p.person == person && aafGroup(m.ids[p.other]) }
	m.structures = slices.DeleteFunc(m.structures, inStructure)
	m.directions = slices.DeleteFunc(m.directions, inStructure)
	m.members = slices.DeleteFunc(m.members, inGroup)
	m.teaching = slices.DeleteFunc(m.teaching, inGroup)
}

// byPerson sorts pairs by person and returns, for each person below n, where its
// pairs start: pairs[start[p]:start[p+1]].
func byPerson(pairs []pair, n int32) []int32 {
	slices.SortFunc(pairs, func(a, b pair) int {
		return cmp.Or(cmp.Compare(a.person, b.person), cmp.Compare(a.other, b.other))
	})
	start := make([]int32, n+1)
	for _, p := range pairs {
		start[p.person+1]++
	}
	for i := int32(1); i <= n; i++ {
		start[i] += start[i-1]
	}
	return start
}

// joined packs a pair into one number, for sorting and removing duplicates.
func joined(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

func unjoin(v uint64) (int32, int32) { return int32(v >> 32), int32(uint32(v)) }

// firstTail writes, for a first import, the family links, the responsables'
// structures and the automatic memberships, by the rules of the set-wise steps:
// run.links, run.responsables and directory's autoMembershipRules, for the persons
// of the export (persons made by hand keep theirs).
func (r *run) firstTail() error {
	// Every person is created: the logins taken, a good part of the heap at a
	// million persons, are no longer needed, and the memory limit of the import
	// (limitMemory) made the collector run without pause through this step.
	r.logins = nil
	m := r.mem
	for int(r.persons.n) > len(m.profiles) {
		m.profiles = append(m.profiles, 0)
	}
	links, err := r.firstLinks()
	if err != nil {
		return err
	}
	derived, err := r.firstResponsables(links)
	if err != nil {
		return err
	}
	if err := r.firstMemberships(links, derived); err != nil {
		return err
	}
	r.mem = nil
	return r.bulk.sync(r.ctx)
}

func (r *run) personID(i int32) string { return r.persons.id(r.persons.ref(i)) }

// firstLinks writes the family links between a responsable and a pupil that either
// declares, and returns them (parent, child: joined), sorted. A link to a jointure
// the export lacks is reported, and the pupil's record read again next time.
func (r *run) firstLinks() ([]uint64, error) {
	m, pp := r.mem, r.persons
	links := make([]uint64, 0, len(m.declared))
	var missing []missingLink
	for _, l := range m.declared {
		other := l.other
		if other < 0 {
			otherJ := string(m.jointures[l.at : l.at+uint32(l.n)])
			if other = pp.indexOf(otherJ); other < 0 {
				byJ := pp.jointure(pp.ref(l.by))
				if l.byParent {
					missing = append(missing, missingLink{parent: byJ, child: otherJ})
				} else {
					missing = append(missing, missingLink{parent: otherJ, child: byJ, childID: r.personID(l.by)})
				}
				continue
			}
		}
		parent, child := other, l.by
		if l.byParent {
			parent, child = l.by, other
		}
		if m.profile(parent) == directory.Responsable && m.profile(child) == directory.Eleve {
			links = append(links, joined(parent, child))
		}
	}
	slices.Sort(links)
	links = slices.Compact(links)
	for _, l := range links {
		parent, child := unjoin(l)
		if err := r.bulk.add(r.ctx, r.bulk.links, r.personID(parent), r.personID(child)); err != nil {
			return nil, err
		}
	}
	r.rep.Links = len(links)
	// In the order the set-wise step reports them.
	slices.SortFunc(missing, func(a, b missingLink) int {
		return cmp.Or(cmp.Compare(a.child, b.child), cmp.Compare(a.parent, b.parent))
	})
	return links, r.reportMissingLinks(slices.Compact(missing))
}

// firstResponsables writes the structures responsables have through their
// children (those the AAF feeds, that they do not have already), returns them
// (responsable, structure: joined), sorted, and reports the responsables left
// without any.
func (r *run) firstResponsables(links []uint64) ([]uint64, error) {
	m, pp := r.mem, r.persons
	aaf := map[int32]bool{}
	for _, s := range r.byJointure {
		if i, ok := m.index[s.id]; ok {
			aaf[i] = true
		}
	}
	start := byPerson(m.structures, pp.n)
	structures := func(p int32) []pair { return m.structures[start[p]:start[p+1]] }
	var derived []uint64
	for _, l := range links {
		parent, child := unjoin(l)
		for _, s := range structures(child) {
			if aaf[s.other] && !slices.ContainsFunc(structures(parent), func(x pair) bool { return x.other == s.other }) {
				derived = append(derived, joined(parent, s.other))
			}
		}
	}
	slices.Sort(derived)
	derived = slices.Compact(derived)
	attached := make(map[int32]bool, len(derived)/2)
	for _, v := range derived {
		parent, s := unjoin(v)
		attached[parent] = true
		if err := r.bulk.add(r.ctx, r.bulk.structures, r.personID(parent), m.ids[s]); err != nil {
			return nil, err
		}
	}
	var orphans []string
	for i := range pp.n {
		if m.profile(i) == directory.Responsable && pp.ref(i).removedAt == 0 && len(structures(i)) == 0 && !attached[i] {
			orphans = append(orphans, pp.jointure(pp.ref(i)))
		}
	}
	slices.Sort(orphans)
	r.reportWithoutChild(orphans)
	return derived, nil
}

// firstMemberships writes the automatic memberships (directory's
// autoMembershipRules) of the persons of the export, in the order of the persons.
func (r *run) firstMemberships(links, derived []uint64) error {
	m := r.mem
	profileGroups, classGroups, err := r.autoGroups()
	if err != nil {
		return err
	}
	// Most persons are in one or two groups a rule: room for them all at once, not
	// a growing array copied over and over.
	auto := make([]uint64, 0, len(m.structures)+len(derived)+len(m.directions)+len(m.members)+2*len(links)+len(m.teaching))
	add := func(person int32, groups []int32) {
		for _, g := range groups {
			auto = append(auto, joined(person, g))
		}
	}
	for _, s := range m.structures {
		add(s.person, profileGroups[groupOf{s.other, m.profile(s.person)}])
	}
	for _, v := range derived {
		parent, s := unjoin(v)
		add(parent, profileGroups[groupOf{s, directory.Responsable}])
	}
	for _, d := range m.directions {
		add(d.person, profileGroups[groupOf{d.other, "Direction"}])
	}
	start := byPerson(m.members, r.persons.n)
	for _, x := range m.members {
		if m.profile(x.person) == directory.Eleve {
			add(x.person, classGroups[groupOf{x.other, directory.Eleve}])
		}
	}
	for _, l := range links {
		parent, child := unjoin(l)
		for _, x := range m.members[start[child]:start[child+1]] {
			add(parent, classGroups[groupOf{x.other, directory.Responsable}])
		}
	}
	for _, t := range m.teaching {
		add(t.person, classGroups[groupOf{t.other, directory.Enseignant}])
	}
	// On PostgreSQL in the order of the persons, the order the import wrote them
	// in: each insertion goes next to the person's other entries in the index of
	// memberships by person, and to the end of its group's in the primary key
	// (measured with two million memberships, 15 to 20 % faster than in the order
	// of the groups). On SQLite, whose table is its primary key (WITHOUT ROWID)
	// and whose index by person a large first import builds afterwards
	// (deferIndexes), in the key's order.
	byGroup := r.im.db.Dialect == db.SQLite
	var rank, group []int32 // a group's place in the order of the ids, and back
	if byGroup {
		group = make([]int32, len(m.ids))
		for i := range group {
			group[i] = int32(i)
		}
		slices.SortFunc(group, func(a, b int32) int { return cmp.Compare(m.ids[a], m.ids[b]) })
		rank = make([]int32, len(m.ids))
		for i, g := range group {
			rank[g] = int32(i)
		}
		for i, v := range auto {
			person, g := unjoin(v)
			auto[i] = joined(rank[g], person)
		}
	}
	slices.Sort(auto)
	auto = slices.Compact(auto)
	for _, v := range auto {
		person, g := unjoin(v)
		if byGroup {
			g, person = group[person], g
		}
		if err := r.bulk.add(r.ctx, r.bulk.members, m.ids[g], r.personID(person), "auto"); err != nil {
			return err
		}
	}
	return nil
}

// groupOf names the automatic groups of a structure, class or group for a profile.
type groupOf struct {
	of      int32 // place in firstRelations.ids
	profile string
}

// autoGroups reads the automatic groups: the profile groups of the structures and
// the profile groups of the classes and groups, by the place of their structure,
// class or group in the import's ids (those no person of the export is in are left
// out).
func (r *run) autoGroups() (profile, class map[groupOf][]int32, err error) {
	m := r.mem
	profile, class = map[groupOf][]int32{}, map[groupOf][]int32{}
	rows, err := r.tx.QueryContext(r.ctx, `SELECT id, kind, COALESCE(structure_id, ''), COALESCE(class_id, ''), profile FROM groups
		WHERE kind IN ('profile', 'class_profile')`)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, kind, structureID, classID, prof string
		if err := rows.Scan(&id, &kind, &structureID, &classID, &prof); err != nil {
			return nil, nil, err
		}
		to, of := profile, structureID
		if kind == "class_profile" {
			to, of = class, classID
		}
		if i, ok := m.index[of]; ok {
			k := groupOf{i, prof}
			to[k] = append(to[k], m.id(id))
		}
	}
	return profile, class, rows.Err()
}
