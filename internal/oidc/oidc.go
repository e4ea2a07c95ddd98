// Package oidc is Préau's OpenID Connect provider: discovery, JWKS with rotated
// signing keys encrypted at rest, the authorization code flow with PKCE (S256,
// required), refresh tokens (rotated; a replayed one revokes its whole family),
// userinfo and RP-initiated logout. Clients are OIDC connectors; the claims are the
// connector's released attributes. The HTTP endpoints live in the web package.
package oidc

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/base64"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

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

// Migrations are the provider's tables (after the connectors').
var Migrations = db.Embedded("oidc", migrations)

// Config tunes the provider.
type Config struct {
	SecretKey   []byte        // 32 bytes: encrypts the signing keys at rest
	CodeTTL     time.Duration // authorization codes (default 1 minute)
	AccessTTL   time.Duration // access and ID tokens (default 10 minutes)
	RefreshTTL  time.Duration // refresh tokens (default 12 hours; they also end with the session)
	RotateEvery time.Duration // a new signing key (default 30 days)
	KeepFor     time.Duration // how long a replaced key stays published (default 2 days)
	Now         func() time.Time
}

// Service is the provider's logic.
type Service struct {
	db         *db.DB
	audit      *audit.Log
	dir        *directory.Service
	connectors *connector.Service
	cfg        Config
	ring       *keyring.Ring
}

// New returns the provider.
func New(d *db.DB, a *audit.Log, dir *directory.Service, cs *connector.Service, cfg Config) *Service {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.CodeTTL, time.Minute)
	def(&cfg.AccessTTL, 10*time.Minute)
	def(&cfg.RefreshTTL, 12*time.Hour)
	def(&cfg.RotateEvery, 30*24*time.Hour)
	def(&cfg.KeepFor, 2*24*time.Hour)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ring := keyring.New(d, "oidc_keys", "preau-oidc-key", keyring.Config{SecretKey: cfg.SecretKey, RotateEvery: cfg.RotateEvery, KeepFor: cfg.KeepFor, Now: cfg.Now})
	return &Service{db: d, audit: a, dir: dir, connectors: cs, cfg: cfg, ring: ring}
}

// Error is an OAuth 2.0 error: Code is the protocol's (invalid_request,
// invalid_grant...), Message the catalog key of its French description.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func oauthErr(code, key string) *Error { return &Error{Code: code, Message: key} }

// ErrUnknownClient: no OIDC connector has this id, or the redirect URI is not one of
// its own. The browser is then not sent anywhere.
var ErrUnknownClient = errors.New("client OpenID Connect inconnu ou adresse de retour non enregistrée")

// Client returns the OIDC connector of a client id whose redirect URI is registered
// (exactly); redirectURI "" skips that check.
func (s *Service) Client(ctx context.Context, clientID, redirectURI string) (connector.Connector, error) {
	c, err := s.connectors.ByID(ctx, clientID)
	if errors.Is(err, actor.ErrNotFound) || (err == nil && c.Protocol != connector.OIDC) {
		return c, ErrUnknownClient
	}
	if err != nil {
		return c, err
	}
	if redirectURI != "" && !slices.Contains(c.RedirectURIs, redirectURI) {
		return c, ErrUnknownClient
	}
	return c, nil
}

// AuthRequest is a validated authorization request.
type AuthRequest struct {
	ClientID, RedirectURI, Scope, State, Nonce, CodeChallenge string
}

// CheckRequest validates the parameters of /authorize after the client and redirect
// URI are known good; its errors go back to the client.
func CheckRequest(responseType, scope, challenge, method string) error {
	switch {
	case responseType != "code":
		return oauthErr("unsupported_response_type", "oidc.code_flow_only")
	case !slices.Contains(strings.Fields(scope), "openid"):
		return oauthErr("invalid_scope", "oidc.openid_scope")
	case challenge == "" || method != "S256":
		return oauthErr("invalid_request", "oidc.pkce_required")
	case len(challenge) < 43 || len(challenge) > 128:
		return oauthErr("invalid_request", "oidc.pkce_required")
	}
	return nil
}

// Login is the signed-in person the code is for.
type Login struct {
	Person    directory.Person
	SessionID string
	AuthAt    time.Time
	IP        string
}

