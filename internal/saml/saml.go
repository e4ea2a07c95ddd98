// Package saml is Préau's SAML 2.0 identity provider: metadata, single sign-on
// started by the service provider (HTTP-Redirect and HTTP-POST bindings) or by Préau
// (IdP-initiated, as the GAR expects), signed responses and assertions (RSA-SHA256,
// exclusive canonicalization), per-service attribute release plus the GAR attribute
// set, and single logout. Service providers are SAML connectors; the HTTP endpoints
// live in the web package.
//
// Replay protection: a request ID is accepted once per service provider (stored in
// the database), its IssueInstant must be recent (within a bounded clock skew), the
// response answers it once, and assertions are valid for minutes. Responses only go
// to an assertion consumer service address the connector registered.
package saml

import (
	"context"
	"crypto/rsa"
	"database/sql"
	"embed"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/preau-ent/preau/internal/connector"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
	"github.com/preau-ent/preau/internal/platform/keyring"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the identity provider's tables (after the connectors').
var Migrations = db.Embedded("saml", migrations)

// Bindings and name formats.
const (
	BindingRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
	BindingPOST     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
	NameIDTransient = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
	NameIDPersisted = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
)

// Config tunes the identity provider.
type Config struct {
	SecretKey    []byte        // 32 bytes: encrypts the signing keys at rest
	RequestTTL   time.Duration // how long a received request may wait for the person's password (default 10 minutes)
	AssertionTTL time.Duration // validity of an assertion (default 5 minutes)
	ClockSkew    time.Duration // tolerated clock difference with service providers (default 90 seconds, at most 5 minutes)
	RotateEvery  time.Duration // a new signing key (default 3 years: service providers pin the certificate)
	KeepFor      time.Duration // how long a replaced key stays in the metadata (default 30 days)
	IDEnt        string        // the ENT's identifier at the GAR (idEnt attribute)
	SLOWait      time.Duration // how long a logout waits for the services' answers (default 2 seconds)
	HTTPClient   *http.Client  // for back-channel logout messages
	Now          func() time.Time
}

// Service is the identity provider's logic.
type Service struct {
	db         *db.DB
	audit      *audit.Log
	dir        *directory.Service
	connectors *connector.Service
	cfg        Config
	ring       *keyring.Ring

	mu    sync.Mutex
	certs map[string][]byte // key id → self-signed certificate (DER)
}

// New returns the identity provider.
func New(d *db.DB, a *audit.Log, dir *directory.Service, cs *connector.Service, cfg Config) *Service {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.RequestTTL, 10*time.Minute)
	def(&cfg.AssertionTTL, 5*time.Minute)
	def(&cfg.ClockSkew, 90*time.Second)
	def(&cfg.RotateEvery, 3*365*24*time.Hour)
	def(&cfg.KeepFor, 30*24*time.Hour)
	def(&cfg.SLOWait, 2*time.Second)
	cfg.ClockSkew = min(cfg.ClockSkew, 5*time.Minute)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	c := *cfg.HTTPClient
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cfg.HTTPClient = &c
	ring := keyring.New(d, "saml_keys", "preau-saml-key", keyring.Config{SecretKey: cfg.SecretKey, RotateEvery: cfg.RotateEvery, KeepFor: cfg.KeepFor, Now: cfg.Now})
	return &Service{db: d, audit: a, dir: dir, connectors: cs, cfg: cfg, ring: ring, certs: map[string][]byte{}}
}

// Refusal is a refused message: Reason goes to the audit log, Message is the catalog
// key of the page the person sees, Status its HTTP status.
type Refusal struct {
	Reason  string
	Message string
	Status  int
}

func (r *Refusal) Error() string { return "saml: " + r.Reason }

func refuse(reason string) *Refusal {
	status := http.StatusBadRequest
	if reason == "not_allowed" {
		status = http.StatusForbidden
	}
	return &Refusal{Reason: reason, Message: "saml." + reason, Status: status}
}

