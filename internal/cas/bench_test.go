package cas_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/cas"
	"github.com/preau-ent/preau/internal/connector"
	"github.com/preau-ent/preau/internal/directory"
)

// BenchmarkServiceValidate measures CAS 3.0 ticket validations per second through
// the whole HTTP stack (middleware, ticket consumption, directory, attributes,
// audit), with concurrent services; the tickets are issued before the clock starts.
//
//	go test -run '^$' -bench ServiceValidate -benchtime 3000x ./internal/cas/
func BenchmarkServiceValidate(b *testing.B) {
	k := apptest.New(b)
	s := k.App.Services
	if _, err := s.Connectors.Create(k.Ctx, k.Sys, connector.Input{Name: "Vie scolaire", Icon: "vie-scolaire", URL: vsURL, Protocol: connector.CAS,
		Attributes: []string{"uid", "nom", "prenom", "ENTPersonProfils", "ENTPersonStructRattachRNE", "ENTEleveClasses"}, SingleLogout: true}); err != nil {
		b.Fatal(err)
	}
	pupils := []directory.Person{k.School.Pupil, k.School.Classmate, k.School.Teacher}
	service := vsURL + "login"
	tickets := make([]string, b.N)
	for i := range tickets {
		to, err := s.CAS.Grant(k.Ctx, cas.Login{Person: pupils[i%len(pupils)], SessionID: "bench", AuthAt: time.Now(), IP: "127.0.0.1"}, service)
		if err != nil {
			b.Fatal(err)
		}
		u, _ := url.Parse(to)
		tickets[i] = u.Query().Get("ticket")
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var next atomic.Int64
	b.SetParallelism(4) // 4 goroutines per core: services validate concurrently
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			resp, err := client.Get(k.URL + "/cas/p3/serviceValidate?" + url.Values{"service": {service}, "ticket": {tickets[i]}}.Encode())
			if err != nil {
				b.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(body), "<cas:authenticationSuccess>") {
				b.Errorf("validation failed: %s", body)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "validations/s")
}
