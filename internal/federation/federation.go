// Package federation lets persons sign in to Préau with an external OpenID Connect
// provider (an académie's, a Région's, another ENT) that the super administrators
// configure: its issuer, Préau's client id and secret there, and which claim of the
// ID token is matched with which person attribute (the AAF jointure, the login). The
// first time, the person confirms the link with their Préau password; afterwards the
// provider's sign-in is enough. Links and sign-ins are audited.
package federation

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
	"github.com/preau-ent/preau/internal/platform/keyring"
	"github.com/preau-ent/preau/internal/rights"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the federation's tables (after the directory's).
var Migrations = db.Embedded("federation", migrations)

// Matches are the person attributes a provider's claim may be matched with.
var Matches = []string{"externalId", "login"}

const purpose = "preau-federation-secret"

// Config tunes the federation.
type Config struct {
	SecretKey  []byte        // 32 bytes: encrypts the client secrets at rest
	FlowTTL    time.Duration // a sign-in or a link waiting for the password (default 10 minutes)
	HTTPClient *http.Client  // to reach the providers
	Now        func() time.Time
}

// Provider is an external OpenID Connect provider.
type Provider struct {
	ID, Name, Issuer, ClientID string
	Claim                      string // the ID token claim that names the person
	Match                      string // the attribute it is matched with: externalId or login
	HasSecret                  bool
	CreatedAt                  time.Time
	sealed                     []byte
}

// Input is what a super administrator sets.
type Input struct {
	Name, Issuer, ClientID, ClientSecret, Claim, Match string
}

// Service is the federated login.
type Service struct {
	db     *db.DB
	audit  *audit.Log
	rights *rights.Service
	dir    *directory.Service
	cfg    Config

	mu        sync.Mutex
	discovery map[string]*gooidc.Provider // by issuer
}

// New returns the federation service.
func New(d *db.DB, a *audit.Log, r *rights.Service, dir *directory.Service, cfg Config) *Service {
	if cfg.FlowTTL <= 0 {
		cfg.FlowTTL = 10 * time.Minute
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{db: d, audit: a, rights: r, dir: dir, cfg: cfg, discovery: map[string]*gooidc.Provider{}}
}

// Refusal is a refused federated sign-in: Reason for the audit log, Message the
// catalog key of the page.
type Refusal struct{ Reason, Message string }

func (r *Refusal) Error() string { return "federation: " + r.Reason }

func refuse(reason string) *Refusal { return &Refusal{Reason: reason, Message: "federation." + reason} }

func (in *Input) validate() error {
	in.Name, in.Issuer, in.ClientID = strings.TrimSpace(in.Name), strings.TrimSpace(in.Issuer), strings.TrimSpace(in.ClientID)
	in.Claim, in.ClientSecret = strings.TrimSpace(in.Claim), strings.TrimSpace(in.ClientSecret)
	if in.Name == "" || len(in.Name) > 100 {
		return actor.Invalid("name", "federation.name_required")
	}
	u, err := url.Parse(in.Issuer)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || len(in.Issuer) > 1000 ||
		(u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return actor.Invalid("issuer", "federation.bad_issuer")
	}
	if in.ClientID == "" || len(in.ClientID) > 300 {
		return actor.Invalid("client_id", "federation.client_id_required")
	}
	if in.Claim == "" || len(in.Claim) > 100 {
		return actor.Invalid("claim", "federation.claim_required")
	}
	ok := false
	for _, m := range Matches {
		ok = ok || m == in.Match
	}
	if !ok {
		return actor.Invalid("match", "federation.bad_match")
	}
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

func entry(a actor.Actor, action, providerID string, success bool, details map[string]string) audit.Entry {
	return audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: action, TargetType: "federation_provider", TargetID: providerID,
		Success: success, Details: details}
}

// Create configures a provider (super administrators).
func (s *Service) Create(ctx context.Context, a actor.Actor, in Input) (Provider, error) {
	if err := s.rights.MustSuperAdmin(ctx, a); err != nil {
		return Provider{}, err
	}
	if err := in.validate(); err != nil {
		return Provider{}, err
	}
	p := Provider{ID: ids.New(), Name: in.Name, Issuer: in.Issuer, ClientID: in.ClientID, Claim: in.Claim, Match: in.Match, CreatedAt: s.cfg.Now()}
	var sealed any
	if in.ClientSecret != "" {
		b, err := keyring.Seal(s.cfg.SecretKey, []byte(purpose), []byte(in.ClientSecret))
		if err != nil {
			return Provider{}, err
		}
		sealed, p.HasSecret = b, true
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO federation_providers(id, name, issuer, client_id, secret_sealed, claim, match_attr, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
			p.ID, p.Name, p.Issuer, p.ClientID, sealed, p.Claim, p.Match, p.CreatedAt.UnixMilli()); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, entry(a, "federation.provider.create", p.ID, true, map[string]string{"name": p.Name, "issuer": p.Issuer}))
	})
	return p, err
}

