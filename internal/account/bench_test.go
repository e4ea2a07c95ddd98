package account

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/preau-ent/preau/internal/directory"
)

// BenchmarkLogin measures whole logins (rate-limit read, person read, argon2id with
// the default parameters under the admission control, session insert and audit
// entry) from as many goroutines as GOMAXPROCS, and reports logins per second: the
// number to hold against the 8 a.m. storm.
func BenchmarkLogin(b *testing.B) {
	e := newEnv(b, Config{Argon: DefaultArgon, MaxHashQueue: 1024})
	persons := make([]directory.Person, 32)
	for i := range persons {
		persons[i] = e.active("Élève", fmt.Sprintf("Numéro%d", i), directory.Eleve, "")
	}
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p := persons[n.Add(1)%int64(len(persons))]
			if _, _, err := e.acc.Login(e.ctx, p.Login, goodPassword, "203.0.113.1", "bench"); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
}

// BenchmarkLookup measures the per-request session check, the hot path of every
// authenticated page.
func BenchmarkLookup(b *testing.B) {
	e := newEnv(b, Config{})
	p := e.active("Élève", "Lecteur", directory.Eleve, "")
	tokens := make([]string, 64)
	for i := range tokens {
		tokens[i] = e.mustLogin(p, goodPassword)
	}
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := e.acc.Lookup(e.ctx, tokens[n.Add(1)%int64(len(tokens))]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}
