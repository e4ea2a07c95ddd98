package mail_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/platform/mail"
)

var letter = mail.Message{
	To:      "Élodie Martin <elodie.martin@example.fr>",
	Subject: "Préau : réinitialisation de votre mot de passe",
	Body:    "Bonjour Élodie,\n\nVoici le lien : https://ent.example.fr/reinitialisation?jeton=abc\n.\n.point en tête de ligne\n\n-- \nPréau\n",
}

// smtpServer is a minimal SMTP server speaking the real protocol on loopback; it
// records the envelope, the AUTH line and the DATA of each message.
type smtpServer struct {
	addr     string
	received chan received
}

type received struct {
	helo, auth, from string
	to               []string
	data             []byte
	quit             bool
}

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	s := &smtpServer{addr: l.Addr().String(), received: make(chan received, 4)}
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(conn)
		}
	}()
	return s
}

func (s *smtpServer) serve(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(conn)
	var r received
	reply := func(format string, args ...any) { _ = tp.PrintfLine(format, args...) }
	reply("220 test.local ESMTP prêt")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			r.helo = arg
			reply("250-test.local")
			reply("250-8BITMIME")
			reply("250 AUTH PLAIN")
		case "AUTH":
			r.auth = arg
			reply("235 2.7.0 Authentication successful")
		case "MAIL":
			r.from = arg
			reply("250 2.1.0 Ok")
		case "RCPT":
			r.to = append(r.to, arg)
			reply("250 2.1.5 Ok")
		case "DATA":
			reply("354 End data with <CR><LF>.<CR><LF>")
			r.data, err = tp.ReadDotBytes()
			if err != nil {
				return
			}
			reply("250 2.0.0 Ok: queued")
		case "QUIT":
			r.quit = true
			reply("221 2.0.0 Bye")
			s.received <- r
			return
		default:
			reply("502 5.5.2 Error: command not recognized")
		}
	}
}

func TestSMTPConversation(t *testing.T) {
	srv := startSMTP(t)
	host, portStr, _ := net.SplitHostPort(srv.addr)
	port, _ := strconv.Atoi(portStr)
	s := mail.NewSMTP(host, port, "preau", "s3cret", "Préau <ne-pas-repondre@ent.example.fr>")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Send(ctx, letter); err != nil {
		t.Fatal(err)
	}
	var r received
	select {
	case r = <-srv.received:
	case <-ctx.Done():
		t.Fatal("le serveur n'a rien reçu")
	}
	if r.helo == "" || !r.quit {
		t.Errorf("dialogue incomplet : %+v", r)
	}
	wantAuth := "PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00preau\x00s3cret"))
	if r.auth != wantAuth {
		t.Errorf("AUTH = %q, voulu %q", r.auth, wantAuth)
	}
	if !strings.HasPrefix(r.from, "FROM:<ne-pas-repondre@ent.example.fr>") {
		t.Errorf("MAIL %q", r.from)
	}
	if len(r.to) != 1 || r.to[0] != "TO:<elodie.martin@example.fr>" {
		t.Errorf("RCPT %q", r.to)
	}
	checkMessage(t, r.data, false) // textproto hands DATA over with bare LF
}

// checkMessage parses a message and checks its headers and body; crlf asks that
// every line end in CRLF as on the wire.
func checkMessage(t *testing.T, data []byte, crlf bool) {
	t.Helper()
	if crlf && bytes.Contains(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("fin de ligne sans CR dans le message")
	}
	for _, line := range bytes.Split(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")), []byte("\n")) {
		if len(line) > 998 {
			t.Errorf("ligne de %d octets", len(line))
		}
		for _, c := range line {
			if c >= 0x80 {
				t.Fatalf("octet non ASCII dans le message : %q", line)
			}
		}
	}
	m, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	h := m.Header
	if got := h.Get("Subject"); !strings.HasPrefix(got, "=?UTF-8?q?") && !strings.HasPrefix(got, "=?utf-8?q?") {
		t.Errorf("Subject non encodé RFC 2047 : %q", got)
	}
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Préau" || from[0].Address != "ne-pas-repondre@ent.example.fr" {
		t.Errorf("From = %v (%v)", from, err)
	}
	to, err := h.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "Élodie Martin" || to[0].Address != "elodie.martin@example.fr" {
		t.Errorf("To = %v (%v)", to, err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subject != letter.Subject {
		t.Errorf("Subject décodé = %q (%v)", subject, err)
	}
	if at, err := h.Date(); err != nil || time.Since(at) > time.Minute {
		t.Errorf("Date = %v (%v)", at, err)
	}
	if id := h.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@ent.example.fr>") {
		t.Errorf("Message-ID = %q", id)
	}
	if ct := h.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cte := h.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
		t.Errorf("Content-Transfer-Encoding = %q", cte)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.ReplaceAll(string(body), "\r\n", "\n"); got != letter.Body {
		t.Errorf("corps = %q\nvoulu %q", got, letter.Body)
	}
}

