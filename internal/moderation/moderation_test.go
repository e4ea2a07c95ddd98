package moderation

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/platform/actor"
)

func TestMergeFoldsReportsOfOneContent(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	rows := []Item{
		{ReportID: "m1", ReporterName: "Tom", Reason: "Insulte", At: at.Add(2 * time.Hour)},
		{ReportID: "m2", ReporterName: "Léa", Reason: "", At: at.Add(time.Hour)},
		{ReportID: "m1", ReporterName: "Léa", Reason: " Moquerie ", At: at},
		{ReportID: "m3", ReporterName: "Hugo", Reason: "Spam", At: at},
	}
	got := Merge(rows, 2)
	want := []Item{
		{ReportID: "m1", ReporterName: "Tom", Reason: "Insulte\nMoquerie", Reporters: 2, At: at.Add(2 * time.Hour)},
		{ReportID: "m2", ReporterName: "Léa", Reporters: 1, At: at.Add(time.Hour)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestScopeAndClip(t *testing.T) {
	if cond, args := Scope("r.structure_id", true, []string{"a"}, 1); cond != "" || args != nil {
		t.Fatalf("all: %q %v", cond, args)
	}
	cond, args := Scope("r.structure_id", false, []string{"a", "b"}, 3)
	if cond != " AND r.structure_id IN ($3,$4)" || !reflect.DeepEqual(args, []any{"a", "b"}) {
		t.Fatalf("scope: %q %v", cond, args)
	}
	if c := Clip("  un   deux\ntrois  ", 50); c != "un deux trois" {
		t.Fatalf("short: %q", c)
	}
	if c := Clip("élève élève élève élève", 14); c != "élève élève…" {
		t.Fatalf("cut: %q", c)
	}
	if n := PersonName("Léa|Martin"); n != "Léa MARTIN" {
		t.Fatalf("name: %q", n)
	}
}

type fakeSource struct {
	items []Item
	err   error
}

func (f fakeSource) PendingReports(context.Context, actor.Actor, int) ([]Item, error) {
	return append([]Item(nil), f.items...), f.err
}
func (fakeSource) Resolve(context.Context, actor.Actor, string, bool, string) error { return nil }

func TestCollectMergesNewestFirst(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	r := Registry{
		"forums": fakeSource{items: []Item{{ReportID: "f1", At: at.Add(time.Hour)}, {ReportID: "f2", At: at.Add(-time.Hour)}}},
		"blogs":  fakeSource{items: []Item{{ReportID: "b1", At: at}}},
	}
	got, err := r.Collect(context.Background(), actor.Actor{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, it := range got {
		order = append(order, it.Source+"/"+it.ReportID)
	}
	if !reflect.DeepEqual(order, []string{"forums/f1", "blogs/b1", "forums/f2"}) {
		t.Fatalf("order: %v", order)
	}
	r["news"] = fakeSource{err: errors.New("panne")}
	if _, err := r.Collect(context.Background(), actor.Actor{}, 10); err == nil {
		t.Fatal("a failing source went unnoticed")
	}
}
