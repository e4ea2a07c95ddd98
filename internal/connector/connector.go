// Package connector manages the connected services (connecteurs) of a deployment:
// the LMS, the vie-scolaire software, the virtual classroom, publishers' resources.
// Each one has a name, an icon, an address, a protocol (CAS, OpenID Connect or SAML
// single sign-on, or a plain link), the structures and profiles that see it, and the attributes it receives.
// Super administrators manage the deployment's connectors, local administrators
// those of their structure; the dashboard shows each person the tiles they may use,
// and the single sign-on servers release only to registered connectors.
package connector

import (
	"context"
	"crypto/subtle"
	"crypto/x509"
	"database/sql"
	"embed"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
	"github.com/preau-ent/preau/internal/rights"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the connectors' tables (after the directory's).
var Migrations = db.Embedded("connector", migrations)

// Protocols. OpenID Connect and SAML come with their servers.
const (
	CAS  = "cas"
	OIDC = "oidc"
	SAML = "saml"
	Link = "lien"
)

// Protocols lists the protocols an administrator may choose, in display order.
var Protocols = []string{CAS, OIDC, SAML, Link}

// Icons are the names of the tile icons in the static sprite.
var Icons = []string{"connecteur", "ressources", "vie-scolaire", "classe-virtuelle"}

// Connector is one connected service.
type Connector struct {
	ID          string
	StructureID string // "" for the deployment's connectors
	Name        string
	Icon        string
	URL         string // the tile's address; for CAS also the prefix of accepted service URLs
	Protocol    string
	Profiles    []string // nil: every profile
	Structures  []string // deployment connectors: the structures that see it; nil: all
	Attributes  []string // names from AttributeNames, released at sign-on
	// SingleLogout: the service is told when the person logs out of Préau.
	SingleLogout bool
	// RedirectURIs are an OpenID Connect client's registered redirection addresses,
	// matched exactly (they also serve after logout).
	RedirectURIs []string
	HasSecret    bool // an OpenID Connect client with a secret (confidential client)
	Consent      bool // OpenID Connect: the person is asked before their information is released
	SAMLSettings
	CreatedAt  time.Time
	UpdatedAt  time.Time
	secretHash string
}

// Input is what an administrator sets.
type Input struct {
	StructureID  string // "" for the deployment (super administrators only)
	Name         string
	Icon         string
	URL          string
	Protocol     string
	Profiles     []string
	Structures   []string
	Attributes   []string
	SingleLogout bool
	RedirectURIs []string // OpenID Connect clients
	Consent      bool     // OpenID Connect clients: ask the person first
	SAMLSettings
}

// SAMLSettings describe a SAML 2.0 service provider.
type SAMLSettings struct {
	EntityID string   // the service provider's entity ID (its Issuer), unique
	ACSURLs  []string // assertion consumer service addresses, matched exactly; the first is the default
	SLOURL   string   // where logout messages go; "" when it has none
	SPCert   string   // PEM certificate the service signs its requests with; "" when it does not sign
	GAR      bool     // the national resources gateway: it receives the GAR attributes
}

// Service stores connectors and decides who sees and manages them.
type Service struct {
	db     *db.DB
	audit  *audit.Log
	rights *rights.Service
	now    func() time.Time
}

// New returns the connector service.
func New(d *db.DB, a *audit.Log, r *rights.Service) *Service {
	return &Service{db: d, audit: a, rights: r, now: time.Now}
}

