// Package cas is Préau's CAS server (protocol versions 1.0, 2.0 and 3.0): it issues
// service tickets to registered connectors for signed-in persons, validates them
// once, releases each connector's attributes, issues proxy-granting and proxy
// tickets, and tells services when a session ends (single logout).
//
// Tickets are kept in the database (any instance validates what another issued) as
// SHA-256 hashes. A service ticket is single-use — consumed by its first validation
// attempt, successful or not, as the protocol requires — and short-lived.
// The HTTP endpoints live in the web package; this package holds the rules.
package cas

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/preau-ent/preau/internal/connector"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the CAS tables (after the connectors').
var Migrations = db.Embedded("cas", migrations)

// Ticket kinds, which are also their prefixes.
const (
	ST  = "ST"
	PT  = "PT"
	PGT = "PGT"
)

// Failure codes of the protocol.
const (
	InvalidRequest       = "INVALID_REQUEST"
	InvalidTicketSpec    = "INVALID_TICKET_SPEC"
	InvalidTicket        = "INVALID_TICKET"
	InvalidService       = "INVALID_SERVICE"
	InvalidProxyCallback = "INVALID_PROXY_CALLBACK"
	UnauthorizedService  = "UNAUTHORIZED_SERVICE"
	InternalError        = "INTERNAL_ERROR"
)

// Failure is a refusal the protocol reports to the service: Code is the protocol's,
// Message the catalog key of its French-first description.
type Failure struct {
	Code    string
	Message string
}

func (f *Failure) Error() string { return f.Code + ": " + f.Message }

func fail(code, key string) *Failure { return &Failure{Code: code, Message: key} }

// ErrUnknownService: the service URL is no registered CAS connector's. The login
// page then refuses to go on, rather than send anyone or anything there.
var ErrUnknownService = errors.New("service CAS non enregistré")

// Config tunes the server.
type Config struct {
	TicketTTL  time.Duration // service and proxy tickets; the protocol recommends at most 5 minutes
	PGTTTL     time.Duration // proxy-granting tickets (they also end with the session)
	SLOWait    time.Duration // how long a logout waits for the services' single logout answers
	HTTPClient *http.Client  // for proxy callbacks and single logout; nil: a default one
	Now        func() time.Time
}

// Service is the CAS server's logic.
type Service struct {
	db         *db.DB
	audit      *audit.Log
	dir        *directory.Service
	connectors *connector.Service
	cfg        Config
}

// New returns the CAS service.
func New(d *db.DB, a *audit.Log, dir *directory.Service, cs *connector.Service, cfg Config) *Service {
	if cfg.TicketTTL <= 0 {
		cfg.TicketTTL = time.Minute
	}
	if cfg.PGTTTL <= 0 {
		cfg.PGTTTL = 2 * time.Hour
	}
	if cfg.SLOWait <= 0 {
		cfg.SLOWait = 2 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// Callbacks and logout messages never follow redirections: the registered address
	// answers, or nobody does.
	c := *cfg.HTTPClient
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	cfg.HTTPClient = &c
	return &Service{db: d, audit: a, dir: dir, connectors: cs, cfg: cfg}
}

// Connector returns the CAS connector registered for a service URL, or ErrUnknownService.
func (s *Service) Connector(ctx context.Context, service string) (connector.Connector, error) {
	c, err := s.connectors.ForService(ctx, connector.CAS, service)
	if errors.Is(err, actor.ErrNotFound) {
		return c, ErrUnknownService
	}
	return c, err
}

// Login is a signed-in person asking for a service ticket.
type Login struct {
	Person    directory.Person
	SessionID string    // the Préau session (account.Session.ID)
	AuthAt    time.Time // when they typed their password
	NewLogin  bool      // they typed it for this very request (renew)
	IP        string
}

// Grant issues a service ticket for the service URL to a person allowed to use its
// connector, and returns the address to send the browser to. Every grant and every
// refusal is in the audit log.
func (s *Service) Grant(ctx context.Context, l Login, service string) (string, error) {
	c, err := s.Connector(ctx, service)
	if err != nil {
		return "", err // the web layer logs unknown services (LogUnknownService)
	}
	sids, err := s.dir.PersonStructureIDs(ctx, l.Person.ID)
	if err != nil {
		return "", err
	}
	ok, err := s.connectors.MayUse(ctx, l.Person.Profile, sids, c)
	if err != nil {
		return "", err
	}
	if !ok {
		s.audit.Write(ctx, s.entry(l.Person, l.IP, "sso.cas.grant", c, false, map[string]string{"service": clip(service), "reason": "not_allowed"}))
		return "", actor.ErrForbidden
	}
	ticket := newTicket(ST)
	now := s.cfg.Now()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.insert(ctx, tx, ticketRow{kind: ST, ticket: ticket, person: l.Person.ID, session: l.SessionID, connector: c.ID, service: service,
			newLogin: l.NewLogin, authAt: l.AuthAt, expires: now.Add(s.cfg.TicketTTL)}); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(l.Person, l.IP, "sso.cas.grant", c, true, map[string]string{"service": clip(service), "renew": yesNo(l.NewLogin)}))
	})
	if err != nil {
		return "", err
	}
	return WithParam(service, "ticket", ticket), nil
}

