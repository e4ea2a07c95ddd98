package pubsub

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/preau-ent/preau/internal/platform/db"
)

// Channel is the PostgreSQL notification channel every instance listens on; the
// topic travels in the payload ("<topic> <payload>") and each instance routes it to
// its own subscribers, so that one LISTEN serves any number of topics.
const Channel = "preau_events"

// Postgres is the bus of instances sharing a PostgreSQL database: Publish is a NOTIFY,
// and one dedicated connection per instance LISTENs. When that connection breaks it is
// replaced, with a growing pause between attempts, and subscribers get a Gap message
// telling them that events may have been missed meanwhile.
type Postgres struct {
	d      *db.DB
	r      *router
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	pid    atomic.Uint32 // backend process of the listening connection
}

// NewPostgres opens the listening connection and returns once it listens, so that an
// event published after it returns is not missed.
func NewPostgres(ctx context.Context, d *db.DB) (*Postgres, error) {
	lctx, cancel := context.WithCancel(context.Background())
	p := &Postgres{d: d, r: newRouter(), ctx: lctx, cancel: cancel, done: make(chan struct{})}
	ready := make(chan error, 1)
	go p.run(ready)
	select {
	case err := <-ready:
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("écoute des notifications PostgreSQL : %w", err)
		}
		return p, nil
	case <-ctx.Done():
		p.Close()
		return nil, ctx.Err()
	}
}

// ListenerPID is the PostgreSQL backend process id of the listening connection (for
// tests and diagnostics).
func (p *Postgres) ListenerPID() uint32 { return p.pid.Load() }

func (p *Postgres) run(ready chan<- error) {
	defer close(p.done)
	first := true
	pause := 100 * time.Millisecond
	for p.ctx.Err() == nil {
		err := p.listen(func() {
			if first {
				first = false
				ready <- nil
			} else {
				slog.Info("écoute des notifications PostgreSQL rétablie")
				p.r.dispatch(Message{Gap: true})
			}
			pause = 100 * time.Millisecond
		})
		if p.ctx.Err() != nil {
			return
		}
		if first {
			ready <- err
			return
		}
		slog.Warn("écoute des notifications PostgreSQL interrompue", "err", err, "nouvel essai dans", pause)
		select {
		case <-time.After(pause):
		case <-p.ctx.Done():
			return
		}
		pause = min(pause*2, 5*time.Second)
	}
}

// listen holds one pooled connection for as long as it works; the pool discards it
// afterwards (driver.ErrBadConn), since a wait interrupted half-way leaves it unusable.
func (p *Postgres) listen(onListening func()) error {
	conn, err := p.d.DB.Conn(p.ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("pilote inattendu %T", dc)
		}
		pg := sc.Conn()
		if _, err := pg.Exec(p.ctx, "LISTEN "+Channel); err != nil {
			return errors.Join(driver.ErrBadConn, err)
		}
		p.pid.Store(pg.PgConn().PID())
		onListening()
		for {
			n, err := pg.WaitForNotification(p.ctx)
			if err != nil {
				return errors.Join(driver.ErrBadConn, err)
			}
			topic, payload, _ := strings.Cut(n.Payload, " ")
			p.r.dispatch(Message{Topic: topic, Payload: []byte(payload)})
		}
	})
}

// Publish sends a NOTIFY; every listening instance, this one included, delivers it.
func (p *Postgres) Publish(ctx context.Context, topic string, payload []byte) error {
	if err := validTopic(topic, payload); err != nil {
		return err
	}
	if p.ctx.Err() != nil {
		return ErrClosed
	}
	_, err := p.d.ExecContext(ctx, `SELECT pg_notify($1, $2)`, Channel, topic+" "+string(payload))
	return err
}

// Subscribe registers a handler for a topic prefix.
func (p *Postgres) Subscribe(prefix string, h Handler) func() { return p.r.subscribe(prefix, h) }

// Close stops listening and releases the connection; call it before closing the database.
func (p *Postgres) Close() error {
	p.cancel()
	<-p.done
	p.r.close()
	return nil
}
