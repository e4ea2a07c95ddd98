// Package portal picks the portal a request is for from its host name, and keeps
// each portal's look (name, logo, colours) and legal notice.
//
// Three kinds: the default portal (the deployment's base host), an établissement's
// portal (its own host, or "<uai>.<base host>" without any configuration), and a
// partner's portal (Région, Département, académie) on a host configured by a super
// administrator.
package portal

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"regexp"
	"strings"
	"sync"
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

// Migrations are the portals table (it needs the directory's structures).
var Migrations = db.Embedded("portal", migrations)

// Kinds of portal.
const (
	KindDefault       = "default"
	KindEtablissement = "etablissement"
	KindPartner       = "partner"
)

// Portal is what a host name leads to.
type Portal struct {
	ID                  string
	Host                string
	Kind                string
	StructureID         string
	Name                string
	ColorPrimary        string
	ColorAccent         string
	HasLogo             bool
	PublicationDirector string
	LegalNotice         string
	Contact             string
	UpdatedAt           time.Time
}

// ErrUnknownHost is returned for a host no portal answers to.
var ErrUnknownHost = errors.New("portail inconnu")

// Service resolves and edits portals.
type Service struct {
	db       *db.DB
	audit    *audit.Log
	rights   *rights.Service
	dir      *directory.Service
	baseHost string
	name     string

	// Host lookups happen on every request: a short-lived cache keeps them off the
	// database. Another instance's edit shows here within cacheTTL.
	mu    sync.RWMutex
	cache map[string]cached
}

type cached struct {
	p   Portal
	err error
	at  time.Time
}

const cacheTTL = 30 * time.Second

// New returns the portal service. baseHost is the default portal's host (without
// port), name the deployment's name.
func New(d *db.DB, a *audit.Log, r *rights.Service, dir *directory.Service, baseHost, name string) *Service {
	return &Service{db: d, audit: a, rights: r, dir: dir, baseHost: strings.ToLower(baseHost), name: name, cache: map[string]cached{}}
}

// BaseHost is the default portal's host.
func (s *Service) BaseHost() string { return s.baseHost }

// NormalizeHost lower-cases a Host header and drops its port.
func NormalizeHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if strings.HasPrefix(h, "[") { // IPv6 literal
		if i := strings.Index(h, "]"); i > 0 {
			return h[:i+1]
		}
		return h
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	return strings.TrimSuffix(h, ".")
}

// Resolve returns the portal for a Host header.
func (s *Service) Resolve(ctx context.Context, hostHeader string) (Portal, error) {
	host := NormalizeHost(hostHeader)
	s.mu.RLock()
	c, ok := s.cache[host]
	s.mu.RUnlock()
	if ok && time.Since(c.at) < cacheTTL {
		return c.p, c.err
	}
	p, err := s.resolve(ctx, host)
	if err == nil || errors.Is(err, ErrUnknownHost) {
		s.mu.Lock()
		if len(s.cache) > 10000 { // bound memory against floods of made-up hosts
			s.cache = map[string]cached{}
		}
		s.cache[host] = cached{p: p, err: err, at: time.Now()}
		s.mu.Unlock()
	}
	return p, err
}

func (s *Service) resolve(ctx context.Context, host string) (Portal, error) {
	p, err := s.byHost(ctx, host)
	if err == nil {
		return p, nil
	}
	if !errors.Is(err, actor.ErrNotFound) {
		return p, err
	}
	if host == s.baseHost || host == "127.0.0.1" || host == "[::1]" {
		return Portal{Host: host, Kind: KindDefault, Name: s.name, ColorPrimary: "#1f4e8c", ColorAccent: "#b3441e"}, nil
	}
	// "<uai>.<base host>": a school's portal with no configuration at all.
	if sub, ok := strings.CutSuffix(host, "."+s.baseHost); ok && !strings.Contains(sub, ".") {
		st, err := s.dir.StructureByUAI(ctx, sub)
		if err == nil {
			return Portal{Host: host, Kind: KindEtablissement, StructureID: st.ID, Name: st.Name, ColorPrimary: "#1f4e8c", ColorAccent: "#b3441e"}, nil
		}
		if !errors.Is(err, actor.ErrNotFound) {
			return Portal{}, err
		}
	}
	return Portal{}, ErrUnknownHost
}

