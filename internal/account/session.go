package account

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
)

// Login checks a login and password and opens a session. The token it returns goes
// into the cookie and nowhere else: the database keeps only its SHA-256.
//
// Answers, in the order they are decided:
//   - ErrRateLimited when the address has used up its failures for the window;
//   - ErrBusy when too many passwords are being hashed already (admission control);
//   - ErrBadCredentials for an unknown login or a wrong password, after spending one
//     hash either way so that both take the same time;
//   - ErrLocked while the account is locked (the password is not even checked, so
//     that guessing during the lock is useless), and on the failure that locks it;
//   - ErrNotActivated for an account that was never activated (it has no password);
//   - ErrBlocked for a blocked account, only once the password was right, so that
//     blocking tells a stranger nothing.
//
// After LockAfter consecutive failures the account is locked LockFor; until a
// success or an administrator's unlock, every further failure locks it again.
func (s *Service) Login(ctx context.Context, login, password, ip, userAgent string) (string, directory.Person, error) {
	login = normalizeLogin(login)
	ip, userAgent = clip(ip, maxIPLen), clip(userAgent, maxUserAgentLen)
	anon := actor.Actor{Login: login, IP: ip}
	fail := func(r record, why string, err error) (string, directory.Person, error) {
		a := anon
		if r.person.ID != "" {
			a = self(r, ip)
		}
		s.audit.Write(ctx, s.entry(a, "login.failed", r, false, reason(why)))
		return "", directory.Person{}, err
	}

	if blocked, err := s.ipBlocked(ctx, ip); err != nil {
		return "", directory.Person{}, err
	} else if blocked {
		return fail(record{}, "rate_limited", ErrRateLimited)
	}
	r, err := s.recordByLogin(ctx, login)
	if err != nil && !errors.Is(err, actor.ErrNotFound) {
		return "", directory.Person{}, err
	}
	now := s.now()
	switch {
	case errors.Is(err, actor.ErrNotFound):
		if _, _, err := s.verify(ctx, password, "", false); err != nil {
			return "", directory.Person{}, err
		}
		s.ipFailed(ctx, ip)
		return fail(record{}, "unknown_login", ErrBadCredentials)
	case r.lockedUntil > now.UnixMilli():
		s.ipFailed(ctx, ip)
		return fail(r, "locked", ErrLocked)
	case r.person.State == directory.StatePending:
		if _, _, err := s.verify(ctx, password, "", false); err != nil {
			return "", directory.Person{}, err
		}
		// Counted, so that probing for accounts not yet activated is rate limited too.
		s.ipFailed(ctx, ip)
		return fail(r, "not_activated", ErrNotActivated)
	}

	ok, rehash, err := s.verify(ctx, password, r.passwordHash, true)
	if err != nil {
		return "", directory.Person{}, err
	}
	if !ok {
		s.ipFailed(ctx, ip)
		var locked int64
		err := s.db.QueryRowContext(ctx, `UPDATE credentials SET failed_count = failed_count + 1,
			locked_until = CASE WHEN failed_count + 1 >= $2 THEN $3 ELSE locked_until END
			WHERE person_id = $1 RETURNING locked_until`,
			r.person.ID, s.cfg.LockAfter, now.Add(s.cfg.LockFor).UnixMilli()).Scan(&locked)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return "", directory.Person{}, err
		}
		if locked > now.UnixMilli() {
			return fail(r, "locked_now", ErrLocked)
		}
		return fail(r, "bad_password", ErrBadCredentials)
	}
	if r.person.State != directory.StateActive {
		return fail(r, "blocked", ErrBlocked)
	}

	var token string
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if r.failedCount != 0 || r.lockedUntil != 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE credentials SET failed_count = 0, locked_until = 0 WHERE person_id = $1`, r.person.ID); err != nil {
				return err
			}
		}
		if rehash != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE credentials SET password_hash = $1 WHERE person_id = $2 AND password_hash = $3`,
				rehash, r.person.ID, r.passwordHash); err != nil {
				return err
			}
		}
		var err error
		token, err = s.openSession(ctx, tx, r, ip, userAgent, now, nil)
		return err
	})
	if err != nil {
		return "", directory.Person{}, err
	}
	return token, r.person, nil
}

