package account

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/mail"
	"github.com/preau-ent/preau/internal/rights"
)

// Limits that are not worth a setting.
const (
	// seenEvery is how stale seen_at may get before Lookup writes it: sessions are
	// read on every request, and one write per minute per active session instead of
	// one per request keeps the storm hour mostly read-only. The price is that a
	// session may end up to this much earlier than SessionIdle after its last use.
	seenEvery = time.Minute

	// Reset mails per person, whatever the address asking: a stranger must not be
	// able to flood someone's mailbox.
	resetPerPerson       = 3
	resetPerPersonWindow = time.Hour

	maxLoginLen     = 128
	maxIPLen        = 64
	maxUserAgentLen = 256
)

// New returns the account service. Zero fields of cfg take their documented defaults.
func New(d *db.DB, a *audit.Log, dir *directory.Service, r *rights.Service, m mail.Sender, cfg Config) *Service {
	def := func(v *time.Duration, x time.Duration) {
		if *v <= 0 {
			*v = x
		}
	}
	def(&cfg.SessionIdle, 60*time.Minute)
	def(&cfg.SessionMax, 12*time.Hour)
	def(&cfg.ActivationValidity, 120*24*time.Hour)
	def(&cfg.ResetValidity, 30*time.Minute)
	def(&cfg.LockFor, 15*time.Minute)
	def(&cfg.IPWindow, 5*time.Minute)
	if cfg.LockAfter <= 0 {
		cfg.LockAfter = 5
	}
	if cfg.IPLimit <= 0 {
		cfg.IPLimit = 30
	}
	if cfg.MaxHashing <= 0 {
		cfg.MaxHashing = runtime.NumCPU()
	}
	if cfg.MaxHashQueue <= 0 {
		cfg.MaxHashQueue = 64
	}
	if cfg.Argon == (ArgonParams{}) {
		cfg.Argon = DefaultArgon
	}
	if cfg.Argon.Threads == 0 {
		cfg.Argon.Threads = 1
	}
	if cfg.Argon.Time == 0 {
		cfg.Argon.Time = DefaultArgon.Time
	}
	if cfg.Argon.MemoryKiB < 8*uint32(cfg.Argon.Threads) {
		cfg.Argon.MemoryKiB = DefaultArgon.MemoryKiB
	}
	return &Service{db: d, audit: a, dir: dir, rights: r, mail: m, cfg: cfg, now: time.Now,
		hashes: newHasher(cfg.MaxHashing, cfg.MaxHashQueue)}
}

// Config returns the configuration in force, defaults applied (the web layer shows
// the idle time and the policy).
func (s *Service) Config() Config { return s.cfg }

// ---- persons with their credentials ----

const personCols = `p.id, COALESCE(p.external_id,''), p.login, p.first_name, p.last_name, p.profile, p.email, p.birth_date, p.state, p.language, p.created_at, p.updated_at`

func personDest(p *directory.Person, created, updated *int64) []any {
	return []any{&p.ID, &p.ExternalID, &p.Login, &p.FirstName, &p.LastName, &p.Profile, &p.Email, &p.BirthDate, &p.State, &p.Language, created, updated}
}

// record is a person with their credentials and one of their structures (for the
// audit log, which local administrators read per structure).
type record struct {
	person          directory.Person
	structureID     string
	passwordHash    string
	activationHash  string
	activationUntil int64
	failedCount     int64
	lockedUntil     int64
}

const recordSQL = `SELECT ` + personCols + `,
	COALESCE(c.password_hash,''), COALESCE(c.activation_hash,''), COALESCE(c.activation_until,0),
	COALESCE(c.failed_count,0), COALESCE(c.locked_until,0),
	COALESCE((SELECT MIN(ps.structure_id) FROM person_structures ps WHERE ps.person_id = p.id),'')
	FROM persons p LEFT JOIN credentials c ON c.person_id = p.id`

func scanRecord(row *sql.Row) (record, error) {
	var r record
	var created, updated int64
	dest := append(personDest(&r.person, &created, &updated),
		&r.passwordHash, &r.activationHash, &r.activationUntil, &r.failedCount, &r.lockedUntil, &r.structureID)
	err := row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return r, actor.ErrNotFound
	}
	r.person.CreatedAt, r.person.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
	return r, err
}

func (s *Service) recordByLogin(ctx context.Context, login string) (record, error) {
	return scanRecord(s.db.QueryRowContext(ctx, recordSQL+` WHERE p.login = $1`, login))
}