const cols = `id, host, kind, COALESCE(structure_id,''), name, color_primary, color_accent, logo IS NOT NULL, publication_director, legal_notice, contact, updated_at`

func scan(sc interface{ Scan(...any) error }) (Portal, error) {
	var p Portal
	var at int64
	err := sc.Scan(&p.ID, &p.Host, &p.Kind, &p.StructureID, &p.Name, &p.ColorPrimary, &p.ColorAccent, &p.HasLogo, &p.PublicationDirector, &p.LegalNotice, &p.Contact, &at)
	p.UpdatedAt = time.UnixMilli(at)
	if errors.Is(err, sql.ErrNoRows) {
		err = actor.ErrNotFound
	}
	return p, err
}

func (s *Service) byHost(ctx context.Context, host string) (Portal, error) {
	return scan(s.db.QueryRowContext(ctx, `SELECT `+cols+` FROM portals WHERE host=$1`, host))
}

// Get returns a configured portal by id.
func (s *Service) Get(ctx context.Context, id string) (Portal, error) {
	return scan(s.db.QueryRowContext(ctx, `SELECT `+cols+` FROM portals WHERE id=$1`, id))
}

// ForStructure returns the configured portal of a structure, if any.
func (s *Service) ForStructure(ctx context.Context, structureID string) (Portal, error) {
	return scan(s.db.QueryRowContext(ctx, `SELECT `+cols+` FROM portals WHERE structure_id=$1 ORDER BY host LIMIT 1`, structureID))
}

// List lists configured portals.
func (s *Service) List(ctx context.Context) ([]Portal, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+cols+` FROM portals ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Portal
	for rows.Next() {
		p, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

var (
	hostRE  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)
	colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
)

// Input changes a portal's address and look.
type Input struct {
	Host                string
	Kind                string
	StructureID         string
	Name                string
	ColorPrimary        string
	ColorAccent         string
	PublicationDirector string
	LegalNotice         string
	Contact             string
}

func (in *Input) validate() error {
	in.Host = NormalizeHost(in.Host)
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case !hostRE.MatchString(in.Host) || len(in.Host) > 253:
		return actor.Invalid("host", "portal.bad_host")
	case in.Name == "" || len(in.Name) > 120:
		return actor.Invalid("name", "portal.name_required")
	case !colorRE.MatchString(in.ColorPrimary):
		return actor.Invalid("color_primary", "portal.bad_color")
	case !colorRE.MatchString(in.ColorAccent):
		return actor.Invalid("color_accent", "portal.bad_color")
	case !Readable(in.ColorPrimary):
		// White text sits on the primary colour: it must keep a 4.5:1 contrast (WCAG AA).
		return actor.Invalid("color_primary", "portal.low_contrast")
	case !Readable(in.ColorAccent):
		return actor.Invalid("color_accent", "portal.low_contrast")
	case len(in.LegalNotice) > 20000 || len(in.Contact) > 2000 || len(in.PublicationDirector) > 200:
		return actor.Invalid("legal_notice", "portal.too_long")
	case in.Kind != KindEtablissement && in.Kind != KindPartner && in.Kind != KindDefault:
		return actor.Invalid("kind", "portal.bad_kind")
	case in.Kind != KindDefault && in.StructureID == "":
		return actor.Invalid("structure", "portal.structure_required")
	}
	return nil
}

// Save creates or changes a portal. A super administrator sets hosts and kinds; a
// local administrator changes the look and legal notice of their structure's portal.
func (s *Service) Save(ctx context.Context, a actor.Actor, id string, in Input) (Portal, error) {
	if err := in.validate(); err != nil {
		return Portal{}, err
	}
	super, err := s.rights.IsSuperAdmin(ctx, a)
	if err != nil {
		return Portal{}, err
	}
	if id != "" {
		old, err := s.Get(ctx, id)
		if err != nil {
			return Portal{}, err
		}
		if !super && (old.Host != in.Host || old.Kind != in.Kind || old.StructureID != in.StructureID) {
			return Portal{}, actor.ErrForbidden
		}
	} else if !super {
		return Portal{}, actor.ErrForbidden
	}
	if !super {
		ok, err := s.rights.CanAdminStructure(ctx, a, in.StructureID)
		if err != nil {
			return Portal{}, err
		}
		if !ok {
			return Portal{}, actor.ErrForbidden
		}
	}
	action := "portal.update"
	if id == "" {
		id, action = ids.New(), "portal.create"
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO portals(id, host, kind, structure_id, name, color_primary, color_accent, publication_director, legal_notice, contact, updated_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)
			ON CONFLICT (id) DO UPDATE SET host=excluded.host, kind=excluded.kind, structure_id=excluded.structure_id, name=excluded.name,
			color_primary=excluded.color_primary, color_accent=excluded.color_accent, publication_director=excluded.publication_director,
			legal_notice=excluded.legal_notice, contact=excluded.contact, updated_at=excluded.updated_at`,
			id, in.Host, in.Kind, nullable(in.StructureID), in.Name, in.ColorPrimary, in.ColorAccent, in.PublicationDirector, in.LegalNotice, in.Contact, time.Now().UnixMilli())
		if db.IsUniqueViolation(err) {
			return actor.Invalid("host", "portal.host_taken")
		}
		if err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: action, TargetType: "portal", TargetID: id, StructureID: in.StructureID, Success: true, Details: map[string]string{"host": in.Host}})
	})
	if err != nil {
		return Portal{}, err
	}
	s.forget()
	return s.Get(ctx, id)
}