// WithParam adds one query parameter to a URL that already passed MatchService.
func WithParam(service, key, value string) string {
	sep := "?"
	if strings.Contains(service, "?") {
		sep = "&"
	}
	return service + sep + url.QueryEscape(key) + "=" + url.QueryEscape(value)
}

// Request is a ticket validation asked by a service.
type Request struct {
	Ticket, Service string
	PGTURL          string // asks for a proxy-granting ticket
	Renew           bool   // the service accepts only a ticket issued right after a password
	AllowProxy      bool   // proxyValidate: proxy tickets are accepted
	IP              string // the service's address, for the audit log
}

// Validation is what a successful validation tells the service.
type Validation struct {
	Person     directory.Person
	Attributes map[string][]string // the connector's released attributes
	AuthAt     time.Time
	NewLogin   bool
	Proxies    []string // for a proxy ticket: who proxied, nearest first
	PGTIOU     string   // when a PGT was issued through the callback
}

type ticketRow struct {
	kind, ticket, person, session, connector, service string
	newLogin                                          bool
	authAt, expires                                   time.Time
	proxies                                           []string
}

func (s *Service) insert(ctx context.Context, q db.Querier, t ticketRow) error {
	_, err := q.ExecContext(ctx, `INSERT INTO cas_tickets(id_hash, kind, person_id, session_id, connector_id, service, new_login, auth_at, proxies, created_at, expires_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
		ids.Hash(t.ticket), t.kind, t.person, t.session, t.connector, t.service, t.newLogin, t.authAt.UnixMilli(), strings.Join(t.proxies, " "),
		s.cfg.Now().UnixMilli(), t.expires.UnixMilli())
	return err
}

// maxTicket bounds what is even looked at: clients must accept tickets of up to 256
// characters, ours are far shorter.
const maxTicket = 256

// Validate checks a ticket for a service, consuming it, and says who it was issued
// to. Refusals are *Failure values, logged and audited with their reason.
func (s *Service) Validate(ctx context.Context, r Request) (Validation, error) {
	v, c, err := s.validate(ctx, r)
	details := map[string]string{"service": clip(r.Service)}
	if r.PGTURL != "" {
		details["pgt_url"] = clip(r.PGTURL)
	}
	var f *Failure
	if errors.As(err, &f) {
		details["reason"] = f.Message
		slog.Info("cas: validation refusée", "code", f.Code, "reason", f.Message, "service", clip(r.Service), "ip", r.IP)
		s.audit.Write(ctx, s.entry(v.Person, r.IP, "sso.cas.validate", c, false, details))
		return Validation{}, err
	}
	if err != nil {
		return Validation{}, err
	}
	if v.PGTIOU != "" {
		details["pgt"] = "oui"
	}
	s.audit.Write(ctx, s.entry(v.Person, r.IP, "sso.cas.validate", c, true, details))
	return v, nil
}

func (s *Service) validate(ctx context.Context, r Request) (Validation, connector.Connector, error) {
	var v Validation
	var c connector.Connector
	if r.Ticket == "" || r.Service == "" {
		return v, c, fail(InvalidRequest, "cas.missing_parameters")
	}
	kind, _, _ := strings.Cut(r.Ticket, "-")
	switch {
	case len(r.Ticket) > maxTicket:
		return v, c, fail(InvalidTicket, "cas.unknown_ticket")
	case kind == PT && !r.AllowProxy:
		return v, c, fail(InvalidTicketSpec, "cas.proxy_ticket_refused")
	case kind != ST && kind != PT:
		return v, c, fail(InvalidTicket, "cas.unknown_ticket")
	}
	now := s.cfg.Now()
	hash := ids.Hash(r.Ticket)
	// Consume first, in one statement: two instances validating the same ticket at the
	// same moment cannot both succeed.
	var t ticketRow
	var authAt, expires int64
	var proxies string
	err := s.db.QueryRowContext(ctx, `UPDATE cas_tickets SET used_at = $2 WHERE id_hash = $1 AND kind = $3 AND used_at = 0
		RETURNING person_id, session_id, connector_id, service, new_login, auth_at, expires_at, proxies`,
		hash, now.UnixMilli(), kind).Scan(&t.person, &t.session, &t.connector, &t.service, &t.newLogin, &authAt, &expires, &proxies)
	if errors.Is(err, sql.ErrNoRows) {
		var used int64
		err := s.db.QueryRowContext(ctx, `SELECT used_at FROM cas_tickets WHERE id_hash = $1`, hash).Scan(&used)
		if err == nil && used != 0 {
			return v, c, fail(InvalidTicket, "cas.ticket_used")
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return v, c, err
		}
		return v, c, fail(InvalidTicket, "cas.unknown_ticket")
	}
	if err != nil {
		return v, c, err
	}
	if p, err := s.dir.Person(ctx, t.person); err == nil {
		v.Person = p
	} else {
		return Validation{}, c, err
	}
	if c, err = s.connectors.ByID(ctx, t.connector); err != nil {
		return Validation{Person: v.Person}, c, err
	}
	switch {
	case expires <= now.UnixMilli():
		return v, c, fail(InvalidTicket, "cas.ticket_expired")
	case t.service != r.Service:
		return v, c, fail(InvalidService, "cas.service_mismatch")
	case r.Renew && !t.newLogin:
		return v, c, fail(InvalidTicket, "cas.not_new_login")
	case v.Person.State != directory.StateActive:
		return v, c, fail(InvalidTicket, "cas.person_inactive")
	}
	v.AuthAt, v.NewLogin, v.Proxies = time.UnixMilli(authAt), t.newLogin, strings.Fields(proxies)
	sit, err := s.dir.SituationOf(ctx, v.Person)
	if err != nil {
		return v, c, err
	}
	v.Attributes = connector.Release(c, v.Person, sit)
	if c.SingleLogout {
		if _, err := s.db.ExecContext(ctx, `UPDATE cas_tickets SET slo_index = $2 WHERE id_hash = $1`, hash, r.Ticket); err != nil {
			return v, c, err
		}
	}
	if r.PGTURL != "" {
		iou, err := s.grantPGT(ctx, r.PGTURL, c, t, v.Proxies)
		if err != nil {
			return v, c, err
		}
		v.PGTIOU = iou
	}
	return v, c, nil
}

// grantPGT hands a proxy-granting ticket to the service's callback: an HTTPS address
// of the same connector, which must answer 200 to a GET carrying the PGT and its IOU.
// Only then does the PGT exist, and the validation answer carries the IOU.
func (s *Service) grantPGT(ctx context.Context, pgtURL string, c connector.Connector, t ticketRow, proxies []string) (string, error) {
	u, err := url.Parse(pgtURL)
	if err != nil || u.Scheme != "https" || !connector.MatchService(c.URL, pgtURL) {
		return "", fail(InvalidProxyCallback, "cas.bad_callback")
	}
	pgt, iou := newTicket(PGT), newTicket("PGTIOU")
	cb := WithParam(WithParam(pgtURL, "pgtId", pgt), "pgtIou", iou)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cb, nil)
	if err != nil {
		return "", fail(InvalidProxyCallback, "cas.bad_callback")
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		slog.Info("cas: rappel de proxy injoignable", "url", clip(pgtURL), "err", err)
		return "", fail(InvalidProxyCallback, "cas.callback_failed")
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fail(InvalidProxyCallback, "cas.callback_failed")
	}
	err = s.insert(ctx, s.db, ticketRow{kind: PGT, ticket: pgt, person: t.person, session: t.session, connector: c.ID, service: pgtURL,
		newLogin: t.newLogin, authAt: time.UnixMilli(0), expires: s.cfg.Now().Add(s.cfg.PGTTTL), proxies: append([]string{pgtURL}, proxies...)})
	if err != nil {
		return "", err
	}
	return iou, nil
}

// Proxy issues a proxy ticket for a target service to the holder of a PGT.
func (s *Service) Proxy(ctx context.Context, pgt, targetService, ip string) (string, error) {
	pt, p, c, err := s.proxy(ctx, pgt, targetService)
	details := map[string]string{"service": clip(targetService)}
	var f *Failure
	if errors.As(err, &f) {
		details["reason"] = f.Message
		slog.Info("cas: ticket de proxy refusé", "code", f.Code, "reason", f.Message, "service", clip(targetService), "ip", ip)
		s.audit.Write(ctx, s.entry(p, ip, "sso.cas.proxy", c, false, details))
		return "", err
	}
	if err != nil {
		return "", err
	}
	s.audit.Write(ctx, s.entry(p, ip, "sso.cas.proxy", c, true, details))
	return pt, nil
}

func (s *Service) proxy(ctx context.Context, pgt, target string) (string, directory.Person, connector.Connector, error) {
	var p directory.Person
	var c connector.Connector
	if pgt == "" || target == "" {
		return "", p, c, fail(InvalidRequest, "cas.missing_parameters")
	}
	if !strings.HasPrefix(pgt, PGT+"-") || len(pgt) > maxTicket {
		return "", p, c, fail(InvalidTicket, "cas.unknown_ticket")
	}
	var t ticketRow
	var expires, authAt int64
	var proxies string
	err := s.db.QueryRowContext(ctx, `SELECT person_id, session_id, new_login, auth_at, expires_at, proxies FROM cas_tickets WHERE id_hash=$1 AND kind=$2`,
		ids.Hash(pgt), PGT).Scan(&t.person, &t.session, &t.newLogin, &authAt, &expires, &proxies)
	if errors.Is(err, sql.ErrNoRows) {
		return "", p, c, fail(InvalidTicket, "cas.unknown_ticket")
	}
	if err != nil {
		return "", p, c, err
	}
	if p, err = s.dir.Person(ctx, t.person); err != nil {
		return "", p, c, err
	}
	if expires <= s.cfg.Now().UnixMilli() {
		return "", p, c, fail(InvalidTicket, "cas.ticket_expired")
	}
	if c, err = s.Connector(ctx, target); errors.Is(err, ErrUnknownService) {
		return "", p, c, fail(UnauthorizedService, "cas.unknown_service")
	} else if err != nil {
		return "", p, c, err
	}
	sids, err := s.dir.PersonStructureIDs(ctx, p.ID)
	if err != nil {
		return "", p, c, err
	}
	if ok, err := s.connectors.MayUse(ctx, p.Profile, sids, c); err != nil {
		return "", p, c, err
	} else if !ok || p.State != directory.StateActive {
		return "", p, c, fail(UnauthorizedService, "cas.not_allowed")
	}
	pt := newTicket(PT)
	err = s.insert(ctx, s.db, ticketRow{kind: PT, ticket: pt, person: p.ID, session: t.session, connector: c.ID, service: target,
		authAt: time.UnixMilli(authAt), expires: s.cfg.Now().Add(s.cfg.TicketTTL), proxies: strings.Fields(proxies)})
	return pt, p, c, err
}

// EndSession ends the CAS side of a Préau session that is closing: its tickets are
// deleted, and the services that validated one and asked for single logout receive
// a logout message (waited for at most SLOWait; slower ones finish in the background).
func (s *Service) EndSession(ctx context.Context, sessionID string) error {
	return s.end(ctx, `session_id = $1`, sessionID)
}

// EndPerson ends the CAS side of every session of a person ("log out everywhere").
func (s *Service) EndPerson(ctx context.Context, personID string) error {
	return s.end(ctx, `person_id = $1`, personID)
}

type logoutTarget struct{ service, index, connector, structure, person string }

func (s *Service) end(ctx context.Context, where, arg string) error {
	var targets []logoutTarget
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT t.service, t.slo_index, t.connector_id, COALESCE(c.structure_id, ''), t.person_id FROM cas_tickets t
			JOIN connectors c ON c.id = t.connector_id
			WHERE t.`+where+` AND t.kind IN ('ST','PT') AND t.slo_index <> '' AND c.single_logout`, arg)
		if err != nil {
			return err
		}
		for rows.Next() {
			var lt logoutTarget
			if err := rows.Scan(&lt.service, &lt.index, &lt.connector, &lt.structure, &lt.person); err != nil {
				rows.Close()
				return err
			}
			targets = append(targets, lt)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM cas_tickets WHERE `+where, arg)
		return err
	})
	if err != nil || len(targets) == 0 {
		return err
	}
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.notify(t)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.cfg.SLOWait):
	case <-ctx.Done():
	}
	return nil
}

// notify posts the single logout message to a service. It runs detached from the
// request: a logout must not fail because a service is slow or down.
func (s *Service) notify(t logoutTarget) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	body := "logoutRequest=" + formEscape(LogoutRequest(ids.New(), t.index, s.cfg.Now()))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.service, strings.NewReader(body))
	ok := false
	if err == nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		var resp *http.Response
		if resp, err = s.cfg.HTTPClient.Do(req); err == nil {
			resp.Body.Close()
			ok = resp.StatusCode < 400
		}
	}
	if !ok {
		slog.Info("cas: déconnexion unique non reçue", "service", clip(t.service), "err", err)
	}
	s.audit.Write(ctx, audit.Entry{ActorID: t.person, Action: "sso.cas.logout", TargetType: "connector", TargetID: t.connector,
		StructureID: t.structure, Success: ok, Details: map[string]string{"service": clip(t.service)}})
}

// LogoutRequest is the SAML message of CAS single logout; SessionIndex is the
// service ticket the service validated.
func LogoutRequest(id, sessionIndex string, at time.Time) string {
	return fmt.Sprintf(`<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_%s" Version="2.0" IssueInstant="%s">`+
		`<saml:NameID>@NOT_USED@</saml:NameID><samlp:SessionIndex>%s</samlp:SessionIndex></samlp:LogoutRequest>`,
		id, at.UTC().Format("2006-01-02T15:04:05Z"), xmlEscape(sessionIndex))
}

