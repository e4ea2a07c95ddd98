// Package bench measures Préau under load on a generated directory: authenticated
// dashboard requests per second with their latency percentiles at a given number of
// concurrent connections on loopback, directory search latency, and logins per
// second with the argon2id parameters in force. It reports numbers; it asserts none.
package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/preau-ent/preau/internal/account"
	"github.com/preau-ent/preau/internal/app"
	"github.com/preau-ent/preau/internal/demo"
	"github.com/preau-ent/preau/internal/platform/db"
)

// Options of a run.
type Options struct {
	Database    string // SQLite path or postgres:// URL; "" for a temporary SQLite file
	Persons     int
	Connections int
	Duration    time.Duration
	Searches    int
	Logins      int
	Out         io.Writer
	Profile     io.Writer // CPU profile of the dashboard load, when set
}

const password = "Cartable-2026"

// Run generates the directory, starts a server on loopback and measures.
func Run(ctx context.Context, o Options) error {
	out := o.Out
	if o.Database == "" {
		dir, err := os.MkdirTemp("", "preau-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.Database = filepath.Join(dir, "bench.db")
	}
	d, err := db.Open(ctx, o.Database)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Migrate(ctx, app.Migrations...); err != nil {
		return err
	}
	spool, err := os.MkdirTemp("", "preau-bench-spool-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(spool)
	// Lockout and per-address limits would stop a load test from one address: they
	// are raised here, and only here.
	a, err := app.Build(d, app.Options{BaseHost: "localhost", SpoolDir: spool, FilesDir: filepath.Join(spool, "files"), MaxInflight: 4096,
		Account: account.Config{IPLimit: 1 << 30, LockAfter: 1 << 30}})
	if err != nil {
		return err
	}
	defer a.Stop()
	params := a.Services.Accounts.Config().Argon
	fmt.Fprintf(out, "Base : %s (%s)\n", d.Dialect, redact(o.Database))

	var count int
	_ = d.QueryRowContext(ctx, `SELECT COUNT(*) FROM persons`).Scan(&count)
	start := time.Now()
	sample := max(o.Connections*2, o.Logins/4+1)
	gen, err := demo.Generate(ctx, d, a.Services.Directory, o.Persons, account.HashFor(password, params), sample, 1)
	if err != nil {
		return fmt.Errorf("génération : %w", err)
	}
	fmt.Fprintf(out, "Annuaire généré : %d personnes, %d établissements, %d classes en %s\n", gen.Persons, gen.Structures, gen.Classes, time.Since(start).Round(time.Millisecond))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.Server.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	client := &http.Client{
		Transport:     &http.Transport{MaxIdleConnsPerHost: o.Connections * 2, MaxConnsPerHost: o.Connections * 2, IdleConnTimeout: time.Minute},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	// Logins: a mix of profiles, as many at once as the machine has cores twice over.
	var logins []string
	for _, profile := range []string{"Eleve", "Responsable", "Enseignant", "Personnel"} {
		logins = append(logins, gen.Logins[profile]...)
	}
	rand.Shuffle(len(logins), func(i, j int) { logins[i], logins[j] = logins[j], logins[i] })
	n := min(o.Logins, len(logins))
	cookies := make([]string, n)
	start = time.Now()
	if err := parallel(ctx, 8, n, func(i int) error {
		c, err := login(client, base, logins[i])
		cookies[i] = c
		return err
	}); err != nil {
		return err
	}
	elapsed := time.Since(start)
	fmt.Fprintf(out, "Connexions : %d en %s, soit %.1f connexions/s (argon2id m=%d Kio, t=%d, p=%d ; %d calculs simultanés au plus)\n",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), params.MemoryKiB, params.Time, params.Threads, a.Services.Accounts.Config().MaxHashing)

	// Dashboard under load.
	if o.Profile != nil {
		if err := pprof.StartCPUProfile(o.Profile); err != nil {
			return err
		}
	}
	res, err := load(ctx, client, base+"/", cookies, o.Connections, o.Duration)
	if o.Profile != nil {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Tableau de bord authentifié, %d connexions simultanées, %s : %d requêtes, %.0f req/s, p50 %s, p99 %s, erreurs %d\n",
		o.Connections, o.Duration, res.count, res.rate, res.p50, res.p99, res.errors)

	// Directory search: one person at a time, like a person typing.
	var lat []time.Duration
	rng := rand.New(rand.NewPCG(2, 3))
	prefixes := []string{"mar", "ber", "dur", "le", "ro", "gar", "mo", "fa", "pe", "ch", "la", "da"}
	for i := 0; i < o.Searches; i++ {
		t0 := time.Now()
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/directory/persons?q="+url.QueryEscape(prefixes[rng.IntN(len(prefixes))]), nil)
		req.Header.Set("Cookie", cookies[rng.IntN(len(cookies))])
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("recherche : statut %d", resp.StatusCode)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	fmt.Fprintf(out, "Recherche dans l'annuaire (API, séquentielle) : %d requêtes, p50 %s, p99 %s\n", len(lat), pct(lat, 50), pct(lat, 99))
	return nil
}

func login(client *http.Client, base, user string) (string, error) {
	resp, err := client.PostForm(base+"/connexion", url.Values{"login": {user}, "password": {password}})
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("connexion de %s : statut %d", user, resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "preau_session" {
			return c.Name + "=" + c.Value, nil
		}
	}
	return "", fmt.Errorf("connexion de %s : pas de cookie de session", user)
}

type result struct {
	count, errors int64
	rate          float64
	p50, p99      time.Duration
}

// load runs conns workers for d after a short warm-up, each reusing its connection.
func load(ctx context.Context, client *http.Client, target string, cookies []string, conns int, d time.Duration) (result, error) {
	var res result
	warm := min(d/5, 3*time.Second)
	ctx, cancel := context.WithTimeout(ctx, warm+d)
	defer cancel()
	measureFrom := time.Now().Add(warm)
	var mu sync.Mutex
	var all []time.Duration
	var errs atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var lat []time.Duration
			for i := w; ctx.Err() == nil; i += conns {
				req, _ := http.NewRequestWithContext(ctx, "GET", target, nil)
				req.Header.Set("Cookie", cookies[i%len(cookies)])
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						errs.Add(1)
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if t0.Before(measureFrom) {
					continue
				}
				if resp.StatusCode != 200 {
					errs.Add(1)
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	slices.Sort(all)
	res.count, res.errors = int64(len(all)), errs.Load()
	res.rate = float64(len(all)) / d.Seconds()
	res.p50, res.p99 = pct(all, 50), pct(all, 99)
	return res, nil
}

func parallel(ctx context.Context, workers, n int, fn func(i int) error) error {
	var next atomic.Int64
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := len(sorted) * p / 100
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i].Round(10 * time.Microsecond)
}

func redact(u string) string {
	if at := strings.LastIndex(u, "@"); at > 0 && strings.Contains(u, "://") {
		return u[:strings.Index(u, "://")+3] + "…" + u[at:]
	}
	return u
}