// Authorize issues a code to a person allowed to use the client, audited.
func (s *Service) Authorize(ctx context.Context, l Login, r AuthRequest) (string, error) {
	c, err := s.Client(ctx, r.ClientID, r.RedirectURI)
	if err != nil {
		return "", err
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
		s.audit.Write(ctx, s.entry(l.Person.ID, l.Person.Login, l.IP, "sso.oidc.grant", c, false, map[string]string{"reason": "not_allowed"}))
		return "", actor.ErrForbidden
	}
	code := ids.Random(32)
	now := s.cfg.Now()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO oidc_grants(id_hash, kind, client_id, person_id, session_id, family, scope, nonce, redirect_uri, code_challenge, auth_at, created_at, expires_at)
			VALUES ($1,'code',$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`,
			ids.Hash(code), c.ID, l.Person.ID, l.SessionID, ids.New(), r.Scope, r.Nonce, r.RedirectURI, r.CodeChallenge, l.AuthAt.UnixMilli(), now.UnixMilli(),
			now.Add(s.cfg.CodeTTL).UnixMilli()); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(l.Person.ID, l.Person.Login, l.IP, "sso.oidc.grant", c, true, map[string]string{"scope": clip(r.Scope)}))
	})
	return code, err
}

// TokenRequest is what /token received.
type TokenRequest struct {
	GrantType, Code, RedirectURI, CodeVerifier, RefreshToken string
	ClientID, ClientSecret                                   string
	Issuer                                                   string // the provider's address as the client reached it
	IP                                                       string
}

// Tokens is a successful /token answer.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

type grant struct {
	client, person, session, family, scope, nonce, redirect, challenge string
	authAt, expires                                                    int64
}

// Token exchanges a code or a refresh token. Every outcome is audited.
func (s *Service) Token(ctx context.Context, r TokenRequest) (Tokens, error) {
	t, g, err := s.token(ctx, r)
	details := map[string]string{"grant_type": clip(r.GrantType)}
	c, _ := s.connectors.ByID(ctx, r.ClientID)
	var oe *Error
	if errors.As(err, &oe) {
		details["reason"] = oe.Message
		s.audit.Write(ctx, s.entry(g.person, "", r.IP, "sso.oidc.token", c, false, details))
		return t, err
	}
	if err != nil {
		return t, err
	}
	s.audit.Write(ctx, s.entry(g.person, "", r.IP, "sso.oidc.token", c, true, details))
	return t, nil
}

func (s *Service) token(ctx context.Context, r TokenRequest) (Tokens, grant, error) {
	var g grant
	c, err := s.Client(ctx, r.ClientID, "")
	if errors.Is(err, ErrUnknownClient) {
		return Tokens{}, g, oauthErr("invalid_client", "oidc.bad_client")
	}
	if err != nil {
		return Tokens{}, g, err
	}
	// A confidential client proves itself with its secret; a public one has only PKCE.
	if c.HasSecret && !c.CheckSecret(r.ClientSecret) {
		return Tokens{}, g, oauthErr("invalid_client", "oidc.bad_client")
	}
	now := s.cfg.Now()
	var presented string
	switch r.GrantType {
	case "authorization_code":
		presented = r.Code
	case "refresh_token":
		presented = r.RefreshToken
	default:
		return Tokens{}, g, oauthErr("unsupported_grant_type", "oidc.bad_grant_type")
	}
	if presented == "" || len(presented) > 256 {
		return Tokens{}, g, oauthErr("invalid_request", "oidc.missing_code")
	}
	kind := map[string]string{"authorization_code": "code", "refresh_token": "refresh"}[r.GrantType]
	// Spend the code or refresh token in one statement: two concurrent exchanges
	// cannot both succeed.
	err = s.db.QueryRowContext(ctx, `UPDATE oidc_grants SET used_at=$2 WHERE id_hash=$1 AND kind=$3 AND used_at=0
		RETURNING client_id, person_id, session_id, family, scope, nonce, redirect_uri, code_challenge, auth_at, expires_at`,
		ids.Hash(presented), now.UnixMilli(), kind).Scan(&g.client, &g.person, &g.session, &g.family, &g.scope, &g.nonce, &g.redirect, &g.challenge, &g.authAt, &g.expires)
	if errors.Is(err, sql.ErrNoRows) {
		// Spent already? A replay: revoke everything that came from it.
		var family, person string
		if err := s.db.QueryRowContext(ctx, `SELECT family, person_id FROM oidc_grants WHERE id_hash=$1 AND kind=$2`, ids.Hash(presented), kind).Scan(&family, &person); err == nil {
			g.person = person
			if _, err := s.db.ExecContext(ctx, `DELETE FROM oidc_grants WHERE family=$1`, family); err != nil {
				return Tokens{}, g, err
			}
			return Tokens{}, g, oauthErr("invalid_grant", "oidc.replayed")
		}
		return Tokens{}, g, oauthErr("invalid_grant", "oidc.unknown_code")
	}
	if err != nil {
		return Tokens{}, g, err
	}
	switch {
	case g.client != c.ID:
		return Tokens{}, g, oauthErr("invalid_grant", "oidc.other_client")
	case g.expires <= now.UnixMilli():
		return Tokens{}, g, oauthErr("invalid_grant", "oidc.expired")
	case kind == "code" && r.RedirectURI != g.redirect:
		return Tokens{}, g, oauthErr("invalid_grant", "oidc.redirect_mismatch")
	case kind == "code" && !verifierMatches(r.CodeVerifier, g.challenge):
		return Tokens{}, g, oauthErr("invalid_grant", "oidc.bad_verifier")
	}
	p, err := s.dir.Person(ctx, g.person)
	if err != nil {
		return Tokens{}, g, err
	}
	if p.State != directory.StateActive {
		return Tokens{}, g, oauthErr("invalid_grant", "oidc.person_inactive")
	}
	access, refresh := ids.Random(32), ids.Random(32)
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		insert := func(kind, token string, ttl time.Duration) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO oidc_grants(id_hash, kind, client_id, person_id, session_id, family, scope, nonce, auth_at, created_at, expires_at)
				VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
				ids.Hash(token), kind, c.ID, p.ID, g.session, g.family, g.scope, g.nonce, g.authAt, now.UnixMilli(), now.Add(ttl).UnixMilli())
			return err
		}
		if err := insert("access", access, s.cfg.AccessTTL); err != nil {
			return err
		}
		return insert("refresh", refresh, s.cfg.RefreshTTL)
	})
	if err != nil {
		return Tokens{}, g, err
	}
	t := Tokens{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(s.cfg.AccessTTL.Seconds()), RefreshToken: refresh, Scope: g.scope}
	claims, err := s.claims(ctx, c, p)
	if err != nil {
		return Tokens{}, g, err
	}
	claims["iss"], claims["aud"], claims["azp"] = r.Issuer, c.ID, c.ID
	claims["iat"], claims["exp"] = now.Unix(), now.Add(s.cfg.AccessTTL).Unix()
	claims["auth_time"] = time.UnixMilli(g.authAt).Unix()
	claims["sid"] = sid(g.session)
	claims["at_hash"] = halfHash(access)
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	signer, err := s.signer(ctx)
	if err != nil {
		return Tokens{}, g, err
	}
	if t.IDToken, err = jwt.Signed(signer).Claims(claims).Serialize(); err != nil {
		return Tokens{}, g, err
	}
	return t, g, nil
}

// verifierMatches checks PKCE S256: BASE64URL(SHA256(verifier)) == challenge.
func verifierMatches(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:]) == challenge
}

// halfHash is at_hash: the left half of the SHA-256 of the access token (RS256).
func halfHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// sid names the Préau session to relying parties without revealing its key.
func sid(session string) string { return ids.Hash("oidc-sid:" + session)[:32] }

// claims maps the connector's released attributes to OpenID Connect claims (standard
// ones where they exist, ENT ones otherwise). "sub" is the person's stable Préau id.
func (s *Service) claims(ctx context.Context, c connector.Connector, p directory.Person) (map[string]any, error) {
	sit, err := s.dir.SituationOf(ctx, p)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"sub": p.ID}
	names := map[string]string{"uid": "preferred_username", "nom": "family_name", "prenom": "given_name", "displayName": "name", "mail": "email",
		"dateNaissance": "birthdate", "ENTPersonProfils": "ent_profil", "ENTPersonStructRattachRNE": "ent_structures", "ENTEleveClasses": "ent_classes",
		"ENTPersonJointure": "ent_jointure", "preauId": "preau_id"}
	for k, v := range connector.Release(c, p, sit) {
		name := names[k]
		switch name {
		case "ent_structures", "ent_classes":
			out[name] = v
		default:
			out[name] = v[0]
		}
	}
	return out, nil
}

// UserInfo answers /userinfo for a valid access token.
func (s *Service) UserInfo(ctx context.Context, accessToken string) (map[string]any, error) {
	var client, person string
	var expires int64
	err := s.db.QueryRowContext(ctx, `SELECT client_id, person_id, expires_at FROM oidc_grants WHERE id_hash=$1 AND kind='access'`, ids.Hash(accessToken)).
		Scan(&client, &person, &expires)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && expires <= s.cfg.Now().UnixMilli()) {
		return nil, oauthErr("invalid_token", "oidc.bad_token")
	}
	if err != nil {
		return nil, err
	}
	c, err := s.connectors.ByID(ctx, client)
	if err != nil {
		return nil, err
	}
	p, err := s.dir.Person(ctx, person)
	if err != nil {
		return nil, err
	}
	if p.State != directory.StateActive {
		return nil, oauthErr("invalid_token", "oidc.person_inactive")
	}
	return s.claims(ctx, c, p)
}

// LogoutTarget checks RP-initiated logout: the ID token hint must be one this provider
// signed for the client, and the address one of the client's registered ones; it
// returns that address, or "" when the browser should not be sent anywhere.
func (s *Service) LogoutTarget(ctx context.Context, idTokenHint, postLogoutURI string) string {
	if idTokenHint == "" || postLogoutURI == "" {
		return ""
	}
	tok, err := jwt.ParseSigned(idTokenHint, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return ""
	}
	set, err := s.JWKS(ctx)
	if err != nil {
		return ""
	}
	var claims jwt.Claims
	if err := tok.Claims(set, &claims); err != nil || len(claims.Audience) != 1 {
		return ""
	}
	if _, err := s.Client(ctx, claims.Audience[0], postLogoutURI); err != nil {
		return ""
	}
	return postLogoutURI
}

// EndSession deletes the grants of a closing session (tokens die with it).
func (s *Service) EndSession(ctx context.Context, sessionID string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM oidc_grants WHERE session_id=$1`, sessionID)
	return err
}

