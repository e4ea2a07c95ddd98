package mail

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"strconv"
	"time"
)

// smtpTimeout bounds a whole delivery when the caller's context has no deadline: a
// stuck relay must not hold a request (and its database connection) forever.
const smtpTimeout = 30 * time.Second

// SMTP delivers through a relay (the académie's, the collectivité's, or a provider).
type SMTP struct {
	host     string
	port     int
	username string
	password string
	from     string
	helo     string
}

// NewSMTP returns a Sender through host:port. STARTTLS is used whenever the server
// offers it, and the credentials (if any) are only sent over TLS or to a loopback
// relay (net/smtp's PLAIN refuses otherwise). from is the sender, e.g.
// "Préau <ne-pas-repondre@ent.example.fr>".
func NewSMTP(host string, port int, username, password, from string) Sender {
	helo, err := os.Hostname()
	if err != nil || helo == "" {
		helo = "localhost"
	}
	return &SMTP{host: host, port: port, username: username, password: password, from: from, helo: helo}
}

// Send delivers one message.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	from, err := parseOne(s.from)
	if err != nil {
		return err
	}
	to, err := parseOne(m.To)
	if err != nil {
		return err
	}
	data, err := compose(from, to, m, time.Now())
	if err != nil {
		return err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, smtpTimeout)
		defer cancel()
	}
	addr := net.JoinHostPort(s.host, strconv.Itoa(s.port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connexion au serveur SMTP %s : %w", addr, err)
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	// Closing the connection is the only way to interrupt net/smtp mid-dialogue.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("serveur SMTP %s : %w", addr, err)
	}
	defer c.Close()
	wrap := func(step string, err error) error {
		if ctx.Err() != nil {
			return fmt.Errorf("SMTP %s : %w", step, ctx.Err())
		}
		return fmt.Errorf("SMTP %s : %w", step, err)
	}
	if err := c.Hello(s.helo); err != nil {
		return wrap("EHLO", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}); err != nil {
			return wrap("STARTTLS", err)
		}
	}
	if s.username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.username, s.password, s.host)); err != nil {
			return wrap("AUTH", err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return wrap("MAIL FROM", err)
	}
	if err := c.Rcpt(to.Address); err != nil {
		return wrap("RCPT TO", err)
	}
	w, err := c.Data()
	if err != nil {
		return wrap("DATA", err)
	}
	if _, err := w.Write(data); err != nil {
		return wrap("DATA", err)
	}
	if err := w.Close(); err != nil {
		return wrap("DATA", err)
	}
	// The relay took the message at the end of DATA: a failed QUIT loses nothing.
	_ = c.Quit()
	return nil
}
