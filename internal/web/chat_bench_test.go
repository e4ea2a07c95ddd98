package web_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/chat"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
)

// fanoutClients is how many live streams BenchmarkFanout holds open.
const fanoutClients = 1000

// cpuTime is the CPU time (user and system) the process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type receipt struct {
	id int64
	at time.Time
}

// BenchmarkFanout measures real-time delivery: 1,000 persons hold a live stream
// each (one TCP connection each, on loopback), a teacher posts to their 1,000-member
// conversation, and each client notes when the message reaches it. It reports the
// 50th and 99th percentiles and the maximum of the time from the post to each
// reception. On SQLite the bus is in process; on PostgreSQL (PREAU_TEST_POSTGRES) the
// streams are held by a second instance, so that every message crosses LISTEN/NOTIFY.
//
//	go test -run XXX -bench Fanout -benchtime 20x ./internal/web
func BenchmarkFanout(b *testing.B) {
	k := apptest.New(b)
	f := k.School
	svc := k.App.Services
	streams := k // the instance holding the streams
	if k.App.DB.Dialect == db.Postgres {
		streams = k.Instance()
	}
	var pupilsGroup string
	groups, err := svc.Directory.Groups(k.Ctx, f.College.ID, directory.GroupProfile)
	if err != nil {
		b.Fatal(err)
	}
	for _, g := range groups {
		if g.Profile == directory.Eleve {
			pupilsGroup = g.ID
		}
	}
	tokens := make([]string, 0, fanoutClients)
	login := func(p directory.Person) {
		tok, _, err := svc.Accounts.Login(k.Ctx, p.Login, apptest.Password, "127.0.0.1", "bench")
		if err != nil {
			b.Fatal(err)
		}
		tokens = append(tokens, tok)
	}
	login(f.Teacher)
	login(f.Pupil)
	login(f.Classmate)
	for i := len(tokens); i < fanoutClients; i++ {
		login(k.Person(fmt.Sprintf("Élève%d", i), "Banc", directory.Eleve, f.College.ID))
	}
	teacher := actor.Actor{PersonID: f.Teacher.ID, Login: f.Teacher.Login, Profile: f.Teacher.Profile}
	conv, err := svc.Chat.Create(k.Ctx, teacher, chat.NewConversation{Title: "Tout le collège", GroupIDs: []string{pupilsGroup}})
	if err != nil {
		b.Fatal(err)
	}
	if conv.Members != fanoutClients {
		b.Fatalf("%d membres", conv.Members)
	}

	tr := &http.Transport{MaxIdleConnsPerHost: fanoutClients * 2, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	receipts := make(chan receipt, fanoutClients*4)
	var opened, done sync.WaitGroup
	sem := make(chan struct{}, 32)
	for _, tok := range tokens {
		opened.Add(1)
		done.Add(1)
		sem <- struct{}{}
		go func() {
			defer done.Done()
			req, _ := http.NewRequestWithContext(ctx, "GET", streams.URL+"/discussions/flux", nil)
			req.Header.Set("Cookie", "preau_session="+tok)
			resp, err := client.Do(req)
			<-sem
			if err != nil || resp.StatusCode != 200 {
				b.Errorf("flux : %v %v", err, resp)
				opened.Done()
				return
			}
			defer resp.Body.Close()
			rd := bufio.NewReader(resp.Body)
			first := true
			for {
				line, err := rd.ReadString('\n')
				if err != nil {
					return
				}
				if first && line == "\n" {
					opened.Done()
					first = false
				}
				if id, ok := strings.CutPrefix(line, "id: "); ok {
					n, _ := strconv.ParseInt(strings.TrimSpace(id), 10, 64)
					receipts <- receipt{n, time.Now()}
				}
			}
		}()
	}
	opened.Wait()
	if b.Failed() {
		return
	}
	if n := streams.App.Services.ChatHub.Connected(); n != fanoutClients {
		b.Fatalf("%d flux ouverts", n)
	}

	var lat, sends []time.Duration
	i := 0
	cpu0 := cpuTime()
	for b.Loop() {
		i++
		start := time.Now()
		m, err := svc.Chat.Send(k.Ctx, teacher, conv.ID, fmt.Sprintf("Message %d à tout le collège", i))
		if err != nil {
			b.Fatal(err)
		}
		sends = append(sends, time.Since(start))
		timeout := time.After(30 * time.Second)
		for got := 0; got < fanoutClients; {
			select {
			case r := <-receipts:
				if r.id == m.ID {
					got++
					lat = append(lat, r.at.Sub(start))
				}
			case <-timeout:
				b.Fatalf("%d réceptions sur %d", got, fanoutClients)
			}
		}
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	cancel()
	done.Wait()
	pct := func(d []time.Duration, p float64) float64 {
		slices.Sort(d)
		return float64(d[min(len(d)-1, int(p*float64(len(d))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(lat, .50), "p50-ms")
	b.ReportMetric(pct(lat, .99), "p99-ms")
	b.ReportMetric(pct(lat, 1), "max-ms")
	b.ReportMetric(pct(sends, .50), "send-p50-ms") // storing the message, before any delivery
	// The process's CPU time per message (server and the 1,000 reading clients
	// together): unlike the latencies, it hardly depends on what else the machine runs.
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(i), "cpu-ms/op")
	b.ReportMetric(0, "ns/op") // the figure is the latency, not the loop time
}