// Incoming is a SAML message as an endpoint received it.
type Incoming struct {
	Binding    string // BindingRedirect or BindingPOST
	Message    string // the SAMLRequest or SAMLResponse parameter
	Response   bool   // the message came as SAMLResponse
	RelayState string
	RawQuery   string // Redirect binding: the query as received, for its signature
	Base       string // this portal's address (https://host), which names the identity provider
	IP         string
	Person     *directory.Person // who is signed in, if anyone (for the audit log)
}

// EntityID is the identity provider's entity ID on a portal: its metadata address.
func EntityID(base string) string { return base + "/saml/metadata" }

// Pending is a sign-on waiting for the person: what the login page shows.
type Pending struct {
	Handle     string
	Connector  connector.Connector
	ForceAuthn bool
	Passive    bool
}

// ReceiveAuthnRequest checks an AuthnRequest (issuer, signature, freshness, single
// use, assertion consumer address) and keeps it for the sign-on that follows. Every
// refusal is audited.
func (s *Service) ReceiveAuthnRequest(ctx context.Context, in Incoming) (Pending, error) {
	p, c, err := s.receiveAuthnRequest(ctx, in)
	var rf *Refusal
	if errors.As(err, &rf) {
		s.logRefusal(ctx, in, "sso.saml.request", c, rf.Reason)
	}
	return p, err
}

func (s *Service) receiveAuthnRequest(ctx context.Context, in Incoming) (Pending, connector.Connector, error) {
	m, err := decode(in)
	if err != nil {
		return Pending{}, connector.Connector{}, err
	}
	if m.root.Space == "" || m.name != "AuthnRequest" {
		return Pending{}, connector.Connector{}, refuse("malformed")
	}
	c, err := s.sender(ctx, m, in)
	if err != nil {
		return Pending{}, c, err
	}
	acs, err := chooseACS(c, m)
	if err != nil {
		return Pending{}, c, err
	}
	policy := m.child(nsProtocol, "NameIDPolicy")
	transient := policy != nil && policy.SelectAttrValue("Format", "") == NameIDTransient
	p := Pending{Handle: ids.Random(32), Connector: c, ForceAuthn: m.boolAttr("ForceAuthn"), Passive: m.boolAttr("IsPassive")}
	now := s.cfg.Now()
	res, err := s.db.ExecContext(ctx, `INSERT INTO saml_requests(id_hash, request_id, connector_id, acs_url, relay_state, force_authn, passive, transient, created_at, expires_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT DO NOTHING`,
		ids.Hash(p.Handle), m.id, c.ID, acs, clipRelay(in.RelayState), p.ForceAuthn, p.Passive, transient, now.UnixMilli(), now.Add(s.cfg.RequestTTL).UnixMilli())
	if err != nil {
		return Pending{}, c, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Pending{}, c, refuse("replayed")
	}
	return p, c, nil
}

// sender finds the connector that sent a message (its Issuer), checks the signature
// when the connector registered a certificate, and the message's freshness and
// destination.
func (s *Service) sender(ctx context.Context, m *message, in Incoming) (connector.Connector, error) {
	c, err := s.connectors.ByEntityID(ctx, m.issuer)
	if errors.Is(err, actor.ErrNotFound) {
		return c, refuse("unknown_sp")
	}
	if err != nil {
		return c, err
	}
	if m.version != "2.0" || m.id == "" || len(m.id) > 256 {
		return c, refuse("malformed")
	}
	if err := m.verify(c, in); err != nil {
		return c, err
	}
	now := s.cfg.Now()
	switch {
	case m.issued.IsZero():
		return c, refuse("malformed")
	case m.issued.After(now.Add(s.cfg.ClockSkew)), m.issued.Before(now.Add(-s.cfg.RequestTTL - s.cfg.ClockSkew)):
		return c, refuse("expired")
	}
	if d := m.root.SelectAttrValue("Destination", ""); d != "" && d != in.Base+"/saml/sso" && d != in.Base+"/saml/slo" {
		return c, refuse("bad_destination")
	}
	return c, nil
}

