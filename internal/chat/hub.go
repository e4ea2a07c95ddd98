package chat

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
	"github.com/preau-ent/preau/internal/platform/pubsub"
)

// Topics of the bus.
const topicConv = "chat.conv."

// Kinds of event.
const (
	evMessage      = "message"
	evRemoved      = "removed"
	evConversation = "conversation"
)

// event is what travels on the bus: ids, and the message's text when it fits in a
// notification (otherwise each instance reads it from the database).
type event struct {
	Kind         string  `json:"k"`
	Conversation string  `json:"c"`
	ID           int64   `json:"id,omitempty"`
	Sender       string  `json:"s,omitempty"`
	SenderName   string  `json:"n,omitempty"`
	Body         *string `json:"b,omitempty"`
	At           int64   `json:"t,omitempty"`
}

func messageEvent(m Message) event {
	body := m.Body
	return event{Kind: evMessage, Conversation: m.ConversationID, ID: m.ID, Sender: m.SenderID, SenderName: m.SenderName, Body: &body, At: m.CreatedAt.UnixMilli()}
}

func (s *Service) publish(ctx context.Context, convID string, e event) {
	ctx = context.WithoutCancel(ctx)
	b, _ := json.Marshal(e)
	err := s.bus.Publish(ctx, topicConv+convID, b)
	if errors.Is(err, pubsub.ErrTooLarge) && e.Body != nil {
		e.Body = nil
		b, _ = json.Marshal(e)
		err = s.bus.Publish(ctx, topicConv+convID, b)
	}
	if err != nil {
		// The message is stored: streams that missed it get it on their next resume.
		slog.Error("publication d'un événement de discussion", "err", err)
	}
}

// StreamEvent is one server-sent event for a person's stream.
type StreamEvent struct {
	ID   int64  // message id (the stream's resume point); 0 for other events
	Name string // "message", "removed", "conversation"
	Data []byte // JSON
}

// WireMessage is a message as streams and the API send it.
type WireMessage struct {
	ID             int64     `json:"id"`
	ConversationID string    `json:"conversation"`
	SenderID       string    `json:"sender"`
	SenderName     string    `json:"senderName"`
	Body           string    `json:"body"`
	At             time.Time `json:"at"`
	Removed        bool      `json:"removed,omitempty"`
}

// Wire returns the message as streams and the API send it.
func (m Message) Wire() WireMessage {
	return WireMessage{ID: m.ID, ConversationID: m.ConversationID, SenderID: m.SenderID, SenderName: m.SenderName, Body: m.Body, At: m.CreatedAt.UTC(), Removed: m.Removed}
}

// MessageEvent makes the stream event of a message.
func MessageEvent(m Message) StreamEvent {
	b, _ := json.Marshal(m.Wire())
	return StreamEvent{ID: m.ID, Name: evMessage, Data: b}
}

// Stream is one live connection of a person (a browser tab, an application).
type Stream struct {
	PersonID string
	C        <-chan StreamEvent
	c        chan StreamEvent
	lost     chan struct{}
	lostOnce sync.Once
}

// Lost is closed when the stream fell behind or events may have been missed: the
// client should reconnect and resume from its last event id.
func (st *Stream) Lost() <-chan struct{} { return st.lost }

func (st *Stream) lose() { st.lostOnce.Do(func() { close(st.lost) }) }

// Presence timing: instances refresh their rows every presenceBeat; a row not
// refreshed for presenceFresh is no longer "online"; a person seen within awayFor is "away".
const (
	presenceBeat  = 20 * time.Second
	presenceFresh = 60 * time.Second
	awayFor       = 10 * time.Minute
)

// Limits of live streams.
const (
	streamBuffer     = 64
	MaxStreamsPerson = 10
	// MaxStreams bounds one instance's streams (each holds a connection and a
	// goroutine); the load balancer sends the others elsewhere, or they retry.
	MaxStreams = 20000
)

// ErrTooManyStreams is returned by Connect over MaxStreamsPerson or MaxStreams.
var ErrTooManyStreams = errors.New("trop de connexions en direct")

// Hub is one instance's side of real-time delivery: it holds the streams of the
// persons connected to this instance, receives the bus's events and hands each to the
// streams of the conversation's members. Presence rows in the database tell the other
// instances who is connected here.
type Hub struct {
	s        *Service
	instance string
	unsub    func()
	work     chan pubsub.Message
	ctx      context.Context
	cancel   context.CancelFunc
	done     sync.WaitGroup

	mu      sync.Mutex
	streams map[string]map[*Stream]struct{}
	count   int        // streams held
	presMu  sync.Mutex // orders the presence writes of connects and disconnects
}

// NewHub starts the instance's hub; Close stops it.
func NewHub(s *Service) *Hub {
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{s: s, instance: ids.New(), work: make(chan pubsub.Message, 4096), ctx: ctx, cancel: cancel, streams: map[string]map[*Stream]struct{}{}}
	h.unsub = s.bus.Subscribe("chat.", func(m pubsub.Message) {
		select {
		case h.work <- m:
		default:
			// Delivery fell behind: every stream resumes from the database.
			h.loseAll()
		}
	})
	h.done.Add(2)
	go h.deliver()
	go h.heartbeat()
	return h
}

// Close ends every stream and the instance's presence.
func (h *Hub) Close() {
	h.unsub()
	h.cancel()
	h.done.Wait()
	h.loseAll()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = h.s.db.ExecContext(ctx, `UPDATE chat_presence SET live=$2, seen_at=$3 WHERE instance_id=$1`, h.instance, false, h.s.now().UnixMilli())
}

// Connected is the number of live streams on this instance.
func (h *Hub) Connected() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.count
}