func (in *Input) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	in.URL = strings.TrimSpace(in.URL)
	if in.Name == "" {
		return actor.Invalid("name", "connector.name_required")
	}
	if len(in.Name) > 100 {
		return actor.Invalid("name", "connector.too_long")
	}
	if !contains(Icons, in.Icon) {
		return actor.Invalid("icon", "connector.bad_icon")
	}
	if !contains(Protocols, in.Protocol) {
		return actor.Invalid("protocol", "connector.bad_protocol")
	}
	if len(in.URL) > 1000 {
		return actor.Invalid("url", "connector.too_long")
	}
	u, err := checkURL(in.URL)
	if err != nil {
		return actor.Invalid("url", "connector.bad_url")
	}
	// A service that receives tickets must be reached over HTTPS, so that tickets and
	// attributes do not cross the network in clear; plain HTTP only on the machine
	// itself, for development and tests.
	if in.Protocol != Link && u.Scheme != "https" && !isLoopback(u.Hostname()) {
		return actor.Invalid("url", "connector.https_required")
	}
	if in.Protocol == OIDC {
		if len(in.RedirectURIs) == 0 {
			return actor.Invalid("redirect_uris", "connector.redirect_required")
		}
		for _, r := range in.RedirectURIs {
			u, err := checkURL(r)
			if err != nil || len(r) > 1000 {
				return actor.Invalid("redirect_uris", "connector.bad_redirect")
			}
			if u.Scheme != "https" && !isLoopback(u.Hostname()) {
				return actor.Invalid("redirect_uris", "connector.https_required")
			}
		}
	} else {
		in.RedirectURIs, in.Consent = nil, false
	}
	if in.Protocol == SAML {
		if err := in.SAMLSettings.validate(); err != nil {
			return err
		}
	} else {
		in.SAMLSettings = SAMLSettings{}
	}
	for _, p := range in.Profiles {
		if !directory.ValidProfile(p) {
			return actor.Invalid("profiles", "connector.bad_profile")
		}
	}
	for _, a := range in.Attributes {
		if !contains(AttributeNames, a) {
			return actor.Invalid("attributes", "connector.bad_attribute")
		}
	}
	in.Profiles, in.Attributes, in.Structures, in.RedirectURIs = dedupe(in.Profiles), dedupe(in.Attributes), dedupe(in.Structures), dedupe(in.RedirectURIs)
	if in.StructureID != "" {
		// A structure's connector is for that structure's persons only.
		in.Structures = nil
	}
	return nil
}

func (in *SAMLSettings) validate() error {
	in.EntityID, in.SLOURL, in.SPCert = strings.TrimSpace(in.EntityID), strings.TrimSpace(in.SLOURL), strings.TrimSpace(in.SPCert)
	if in.EntityID == "" || len(in.EntityID) > 1000 || strings.ContainsAny(in.EntityID, " \t\r\n") {
		return actor.Invalid("entity_id", "connector.entity_required")
	}
	var acs []string
	for _, a := range in.ACSURLs {
		if a = strings.TrimSpace(a); a != "" && !contains(acs, a) {
			acs = append(acs, a) // the order matters: indexes and the default
		}
	}
	in.ACSURLs = acs
	if len(acs) == 0 {
		return actor.Invalid("acs_urls", "connector.acs_required")
	}
	for _, a := range append(append([]string(nil), acs...), in.SLOURL) {
		if a == "" {
			continue
		}
		u, err := checkURL(a)
		if err != nil || len(a) > 1000 {
			return actor.Invalid("acs_urls", "connector.bad_acs")
		}
		if u.Scheme != "https" && !isLoopback(u.Hostname()) {
			return actor.Invalid("acs_urls", "connector.https_required")
		}
	}
	if in.SPCert != "" {
		if _, err := ParseCertificate(in.SPCert); err != nil {
			return actor.Invalid("sp_cert", "connector.bad_cert")
		}
	}
	return nil
}