// openSession stores a new session of r's person and audits the login.
func (s *Service) openSession(ctx context.Context, tx *sql.Tx, r record, ip, userAgent string, now time.Time, details map[string]string) (string, error) {
	token := ids.Random(32)
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions(id_hash, person_id, created_at, seen_at, expires_at, ip, user_agent)
		VALUES ($1, $2, $3, $3, $4, $5, $6)`,
		ids.Hash(token), r.person.ID, now.UnixMilli(), s.sessionExpiry(now, now).UnixMilli(), ip, userAgent); err != nil {
		return "", err
	}
	return token, s.audit.WriteTx(ctx, tx, s.entry(self(r, ip), "login", r, true, details))
}

// LoginFederated opens a session for a person whom an external identity provider
// authenticated, through a link the person confirmed with their password earlier;
// via names the provider in the audit log. Locked, blocked and never activated
// accounts are refused as with a password.
func (s *Service) LoginFederated(ctx context.Context, personID, via, ip, userAgent string) (string, directory.Person, error) {
	ip, userAgent = clip(ip, maxIPLen), clip(userAgent, maxUserAgentLen)
	r, err := s.recordByID(ctx, s.db, personID)
	if err != nil {
		return "", directory.Person{}, err
	}
	now := s.now()
	var refusal error
	switch {
	case r.lockedUntil > now.UnixMilli():
		refusal = ErrLocked
	case r.person.State == directory.StatePending:
		refusal = ErrNotActivated
	case r.person.State != directory.StateActive:
		refusal = ErrBlocked
	}
	if refusal != nil {
		s.audit.Write(ctx, s.entry(self(r, ip), "login.failed", r, false, map[string]string{"via": via}))
		return "", directory.Person{}, refusal
	}
	var token string
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		token, err = s.openSession(ctx, tx, r, ip, userAgent, now, map[string]string{"via": via})
		return err
	})
	return token, r.person, err
}

// sessionExpiry is when a session created at created and last seen at seen ends.
func (s *Service) sessionExpiry(created, seen time.Time) time.Time {
	idle, max := seen.Add(s.cfg.SessionIdle), created.Add(s.cfg.SessionMax)
	if idle.Before(max) {
		return idle
	}
	return max
}

const sessionCols = `s.id_hash, s.person_id, s.created_at, s.seen_at, s.expires_at, s.ip, s.user_agent`

func sessionDest(x *Session, created, seen, expires *int64) []any {
	return []any{&x.ID, &x.PersonID, created, seen, expires, &x.IP, &x.UserAgent}
}

// Lookup returns the session behind a cookie value and its person. It runs on every
// authenticated request, so it is one primary-key SELECT joined to the person, and
// writes only when seen_at is more than a minute old. A missing, expired or
// idle-expired session, or one whose person is no longer active, is ErrNoSession.
func (s *Service) Lookup(ctx context.Context, token string) (Session, directory.Person, error) {
	var sess Session
	var p directory.Person
	if token == "" || len(token) > 256 {
		return sess, p, ErrNoSession
	}
	var created, seen, expires, pc, pu int64
	dest := append(sessionDest(&sess, &created, &seen, &expires), personDest(&p, &pc, &pu)...)
	dest = append(dest, &sess.HasRoles)
	err := s.db.QueryRowContext(ctx, `SELECT `+sessionCols+`, `+personCols+`,
		EXISTS (SELECT 1 FROM role_assignments ra WHERE ra.person_id = p.id)
		FROM sessions s JOIN persons p ON p.id = s.person_id WHERE s.id_hash = $1`, ids.Hash(token)).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, directory.Person{}, ErrNoSession
	}
	if err != nil {
		return Session{}, directory.Person{}, err
	}
	now := s.now()
	if expires <= now.UnixMilli() || p.State != directory.StateActive {
		return Session{}, directory.Person{}, ErrNoSession
	}
	sess.CreatedAt, sess.SeenAt, sess.ExpiresAt = time.UnixMilli(created), time.UnixMilli(seen), time.UnixMilli(expires)
	p.CreatedAt, p.UpdatedAt = time.UnixMilli(pc), time.UnixMilli(pu)
	if now.Sub(sess.SeenAt) >= seenEvery {
		exp := s.sessionExpiry(sess.CreatedAt, now)
		if _, err := s.db.ExecContext(ctx, `UPDATE sessions SET seen_at = $1, expires_at = $2 WHERE id_hash = $3`,
			now.UnixMilli(), exp.UnixMilli(), sess.ID); err != nil {
			return Session{}, directory.Person{}, err
		}
		sess.SeenAt, sess.ExpiresAt = now, exp
	}
	return sess, p, nil
}

// Sessions lists the actor's own live sessions, newest first ("Mes connexions").
func (s *Service) Sessions(ctx context.Context, a actor.Actor) ([]Session, error) {
	if a.PersonID == "" {
		return nil, actor.ErrForbidden
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+sessionCols+` FROM sessions s
		WHERE s.person_id = $1 AND s.expires_at > $2 ORDER BY s.created_at DESC, s.id_hash`, a.PersonID, s.now().UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var x Session
		var created, seen, expires int64
		if err := rows.Scan(sessionDest(&x, &created, &seen, &expires)...); err != nil {
			return nil, err
		}
		x.CreatedAt, x.SeenAt, x.ExpiresAt = time.UnixMilli(created), time.UnixMilli(seen), time.UnixMilli(expires)
		out = append(out, x)
	}
	return out, rows.Err()
}

// Revoke ends one of the actor's sessions by its ID (as listed by Sessions). Someone
// else's session is actor.ErrNotFound, as is an unknown one; the system may end any.
func (s *Service) Revoke(ctx context.Context, a actor.Actor, sessionID string) error {
	if a.PersonID == "" && !a.System {
		return actor.ErrForbidden
	}
	var owner string
	err := s.db.QueryRowContext(ctx, `DELETE FROM sessions WHERE id_hash = $1 AND (person_id = $2 OR $3) RETURNING person_id`,
		sessionID, a.PersonID, a.System).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return actor.ErrNotFound
	}
	if err != nil {
		return err
	}
	s.audit.Write(ctx, s.entry(a, "session.revoke", record{person: directory.Person{ID: owner}}, true, nil))
	return nil
}

// RevokeAll ends every session of the actor, the current one included ("se
// déconnecter partout", after a lost phone or a shared computer).
func (s *Service) RevokeAll(ctx context.Context, a actor.Actor) error {
	if a.PersonID == "" {
		return actor.ErrForbidden
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE person_id = $1`, a.PersonID)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		return s.audit.WriteTx(ctx, tx, s.entry(a, "session.revoke_all", record{person: directory.Person{ID: a.PersonID}}, true,
			map[string]string{"count": itoa(n)}))
	})
}

