package demo_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/preau-ent/preau/internal/account"
	"github.com/preau-ent/preau/internal/app"
	"github.com/preau-ent/preau/internal/demo"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
)

// The demo's news reach whom they should: Sophie Martin, parent in the collège and
// the école, reads the Département's news for collèges and the collège's, not the
// Région's for lycées; the collège's public site has its public news and pages.
func TestDemoNews(t *testing.T) {
	ctx := context.Background()
	d := db.ForTest(t)
	if err := d.Migrate(ctx, app.Migrations...); err != nil {
		t.Fatal(err)
	}
	a, err := app.Build(d, app.Options{BaseHost: "ent.test", SpoolDir: filepath.Join(t.TempDir(), "spool"), FilesDir: filepath.Join(t.TempDir(), "files"),
		Account: account.Config{Argon: account.ArgonParams{MemoryKiB: 64, Time: 1, Threads: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop) // before the database closes: the PostgreSQL listener holds a connection
	s := a.Services
	if _, err := demo.Load(ctx, demo.Services{Directory: s.Directory, Accounts: s.Accounts, Rights: s.Rights, Portals: s.Portals, News: s.News}, "ent.test", 1); err != nil {
		t.Fatal(err)
	}
	// The demo schools are typed, as the AAF would type them: the news targeting uses it.
	for uai, want := range map[string]string{demo.UAICollege: directory.TypeCollege, demo.UAILycee: directory.TypeLycee, demo.UAIEcole: directory.TypeEcole} {
		if st, err := s.Directory.StructureByUAI(ctx, uai); err != nil || st.Type != want {
			t.Errorf("type of %s: %q (%v), want %q", uai, st.Type, err, want)
		}
	}
	sophie, err := s.Directory.PersonByLogin(ctx, "sophie.martin")
	if err != nil {
		t.Fatal(err)
	}
	items, err := s.News.Feed(ctx, actor.Actor{PersonID: sophie.ID, Profile: sophie.Profile}, 20)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, it.Title)
	}
	for _, want := range []string{"Transport scolaire : les horaires de la rentrée", "Journée portes ouvertes", "Réunion parents-professeurs"} {
		if !slices.Contains(got, want) {
			t.Errorf("Sophie does not read %q: %v", want, got)
		}
	}
	if slices.Contains(got, "Manuels scolaires gratuits pour les lycéens") {
		t.Errorf("Sophie reads the Région's news for lycées: %v", got)
	}
	college, err := s.Directory.StructureByUAI(ctx, demo.UAICollege)
	if err != nil {
		t.Fatal(err)
	}
	public, err := s.News.PublicNews(ctx, college.ID, 10)
	if err != nil || len(public) != 1 || public[0].Title != "Journée portes ouvertes" {
		t.Fatalf("collège's public news: %v %v", err, public)
	}
	pages, err := s.News.Pages(ctx, college.ID, false)
	if err != nil || len(pages) != 2 {
		t.Fatalf("collège's pages: %v %v", err, pages)
	}
}