// formEscape encodes a form value, escaping only what form decoders need escaped
// (%, &, +, =, ;, #, spaces and controls). The XML then stays readable in the raw
// body, which some CAS clients scan for the SessionIndex instead of decoding the form;
// every form decoder reads it the same.
func formEscape(v string) string {
	var sb strings.Builder
	for i := 0; i < len(v); i++ {
		b := v[i]
		if b <= ' ' || b >= 0x7f || strings.IndexByte("%&+=;#", b) >= 0 {
			fmt.Fprintf(&sb, "%%%02X", b)
		} else {
			sb.WriteByte(b)
		}
	}
	return sb.String()
}

// Purge deletes the tickets nobody needs any more: unused ones once expired, used
// ones once their session cannot be alive (sessions end after 12 hours at most).
func (s *Service) Purge(ctx context.Context) error {
	now := s.cfg.Now()
	_, err := s.db.ExecContext(ctx, `DELETE FROM cas_tickets WHERE (used_at = 0 AND expires_at < $1) OR (kind = 'PGT' AND expires_at < $1) OR created_at < $2`,
		now.UnixMilli(), now.Add(-13*time.Hour).UnixMilli())
	return err
}

func (s *Service) entry(p directory.Person, ip, action string, c connector.Connector, success bool, details map[string]string) audit.Entry {
	if c.ID != "" {
		details["connector"] = c.Name
	}
	return audit.Entry{ActorID: p.ID, ActorLogin: p.Login, IP: ip, Action: action, TargetType: "connector", TargetID: c.ID,
		StructureID: c.StructureID, Success: success, Details: details}
}

// newTicket makes a ticket: prefix, dash, 256 random bits (characters [a-z2-7]).
func newTicket(prefix string) string { return prefix + "-" + ids.Random(32) }

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "oui"
	}
	return "non"
}

// LogUnknownService records a browser sent to /cas/login or /cas/logout with a service
// that is no registered connector's: a misconfigured service, or someone probing for
// an open redirection. p may be nil (nobody signed in).
func (s *Service) LogUnknownService(ctx context.Context, p *directory.Person, ip, service string) {
	var who directory.Person
	if p != nil {
		who = *p
	}
	slog.Info("cas: service non enregistré", "service", clip(service), "ip", ip)
	s.audit.Write(ctx, s.entry(who, ip, "sso.cas.grant", connector.Connector{}, false, map[string]string{"service": clip(service), "reason": "unknown_service"}))
}