// SetLogo stores a portal's logo (PNG, JPEG or SVG-free: SVG can carry script).
func (s *Service) SetLogo(ctx context.Context, a actor.Actor, id string, data []byte, contentType string) error {
	p, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if ok, err := s.canEdit(ctx, a, p); err != nil || !ok {
		if err == nil {
			err = actor.ErrForbidden
		}
		return err
	}
	if contentType != "image/png" && contentType != "image/jpeg" {
		return actor.Invalid("logo", "portal.bad_logo")
	}
	if len(data) > 512<<10 {
		return actor.Invalid("logo", "portal.logo_too_big")
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE portals SET logo=$1, logo_type=$2, updated_at=$3 WHERE id=$4`, data, contentType, time.Now().UnixMilli(), id); err != nil {
		return err
	}
	s.audit.Write(ctx, audit.Entry{ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: "portal.logo", TargetType: "portal", TargetID: id, StructureID: p.StructureID, Success: true})
	s.forget()
	return nil
}

// Logo returns a portal's logo.
func (s *Service) Logo(ctx context.Context, id string) ([]byte, string, error) {
	var data []byte
	var ct string
	err := s.db.QueryRowContext(ctx, `SELECT logo, logo_type FROM portals WHERE id=$1 AND logo IS NOT NULL`, id).Scan(&data, &ct)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", actor.ErrNotFound
	}
	return data, ct, err
}

func (s *Service) canEdit(ctx context.Context, a actor.Actor, p Portal) (bool, error) {
	if ok, err := s.rights.IsSuperAdmin(ctx, a); ok || err != nil {
		return ok, err
	}
	if p.StructureID == "" {
		return false, nil
	}
	return s.rights.CanAdminStructure(ctx, a, p.StructureID)
}

func (s *Service) forget() {
	s.mu.Lock()
	s.cache = map[string]cached{}
	s.mu.Unlock()
}

func nullable(v string) any {
	if v == "" {
		return nil
	}
	return v
}
