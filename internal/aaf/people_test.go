package aaf

import (
	"strconv"
	"strings"
	"testing"
)

func TestPeopleIndexFindsEveryPersonAsItGrows(t *testing.T) {
	pp := newPeople()
	const n = 50000
	for i := 0; i < n; i++ {
		j := "J" + strconv.Itoa(i)
		if p, looked := pp.get(j); p != nil || looked {
			t.Fatalf("%s trouvé avant d'être ajouté", j)
		}
		pp.add(j, "id"+strconv.Itoa(i), CatEleve)
	}
	// A jointure looked up in vain, then created (a delta's newcomer).
	pp.absent("NOUVEAU")
	if p, looked := pp.get("NOUVEAU"); p != nil || !looked {
		t.Fatal("absence non retenue")
	}
	pp.add("NOUVEAU", "idN", CatPersRelEleve)
	if p, _ := pp.get("NOUVEAU"); p == nil || pp.id(p) != "idN" || pp.category(p) != CatPersRelEleve {
		t.Fatal("personne ajoutée après une absence introuvable")
	}
	for i := 0; i < n; i++ {
		p, looked := pp.get("J" + strconv.Itoa(i))
		if p == nil || !looked || pp.id(p) != "id"+strconv.Itoa(i) || pp.jointure(p) != "J"+strconv.Itoa(i) {
			t.Fatalf("J%d mal retrouvé", i)
		}
	}
	// Jointures that share a prefix, and the longest accepted.
	long := strings.Repeat("x", maxJointure)
	pp.add(long, "idL", CatPersEducNat)
	if p, _ := pp.get(long); p == nil || pp.id(p) != "idL" {
		t.Fatal("jointure longue introuvable")
	}
	if p, _ := pp.get(long[:maxJointure-1]); p != nil {
		t.Fatal("un préfixe ne doit pas être trouvé")
	}
	count := 0
	pp.each(func(*personRef) { count++ })
	if count != n+2 {
		t.Fatalf("%d personnes parcourues", count)
	}
}
