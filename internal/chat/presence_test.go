package chat

import (
	"context"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/db"
)

// Presence is computed from the rows of every instance: a live row with a fresh
// heartbeat is "online"; a row whose instance stopped beating (it crashed) or whose
// last stream closed recently is "away"; older rows are "offline".
func TestPresenceFromInstanceRows(t *testing.T) {
	ctx := context.Background()
	d := db.ForTest(t)
	if err := d.Migrate(ctx, directory.Migrations, Migrations); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s := &Service{db: d, now: func() time.Time { return now }}
	rows := []struct {
		person, instance string
		live             bool
		seen             time.Duration // before now
	}{
		{"a", "i1", true, 5 * time.Second},   // online on instance 1
		{"a", "i2", false, time.Hour},        // and long gone from instance 2
		{"b", "i1", true, 2 * time.Minute},   // instance 1 stopped beating: away
		{"c", "i2", false, 3 * time.Minute},  // closed its last page recently: away
		{"d", "i1", false, 30 * time.Minute}, // offline
		{"e", "i2", true, time.Hour},         // a crashed instance long ago: offline
	}
	for _, r := range rows {
		if _, err := d.ExecContext(ctx, `INSERT INTO chat_presence(person_id, instance_id, live, seen_at) VALUES ($1,$2,$3,$4)`,
			r.person, r.instance, r.live, now.Add(-r.seen).UnixMilli()); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.presence(ctx, []string{"a", "b", "c", "d", "e", "f"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": Online, "b": Away, "c": Away, "d": Offline, "e": Offline, "f": Offline}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s : %s, attendu %s", p, got[p], w)
		}
	}
}
