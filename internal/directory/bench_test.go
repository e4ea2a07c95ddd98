package directory_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/preau-ent/preau/internal/account"
	"github.com/preau-ent/preau/internal/commrules"
	"github.com/preau-ent/preau/internal/demo"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/rights"
)

// generated builds a directory of n persons for the benchmarks.
func generated(b *testing.B, n int) (*directory.Service, *commrules.Engine, []directory.Person) {
	ctx := context.Background()
	d := db.ForTest(b)
	if err := d.Migrate(ctx, directory.Migrations, account.Migrations, rights.Migrations, commrules.Migrations, audit.Migrations); err != nil {
		b.Fatal(err)
	}
	al := audit.New(d)
	rs := rights.New(d, al, nil)
	comm := commrules.New(d, al, rs)
	dir := directory.New(d, al, rs, comm)
	if _, err := demo.Generate(ctx, d, dir, n, "", 0, 1); err != nil {
		b.Fatal(err)
	}
	sample, err := dir.Search(ctx, actor.System("bench"), directory.SearchQuery{Limit: 200})
	if err != nil {
		b.Fatal(err)
	}
	return dir, comm, sample
}

// BenchmarkMayWrite answers "may A write to B" on a directory of 20,000 persons.
func BenchmarkMayWrite(b *testing.B) {
	_, comm, people := generated(b, 20000)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a, c := people[rng.IntN(len(people))], people[rng.IntN(len(people))]
		if _, err := comm.MayWrite(ctx, a.ID, c.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearch searches the directory as a teacher, on 20,000 persons.
func BenchmarkSearch(b *testing.B) {
	dir, _, people := generated(b, 20000)
	ctx := context.Background()
	var teacher directory.Person
	for _, p := range people {
		if p.Profile == directory.Enseignant {
			teacher = p
			break
		}
	}
	a := actor.Actor{PersonID: teacher.ID, Login: teacher.Login, Profile: teacher.Profile}
	prefixes := []string{"mar", "ber", "dur", "le", "ro", "gar"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := dir.Search(ctx, a, directory.SearchQuery{Text: prefixes[i%len(prefixes)], Limit: 50}); err != nil {
			b.Fatal(err)
		}
	}
}