// Logout ends the session behind a cookie value. An unknown token is not an error:
// logging out twice, or with an expired cookie, simply leaves one logged out.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	var personID, ip string
	err := s.db.QueryRowContext(ctx, `DELETE FROM sessions WHERE id_hash = $1 RETURNING person_id, ip`, ids.Hash(token)).Scan(&personID, &ip)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	a := actor.Actor{PersonID: personID, IP: ip}
	// The login makes the entry findable by name in the console; missing it is no reason to fail a logout.
	_ = s.db.QueryRowContext(ctx, `SELECT login FROM persons WHERE id = $1`, personID).Scan(&a.Login)
	s.audit.Write(ctx, s.entry(a, "logout", record{person: directory.Person{ID: personID}}, true, nil))
	return nil
}

type sessionKey struct{}

// WithSession records in ctx the ID of the session the request runs in (Session.ID
// from Lookup). ChangePassword ends every other session of the person but keeps that
// one; without it, it ends them all and the person has to log in again.
func WithSession(ctx context.Context, sessionID string) context.Context {
	return context.WithValue(ctx, sessionKey{}, sessionID)
}

func currentSession(ctx context.Context) string {
	id, _ := ctx.Value(sessionKey{}).(string)
	return id
}

// endSessions deletes the person's sessions but keep (which may be "").
func endSessions(ctx context.Context, q db.Querier, personID, keep string) error {
	_, err := q.ExecContext(ctx, `DELETE FROM sessions WHERE person_id = $1 AND id_hash <> $2`, personID, keep)
	return err
}

// Alive tells whether the session behind a cookie value is still valid (not revoked,
// not expired, its person still active) without counting as activity: long-lived
// requests, such as live streams, check it from time to time and end when it is not.
func (s *Service) Alive(ctx context.Context, token string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM sessions s JOIN persons p ON p.id = s.person_id
		WHERE s.id_hash = $1 AND s.expires_at > $2 AND p.state = $3`, ids.Hash(token), s.now().UnixMilli(), directory.StateActive).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