func TestSMTPRefusesHeaderInjection(t *testing.T) {
	s := mail.NewSMTP("127.0.0.1", 1, "", "", "ne-pas-repondre@ent.example.fr")
	m := letter
	m.To = "victime@example.fr\r\nBcc: autre@example.fr"
	if err := s.Send(context.Background(), m); !errors.Is(err, mail.ErrBadAddress) {
		t.Fatalf("err = %v", err)
	}
}

func TestSMTPUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	l.Close()
	s := mail.NewSMTP("127.0.0.1", addr.Port, "", "", "ne-pas-repondre@ent.example.fr")
	if err := s.Send(context.Background(), letter); err == nil {
		t.Fatal("envoi vers un port fermé réussi")
	}
}

func TestSpool(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	sp := mail.NewSpool(dir, "Préau <ne-pas-repondre@ent.example.fr>")
	ctx := context.Background()
	if list, err := sp.List(ctx); err != nil || len(list) != 0 {
		t.Fatalf("spool absent : %v %v", list, err)
	}
	if err := sp.Send(ctx, letter); err != nil {
		t.Fatal(err)
	}
	second := mail.Message{To: "paul@example.fr", Subject: "Second", Body: "Ligne très longue " + strings.Repeat("é", 200) + "\n"}
	if err := sp.Send(ctx, second); err != nil {
		t.Fatal(err)
	}
	// A half-written file left by a crash, and a stray file, are not messages.
	if err := os.WriteFile(filepath.Join(dir, ".part-123"), []byte("From: x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	list, err := sp.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("%d messages, voulu 2 : %+v", len(list), list)
	}
	if list[0].Subject != "Second" || list[1].Subject != letter.Subject {
		t.Errorf("ordre : %q puis %q", list[0].Subject, list[1].Subject)
	}
	if list[0].To != "paul@example.fr" || list[1].To != "Élodie Martin <elodie.martin@example.fr>" {
		t.Errorf("destinataires %q, %q", list[0].To, list[1].To)
	}
	if list[1].Body != letter.Body || list[0].Body != second.Body {
		t.Errorf("corps relus : %q / %q", list[1].Body, list[0].Body)
	}
	if time.Since(list[0].At) > time.Minute || list[0].At.Before(list[1].At) {
		t.Errorf("dates %v, %v", list[0].At, list[1].At)
	}
	one, err := sp.Read(list[1].Name)
	if err != nil || one.Subject != letter.Subject {
		t.Fatalf("Read : %+v %v", one, err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, list[1].Name))
	if err != nil {
		t.Fatal(err)
	}
	checkMessage(t, raw, true)
	fi, err := os.Stat(filepath.Join(dir, list[1].Name))
	if err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("droits du fichier : %v %v", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".part-") && e.Name() != ".part-123" {
			t.Errorf("fichier temporaire laissé : %s", e.Name())
		}
	}
}

func TestSpoolReadRejectsPaths(t *testing.T) {
	dir := t.TempDir()
	sp := mail.NewSpool(filepath.Join(dir, "spool"), "ne-pas-repondre@ent.example.fr")
	if err := os.WriteFile(filepath.Join(dir, "secret.eml"), []byte("Subject: secret\r\n\r\nx"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"../secret.eml", "..", ".", "", "a/b.eml", `a\b.eml`, "/etc/passwd", ".part-1.eml", "x.txt"} {
		if _, err := sp.Read(name); !errors.Is(err, mail.ErrBadName) {
			t.Errorf("Read(%q) = %v, voulu ErrBadName", name, err)
		}
	}
	if _, err := sp.Read("absent.eml"); err == nil || errors.Is(err, mail.ErrBadName) {
		t.Errorf("Read d'un message absent : %v", err)
	}
}