// chooseACS picks where the response goes: the address the request names, only if
// the connector registered it (no open redirection), or the registered one at the
// index it names, or the first registered one.
func chooseACS(c connector.Connector, m *message) (string, error) {
	if b := m.root.SelectAttrValue("ProtocolBinding", ""); b != "" && b != BindingPOST {
		return "", refuse("unsupported")
	}
	if u := m.root.SelectAttrValue("AssertionConsumerServiceURL", ""); u != "" {
		for _, a := range c.ACSURLs {
			if a == u {
				return a, nil
			}
		}
		return "", refuse("bad_acs")
	}
	if i := m.root.SelectAttrValue("AssertionConsumerServiceIndex", ""); i != "" {
		for n, a := range c.ACSURLs {
			if i == itoa(n) {
				return a, nil
			}
		}
		return "", refuse("bad_acs")
	}
	if len(c.ACSURLs) == 0 {
		return "", refuse("bad_acs")
	}
	return c.ACSURLs[0], nil
}

// StartIdPInitiated begins a sign-on Préau starts (the GAR's way): sp is the
// connector's id or entity ID, the response goes to its first registered address.
func (s *Service) StartIdPInitiated(ctx context.Context, sp, relayState string, in Incoming) (Pending, error) {
	c, err := s.connectors.ByID(ctx, sp)
	if err != nil || c.Protocol != connector.SAML {
		c, err = s.connectors.ByEntityID(ctx, sp)
	}
	if errors.Is(err, actor.ErrNotFound) || (err == nil && len(c.ACSURLs) == 0) {
		s.logRefusal(ctx, in, "sso.saml.request", connector.Connector{}, "unknown_sp", "sp", clip(sp))
		return Pending{}, refuse("unknown_sp")
	}
	if err != nil {
		return Pending{}, err
	}
	p := Pending{Handle: ids.Random(32), Connector: c}
	now := s.cfg.Now()
	_, err = s.db.ExecContext(ctx, `INSERT INTO saml_requests(id_hash, request_id, connector_id, acs_url, relay_state, transient, created_at, expires_at)
		VALUES ($1,'',$2,$3,$4,$5,$6,$7)`,
		ids.Hash(p.Handle), c.ID, c.ACSURLs[0], clipRelay(relayState), c.GAR, now.UnixMilli(), now.Add(s.cfg.RequestTTL).UnixMilli())
	return p, err
}

// PendingFor returns a sign-on still waiting, for the login page.
func (s *Service) PendingFor(ctx context.Context, handle string) (Pending, error) {
	var connectorID string
	p := Pending{Handle: handle}
	err := s.db.QueryRowContext(ctx, `SELECT connector_id, force_authn, passive FROM saml_requests WHERE id_hash=$1 AND used_at=0 AND expires_at>$2`,
		ids.Hash(handle), s.cfg.Now().UnixMilli()).Scan(&connectorID, &p.ForceAuthn, &p.Passive)
	if errors.Is(err, sql.ErrNoRows) {
		return p, refuse("expired")
	}
	if err != nil {
		return p, err
	}
	p.Connector, err = s.connectors.ByID(ctx, connectorID)
	return p, err
}

// Login is the signed-in person a response is for.
type Login struct {
	Person    directory.Person
	SessionID string
	AuthAt    time.Time
	IP        string
}

// Post is a message the browser carries to a service provider with an
// auto-submitted form (HTTP-POST binding).
type Post struct {
	Service    string // the connector's name, for the page
	URL        string
	Field      string // SAMLResponse or SAMLRequest
	Value      string // base64
	RelayState string
}

type pendingRow struct {
	requestID, connectorID, acs, relay string
	transient                          bool
}

// spend marks a waiting request answered, once.
func (s *Service) spend(ctx context.Context, handle string) (pendingRow, error) {
	var r pendingRow
	now := s.cfg.Now().UnixMilli()
	err := s.db.QueryRowContext(ctx, `UPDATE saml_requests SET used_at=$2 WHERE id_hash=$1 AND used_at=0 AND expires_at>$2
		RETURNING request_id, connector_id, acs_url, relay_state, transient`, ids.Hash(handle), now).Scan(&r.requestID, &r.connectorID, &r.acs, &r.relay, &r.transient)
	if errors.Is(err, sql.ErrNoRows) {
		return r, refuse("expired")
	}
	return r, err
}

