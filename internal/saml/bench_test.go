package saml_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/connector"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/saml"
)

// BenchmarkRespond measures signed SAML responses per second: a waiting request
// spent, the person's right to the service checked, the attributes released, the
// assertion and the response signed (RSA-SHA256, exclusive canonicalization), the
// session at the service provider stored, the grant audited. The requests are made
// before the clock starts; several goroutines answer at once.
//
//	go test -run '^$' -bench Respond -benchtime 2000x ./internal/saml/
func BenchmarkRespond(b *testing.B) {
	k := kit(b)
	s := k.App.Services
	c, err := s.Connectors.Create(k.Ctx, k.Sys, connector.Input{Name: "GAR", Icon: "ressources", URL: "https://gar.example.org/", Protocol: connector.SAML,
		Attributes:   []string{"uid", "nom", "prenom", "ENTPersonProfils", "ENTPersonStructRattachRNE", "ENTEleveClasses"},
		SAMLSettings: connector.SAMLSettings{EntityID: "https://gar.example.org/sp", ACSURLs: []string{"https://gar.example.org/acs"}, GAR: true}})
	if err != nil {
		b.Fatal(err)
	}
	persons := []directory.Person{k.School.Pupil, k.School.Classmate, k.School.Teacher}
	handles := make([]string, b.N)
	for i := range handles {
		p, err := s.SAML.StartIdPInitiated(k.Ctx, c.ID, "", saml.Incoming{IP: "127.0.0.1"})
		if err != nil {
			b.Fatal(err)
		}
		handles[i] = p.Handle
	}
	var next atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			post, err := s.SAML.Respond(k.Ctx, saml.Login{Person: persons[i%int64(len(persons))], SessionID: "bench", AuthAt: time.Now(), IP: "127.0.0.1"},
				handles[i], "https://ent.example.org")
			if err != nil || post.Value == "" {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "responses/s")
}