// Delete removes a provider and its links (super administrators).
func (s *Service) Delete(ctx context.Context, a actor.Actor, id string) error {
	if err := s.rights.MustSuperAdmin(ctx, a); err != nil {
		return err
	}
	p, err := s.Provider(ctx, id)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM federation_providers WHERE id=$1`, id); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, entry(a, "federation.provider.delete", id, true, map[string]string{"name": p.Name}))
	})
}

// Providers lists the configured providers (the login page shows them to everyone).
func (s *Service) Providers(ctx context.Context) ([]Provider, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, issuer, client_id, secret_sealed, claim, match_attr, created_at FROM federation_providers ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Provider
	for rows.Next() {
		var p Provider
		var created int64
		if err := rows.Scan(&p.ID, &p.Name, &p.Issuer, &p.ClientID, &p.sealed, &p.Claim, &p.Match, &created); err != nil {
			return nil, err
		}
		p.HasSecret, p.CreatedAt = len(p.sealed) > 0, time.UnixMilli(created)
		out = append(out, p)
	}
	return out, rows.Err()
}

// Provider returns one provider; actor.ErrNotFound when unknown.
func (s *Service) Provider(ctx context.Context, id string) (Provider, error) {
	list, err := s.Providers(ctx)
	if err != nil {
		return Provider{}, err
	}
	for _, p := range list {
		if p.ID == id {
			return p, nil
		}
	}
	return Provider{}, actor.ErrNotFound
}

// oauth returns the provider's discovered endpoints and Préau's client there.
func (s *Service) oauth(ctx context.Context, p Provider, redirectURI string) (*gooidc.Provider, *oauth2.Config, error) {
	ctx = gooidc.ClientContext(ctx, s.cfg.HTTPClient)
	s.mu.Lock()
	op := s.discovery[p.Issuer]
	s.mu.Unlock()
	if op == nil {
		var err error
		if op, err = gooidc.NewProvider(ctx, p.Issuer); err != nil {
			return nil, nil, fmt.Errorf("fournisseur d'identité %s injoignable : %w", p.Name, err)
		}
		s.mu.Lock()
		s.discovery[p.Issuer] = op
		s.mu.Unlock()
	}
	conf := &oauth2.Config{ClientID: p.ClientID, Endpoint: op.Endpoint(), RedirectURL: redirectURI, Scopes: []string{gooidc.ScopeOpenID, "profile"}}
	if p.HasSecret {
		secret, err := keyring.Open(s.cfg.SecretKey, []byte(purpose), p.sealed)
		if err != nil {
			return nil, nil, fmt.Errorf("secret du fournisseur %s illisible (clé secrète changée ?) : %w", p.Name, err)
		}
		conf.ClientSecret = string(secret)
	}
	return op, conf, nil
}

// Begin starts a sign-in at the provider: the address to send the browser to, with
// state, nonce and PKCE kept here.
func (s *Service) Begin(ctx context.Context, providerID, redirectURI string) (string, error) {
	p, err := s.Provider(ctx, providerID)
	if err != nil {
		return "", err
	}
	_, conf, err := s.oauth(ctx, p, redirectURI)
	if err != nil {
		return "", err
	}
	state, nonce, verifier := ids.Random(32), ids.Random(24), oauth2.GenerateVerifier()
	now := s.cfg.Now()
	if _, err := s.db.ExecContext(ctx, `INSERT INTO federation_flows(id_hash, provider_id, nonce, verifier, created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6)`,
		ids.Hash(state), p.ID, nonce, verifier, now.UnixMilli(), now.Add(s.cfg.FlowTTL).UnixMilli()); err != nil {
		return "", err
	}
	return conf.AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// Outcome is where a sign-in at the provider leads: a linked account (PersonID), or
// a link to confirm with the password of the matching account (LinkHandle).
type Outcome struct {
	Provider   Provider
	PersonID   string
	LinkHandle string
}

// Complete handles the provider's answer: the code exchanged, the ID token verified
// (signature, audience, nonce), the claim read and looked up.
func (s *Service) Complete(ctx context.Context, providerID, state, code, redirectURI, ip string) (Outcome, error) {
	o, err := s.complete(ctx, providerID, state, code, redirectURI)
	a := actor.Actor{PersonID: o.PersonID, IP: ip}
	var rf *Refusal
	switch {
	case errors.As(err, &rf):
		s.audit.Write(ctx, entry(a, "federation.login", providerID, false, map[string]string{"reason": rf.Reason}))
	case err == nil && o.PersonID != "":
		s.audit.Write(ctx, entry(a, "federation.login", providerID, true, map[string]string{"provider": o.Provider.Name}))
	}
	return o, err
}

func (s *Service) complete(ctx context.Context, providerID, state, code, redirectURI string) (Outcome, error) {
	var o Outcome
	p, err := s.Provider(ctx, providerID)
	if err != nil {
		return o, err
	}
	o.Provider = p
	var nonce, verifier string
	err = s.db.QueryRowContext(ctx, `DELETE FROM federation_flows WHERE id_hash=$1 AND provider_id=$2 AND subject='' AND expires_at>$3 RETURNING nonce, verifier`,
		ids.Hash(state), p.ID, s.cfg.Now().UnixMilli()).Scan(&nonce, &verifier)
	if errors.Is(err, sql.ErrNoRows) {
		return o, refuse("expired")
	}
	if err != nil {
		return o, err
	}
	if code == "" {
		return o, refuse("denied")
	}
	op, conf, err := s.oauth(ctx, p, redirectURI)
	if err != nil {
		return o, err
	}
	cctx := gooidc.ClientContext(ctx, s.cfg.HTTPClient)
	tok, err := conf.Exchange(cctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return o, refuse("bad_token")
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := op.Verifier(&gooidc.Config{ClientID: p.ClientID}).Verify(cctx, raw)
	if err != nil || idt.Nonce != nonce {
		return o, refuse("bad_token")
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return o, refuse("bad_token")
	}
	if _, ok := claims[p.Claim]; !ok {
		// Not in the ID token: some providers give it at userinfo only.
		if ui, err := op.UserInfo(cctx, oauth2.StaticTokenSource(tok)); err == nil {
			_ = ui.Claims(&claims)
		}
	}
	subject := claimString(claims[p.Claim])
	if subject == "" || len(subject) > 300 {
		return o, refuse("no_claim")
	}
	var personID string
	err = s.db.QueryRowContext(ctx, `SELECT person_id FROM federation_links WHERE provider_id=$1 AND subject=$2`, p.ID, subject).Scan(&personID)
	if err == nil {
		o.PersonID = personID
		return o, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return o, err
	}
	var candidate directory.Person
	if p.Match == "login" {
		candidate, err = s.dir.PersonByLogin(ctx, subject)
	} else {
		candidate, err = s.dir.PersonByExternalID(ctx, subject)
	}
	if errors.Is(err, actor.ErrNotFound) {
		return o, refuse("no_account")
	}
	if err != nil {
		return o, err
	}
	o.LinkHandle = ids.Random(32)
	now := s.cfg.Now()
	_, err = s.db.ExecContext(ctx, `INSERT INTO federation_flows(id_hash, provider_id, subject, person_id, created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6)`,
		ids.Hash(o.LinkHandle), p.ID, subject, candidate.ID, now.UnixMilli(), now.Add(s.cfg.FlowTTL).UnixMilli())
	return o, err
}

func claimString(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case float64:
		return fmt.Sprintf("%.0f", x)
	}
	return ""
}

// PendingLink returns the provider of a link waiting for the password.
func (s *Service) PendingLink(ctx context.Context, handle string) (Provider, error) {
	var providerID string
	err := s.db.QueryRowContext(ctx, `SELECT provider_id FROM federation_flows WHERE id_hash=$1 AND subject<>'' AND expires_at>$2`,
		ids.Hash(handle), s.cfg.Now().UnixMilli()).Scan(&providerID)
	if errors.Is(err, sql.ErrNoRows) {
		return Provider{}, refuse("expired")
	}
	if err != nil {
		return Provider{}, err
	}
	return s.Provider(ctx, providerID)
}

// ConfirmLink links the external identity to the account of person, who just typed
// their password: only if it is the account the claim matched. Audited either way.
func (s *Service) ConfirmLink(ctx context.Context, handle string, person directory.Person, ip string) error {
	a := actor.Actor{PersonID: person.ID, Login: person.Login, IP: ip}
	var providerID, subject, personID string
	err := s.db.QueryRowContext(ctx, `DELETE FROM federation_flows WHERE id_hash=$1 AND subject<>'' AND expires_at>$2 RETURNING provider_id, subject, person_id`,
		ids.Hash(handle), s.cfg.Now().UnixMilli()).Scan(&providerID, &subject, &personID)
	if errors.Is(err, sql.ErrNoRows) {
		s.audit.Write(ctx, entry(a, "federation.link", "", false, map[string]string{"reason": "expired"}))
		return refuse("expired")
	}
	if err != nil {
		return err
	}
	if personID != person.ID {
		s.audit.Write(ctx, entry(a, "federation.link", providerID, false, map[string]string{"reason": "other_account"}))
		return refuse("other_account")
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO federation_links(provider_id, subject, person_id, created_at) VALUES ($1,$2,$3,$4)
			ON CONFLICT (provider_id, subject) DO UPDATE SET person_id=excluded.person_id, created_at=excluded.created_at`,
			providerID, subject, person.ID, s.cfg.Now().UnixMilli()); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, entry(a, "federation.link", providerID, true, map[string]string{"subject": subject}))
	})
}

// Purge deletes the flows nobody finished.
func (s *Service) Purge(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM federation_flows WHERE expires_at < $1`, s.cfg.Now().UnixMilli())
	return err
}
