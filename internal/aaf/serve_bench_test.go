package aaf_test

import (
	"net/http"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/aaf"
	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/platform/actor"
)

// BenchmarkServeDuringImport measures what a person sees of the portal while a full
// import of a generated académie (PREAU_BENCH_AAF_PERSONS persons, 10,000 by default)
// runs, then while the same export is imported again (the nightly full export):
// one after the other, a login (which writes a session) and the dashboard, first
// for a while without an import, then for as long as the import lasts. It reports
// the 50th and 99th percentiles and the slowest of each, idle and during the import,
// and the requests that failed.
func BenchmarkServeDuringImport(b *testing.B) {
	o := aaf.GenOptions{Persons: benchPersons()}
	full, _ := benchExports(b, o.Persons)
	for i := 0; i < b.N; i++ {
		k := apptest.New(b)
		pupil := k.School.Pupil
		// One login and one dashboard; latencies in seconds, failed requests counted.
		var failed int
		round := func(logins, pages *[]float64) {
			c := k.Client()
			start := time.Now()
			resp, _ := c.Post("/connexion", url.Values{"login": {pupil.Login}, "password": {apptest.Password}})
			*logins = append(*logins, time.Since(start).Seconds())
			if resp.StatusCode != http.StatusSeeOther {
				failed++
				return
			}
			start = time.Now()
			resp, _ = c.Get("/")
			*pages = append(*pages, time.Since(start).Seconds())
			if resp.StatusCode != http.StatusOK {
				failed++
			}
		}
		var idleLogins, idlePages []float64
		for start := time.Now(); time.Since(start) < 3*time.Second; {
			round(&idleLogins, &idlePages)
		}
		during := func(what string) {
			var logins, pages []float64
			failed = 0
			var done atomic.Bool
			errc := make(chan error, 1)
			importStart := time.Now()
			go func() {
				_, err := k.App.Services.AAF.ImportDir(k.Ctx, actor.System("bench"), full)
				done.Store(true)
				errc <- err
			}()
			for !done.Load() {
				round(&logins, &pages)
				time.Sleep(20 * time.Millisecond) // a few persons a second, not a load test
			}
			if err := <-errc; err != nil {
				b.Fatal(err)
			}
			importTime := time.Since(importStart)
			b.ReportMetric(importTime.Seconds(), what+"-import-s")
			b.ReportMetric(quantile(logins, 0.99)*1000, what+"-login-p99-ms")
			b.ReportMetric(quantile(pages, 0.99)*1000, what+"-page-p99-ms")
			b.ReportMetric(float64(failed), what+"-failed")
			b.Logf("%s, %d personnes, import %s ; sans import : connexion p50 %s p99 %s, tableau de bord p50 %s p99 %s ; pendant l'import (%d connexions) : connexion p50 %s p99 %s max %s, tableau de bord p50 %s p99 %s max %s ; %d échecs",
				what, o.Persons, importTime.Round(time.Millisecond),
				ms(quantile(idleLogins, 0.5)), ms(quantile(idleLogins, 0.99)), ms(quantile(idlePages, 0.5)), ms(quantile(idlePages, 0.99)),
				len(logins), ms(quantile(logins, 0.5)), ms(quantile(logins, 0.99)), ms(quantile(logins, 1)),
				ms(quantile(pages, 0.5)), ms(quantile(pages, 0.99)), ms(quantile(pages, 1)), failed)
		}
		// The first import fills an empty directory: everything is written, in
		// one transaction. The second is the nightly case: the same export again,
		// read before its transaction, which has next to nothing left to write.
		during("first")
		during("night")
	}
}

// quantile returns the q-quantile of samples (nearest rank), 0 without samples.
func quantile(samples []float64, q float64) float64 {
	if len(samples) == 0 {
		return 0
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond)
}
