package ids

import (
	"strings"
	"testing"
)

func TestSequence(t *testing.T) {
	a, b := NewSequence(), NewSequence()
	prev := ""
	seen := map[string]bool{}
	for i := 0; i < 5000; i++ {
		id := a.Next()
		if len(id) != 26 || strings.Trim(id, "abcdefghijklmnopqrstuvwxyz234567") != "" {
			t.Fatalf("identifiant %q : pas de la forme de New", id)
		}
		if id <= prev {
			t.Fatalf("%q après %q : la séquence doit croître", id, prev)
		}
		if seen[id] {
			t.Fatalf("%q deux fois", id)
		}
		seen[id], prev = true, id
	}
	if x := b.Next(); seen[x] || x[:14] == prev[:14] {
		t.Errorf("deux séquences partagent leur préfixe : %q, %q", x, prev)
	}
}