// EndPerson deletes every grant of a person ("log out everywhere").
func (s *Service) EndPerson(ctx context.Context, personID string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM oidc_grants WHERE person_id=$1`, personID)
	return err
}

// Purge deletes expired grants.
func (s *Service) Purge(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM oidc_grants WHERE expires_at < $1`, s.cfg.Now().UnixMilli())
	return err
}

func (s *Service) entry(personID, login, ip, action string, c connector.Connector, success bool, details map[string]string) audit.Entry {
	return c.AuditEntry(personID, login, ip, action, success, details)
}

func clip(s string) string { return connector.Clip(s) }

// NeedsConsent tells whether the person must be asked before the client receives
// their information: the client asks for consent, and the person has not given it
// for the attributes it receives now.
func (s *Service) NeedsConsent(ctx context.Context, c connector.Connector, personID string) (bool, error) {
	if !c.Consent {
		return false, nil
	}
	var attrs string
	err := s.db.QueryRowContext(ctx, `SELECT attributes FROM oidc_consents WHERE person_id=$1 AND client_id=$2`, personID, c.ID).Scan(&attrs)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	return err == nil && attrs != strings.Join(c.Attributes, " "), err
}

// Consent records the person's answer; a refusal is audited and stores nothing.
func (s *Service) Consent(ctx context.Context, l Login, c connector.Connector, given bool) error {
	details := map[string]string{"attributes": strings.Join(c.Attributes, " ")}
	if !given {
		s.audit.Write(ctx, s.entry(l.Person.ID, l.Person.Login, l.IP, "sso.oidc.consent", c, false, details))
		return nil
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO oidc_consents(person_id, client_id, attributes, granted_at) VALUES ($1,$2,$3,$4)
			ON CONFLICT (person_id, client_id) DO UPDATE SET attributes=excluded.attributes, granted_at=excluded.granted_at`,
			l.Person.ID, c.ID, strings.Join(c.Attributes, " "), s.cfg.Now().UnixMilli()); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(l.Person.ID, l.Person.Login, l.IP, "sso.oidc.consent", c, true, details))
	})
}

// LogUnknownClient records an authorization request from an unknown client, or to a
// redirect URI the client did not register. p may be nil (nobody signed in).
func (s *Service) LogUnknownClient(ctx context.Context, p *directory.Person, ip, clientID, redirectURI string) {
	var id, login string
	if p != nil {
		id, login = p.ID, p.Login
	}
	slog.Info("oidc: client ou adresse de retour non enregistré", "client_id", clip(clientID), "redirect_uri", clip(redirectURI), "ip", ip)
	s.audit.Write(ctx, s.entry(id, login, ip, "sso.oidc.grant", connector.Connector{}, false,
		map[string]string{"client_id": clip(clientID), "redirect_uri": clip(redirectURI), "reason": "unknown_client"}))
}
