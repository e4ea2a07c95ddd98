package aaf

// personRef is what the import knows of a person with a jointure. A full export
// loads one per person of the directory, a million in a large académie: it holds no
// pointer and no string of its own (its id lives in the people's arena), so that the
// persons cost a few tens of bytes each and the garbage collector never scans them.
type personRef struct {
	sum       uint64 // checksum of the attributes last imported (0: none, or to be redone)
	structSum uint64 // hash of the structures last imported: a change is a move
	removedAt int64
	idAt      uint32 // the id: ids[idAt:idAt+idLen] of the people
	idLen     uint16
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

// people indexes the persons an import knows by jointure.
type people struct {
	index map[string]int32 // jointure → position in refs, or -1: looked up, not found
	refs  [][]personRef
	n     int32
	ids   []byte   // the ids, one after the other
	cats  []string // categories by number
}

func newPeople() *people {
	return &people{index: map[string]int32{}, cats: []string{"", CatEleve, CatPersRelEleve, CatPersEducNat}}
}

// get returns the person with this jointure, and whether the jointure was looked
// up at all (a delta remembers the jointures it did not find).
func (pp *people) get(jointure string) (*personRef, bool) {
	i, ok := pp.index[jointure]
	if !ok || i < 0 {
		return nil, ok
	}
	return &pp.refs[i/refChunk][i%refChunk], true
}

// absent remembers that no person has this jointure.
func (pp *people) absent(jointure string) { pp.index[jointure] = -1 }

// add records a person and returns its entry.
func (pp *people) add(jointure, id, category string) *personRef {
	if int(pp.n)/refChunk == len(pp.refs) {
		pp.refs = append(pp.refs, make([]personRef, refChunk))
	}
	p := &pp.refs[pp.n/refChunk][pp.n%refChunk]
	*p = personRef{idAt: uint32(len(pp.ids)), idLen: uint16(len(id)), cat: pp.catCode(category)}
	pp.ids = append(pp.ids, id...)
	pp.index[jointure] = pp.n
	pp.n++
	return p
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
		fn(&pp.refs[i/refChunk][i%refChunk])
	}
}
