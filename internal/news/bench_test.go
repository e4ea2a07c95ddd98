package news_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/news"
)

// measure sends b.N GET requests from parallel clients through the whole HTTP stack
// on loopback and reports requests per second and latency percentiles.
func measure(b *testing.B, url string, header http.Header, parallelism int, check func(status int, body string) error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var mu sync.Mutex
	var all []time.Duration
	b.SetParallelism(parallelism)
	cpu0 := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			req, _ := http.NewRequest("GET", url, nil)
			for k, v := range header {
				req.Header[k] = v
			}
			if h := header.Get("Host"); h != "" {
				req.Host = h
			}
			start := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			mine = append(mine, time.Since(start))
			if err := check(resp.StatusCode, string(body)); err != nil {
				b.Error(err)
				return
			}
		}
		mu.Lock()
		all = append(all, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	// The machine is shared: the process's CPU time per request (server and clients
	// together) tells what the throughput would be on idle cores.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/req")
	slices.Sort(all)
	pct := func(p int) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[(len(all)-1)*p/100].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(pct(50), "p50-ms")
	b.ReportMetric(pct(99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPublicHome measures a collège's public home page for anonymous visitors
// (ten public news items, five pages, contact information), with 64 concurrent
// clients on loopback.
//
//	go test -run '^$' -bench PublicHome -benchtime 20000x ./internal/news/
func BenchmarkPublicHome(b *testing.B) {
	k := apptest.New(b)
	f := k.School
	s := k.App.Services.News
	th, err := s.CreateThread(k.Ctx, as(f.Head), f.College.ID, "Vie du collège")
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 12; i++ {
		it, err := s.Save(k.Ctx, as(f.Head), "", news.Input{ThreadID: th.ID, Title: fmt.Sprintf("Actualité publique %d", i), Body: strings.Repeat("<p>Un paragraphe de texte assez long pour un résumé.</p>", 5), Public: true, Headline: i == 0})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Publish(k.Ctx, as(f.Head), it.ID); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 5; i++ {
		if _, err := s.SavePage(k.Ctx, as(f.Head), f.College.ID, "", news.PageInput{Title: fmt.Sprintf("Page %d", i), Body: "<p>x</p>", Published: true, Position: i}); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.SaveInfo(k.Ctx, as(f.Head), f.College.ID, news.InfoInput{Address: "1 rue de l'École", Phone: "04 00 00 00 00", Email: "ce@example.org", Hours: "8 h – 17 h"}); err != nil {
		b.Fatal(err)
	}
	measure(b, k.URL+"/", http.Header{"Host": {"0690001a.localhost"}, "Accept-Language": {"fr"}}, 32, func(status int, body string) error {
		if status != http.StatusOK || !strings.Contains(body, "Actualité publique 0") {
			return fmt.Errorf("public home: %d", status)
		}
		return nil
	})
}

// BenchmarkDashboardNews measures the dashboard (with its news block) of a parent of
// three children in three schools, among 30 schools holding 20 news items each (plus
// the Département's), with 16 concurrent requests.
//
//	go test -run '^$' -bench DashboardNews -benchtime 5000x ./internal/news/
func BenchmarkDashboardNews(b *testing.B) {
	k := apptest.New(b)
	f := k.School
	p := k.Partners()
	s := k.App.Services.News
	dir := k.App.Services.Directory
	parent := k.Person("Nadia", "Trois", directory.Responsable, f.College.ID)
	schools := []directory.Structure{f.College, f.Lycee}
	for i := 0; i < 28; i++ {
		st, err := dir.CreateStructure(k.Ctx, k.Sys, directory.StructureInput{Kind: directory.KindEtablissement, UAI: fmt.Sprintf("06991%02dZ", i), Name: fmt.Sprintf("Collège n° %d", i), ParentID: p.Departement.ID})
		if err != nil {
			b.Fatal(err)
		}
		schools = append(schools, st)
	}
	for i, st := range schools {
		class, err := dir.CreateGroup(k.Ctx, k.Sys, directory.GroupInput{StructureID: st.ID, Kind: directory.GroupClass, Name: "6e A"})
		if err != nil {
			b.Fatal(err)
		}
		if i < 3 { // one child in each of the first three schools
			child := k.Person("Enfant", fmt.Sprintf("Trois %d", i), directory.Eleve, st.ID)
			if err := dir.AddMember(k.Ctx, k.Sys, class.ID, child.ID); err != nil {
				b.Fatal(err)
			}
			if err := dir.LinkParent(k.Ctx, k.Sys, parent.ID, child.ID); err != nil {
				b.Fatal(err)
			}
		}
		th, err := s.CreateThread(k.Ctx, k.Sys, st.ID, "Vie de l'établissement")
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j < 20; j++ {
			var tg news.Target
			switch j % 3 {
			case 1:
				tg.Profiles = []string{directory.Responsable}
			case 2:
				tg.Classes = []string{class.ID}
			}
			it, err := s.Save(k.Ctx, k.Sys, "", news.Input{ThreadID: th.ID, Title: fmt.Sprintf("%s — actualité %d", st.Name, j), Body: "<p>Texte de l'actualité.</p>", Target: tg, Headline: j == 0})
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Publish(k.Ctx, k.Sys, it.ID); err != nil {
				b.Fatal(err)
			}
		}
	}
	dth, err := s.CreateThread(k.Ctx, k.Sys, p.Departement.ID, "Le Département informe")
	if err != nil {
		b.Fatal(err)
	}
	for j := 0; j < 20; j++ {
		it, err := s.Save(k.Ctx, k.Sys, "", news.Input{ThreadID: dth.ID, Title: fmt.Sprintf("Département %d", j), Body: "<p>Pour les collèges.</p>", Target: news.Target{Types: []string{news.TypeCollege}}})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Publish(k.Ctx, k.Sys, it.ID); err != nil {
			b.Fatal(err)
		}
	}
	if err := analyze(k); err != nil {
		b.Fatal(err)
	}
	c := k.As(parent)
	u, _ := http.NewRequest("GET", k.URL, nil)
	var cookies []string
	for _, ck := range c.HTTP.Jar.Cookies(u.URL) {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	measure(b, k.URL+"/", http.Header{"Cookie": {strings.Join(cookies, "; ")}, "Accept-Language": {"fr"}}, 8, func(status int, body string) error {
		if status != http.StatusOK || !strings.Contains(body, "Toutes les actualités") || !strings.Contains(body, "actualité 0") {
			return fmt.Errorf("dashboard: %d", status)
		}
		return nil
	})
}

func analyze(k *apptest.Kit) error {
	if os.Getenv("NEWS_BENCH_ANALYZE") == "" {
		return nil
	}
	return k.App.DB.Analyze(k.Ctx)
}
