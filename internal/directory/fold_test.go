package directory

import "testing"

// The ASCII shortcut of Fold gives what the general path gives.
func TestFoldShortcutMatches(t *testing.T) {
	for _, s := range []string{"", " ", "Martin", "  DE LA  Fontaine ", "Jean-Pierre", "a\tb", "a \t b", "O'Neil", "- a -", "X Æ A-12",
		"Léa", "Hélène  Dupré", "Œuvre", "Straße", "MÜLLER", "née\u00a0Dupont", "l'Été 42", "\x00\x7f", "A.B_C"} {
		if got, want := Fold(s), foldSlow(s); got != want {
			t.Errorf("Fold(%q) = %q, attendu %q", s, got, want)
		}
	}
}

func FuzzFold(f *testing.F) {
	f.Add("Jean  Pierre")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Fold(s), foldSlow(s); got != want {
			t.Errorf("Fold(%q) = %q, attendu %q", s, got, want)
		}
	})
}