// ParseCertificate reads a PEM certificate, or the bare base64 of its DER as SAML
// metadata carries it.
func ParseCertificate(s string) (*x509.Certificate, error) {
	s = strings.TrimSpace(s)
	if b, _ := pem.Decode([]byte(s)); b != nil {
		if b.Type != "CERTIFICATE" {
			return nil, errors.New("bloc PEM qui n'est pas un certificat")
		}
		return x509.ParseCertificate(b.Bytes)
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// checkURL accepts absolute http and https addresses without user information or
// fragment (a "user@" part is a classic disguise of the real host).
func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return nil, errors.New("adresse non acceptée")
	}
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// mustManage checks that the actor manages connectors at this level: a super
// administrator for the deployment, an administrator of the structure for its own.
func (s *Service) mustManage(ctx context.Context, a actor.Actor, structureID string) error {
	var ok bool
	var err error
	if structureID == "" {
		ok, err = s.rights.IsSuperAdmin(ctx, a)
	} else {
		ok, err = s.rights.CanAdminStructure(ctx, a, structureID)
	}
	if err != nil {
		return err
	}
	if !ok {
		return actor.ErrForbidden
	}
	return nil
}

// AuditEntry is the audit entry of a single sign-on event for this connector (c may
// be the zero Connector when the service is unknown): who, from where, what, and the
// connector's name among the details.
func (c Connector) AuditEntry(personID, login, ip, action string, success bool, details map[string]string) audit.Entry {
	if details == nil {
		details = map[string]string{}
	}
	if c.ID != "" {
		details["connector"] = c.Name
	}
	return audit.Entry{ActorID: personID, ActorLogin: login, IP: ip, Action: action, TargetType: "connector", TargetID: c.ID,
		StructureID: c.StructureID, Success: success, Details: details}
}

// TileURL is where the connector's tile leads: the GAR is reached by an IdP-initiated
// SAML sign-on (what it expects from an ENT), every other service at its address.
func (c Connector) TileURL() string {
	if c.Protocol == SAML && c.GAR {
		return "/saml/idp-initiated?sp=" + url.QueryEscape(c.ID)
	}
	return c.URL
}

// Clip shortens what a relying party sent before it goes to the logs.
func Clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

func (s *Service) entry(a actor.Actor, action string, c Connector, success bool, details map[string]string) audit.Entry {
	return audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: action, TargetType: "connector", TargetID: c.ID,
		StructureID: c.StructureID, Success: success, Details: details}
}

// Create registers a connector.
func (s *Service) Create(ctx context.Context, a actor.Actor, in Input) (Connector, error) {
	if err := s.mustManage(ctx, a, in.StructureID); err != nil {
		return Connector{}, err
	}
	if err := in.validate(); err != nil {
		return Connector{}, err
	}
	now := s.now()
	c := fromInput(in)
	c.ID, c.CreatedAt, c.UpdatedAt = ids.New(), now, now
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := checkStructures(ctx, tx, c.Structures); err != nil {
			return err
		}
		if err := checkEntityID(ctx, tx, c); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO connectors(id, structure_id, name, icon, url, protocol, profiles, attributes, single_logout, created_at, updated_at, redirect_uris, consent,
			entity_id, acs_urls, slo_url, sp_cert, gar)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10,$11,$12,$13,$14,$15,$16,$17)`,
			c.ID, nullable(c.StructureID), c.Name, c.Icon, c.URL, c.Protocol, strings.Join(c.Profiles, " "), strings.Join(c.Attributes, " "), c.SingleLogout, now.UnixMilli(),
			strings.Join(c.RedirectURIs, " "), c.Consent, c.EntityID, strings.Join(c.ACSURLs, " "), c.SLOURL, c.SPCert, c.GAR); err != nil {
			return err
		}
		if err := setStructures(ctx, tx, c.ID, c.Structures); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "connector.create", c, true, map[string]string{"name": c.Name, "url": c.URL, "protocol": c.Protocol}))
	})
	return c, err
}

// Update changes a connector; its level (deployment or structure) does not change.
func (s *Service) Update(ctx context.Context, a actor.Actor, id string, in Input) (Connector, error) {
	old, err := s.get(ctx, id)
	if err != nil {
		return Connector{}, err
	}
	if err := s.mustManage(ctx, a, old.StructureID); err != nil {
		return Connector{}, err
	}
	in.StructureID = old.StructureID
	if err := in.validate(); err != nil {
		return Connector{}, err
	}
	c := fromInput(in)
	c.ID, c.CreatedAt, c.UpdatedAt = old.ID, old.CreatedAt, s.now()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := checkStructures(ctx, tx, c.Structures); err != nil {
			return err
		}
		if err := checkEntityID(ctx, tx, c); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE connectors SET name=$2, icon=$3, url=$4, protocol=$5, profiles=$6, attributes=$7, single_logout=$8, updated_at=$9, redirect_uris=$10, consent=$11,
			entity_id=$12, acs_urls=$13, slo_url=$14, sp_cert=$15, gar=$16 WHERE id=$1`,
			c.ID, c.Name, c.Icon, c.URL, c.Protocol, strings.Join(c.Profiles, " "), strings.Join(c.Attributes, " "), c.SingleLogout, c.UpdatedAt.UnixMilli(),
			strings.Join(c.RedirectURIs, " "), c.Consent, c.EntityID, strings.Join(c.ACSURLs, " "), c.SLOURL, c.SPCert, c.GAR); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM connector_structures WHERE connector_id=$1`, c.ID); err != nil {
			return err
		}
		if err := setStructures(ctx, tx, c.ID, c.Structures); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "connector.update", c, true, map[string]string{"name": c.Name, "url": c.URL, "protocol": c.Protocol,
			"attributes": strings.Join(c.Attributes, " "), "profiles": strings.Join(c.Profiles, " ")}))
	})
	return c, err
}

// Delete removes a connector.
func (s *Service) Delete(ctx context.Context, a actor.Actor, id string) error {
	c, err := s.get(ctx, id)
	if err != nil {
		return err
	}
	if err := s.mustManage(ctx, a, c.StructureID); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM connectors WHERE id=$1`, id); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "connector.delete", c, true, map[string]string{"name": c.Name, "url": c.URL}))
	})
}