// Connect opens a stream for a person.
func (h *Hub) Connect(ctx context.Context, personID string) (*Stream, error) {
	h.presMu.Lock()
	defer h.presMu.Unlock()
	h.mu.Lock()
	if len(h.streams[personID]) >= MaxStreamsPerson || h.count >= MaxStreams {
		h.mu.Unlock()
		return nil, ErrTooManyStreams
	}
	h.count++
	c := make(chan StreamEvent, streamBuffer)
	st := &Stream{PersonID: personID, C: c, c: c, lost: make(chan struct{})}
	first := len(h.streams[personID]) == 0
	if first {
		h.streams[personID] = map[*Stream]struct{}{}
	}
	h.streams[personID][st] = struct{}{}
	h.mu.Unlock()
	if first {
		if err := h.setPresence(ctx, personID, true); err != nil {
			h.remove(st)
			return nil, err
		}
	}
	return st, nil
}

// Disconnect closes a stream.
func (h *Hub) Disconnect(st *Stream) {
	h.presMu.Lock()
	defer h.presMu.Unlock()
	if h.remove(st) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.setPresence(ctx, st.PersonID, false); err != nil {
			slog.Error("présence", "err", err)
		}
	}
}

// remove forgets a stream and tells whether it was the person's last one here.
func (h *Hub) remove(st *Stream) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.streams[st.PersonID]
	if _, ok := m[st]; !ok {
		return false
	}
	delete(m, st)
	h.count--
	st.lose()
	if len(m) == 0 {
		delete(h.streams, st.PersonID)
		return true
	}
	return false
}

func (h *Hub) setPresence(ctx context.Context, personID string, live bool) error {
	_, err := h.s.db.ExecContext(ctx, `INSERT INTO chat_presence(person_id, instance_id, live, seen_at) VALUES ($1,$2,$3,$4)
		ON CONFLICT (person_id, instance_id) DO UPDATE SET live=excluded.live, seen_at=excluded.seen_at`, personID, h.instance, live, h.s.now().UnixMilli())
	return err
}

func (h *Hub) loseAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.streams {
		for st := range m {
			st.lose()
		}
	}
}

func (h *Hub) heartbeat() {
	defer h.done.Done()
	t := time.NewTicker(presenceBeat)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
			now := h.s.now()
			if _, err := h.s.db.ExecContext(h.ctx, `UPDATE chat_presence SET seen_at=$2 WHERE instance_id=$1 AND live`, h.instance, now.UnixMilli()); err != nil && h.ctx.Err() == nil {
				slog.Error("présence : battement", "err", err)
			}
			// Rows of instances gone for a day are of no use any more.
			if _, err := h.s.db.ExecContext(h.ctx, `DELETE FROM chat_presence WHERE seen_at < $1`, now.Add(-24*time.Hour).UnixMilli()); err != nil && h.ctx.Err() == nil {
				slog.Error("présence : purge", "err", err)
			}
		}
	}
}

func (h *Hub) deliver() {
	defer h.done.Done()
	for {
		select {
		case <-h.ctx.Done():
			return
		case m := <-h.work:
			if m.Gap {
				h.loseAll()
				continue
			}
			var e event
			if err := json.Unmarshal(m.Payload, &e); err != nil {
				slog.Error("événement de discussion illisible", "err", err)
				continue
			}
			if err := h.dispatch(e); err != nil && h.ctx.Err() == nil {
				slog.Error("distribution d'un événement de discussion", "err", err)
				h.loseAll()
			}
		}
	}
}

// dispatch hands one event to the local streams of the conversation's members.
func (h *Hub) dispatch(e event) error {
	h.mu.Lock()
	idle := len(h.streams) == 0
	h.mu.Unlock()
	if idle {
		return nil
	}
	members, err := db.Strings(h.ctx, h.s.db, `SELECT person_id FROM chat_members WHERE conversation_id=$1`, e.Conversation)
	if err != nil {
		return err
	}
	var out StreamEvent
	switch e.Kind {
	case evMessage:
		m := Message{ID: e.ID, ConversationID: e.Conversation, SenderID: e.Sender, SenderName: e.SenderName, CreatedAt: time.UnixMilli(e.At)}
		if e.Body != nil {
			m.Body = *e.Body
		} else if m, err = h.s.message(h.ctx, e.ID); err != nil {
			return err
		}
		out = MessageEvent(m)
	case evRemoved:
		b, _ := json.Marshal(map[string]any{"id": e.ID, "conversation": e.Conversation})
		out = StreamEvent{Name: evRemoved, Data: b}
	case evConversation:
		b, _ := json.Marshal(map[string]any{"conversation": e.Conversation})
		out = StreamEvent{Name: evConversation, Data: b}
	default:
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range members {
		for st := range h.streams[p] {
			select {
			case st.c <- out:
			default:
				st.lose() // too slow: it resumes from the database
			}
		}
	}
	return nil
}

// presence computes the presence of persons from the rows of every instance.
func (s *Service) presence(ctx context.Context, persons []string) (map[string]string, error) {
	out := make(map[string]string, len(persons))
	for _, p := range persons {
		out[p] = Offline
	}
	if len(persons) == 0 {
		return out, nil
	}
	now := s.now()
	args := []any{now.Add(-presenceFresh).UnixMilli(), now.Add(-awayFor).UnixMilli()}
	for _, p := range persons {
		args = append(args, p)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT person_id, MAX(CASE WHEN live AND seen_at > $1 THEN 2 WHEN seen_at > $2 THEN 1 ELSE 0 END)
		FROM chat_presence WHERE person_id IN (`+db.In(3, len(persons))+`) GROUP BY person_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var level int
		if err := rows.Scan(&id, &level); err != nil {
			return nil, err
		}
		out[id] = []string{Offline, Away, Online}[level]
	}
	return out, rows.Err()
}