func (s *Service) recordByID(ctx context.Context, q db.Querier, id string) (record, error) {
	return scanRecord(q.QueryRowContext(ctx, recordSQL+` WHERE p.id = $1`, id))
}

// upsertCredentials makes sure the person has a credentials row, so that the
// UPDATEs after it always hit one.
func upsertCredentials(ctx context.Context, q db.Querier, personID string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO credentials(person_id) VALUES ($1) ON CONFLICT (person_id) DO NOTHING`, personID)
	return err
}

func normalizeLogin(login string) string {
	return clip(strings.ToLower(strings.TrimSpace(login)), maxLoginLen)
}

// clip cuts s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// ---- authorization ----

// mustAdminPerson lets through the system and the administrators of one of the
// person's structures. An unknown person is ErrForbidden for everyone but the
// system, so that ids cannot be probed.
func (s *Service) mustAdminPerson(ctx context.Context, a actor.Actor, personID string) error {
	if a.System {
		return nil
	}
	ok, err := s.dir.CanAdminPerson(ctx, a, personID)
	if err != nil {
		return err
	}
	if !ok {
		return actor.ErrForbidden
	}
	return nil
}

// mustOutrank refuses to let an administrator take over an account that holds a role
// they could not grant themselves: otherwise a local administrator could reset the
// password of a super administrator attached to their school and log in as them.
func (s *Service) mustOutrank(ctx context.Context, a actor.Actor, personID string) error {
	if a.System {
		return nil
	}
	roles, err := s.rights.RolesOf(ctx, personID)
	if err != nil {
		return err
	}
	for _, r := range roles {
		var ok bool
		if r.Role == rights.SuperAdmin {
			ok, err = s.rights.IsSuperAdmin(ctx, a)
		} else {
			ok, err = s.rights.CanAdminStructure(ctx, a, r.StructureID)
		}
		if err != nil {
			return err
		}
		if !ok {
			return actor.ErrForbidden
		}
	}
	return nil
}

// ---- audit ----

func (s *Service) entry(a actor.Actor, action string, target record, success bool, details map[string]string) audit.Entry {
	e := audit.Entry{At: s.now(), ActorID: a.PersonID, ActorLogin: a.Login, IP: a.IP, Action: action,
		StructureID: target.structureID, Success: success, Details: details}
	if target.person.ID != "" {
		e.TargetType, e.TargetID = "person", target.person.ID
	}
	return e
}

// self is the actor of an anonymous flow (login, activation, reset) once the person
// is known: the audit log then reads "who did it" as that person.
func self(r record, ip string) actor.Actor {
	return actor.Actor{PersonID: r.person.ID, Login: r.person.Login, Profile: r.person.Profile, IP: ip}
}

func reason(r string) map[string]string { return map[string]string{"reason": r} }

// ---- rate limits ----

// Counters live in the database so that every instance behind the load balancer
// sees the same ones; fixed windows need a single upsert per hit.

func windowStart(now time.Time, w time.Duration) int64 {
	ms := w.Milliseconds()
	return now.UnixMilli() / ms * ms
}

// rateCount returns the hits of key in the current window.
func (s *Service) rateCount(ctx context.Context, key string, w time.Duration) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT count FROM rate_counters WHERE key = $1 AND window_start = $2`,
		key, windowStart(s.now(), w)).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}

// rateHit counts one hit of key and returns the window's count, this hit included.
func (s *Service) rateHit(ctx context.Context, key string, w time.Duration) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `INSERT INTO rate_counters(key, window_start, count) VALUES ($1, $2, 1)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN rate_counters.window_start = excluded.window_start THEN rate_counters.count + 1 ELSE 1 END,
			window_start = excluded.window_start
		RETURNING count`, key, windowStart(s.now(), w)).Scan(&n)
	return n, err
}

func ipKey(ip string) string { return "ip:" + ip }

// ipBlocked tells whether the address has used up its failures for the window.
func (s *Service) ipBlocked(ctx context.Context, ip string) (bool, error) {
	n, err := s.rateCount(ctx, ipKey(ip), s.cfg.IPWindow)
	return n >= int64(s.cfg.IPLimit), err
}

// ipFailed counts a failure of the address (wrong password, wrong code, bad link).
// Not being able to count is logged, not returned: the attempt failed anyway and the
// person must get the answer to it.
func (s *Service) ipFailed(ctx context.Context, ip string) {
	if _, err := s.rateHit(ctx, ipKey(ip), s.cfg.IPWindow); err != nil {
		slog.Error("compteur d'échecs par adresse", "ip", ip, "err", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
