package app

import (
	"context"
	"log/slog"
	"sync"

	"github.com/preau-ent/preau/internal/notify"
)

// poster posts the services' notifications in the background, after their own
// transaction has committed: a message to the 2,000 parents of a school returns once
// its copies are stored, and the 2,000 notification rows follow. One goroutine posts
// them in order; when its queue is full the service posts itself, so a burst slows
// senders down instead of growing memory. Failing to notify is logged and never
// undoes what the service did.
type poster struct {
	n       *notify.Service
	jobs    chan job
	pending sync.WaitGroup
	mu      sync.Mutex // guards closed against hooks running during shutdown
	closed  bool
	done    chan struct{}
}

type job struct {
	ctx context.Context
	e   notify.Event
}

func newPoster(n *notify.Service) *poster {
	p := &poster{n: n, jobs: make(chan job, 256), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for j := range p.jobs {
			p.post(j.ctx, j.e)
			p.pending.Done()
		}
	}()
	return p
}

// hook is the function a service calls for one kind of event.
func (p *poster) hook(kind string) func(ctx context.Context, recipients []string, actorID, title, link string) {
	return func(ctx context.Context, recipients []string, actorID, title, link string) {
		p.send(ctx, notify.Event{Kind: kind, Recipients: recipients, ActorID: actorID, Title: title, Link: link})
	}
}

// send queues an event, or posts it at once when the queue is full or closed.
func (p *poster) send(ctx context.Context, e notify.Event) {
	e.Recipients = append([]string(nil), e.Recipients...) // the caller may reuse its slice
	// The request that caused the event ends before the poster gets to it.
	ctx = context.WithoutCancel(ctx)
	p.mu.Lock()
	if !p.closed {
		p.pending.Add(1)
		select {
		case p.jobs <- job{ctx, e}:
			p.mu.Unlock()
			return
		default:
			p.pending.Done()
		}
	}
	p.mu.Unlock()
	p.post(ctx, e)
}

func (p *poster) post(ctx context.Context, e notify.Event) {
	if err := p.n.Post(ctx, e); err != nil {
		slog.Warn("notification non publiée", "kind", e.Kind, "link", e.Link, "err", err)
	}
}

// settle waits until every queued notification is posted.
func (p *poster) settle() { p.pending.Wait() }

// close posts what is queued and stops the poster; later events are posted by the
// services themselves.
func (p *poster) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.jobs)
	p.mu.Unlock()
	<-p.done
}

// SettleNotifications waits until the notifications the services posted so far are
// stored (tests, and commands that exit right after their work).
func (a *App) SettleNotifications() { a.poster.settle() }