// Respond answers a waiting request for the signed-in person: a signed response with
// a signed assertion, if the person may use the service. Grants and refusals are
// audited.
func (s *Service) Respond(ctx context.Context, l Login, handle, base string) (Post, error) {
	r, err := s.spend(ctx, handle)
	if err != nil {
		s.audit.Write(ctx, s.entry(l.Person.ID, l.Person.Login, l.IP, "sso.saml.grant", connector.Connector{}, false, map[string]string{"reason": "expired"}))
		return Post{}, err
	}
	c, err := s.connectors.ByID(ctx, r.connectorID)
	if err != nil {
		return Post{}, err
	}
	if c.Protocol != connector.SAML || !contains(c.ACSURLs, r.acs) {
		// Changed by an administrator while the person was typing their password.
		s.audit.Write(ctx, s.entry(l.Person.ID, l.Person.Login, l.IP, "sso.saml.grant", c, false, map[string]string{"reason": "unknown_sp"}))
		return Post{}, refuse("unknown_sp")
	}
	sids, err := s.dir.PersonStructureIDs(ctx, l.Person.ID)
	if err != nil {
		return Post{}, err
	}
	ok, err := s.connectors.MayUse(ctx, l.Person.Profile, sids, c)
	if err != nil {
		return Post{}, err
	}
	if !ok {
		s.audit.Write(ctx, s.entry(l.Person.ID, l.Person.Login, l.IP, "sso.saml.grant", c, false, map[string]string{"reason": "not_allowed"}))
		return Post{}, refuse("not_allowed")
	}
	sit, err := s.dir.SituationOf(ctx, l.Person)
	if err != nil {
		return Post{}, err
	}
	attrs := connector.Release(c, l.Person, sit)
	transient := r.transient || c.GAR
	if c.GAR {
		for k, v := range GARAttributes(s.cfg.IDEnt, l.Person, sit) {
			attrs[k] = v
		}
	}
	nameID, format := "_"+ids.Random(24), NameIDTransient
	if !transient {
		nameID, format = ids.Hash("saml-nameid:" + c.ID + ":" + l.Person.ID)[:40], NameIDPersisted
	}
	key, cert, err := s.signingKey(ctx)
	if err != nil {
		return Post{}, err
	}
	a := assertionInput{idp: EntityID(base), sp: c.EntityID, acs: r.acs, inResponseTo: r.requestID, nameID: nameID, nameFormat: format,
		sessionIndex: "_" + ids.Random(24), authAt: l.AuthAt, now: s.cfg.Now(), ttl: s.cfg.AssertionTTL, skew: s.cfg.ClockSkew, attrs: attrs}
	xml, err := buildResponse(a, key, cert)
	if err != nil {
		return Post{}, err
	}
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO saml_sessions(session_index, session_id, person_id, connector_id, name_id, name_format, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
			a.sessionIndex, l.SessionID, l.Person.ID, c.ID, nameID, format, a.now.UnixMilli()); err != nil {
			return err
		}
		details := map[string]string{"acs": clip(r.acs), "attributes": strings.Join(sorted(names), " ")}
		if r.requestID == "" {
			details["idp_initiated"] = "oui"
		}
		return s.audit.WriteTx(ctx, tx, s.entry(l.Person.ID, l.Person.Login, l.IP, "sso.saml.grant", c, true, details))
	})
	if err != nil {
		return Post{}, err
	}
	return Post{Service: c.Name, URL: r.acs, Field: "SAMLResponse", Value: encodePost(xml), RelayState: r.relay}, nil
}

// Passive answers a passive request of someone not signed in: a signed response
// with the NoPassive status, as the protocol says.
func (s *Service) Passive(ctx context.Context, handle, base, ip string) (Post, error) {
	r, err := s.spend(ctx, handle)
	if err != nil {
		return Post{}, err
	}
	c, err := s.connectors.ByID(ctx, r.connectorID)
	if err != nil {
		return Post{}, err
	}
	key, cert, err := s.signingKey(ctx)
	if err != nil {
		return Post{}, err
	}
	xml, err := buildStatusResponse(EntityID(base), r.acs, r.requestID, statusNoPassive, s.cfg.Now(), key, cert)
	if err != nil {
		return Post{}, err
	}
	s.audit.Write(ctx, s.entry("", "", ip, "sso.saml.grant", c, false, map[string]string{"reason": "no_passive"}))
	return Post{Service: c.Name, URL: r.acs, Field: "SAMLResponse", Value: encodePost(xml), RelayState: r.relay}, nil
}