// Get returns a connector to someone who manages it.
func (s *Service) Get(ctx context.Context, a actor.Actor, id string) (Connector, error) {
	c, err := s.get(ctx, id)
	if err != nil {
		return c, err
	}
	if err := s.mustManage(ctx, a, c.StructureID); err != nil {
		return Connector{}, err
	}
	return c, nil
}

// List returns the connectors of one level ("" for the deployment) to someone who
// manages them.
func (s *Service) List(ctx context.Context, a actor.Actor, structureID string) ([]Connector, error) {
	if err := s.mustManage(ctx, a, structureID); err != nil {
		return nil, err
	}
	q := `SELECT ` + cols + ` FROM connectors WHERE structure_id IS NULL ORDER BY name`
	args := []any{}
	if structureID != "" {
		q = `SELECT ` + cols + ` FROM connectors WHERE structure_id=$1 ORDER BY name`
		args = append(args, structureID)
	}
	return s.query(ctx, q, args...)
}

// NewClientSecret gives an OpenID Connect client a new secret, returned once: only its
// SHA-256 is kept (a random 256-bit secret needs no slow hash).
func (s *Service) NewClientSecret(ctx context.Context, a actor.Actor, id string) (string, error) {
	c, err := s.Get(ctx, a, id)
	if err != nil {
		return "", err
	}
	if c.Protocol != OIDC {
		return "", actor.Invalid("protocol", "connector.not_oidc")
	}
	secret := ids.Random(32)
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE connectors SET client_secret_hash=$2 WHERE id=$1`, id, ids.Hash(secret)); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "connector.secret", c, true, map[string]string{"name": c.Name}))
	})
	return secret, err
}

// CheckSecret tells, in constant time, whether secret is the client's secret.
func (c Connector) CheckSecret(secret string) bool {
	return c.secretHash != "" && subtle.ConstantTimeCompare([]byte(ids.Hash(secret)), []byte(c.secretHash)) == 1
}

// ByID returns a connector for the single sign-on servers, which check themselves
// who may use it (see MayUse).
func (s *Service) ByID(ctx context.Context, id string) (Connector, error) { return s.get(ctx, id) }

// ForService finds the connector of a protocol whose address covers the service URL
// a relying party sent; actor.ErrNotFound when none does. The longest matching
// address wins, so that a specific registration beats a general one on the same host.
func (s *Service) ForService(ctx context.Context, protocol, service string) (Connector, error) {
	list, err := s.query(ctx, `SELECT `+cols+` FROM connectors WHERE protocol=$1`, protocol)
	if err != nil {
		return Connector{}, err
	}
	var best Connector
	for _, c := range list {
		if MatchService(c.URL, service) && len(c.URL) > len(best.URL) {
			best = c
		}
	}
	if best.ID == "" {
		return best, actor.ErrNotFound
	}
	return best, nil
}

// VisibleTo lists the connectors a person of this profile, in these structures, may use.
func (s *Service) VisibleTo(ctx context.Context, profile string, structureIDs []string) ([]Connector, error) {
	if len(structureIDs) == 0 {
		// Persons outside any structure see the deployment connectors open to all.
		return s.filterProfile(s.query(ctx, `SELECT `+cols+` FROM connectors WHERE connectors.structure_id IS NULL
			AND NOT EXISTS (SELECT 1 FROM connector_structures cs WHERE cs.connector_id = connectors.id) ORDER BY name`))(profile)
	}
	in := db.In(1, len(structureIDs))
	args := make([]any, len(structureIDs))
	for i, id := range structureIDs {
		args[i] = id
	}
	return s.filterProfile(s.query(ctx, `SELECT `+cols+` FROM connectors WHERE connectors.structure_id IN (`+in+`)
		OR (connectors.structure_id IS NULL AND (NOT EXISTS (SELECT 1 FROM connector_structures cs WHERE cs.connector_id = connectors.id)
			OR EXISTS (SELECT 1 FROM connector_structures cs WHERE cs.connector_id = connectors.id AND cs.structure_id IN (`+in+`))))
		ORDER BY name`, args...))(profile)
}

// MayUse tells whether a person of this profile, in these structures, may use c.
func (s *Service) MayUse(ctx context.Context, profile string, structureIDs []string, c Connector) (bool, error) {
	list, err := s.VisibleTo(ctx, profile, structureIDs)
	if err != nil {
		return false, err
	}
	for _, x := range list {
		if x.ID == c.ID {
			return true, nil
		}
	}
	return false, nil
}

func (s *Service) filterProfile(list []Connector, err error) func(string) ([]Connector, error) {
	return func(profile string) ([]Connector, error) {
		if err != nil {
			return nil, err
		}
		var out []Connector
		for _, c := range list {
			if len(c.Profiles) == 0 || contains(c.Profiles, profile) {
				out = append(out, c)
			}
		}
		return out, nil
	}
}

// MatchService tells whether a service URL sent by a relying party falls under a
// connector's registered address: same scheme, same host and port, and a path under
// the registered path (on a segment boundary). Anything odd — relative URLs, user
// information, fragments, dot segments or encoded dots and slashes that could climb
// out of the registered path — does not match, so that tickets and redirections
// only ever go where an administrator said.
func MatchService(registered, service string) bool {
	if service == "" || len(service) > 2000 || strings.ContainsAny(service, "\\\r\n\t ") {
		return false
	}
	reg, err := checkURL(registered)
	if err != nil {
		return false
	}
	svc, err := checkURL(service)
	if err != nil {
		return false
	}
	if !strings.EqualFold(reg.Scheme, svc.Scheme) || !strings.EqualFold(hostPort(reg), hostPort(svc)) {
		return false
	}
	lower := strings.ToLower(svc.EscapedPath())
	if strings.Contains(lower, "%2e") || strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") {
		return false
	}
	for _, seg := range strings.Split(svc.Path, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	rp, sp := reg.Path, svc.Path
	if rp == "" {
		rp = "/"
	}
	if sp == "" {
		sp = "/"
	}
	if !strings.HasPrefix(sp, rp) {
		return false
	}
	return strings.HasSuffix(rp, "/") || len(sp) == len(rp) || sp[len(rp)] == '/'
}

// hostPort is host:port with the scheme's default port made explicit.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

const cols = `id, COALESCE(structure_id, ''), name, icon, url, protocol, profiles, attributes, single_logout, created_at, updated_at, redirect_uris, client_secret_hash, consent,
	entity_id, acs_urls, slo_url, sp_cert, gar,
	COALESCE((SELECT string_agg(structure_id, ' ') FROM connector_structures cs WHERE cs.connector_id = connectors.id), '')`

func (s *Service) get(ctx context.Context, id string) (Connector, error) {
	list, err := s.query(ctx, `SELECT `+cols+` FROM connectors WHERE id=$1`, id)
	if err != nil {
		return Connector{}, err
	}
	if len(list) == 0 {
		return Connector{}, actor.ErrNotFound
	}
	return list[0], nil
}

func (s *Service) query(ctx context.Context, q string, args ...any) ([]Connector, error) {
	if s.db.Dialect == db.SQLite {
		// The one non-portable piece: SQLite's name for string_agg.
		q = strings.Replace(q, "string_agg(structure_id, ' ')", "group_concat(structure_id, ' ')", 1)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Connector
	for rows.Next() {
		var c Connector
		var profiles, attributes, structures, redirects, acs string
		var created, updated int64
		if err := rows.Scan(&c.ID, &c.StructureID, &c.Name, &c.Icon, &c.URL, &c.Protocol, &profiles, &attributes, &c.SingleLogout, &created, &updated,
			&redirects, &c.secretHash, &c.Consent, &c.EntityID, &acs, &c.SLOURL, &c.SPCert, &c.GAR, &structures); err != nil {
			return nil, err
		}
		c.RedirectURIs, c.HasSecret, c.ACSURLs = strings.Fields(redirects), c.secretHash != "", strings.Fields(acs)
		c.Profiles, c.Attributes, c.Structures = strings.Fields(profiles), strings.Fields(attributes), strings.Fields(structures)
		sort.Strings(c.Structures)
		c.CreatedAt, c.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
		out = append(out, c)
	}
	return out, rows.Err()
}

func checkStructures(ctx context.Context, q db.Querier, list []string) error {
	for _, id := range list {
		var one int
		err := q.QueryRowContext(ctx, `SELECT 1 FROM structures WHERE id=$1`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return actor.Invalid("structures", "connector.bad_structure")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkEntityID refuses a SAML entity ID another SAML connector has: the IdP finds
// the service provider by it.
func checkEntityID(ctx context.Context, q db.Querier, c Connector) error {
	if c.Protocol != SAML {
		return nil
	}
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM connectors WHERE protocol=$1 AND entity_id=$2 AND id<>$3`, SAML, c.EntityID, c.ID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return actor.Invalid("entity_id", "connector.entity_taken")
}

