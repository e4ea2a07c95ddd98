package i18n

import (
	"testing"
	"testing/fstest"
)

func TestCountedPhrases(t *testing.T) {
	c, err := Load(fstest.MapFS{
		"fr/t.json": {Data: []byte(`{"n.one": "%d personne de %s", "n.other": "%d personnes de %s"}`)},
		"en/t.json": {Data: []byte(`{"n.one": "%d person of %s", "n.other": "%d persons of %s"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lang string
		n    int
		want string
	}{
		{"fr", 0, "0 personne de 4e A"},
		{"fr", 1, "1 personne de 4e A"},
		{"fr", 2, "2 personnes de 4e A"},
		{"en", 0, "0 persons of 4e A"},
		{"en", 1, "1 person of 4e A"},
		{"en", 12, "12 persons of 4e A"},
	} {
		if got := c.For(tc.lang).N("n", tc.n, "4e A"); got != tc.want {
			t.Errorf("%s %d: %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
}