// GARAttributes is the GAR's attribute set: idEnt, GARPersonIdentifiant (the person's
// stable Préau id, the one the GAR directory export carries), GARStructureUAI (the
// UAIs of their schools) and GARPersonProfils (their GAR profile).
func GARAttributes(idEnt string, p directory.Person, sit directory.Situation) map[string][]string {
	out := map[string][]string{"GARPersonIdentifiant": {p.ID}}
	if idEnt != "" {
		out["idEnt"] = []string{idEnt}
	}
	var uais []string
	for _, st := range sit.Structures {
		if st.UAI != "" {
			uais = append(uais, st.UAI)
		}
	}
	if len(uais) > 0 {
		out["GARStructureUAI"] = sorted(uais)
	}
	if prof := garProfile(connector.NationalProfile(p, sit.Functions)); prof != "" {
		out["GARPersonProfils"] = []string{prof}
	}
	return out
}

// garProfile maps an ENT national profile to the GAR's profile values.
func garProfile(national string) string {
	switch national {
	case "National_ELV":
		return "National_elv"
	case "National_ENS":
		return "National_ens"
	case "National_DOC":
		return "National_doc"
	case "National_DIR", "National_EVS", "National_ETA":
		return "National_eta"
	case "National_COL":
		return "National_col"
	}
	return ""
}

// Rotate makes a new signing key at once; the previous ones stay in the metadata for
// KeepFor (service providers that pinned the old certificate need the new one).
func (s *Service) Rotate(ctx context.Context, a actor.Actor) error {
	if !a.System {
		return actor.ErrForbidden
	}
	k, err := s.ring.Rotate(ctx)
	if err != nil {
		return err
	}
	s.audit.Write(ctx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, Action: "sso.saml.rotate", TargetType: "saml_key", TargetID: k.ID, Success: true})
	return nil
}

// signingKey is the newest key with its certificate.
func (s *Service) signingKey(ctx context.Context) (*rsa.PrivateKey, []byte, error) {
	keys, err := s.ring.Keys(ctx)
	if err != nil {
		return nil, nil, err
	}
	cert, err := s.certificate(keys[0])
	return keys[0].Private, cert, err
}

// Purge deletes the requests nobody can use any more, and the sessions at service
// providers older than any Préau session (12 hours at most). A request's row outlives
// the window in which its IssueInstant is accepted, so its ID cannot be replayed.
func (s *Service) Purge(ctx context.Context) error {
	now := s.cfg.Now()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM saml_requests WHERE expires_at < $1`, now.Add(-s.cfg.RequestTTL-2*s.cfg.ClockSkew).UnixMilli()); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `DELETE FROM saml_sessions WHERE created_at < $1`, now.Add(-13*time.Hour).UnixMilli())
	return err
}

func (s *Service) entry(personID, login, ip, action string, c connector.Connector, success bool, details map[string]string) audit.Entry {
	return c.AuditEntry(personID, login, ip, action, success, details)
}

// logRefusal audits a refused message; extra are key, value pairs.
func (s *Service) logRefusal(ctx context.Context, in Incoming, action string, c connector.Connector, reason string, extra ...string) {
	var id, login string
	if in.Person != nil {
		id, login = in.Person.ID, in.Person.Login
	}
	details := map[string]string{"reason": reason, "binding": in.Binding}
	for i := 0; i+1 < len(extra); i += 2 {
		details[extra[i]] = extra[i+1]
	}
	slog.Info("saml: message refusé", "reason", reason, "connector", c.Name, "ip", in.IP)
	s.audit.Write(ctx, s.entry(id, login, in.IP, action, c, false, details))
}

func clip(s string) string { return connector.Clip(s) }

// clipRelay keeps a RelayState within the 80 bytes the bindings allow, generously.
func clipRelay(s string) string {
	if len(s) > 1000 {
		return s[:1000]
	}
	return s
}