// ByEntityID returns the SAML connector of a service provider's entity ID;
// actor.ErrNotFound when none has it.
func (s *Service) ByEntityID(ctx context.Context, entityID string) (Connector, error) {
	list, err := s.query(ctx, `SELECT `+cols+` FROM connectors WHERE protocol=$1 AND entity_id=$2`, SAML, entityID)
	if err != nil {
		return Connector{}, err
	}
	if entityID == "" || len(list) == 0 {
		return Connector{}, actor.ErrNotFound
	}
	return list[0], nil
}

func setStructures(ctx context.Context, q db.Querier, connectorID string, list []string) error {
	for _, id := range list {
		if _, err := q.ExecContext(ctx, `INSERT INTO connector_structures(connector_id, structure_id) VALUES ($1,$2)`, connectorID, id); err != nil {
			return err
		}
	}
	return nil
}

func fromInput(in Input) Connector {
	return Connector{StructureID: in.StructureID, Name: in.Name, Icon: in.Icon, URL: in.URL, Protocol: in.Protocol,
		Profiles: in.Profiles, Structures: in.Structures, Attributes: in.Attributes, SingleLogout: in.SingleLogout, RedirectURIs: in.RedirectURIs, Consent: in.Consent,
		SAMLSettings: in.SAMLSettings}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func dedupe(list []string) []string {
	var out []string
	for _, x := range list {
		if x = strings.TrimSpace(x); x != "" && !contains(out, x) {
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}
