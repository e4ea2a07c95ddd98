package oidc_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/oidc"
)

// BenchmarkTokenExchange measures authorization code exchanges per second through the
// whole HTTP stack: client authentication, PKCE, spending the code, two tokens
// stored, the claims from the directory and an RS256-signed ID token. The codes are
// issued before the clock starts.
//
//	go test -run '^$' -bench TokenExchange -benchtime 2000x ./internal/oidc/
func BenchmarkTokenExchange(b *testing.B) {
	e := setup(b)
	s := e.App.Services
	verifier := oauth2.GenerateVerifier()
	people := []directory.Person{e.School.Pupil, e.School.Classmate, e.School.Teacher}
	codes := make([]string, b.N)
	for i := range codes {
		p := people[i%len(people)]
		code, err := s.OIDC.Authorize(e.Ctx, oidc.Login{Person: p, SessionID: "bench", AuthAt: time.Now(), IP: "127.0.0.1"},
			oidc.AuthRequest{ClientID: e.client.ID, RedirectURI: callback, Scope: "openid profile", Nonce: "n", CodeChallenge: challenge(verifier)})
		if err != nil {
			b.Fatal(err)
		}
		codes[i] = code
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var next atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			form := url.Values{"grant_type": {"authorization_code"}, "code": {codes[i]}, "redirect_uri": {callback}, "code_verifier": {verifier}}
			req, _ := http.NewRequest("POST", e.URL+"/oidc/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(e.client.ID), url.QueryEscape(e.secret))
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			var t struct {
				IDToken string `json:"id_token"`
			}
			err = json.NewDecoder(resp.Body).Decode(&t)
			resp.Body.Close()
			if err != nil || t.IDToken == "" {
				b.Errorf("exchange failed: %d %v", resp.StatusCode, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "exchanges/s")
}
