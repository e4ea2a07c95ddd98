// Package mail sends e-mail: through SMTP when the deployment configures it, or
// into a spool folder that an administrator can read when it does not.
package mail

import (
	"context"
	"time"
)

// Message is one e-mail. Body is plain text (French first).
type Message struct {
	To      string
	Subject string
	Body    string
}

// Sender delivers messages. Two real implementations: SMTP and Spool.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Spooled is one message read back from the spool folder.
type Spooled struct {
	Name    string
	At      time.Time
	To      string
	Subject string
	Body    string
}
