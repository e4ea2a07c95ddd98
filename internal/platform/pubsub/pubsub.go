// Package pubsub carries small real-time events (a message was posted, a person went
// online) between the parts of Préau that produce them and the streams that deliver
// them. One instance on SQLite publishes in its own process; several instances on
// PostgreSQL publish through LISTEN/NOTIFY, so that an event posted on one reaches the
// streams held by every other (nothing shared lives in one process's memory only).
//
// Events are small: ids and, when it fits, the content; a subscriber that needs more
// reads it from the database. Topics are dotted names ("chat.conv.<id>",
// "chat.person.<id>"); a subscription takes a prefix.
package pubsub

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/preau-ent/preau/internal/platform/db"
)

// MaxPayload is the largest event a topic and payload may make together: PostgreSQL's
// NOTIFY refuses payloads from 8000 bytes on; the in-process bus keeps the same limit
// so that code tested on SQLite does not break on PostgreSQL.
const MaxPayload = 7900

// ErrTooLarge is returned by Publish for an event over MaxPayload.
var ErrTooLarge = errors.New("pubsub: événement trop grand")

// ErrClosed is returned by Publish after Close.
var ErrClosed = errors.New("pubsub: fermé")

// Message is one event. Gap is set, with an empty Payload, when events may have been
// lost (the listening connection to PostgreSQL broke and came back): subscribers
// then catch up from the database.
type Message struct {
	Topic   string
	Payload []byte
	Gap     bool
}

// Handler receives events. It runs on the bus's delivery goroutine: it must be quick
// and must not block (hand the work to a channel).
type Handler func(Message)

// PubSub is an event bus.
type PubSub interface {
	// Publish sends an event to every subscriber of every instance, this one included.
	Publish(ctx context.Context, topic string, payload []byte) error
	// Subscribe calls h for every event whose topic starts with prefix; the returned
	// function ends the subscription.
	Subscribe(prefix string, h Handler) (cancel func())
	// Close ends the subscriptions and releases the listening connection.
	Close() error
}

// For returns the bus that fits the database: LISTEN/NOTIFY on PostgreSQL, in-process
// on SQLite (one instance per database file).
func For(ctx context.Context, d *db.DB) (PubSub, error) {
	if d.Dialect == db.Postgres {
		return NewPostgres(ctx, d)
	}
	return NewLocal(), nil
}

func validTopic(topic string, payload []byte) error {
	if topic == "" || strings.ContainsAny(topic, " \n\x00") {
		return errors.New("pubsub: nom de sujet invalide")
	}
	if len(topic)+1+len(payload) > MaxPayload {
		return ErrTooLarge
	}
	// NOTIFY carries text: the same rule everywhere.
	if !utf8.Valid(payload) || bytes.IndexByte(payload, 0) >= 0 {
		return errors.New("pubsub: charge utile non textuelle")
	}
	return nil
}

// router dispatches events to subscriptions by topic prefix; both buses use it.
type router struct {
	mu     sync.RWMutex
	subs   map[int]subscription
	next   int
	closed bool
}

type subscription struct {
	prefix string
	h      Handler
}

func newRouter() *router { return &router{subs: map[int]subscription{}} }

func (r *router) subscribe(prefix string, h Handler) func() {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := r.next
	r.next++
	r.subs[id] = subscription{prefix, h}
	var once sync.Once
	return func() {
		once.Do(func() {
			r.mu.Lock()
			delete(r.subs, id)
			r.mu.Unlock()
		})
	}
}

func (r *router) dispatch(m Message) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, s := range r.subs {
		if m.Gap || strings.HasPrefix(m.Topic, s.prefix) {
			s.h(m)
		}
	}
}

func (r *router) close() {
	r.mu.Lock()
	r.closed = true
	r.subs = map[int]subscription{}
	r.mu.Unlock()
}

func (r *router) isClosed() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.closed
}

// Local is the in-process bus of a single instance.
type Local struct{ r *router }

// NewLocal returns an in-process bus.
func NewLocal() *Local { return &Local{r: newRouter()} }

// Publish delivers the event to this process's subscribers before returning.
func (l *Local) Publish(ctx context.Context, topic string, payload []byte) error {
	if err := validTopic(topic, payload); err != nil {
		return err
	}
	if l.r.isClosed() {
		return ErrClosed
	}
	l.r.dispatch(Message{Topic: topic, Payload: append([]byte(nil), payload...)})
	return nil
}

// Subscribe registers a handler for a topic prefix.
func (l *Local) Subscribe(prefix string, h Handler) func() { return l.r.subscribe(prefix, h) }

// Close drops every subscription.
func (l *Local) Close() error {
	l.r.close()
	return nil
}
