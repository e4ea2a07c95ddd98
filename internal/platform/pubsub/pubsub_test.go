package pubsub

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/platform/db"
)

func collect(ps PubSub, prefix string) (<-chan Message, func()) {
	ch := make(chan Message, 16)
	cancel := ps.Subscribe(prefix, func(m Message) {
		select {
		case ch <- m:
		default:
		}
	})
	return ch, cancel
}

func receive(t *testing.T, ch <-chan Message) Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("aucun événement reçu")
	}
	return Message{}
}

func quiet(t *testing.T, ch <-chan Message) {
	t.Helper()
	select {
	case m := <-ch:
		t.Fatalf("événement inattendu : %+v", m)
	case <-time.After(200 * time.Millisecond):
	}
}

// exercise checks the contract every bus keeps: prefix routing, cancelled
// subscriptions, the size limit.
func exercise(t *testing.T, pub, sub PubSub) {
	ctx := context.Background()
	conv, cancelConv := collect(sub, "chat.conv.")
	person, _ := collect(sub, "chat.person.p1")
	if err := pub.Publish(ctx, "chat.conv.c1", []byte(`{"m":1}`)); err != nil {
		t.Fatal(err)
	}
	if m := receive(t, conv); m.Topic != "chat.conv.c1" || string(m.Payload) != `{"m":1}` || m.Gap {
		t.Fatalf("reçu %+v", m)
	}
	quiet(t, person)
	if err := pub.Publish(ctx, "chat.person.p1", []byte(`é`)); err != nil {
		t.Fatal(err)
	}
	if m := receive(t, person); string(m.Payload) != "é" {
		t.Fatalf("reçu %+v", m)
	}
	quiet(t, conv)
	cancelConv()
	if err := pub.Publish(ctx, "chat.conv.c2", nil); err != nil {
		t.Fatal(err)
	}
	quiet(t, conv)
	big := []byte(strings.Repeat("x", MaxPayload))
	if err := pub.Publish(ctx, "chat.conv.c3", big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("charge trop grande acceptée : %v", err)
	}
	// Exactly at the limit passes NOTIFY too.
	limit := []byte(strings.Repeat("é", (MaxPayload-len("chat.person.p1 "))/2))
	if err := pub.Publish(ctx, "chat.person.p1", limit); err != nil {
		t.Fatal(err)
	}
	if m := receive(t, person); len(m.Payload) != len(limit) {
		t.Fatalf("charge tronquée : %d", len(m.Payload))
	}
	if err := pub.Publish(ctx, "bad topic", nil); err == nil {
		t.Fatal("sujet avec une espace accepté")
	}
}

func TestLocal(t *testing.T) {
	l := NewLocal()
	exercise(t, l, l)
	l.Close()
	if err := l.Publish(context.Background(), "a", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("publication après fermeture : %v", err)
	}
}

func postgres(t *testing.T) *db.DB {
	if os.Getenv("PREAU_TEST_POSTGRES") == "" {
		t.Skip("PREAU_TEST_POSTGRES non défini")
	}
	return db.ForTest(t)
}

// Two instances on two connections: what one publishes, the other receives.
func TestPostgresTwoInstances(t *testing.T) {
	d := postgres(t)
	ctx := context.Background()
	a, err := NewPostgres(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := NewPostgres(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if a.ListenerPID() == b.ListenerPID() || a.ListenerPID() == 0 {
		t.Fatalf("connexions d'écoute : %d et %d", a.ListenerPID(), b.ListenerPID())
	}
	exercise(t, a, b)
	// The publisher hears itself too.
	own, _ := collect(a, "chat.")
	if err := b.Publish(ctx, "chat.conv.x", []byte("1")); err != nil {
		t.Fatal(err)
	}
	receive(t, own)
}

// When the listening connection is killed, the bus reconnects, tells subscribers
// that events may have been missed, and delivers again.
func TestPostgresReconnects(t *testing.T) {
	d := postgres(t)
	ctx := context.Background()
	p, err := NewPostgres(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ch, _ := collect(p, "chat.")
	old := p.ListenerPID()
	if _, err := d.ExecContext(ctx, `SELECT pg_terminate_backend($1)`, int64(old)); err != nil {
		t.Fatal(err)
	}
	if m := receive(t, ch); !m.Gap {
		t.Fatalf("attendu un signal de perte, reçu %+v", m)
	}
	if p.ListenerPID() == old {
		t.Fatal("même connexion d'écoute après sa fin")
	}
	if err := p.Publish(ctx, "chat.conv.after", []byte("ok")); err != nil {
		t.Fatal(err)
	}
	if m := receive(t, ch); m.Topic != "chat.conv.after" {
		t.Fatalf("reçu %+v", m)
	}
	p.Close()
	if err := p.Publish(ctx, "chat.conv.closed", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("publication après fermeture : %v", err)
	}
}

func TestFor(t *testing.T) {
	d := db.ForTest(t)
	ps, err := For(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	ch, _ := collect(ps, "t")
	if err := ps.Publish(context.Background(), "t.1", []byte("x")); err != nil {
		t.Fatal(err)
	}
	receive(t, ch)
}
