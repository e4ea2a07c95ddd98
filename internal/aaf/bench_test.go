package aaf_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/aaf"
	"github.com/preau-ent/preau/internal/app"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
)

// BenchmarkImport imports a generated académie (PREAU_BENCH_AAF_PERSONS persons,
// 10,000 by default; one établissement per 2,000), then a 1% delta, then the full
// export again (the next night's), on the test database (SQLite, or PostgreSQL with
// PREAU_TEST_POSTGRES), and reports the wall times, the Go heap's peak and the
// process's peak resident memory (with PREAU_BENCH_AAF_DIR, the exports are written
// by an earlier run and that peak is the imports' own).
func BenchmarkImport(b *testing.B) {
	n := benchPersons()
	if os.Getenv("PREAU_BENCH_DEBUG") != "" {
		// The import's steps and their durations.
		slog.SetLogLoggerLevel(slog.LevelDebug)
	}
	full, delta := benchExports(b, n)
	for i := 0; i < b.N; i++ {
		ctx := context.Background()
		d := db.ForTest(b)
		if err := d.Migrate(ctx, app.Migrations...); err != nil {
			b.Fatal(err)
		}
		a, err := app.Build(d, app.Options{SpoolDir: b.TempDir(), FilesDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(a.Stop)
		s := a.Services
		im := aaf.New(d, s.Directory, s.Audit, s.Rights, aaf.Options{})
		peak := watchHeap()
		start := time.Now()
		// Each import runs under a profiler label (go tool pprof -tagfocus=import=delta).
		// Each import is timed on its own: the copy of SQLite's write-ahead log
		// that follows one (in the background) is not left to slow the next.
		imp := func(phase, dir string) (rep *aaf.Report, err error) {
			pprof.Do(ctx, pprof.Labels("import", phase), func(ctx context.Context) {
				rep, err = im.ImportDir(ctx, actor.System("bench"), dir)
			})
			return rep, err
		}
		rep, err := imp("full", full)
		if err != nil {
			b.Fatal(err)
		}
		fullTime := time.Since(start)
		settle(b, d)
		start = time.Now()
		drep, err := imp("delta", delta)
		if err != nil {
			b.Fatal(err)
		}
		deltaTime := time.Since(start)
		settle(b, d)
		// The next night's full export: the same files, nearly nothing to change.
		start = time.Now()
		nrep, err := imp("night", full)
		if err != nil {
			b.Fatal(err)
		}
		nightTime := time.Since(start)
		heap := peak()
		b.ReportMetric(fullTime.Seconds(), "full-s")
		b.ReportMetric(deltaTime.Seconds(), "delta-s")
		b.ReportMetric(nightTime.Seconds(), "night-s")
		b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MB")
		if rss := peakRSS(); rss > 0 {
			b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MB")
		}
		b.Logf("%s, %d personnes : complet %s (%d créées), delta %s (%d modifiées, %d créées, %d marquées), complet suivant %s (%d inchangées, %d modifiées), tas max %d Mo",
			d.Dialect, n, fullTime.Round(time.Millisecond), rep.Created, deltaTime.Round(time.Millisecond), drep.Updated, drep.Created, drep.Marked,
			nightTime.Round(time.Millisecond), nrep.Unchanged, nrep.Updated, heap>>20)
	}
}

// settle lets the database finish writing what an import wrote before the next one
// is timed, as a nightly import finds it: SQLite's background copy of its
// write-ahead log, PostgreSQL's checkpoint (the server's, which a first import of a
// million persons triggers again and again for minutes after its commit; a
// delta timed while it runs spends most of its time waiting for the disk).
func settle(b *testing.B, d *db.DB) {
	d.WaitCheckpoint()
	if d.Dialect == db.Postgres {
		if _, err := d.ExecContext(context.Background(), `CHECKPOINT`); err != nil {
			b.Logf("CHECKPOINT refusé (droits du rôle) : %v", err)
		}
	}
}

// benchExports writes a generated académie of n persons and its 1% delta. With
// PREAU_BENCH_AAF_DIR, they are kept in that folder and written only once: the
// process then only imports, and its peak memory is the import's.
func benchExports(b *testing.B, n int) (full, delta string) {
	o := aaf.GenOptions{Persons: n, Schools: max(1, n/2000), Seed: 1}
	keep := os.Getenv("PREAU_BENCH_AAF_DIR")
	if keep == "" {
		full, delta = b.TempDir(), b.TempDir()
	} else {
		full, delta = filepath.Join(keep, strconv.Itoa(n), "full"), filepath.Join(keep, strconv.Itoa(n), "delta")
		if _, err := os.Stat(filepath.Join(delta, "PRET")); err == nil {
			return full, delta
		}
		for _, d := range []string{full, delta} {
			if err := os.RemoveAll(d); err != nil {
				b.Fatal(err)
			}
			if err := os.MkdirAll(d, 0o755); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := aaf.Generate(full, o); err != nil {
		b.Fatal(err)
	}
	if _, err := aaf.GenerateDelta(delta, o, 1, "20260915"); err != nil {
		b.Fatal(err)
	}
	if keep != "" {
		// Written last: the exports are complete (DirSources ignores the file).
		if err := os.WriteFile(filepath.Join(delta, "PRET"), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return full, delta
}

// peakRSS is the process's peak resident memory (Linux), 0 if unknown.
func peakRSS() uint64 { return rss("VmHWM:") }

// rss reads a line of the process's memory status (Linux) in bytes, 0 if unknown.
func rss(field string) uint64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == field {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// benchPersons is PREAU_BENCH_AAF_PERSONS, 10,000 by default.
func benchPersons() int {
	if v, err := strconv.Atoi(os.Getenv("PREAU_BENCH_AAF_PERSONS")); err == nil && v > 0 {
		return v
	}
	return 10000
}

// watchHeap samples the heap in use until the returned function is called, which
// returns the highest sample. With PREAU_BENCH_HEAPPROFILE=FILE, the heap's profile
// is written there at each new peak (at most once a second), to see what it holds.
func watchHeap() func() uint64 {
	done := make(chan struct{})
	result := make(chan uint64)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		var written time.Time
		profile := os.Getenv("PREAU_BENCH_HEAPPROFILE")
		// With PREAU_BENCH_DEBUG, the memory once a second beside the import's steps.
		trace := os.Getenv("PREAU_BENCH_DEBUG") != ""
		var traced time.Time
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak && profile != "" && time.Since(written) > time.Second {
				if f, err := os.Create(profile); err == nil {
					pprof.Lookup("heap").WriteTo(f, 0)
					f.Close()
				}
				written = time.Now()
			}
			peak = max(peak, ms.HeapInuse)
			if trace && time.Since(traced) >= time.Second {
				slog.Debug("mémoire", "rss-Mo", rss("VmRSS:")>>20, "tas-Mo", ms.HeapInuse>>20, "tas-système-Mo", (ms.HeapSys-ms.HeapReleased)>>20)
				traced = time.Now()
			}
			select {
			case <-done:
				result <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); return <-result }
}

// BenchmarkReadExport reads every file of the generated full export record by record,
// in one goroutine, without a database: the parser's own cost (MB/s of XML), which an
// import pays on one core while the other writes.
func BenchmarkReadExport(b *testing.B) {
	full, _ := benchExports(b, benchPersons())
	files, _, err := aaf.DirSources(full)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var size int64
		records := 0
		for _, f := range files {
			in, err := f.Open()
			if err != nil {
				b.Fatal(err)
			}
			counted := &countingReader{r: in}
			r := aaf.NewReader(bufio.NewReaderSize(counted, 256<<10))
			for {
				_, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				records++
			}
			in.Close()
			size += counted.n
		}
		if i == 0 {
			b.SetBytes(size)
			b.ReportMetric(float64(records), "records")
		}
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
