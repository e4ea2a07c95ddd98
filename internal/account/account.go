// Package account holds credentials, activation, password resets, lockout and the
// server-side sessions.
package account

import (
	"embed"
	"errors"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/mail"
	"github.com/preau-ent/preau/internal/rights"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the account tables (they need the directory's persons).
var Migrations = db.Embedded("account", migrations)

// Errors of Login and friends; pages turn them into French messages.
var (
	ErrBadCredentials = errors.New("identifiant ou mot de passe incorrect")
	ErrLocked         = errors.New("compte verrouillé temporairement")
	ErrRateLimited    = errors.New("trop de tentatives depuis cette adresse")
	ErrBusy           = errors.New("serveur saturé, réessayez dans un instant")
	ErrNotActivated   = errors.New("compte non activé")
	ErrBlocked        = errors.New("compte bloqué")
	ErrBadCode        = errors.New("code d'activation incorrect ou expiré")
	ErrBadToken       = errors.New("lien de réinitialisation incorrect ou expiré")
	ErrNoSession      = errors.New("session absente ou expirée")
)

// Config holds the account policies; zero values take the documented defaults.
type Config struct {
	SessionIdle        time.Duration // default 60 min: a session unused that long ends
	SessionMax         time.Duration // default 12 h: no session lives longer
	ActivationValidity time.Duration // default 120 days: letters handed out at the start of the year
	ResetValidity      time.Duration // default 30 min
	LockAfter          int           // default 5 consecutive failures...
	LockFor            time.Duration // ...lock the account 15 min
	IPLimit            int           // default 30 failed logins per address...
	IPWindow           time.Duration // ...per 5 minutes
	MaxHashing         int           // default runtime.NumCPU(): password hashes computed at once
	MaxHashQueue       int           // default 64: logins waiting for a hash slot before ErrBusy
	Argon              ArgonParams   // default OWASP: 19 MiB, 2 passes, 1 lane
}

// ArgonParams are the argon2id parameters.
type ArgonParams struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// Session is a server-side session as listed in "Mon compte".
type Session struct {
	ID        string // the SHA-256 of the cookie value: listing and revoking never expose the cookie
	PersonID  string
	CreatedAt time.Time
	SeenAt    time.Time
	ExpiresAt time.Time
	IP        string
	UserAgent string
	// HasRoles says, when the session was looked up, whether the person holds any
	// administration or moderation role: most do not, and their requests then skip
	// the roles query (rights.WithoutRoles).
	HasRoles bool
}

// Service is the account service.
type Service struct {
	db     *db.DB
	audit  *audit.Log
	dir    *directory.Service
	rights *rights.Service
	mail   mail.Sender
	cfg    Config
	now    func() time.Time

	hashes *hasher   // admission control for argon2id
	decoy  decoyHash // hash spent on unknown logins, so that they take as long as known ones
}
