package aaf

import "hash/maphash"

// personRef is what the import knows of a person with a jointure. A full export
// loads one per person of the directory, a million in a large académie: it holds no
// pointer and no string of its own (its id and jointure live in the people's
// arenas), so that the persons cost a few tens of bytes each and the garbage
// collector never scans them.
type personRef struct {
	sum       uint64 // checksum of the attributes last imported (0: none, or to be redone)
	structSum uint64 // hash of the structures last imported: a change is a move
	removedAt int64
	idAt      uint32 // the id: ids[idAt:idAt+idLen] of the people
	jointAt   uint32 // the jointure: joints[jointAt:jointAt+jointLen]
	idLen     uint16
	jointLen  uint16
	cat       uint8 // index in people.cats; 0 is "" (not imported by the AAF yet)
	// seen says what this import did with the person: nothing yet, read it from the
	// export, or deleted it (a delta); a full export that lists a jointure twice is
	// refused on the second record.
	seen int8
}

const (
	notSeen int8 = iota
	seenPresent
	seenDeleted
)

// refChunk is how many personRefs a chunk holds: chunks never move, so that a
// *personRef stays valid while others are added.
const refChunk = 4096

// people indexes the persons an import knows by jointure. The index is a hash
// table of its own rather than a map of strings: a million jointures as map keys
// took some 60 MiB the garbage collector scanned at every cycle of an import.
type people struct {
	slots  []int32 // open addressing, linear probing: position in refs + 1, 0 when free
	seed   maphash.Seed
	refs   [][]personRef
	n      int32
	ids    []byte   // the ids, one after the other
	joints []byte   // the jointures, one after the other
	cats   []string // categories by number
	// absentJ holds the jointures looked up and not found (a delta's newcomers).
	absentJ map[string]struct{}
}

func newPeople() *people {
	return &people{seed: maphash.MakeSeed(), slots: make([]int32, 1024), absentJ: map[string]struct{}{},
		cats: []string{"", CatEleve, CatPersRelEleve, CatPersEducNat}}
}

func (pp *people) ref(i int32) *personRef { return &pp.refs[i/refChunk][i%refChunk] }

func (pp *people) jointure(p *personRef) string {
	return string(pp.joints[p.jointAt : p.jointAt+uint32(p.jointLen)])
}

// slot returns the slot of a jointure: the one holding it, or the free one where it
// would go.
func (pp *people) slot(jointure string) int {
	mask := uint64(len(pp.slots) - 1)
	for i := maphash.String(pp.seed, jointure) & mask; ; i = (i + 1) & mask {
		s := pp.slots[i]
		if s == 0 {
			return int(i)
		}
		p := pp.ref(s - 1)
		if string(pp.joints[p.jointAt:p.jointAt+uint32(p.jointLen)]) == jointure {
			return int(i)
		}
	}
}

// get returns the person with this jointure, and whether the jointure was looked
// up at all (a delta remembers the jointures it did not find).
func (pp *people) get(jointure string) (*personRef, bool) {
	if s := pp.slots[pp.slot(jointure)]; s != 0 {
		return pp.ref(s - 1), true
	}
	_, looked := pp.absentJ[jointure]
	return nil, looked
}

// indexOf returns the number of the person with this jointure (the order they were
// added in), or -1.
func (pp *people) indexOf(jointure string) int32 {
	return pp.slots[pp.slot(jointure)] - 1
}

// absent remembers that no person has this jointure.
func (pp *people) absent(jointure string) { pp.absentJ[jointure] = struct{}{} }

// add records a person and returns its entry. Ids and jointures are short (the
// directory's ids have 26 characters, the AAF's jointures about ten; personRecord
// refuses one longer than maxJointure).
func (pp *people) add(jointure, id, category string) *personRef {
	if int(pp.n+1)*4 > len(pp.slots)*3 {
		pp.grow()
	}
	if int(pp.n)/refChunk == len(pp.refs) {
		pp.refs = append(pp.refs, make([]personRef, refChunk))
	}
	p := pp.ref(pp.n)
	*p = personRef{idAt: uint32(len(pp.ids)), idLen: uint16(len(id)), jointAt: uint32(len(pp.joints)), jointLen: uint16(len(jointure)),
		cat: pp.catCode(category)}
	pp.ids = append(pp.ids, id...)
	pp.joints = append(pp.joints, jointure...)
	pp.slots[pp.slot(jointure)] = pp.n + 1
	delete(pp.absentJ, jointure)
	pp.n++
	return p
}

// grow doubles the table and places every person again.
func (pp *people) grow() {
	pp.slots = make([]int32, len(pp.slots)*2)
	for i := int32(0); i < pp.n; i++ {
		pp.slots[pp.slot(pp.jointure(pp.ref(i)))] = i + 1
	}
}

// id returns a person's id.
func (pp *people) id(p *personRef) string { return string(pp.ids[p.idAt : p.idAt+uint32(p.idLen)]) }

func (pp *people) category(p *personRef) string { return pp.cats[p.cat] }

func (pp *people) setCategory(p *personRef, category string) { p.cat = pp.catCode(category) }

func (pp *people) catCode(category string) uint8 {
	for i, c := range pp.cats {
		if c == category {
			return uint8(i)
		}
	}
	if len(pp.cats) == 255 {
		// Categories come from the import itself (three of them): never reached.
		panic("aaf: trop de catégories")
	}
	pp.cats = append(pp.cats, category)
	return uint8(len(pp.cats) - 1)
}

// each calls fn for every person.
func (pp *people) each(fn func(p *personRef)) {
	for i := int32(0); i < pp.n; i++ {
		fn(pp.ref(i))
	}
}
