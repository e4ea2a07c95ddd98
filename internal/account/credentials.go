package account

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/ids"
	"github.com/preau-ent/preau/internal/platform/mail"
)

// ActivationCodeLength is the length of the codes printed on activation letters.
const ActivationCodeLength = 8

// IssueActivation gives a person a new activation code, valid ActivationValidity,
// and returns it (to print on a letter or read on the phone); only its hash is kept.
// It is also how an administrator resets a forgotten password: the password is
// cleared, the account goes back to pending (a blocked one stays blocked) and its
// sessions end. Administrators of one of the person's structures may do it, but not
// to someone holding a role they could not grant themselves.
func (s *Service) IssueActivation(ctx context.Context, a actor.Actor, personID string) (string, error) {
	if err := s.mustAdminPerson(ctx, a, personID); err != nil {
		return "", err
	}
	if err := s.mustOutrank(ctx, a, personID); err != nil {
		return "", err
	}
	r, err := s.recordByID(ctx, s.db, personID)
	if err != nil {
		return "", err
	}
	code := ids.Code(ActivationCodeLength)
	now := s.now()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := upsertCredentials(ctx, tx, personID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE credentials SET password_hash = '', activation_hash = $1, activation_until = $2,
			failed_count = 0, locked_until = 0 WHERE person_id = $3`,
			ids.Hash(code), now.Add(s.cfg.ActivationValidity).UnixMilli(), personID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE persons SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4`,
			directory.StatePending, now.UnixMilli(), personID, directory.StateActive); err != nil {
			return err
		}
		if err := endSessions(ctx, tx, personID, ""); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "account.activation_issued", r, true,
			map[string]string{"login": r.person.Login, "until": now.Add(s.cfg.ActivationValidity).Format(time.DateOnly)}))
	})
	if err != nil {
		return "", err
	}
	return code, nil
}

// normalizeCode forgives what people do when they type a code from a letter:
// lower case, spaces, dashes.
func normalizeCode(code string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "\t", "").Replace(strings.TrimSpace(code)))
}

// Activate sets the first password of an account with the code of its letter. A
// wrong login, a wrong or expired code are all ErrBadCode and count as failures of
// the address; a good code with a password the policy refuses returns the
// *actor.InvalidError and leaves the code usable.
func (s *Service) Activate(ctx context.Context, login, code, password, ip string) error {
	login, ip = normalizeLogin(login), clip(ip, maxIPLen)
	anon := actor.Actor{Login: login, IP: ip}
	if blocked, err := s.ipBlocked(ctx, ip); err != nil {
		return err
	} else if blocked {
		s.audit.Write(ctx, s.entry(anon, "account.activate", record{}, false, reason("rate_limited")))
		return ErrRateLimited
	}
	r, err := s.recordByLogin(ctx, login)
	if err != nil && !errors.Is(err, actor.ErrNotFound) {
		return err
	}
	now := s.now()
	// Compared on hashes in constant time, and evaluated whole, so that neither the
	// comparison nor an early exit tells how close a guess was.
	match := subtle.ConstantTimeCompare([]byte(ids.Hash(normalizeCode(code))), []byte(r.activationHash)) == 1
	if err != nil || r.activationHash == "" || !match || r.activationUntil <= now.UnixMilli() {
		s.ipFailed(ctx, ip)
		a, why := anon, "bad_code"
		if r.person.ID != "" {
			a = self(r, ip)
			if match {
				why = "expired_code"
			}
		}
		s.audit.Write(ctx, s.entry(a, "account.activate", r, false, reason(why)))
		return ErrBadCode
	}
	if r.person.State == directory.StateBlocked {
		s.audit.Write(ctx, s.entry(self(r, ip), "account.activate", r, false, reason("blocked")))
		return ErrBlocked
	}
	if err := CheckPolicy(password, r.person); err != nil {
		return err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		// Conditioned on the code still being there: of two concurrent activations with
		// the same code, one wins.
		res, err := tx.ExecContext(ctx, `UPDATE credentials SET password_hash = $1, activation_hash = '', activation_until = 0,
			failed_count = 0, locked_until = 0, password_changed = $2 WHERE person_id = $3 AND activation_hash = $4`,
			hash, now.UnixMilli(), r.person.ID, r.activationHash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrBadCode
		}
		if _, err := tx.ExecContext(ctx, `UPDATE persons SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4`,
			directory.StateActive, now.UnixMilli(), r.person.ID, directory.StatePending); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(self(r, ip), "account.activate", r, true, nil))
	})
}

// ChangePassword changes the actor's own password after checking the current one.
// Every other session of the person ends (whoever else knew the old password is
// logged out); the session named by WithSession in ctx stays. A wrong current
// password is an *actor.InvalidError on "current" and counts as a failure of the
// address, so that a stolen session cannot be used to guess the password at will.
func (s *Service) ChangePassword(ctx context.Context, a actor.Actor, current, next string) error {
	if a.PersonID == "" {
		return actor.ErrForbidden
	}
	if blocked, err := s.ipBlocked(ctx, a.IP); err != nil {
		return err
	} else if blocked {
		return ErrRateLimited
	}
	r, err := s.recordByID(ctx, s.db, a.PersonID)
	if errors.Is(err, actor.ErrNotFound) || (err == nil && r.person.State != directory.StateActive) {
		return actor.ErrForbidden
	}
	if err != nil {
		return err
	}
	ok, _, err := s.verify(ctx, current, r.passwordHash, false)
	if err != nil {
		return err
	}
	if !ok {
		s.ipFailed(ctx, a.IP)
		s.audit.Write(ctx, s.entry(a, "account.password_change", r, false, reason("bad_current_password")))
		return actor.Invalid("current", "account.bad_current_password")
	}
	if err := CheckPolicy(next, r.person); err != nil {
		return err
	}
	hash, err := s.hash(ctx, next)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := setPassword(ctx, tx, r.person.ID, hash, s.now()); err != nil {
			return err
		}
		if err := endSessions(ctx, tx, r.person.ID, currentSession(ctx)); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "account.password_change", r, true, nil))
	})
}

// setPassword stores a new hash and clears what a new password makes moot: the
// activation code, the failures and the lock.
func setPassword(ctx context.Context, q db.Querier, personID, hash string, now time.Time) error {
	if err := upsertCredentials(ctx, q, personID); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `UPDATE credentials SET password_hash = $1, activation_hash = '', activation_until = 0,
		failed_count = 0, locked_until = 0, password_changed = $2 WHERE person_id = $3`, hash, now.UnixMilli(), personID)
	return err
}

// maxResetTargets bounds how many accounts one request may mail: a family often
// shares one address between a parent's and the children's accounts.
const maxResetTargets = 5

// RequestReset mails a single-use link, valid ResetValidity, to every active account
// whose login or e-mail address is loginOrEmail and that has an address. link makes
// the URL from the token. To the caller it returns nil whatever happened to whom, so
// that the form cannot tell which accounts exist; only ErrRateLimited (per address)
// and database errors come back. Each person gets at most a few mails an hour.
func (s *Service) RequestReset(ctx context.Context, loginOrEmail, ip string, link func(token string) string) error {
	ip = clip(ip, maxIPLen)
	anon := actor.Actor{IP: ip}
	n, err := s.rateHit(ctx, "reset:"+ip, s.cfg.IPWindow)
	if err != nil {
		return err
	}
	if n > int64(s.cfg.IPLimit) {
		s.audit.Write(ctx, s.entry(anon, "account.reset_request", record{}, false, reason("rate_limited")))
		return ErrRateLimited
	}
	id := strings.TrimSpace(loginOrEmail)
	var rows *sql.Rows
	switch {
	case id == "" || len(id) > 254:
	case strings.Contains(id, "@"):
		// lower(email) is indexed by the account migrations, for the persons that
		// have an address (the condition lets both engines use that partial index).
		rows, err = s.db.QueryContext(ctx, `SELECT p.id FROM persons p WHERE lower(p.email) = $1 AND p.email <> '' ORDER BY p.login LIMIT $2`,
			strings.ToLower(id), maxResetTargets)
	default:
		rows, err = s.db.QueryContext(ctx, `SELECT p.id FROM persons p WHERE p.login = $1`, normalizeLogin(id))
	}
	if err != nil {
		return err
	}
	var targets []string
	if rows != nil {
		for rows.Next() {
			var pid string
			if err := rows.Scan(&pid); err != nil {
				rows.Close()
				return err
			}
			targets = append(targets, pid)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	if len(targets) == 0 {
		// The typed text is not logged: it may be a stranger's e-mail address.
		s.audit.Write(ctx, s.entry(anon, "account.reset_request", record{}, false, reason("unknown")))
		return nil
	}
	for _, pid := range targets {
		if err := s.sendReset(ctx, pid, ip, link); err != nil {
			return err
		}
	}
	return nil
}

// sendReset makes and mails one reset link; failures that must not reach the
// requester (no address, too many mails, mail server down) are audited and logged.
func (s *Service) sendReset(ctx context.Context, personID, ip string, link func(string) string) error {
	r, err := s.recordByID(ctx, s.db, personID)
	if err != nil {
		return err
	}
	a := self(r, ip)
	refuse := func(why string) error {
		s.audit.Write(ctx, s.entry(a, "account.reset_request", r, false, reason(why)))
		return nil
	}
	switch {
	case r.person.State != directory.StateActive:
		return refuse("not_active")
	case r.person.Email == "":
		return refuse("no_email")
	case s.mail == nil:
		slog.Error("réinitialisation de mot de passe impossible : aucun envoi de courriel configuré")
		return refuse("no_mailer")
	}
	n, err := s.rateHit(ctx, "reset-person:"+personID, resetPerPersonWindow)
	if err != nil {
		return err
	}
	if n > resetPerPerson {
		return refuse("too_many")
	}
	token := ids.Random(32)
	now := s.now()
	if _, err := s.db.ExecContext(ctx, `INSERT INTO password_resets(token_hash, person_id, expires_at) VALUES ($1, $2, $3)`,
		ids.Hash(token), personID, now.Add(s.cfg.ResetValidity).UnixMilli()); err != nil {
		return err
	}
	if err := s.mail.Send(ctx, resetMail(r.person, link(token), s.cfg.ResetValidity)); err != nil {
		slog.Error("envoi du courriel de réinitialisation", "person", personID, "err", err)
		return refuse("mail_failed")
	}
	s.audit.Write(ctx, s.entry(a, "account.reset_request", r, true, nil))
	return nil
}

func resetMail(p directory.Person, url string, valid time.Duration) mail.Message {
	return mail.Message{
		To:      p.Email,
		Subject: "Préau : réinitialisation de votre mot de passe",
		Body: fmt.Sprintf(`Bonjour %s,

Une demande de réinitialisation du mot de passe de votre compte Préau
(identifiant : %s) vient d'être faite.

Pour choisir un nouveau mot de passe, ouvrez ce lien dans les %s :

%s

Ce lien ne sert qu'une fois. Si vous n'êtes pas à l'origine de cette demande,
ignorez ce message : votre mot de passe actuel reste valable.

-- 
Préau, votre espace numérique de travail
Ce message est envoyé automatiquement, merci de ne pas y répondre.
`, p.DisplayName(), p.Login, frenchDuration(valid), url),
	}
}

// frenchDuration writes a validity the way a person reads it: "30 minutes", "2 heures".
func frenchDuration(d time.Duration) string {
	plural := func(n int, one, many string) string {
		if n > 1 {
			return fmt.Sprintf("%d %s", n, many)
		}
		return fmt.Sprintf("%d %s", n, one)
	}
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return plural(int(d/(24*time.Hour)), "jour", "jours")
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int(d/time.Hour), "heure", "heures")
	default:
		return plural(max(1, int(d/time.Minute)), "minute", "minutes")
	}
}

// ResetPassword sets a new password with the token of a reset link. The link works
// once, and every other link of the person dies with it; the lock is lifted and every
// session ends. A bad, used or expired token is ErrBadToken and counts as a failure
// of the address; a password the policy refuses is an *actor.InvalidError and leaves
// the link usable.
func (s *Service) ResetPassword(ctx context.Context, token, password, ip string) error {
	ip = clip(ip, maxIPLen)
	anon := actor.Actor{IP: ip}
	if blocked, err := s.ipBlocked(ctx, ip); err != nil {
		return err
	} else if blocked {
		s.audit.Write(ctx, s.entry(anon, "account.reset", record{}, false, reason("rate_limited")))
		return ErrRateLimited
	}
	now := s.now()
	tokenHash := ids.Hash(token)
	var personID string
	var expires, used int64
	err := s.db.QueryRowContext(ctx, `SELECT person_id, expires_at, used_at FROM password_resets WHERE token_hash = $1`, tokenHash).
		Scan(&personID, &expires, &used)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	var r record
	if err == nil {
		if r, err = s.recordByID(ctx, s.db, personID); err != nil && !errors.Is(err, actor.ErrNotFound) {
			return err
		}
	}
	if err != nil || used != 0 || expires <= now.UnixMilli() || r.person.State != directory.StateActive {
		s.ipFailed(ctx, ip)
		a := anon
		if r.person.ID != "" {
			a = self(r, ip)
		}
		s.audit.Write(ctx, s.entry(a, "account.reset", r, false, reason("bad_token")))
		return ErrBadToken
	}
	if err := CheckPolicy(password, r.person); err != nil {
		return err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at = 0`, now.UnixMilli(), tokenHash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrBadToken // used by a concurrent request
		}
		if _, err := tx.ExecContext(ctx, `UPDATE password_resets SET used_at = $1 WHERE person_id = $2 AND used_at = 0`, now.UnixMilli(), r.person.ID); err != nil {
			return err
		}
		if err := setPassword(ctx, tx, r.person.ID, hash, now); err != nil {
			return err
		}
		if err := endSessions(ctx, tx, r.person.ID, ""); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(self(r, ip), "account.reset", r, true, nil))
	})
}

// Unlock lifts the lock and forgets the failures of an account, for an administrator
// of one of the person's structures (the person on the phone cannot wait 15 minutes).
func (s *Service) Unlock(ctx context.Context, a actor.Actor, personID string) error {
	if err := s.mustAdminPerson(ctx, a, personID); err != nil {
		return err
	}
	r, err := s.recordByID(ctx, s.db, personID)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE credentials SET failed_count = 0, locked_until = 0 WHERE person_id = $1`, personID); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "account.unlock", r, true, nil))
	})
}

// SetPassword sets a person's password directly, for the command line (`preau admin
// reset-password`) and the demo: only the system or a super administrator may, since
// it skips the person entirely. A pending account becomes active (a blocked one stays
// blocked); the lock is lifted and every session ends.
func (s *Service) SetPassword(ctx context.Context, a actor.Actor, personID, password string) error {
	ok, err := s.rights.IsSuperAdmin(ctx, a)
	if err != nil {
		return err
	}
	if !ok {
		return actor.ErrForbidden
	}
	r, err := s.recordByID(ctx, s.db, personID)
	if err != nil {
		return err
	}
	if err := CheckPolicy(password, r.person); err != nil {
		return err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	now := s.now()
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := setPassword(ctx, tx, personID, hash, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE persons SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4`,
			directory.StateActive, now.UnixMilli(), personID, directory.StatePending); err != nil {
			return err
		}
		if err := endSessions(ctx, tx, personID, ""); err != nil {
			return err
		}
		return s.audit.WriteTx(ctx, tx, s.entry(a, "account.password_set", r, true, map[string]string{"login": r.person.Login}))
	})
}

// IsLocked tells whether an account is locked and until when, for the console (which
// has already checked that its user administers the person).
func (s *Service) IsLocked(ctx context.Context, personID string) (bool, time.Time, error) {
	var until int64
	err := s.db.QueryRowContext(ctx, `SELECT locked_until FROM credentials WHERE person_id = $1`, personID).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return false, time.Time{}, nil
	}
	if err != nil || until <= s.now().UnixMilli() {
		return false, time.Time{}, err
	}
	return true, time.UnixMilli(until), nil
}

// PurgeExpired deletes what can no longer serve: ended sessions, used or expired
// reset links, expired activation codes and the counters of past windows.
func (s *Service) PurgeExpired(ctx context.Context) error {
	now := s.now().UnixMilli()
	oldest := s.now().Add(-max(s.cfg.IPWindow, resetPerPersonWindow)).UnixMilli()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`DELETE FROM sessions WHERE expires_at <= $1`, []any{now}},
		{`DELETE FROM password_resets WHERE used_at <> 0 OR expires_at <= $1`, []any{now}},
		{`UPDATE credentials SET activation_hash = '', activation_until = 0 WHERE activation_hash <> '' AND activation_until <= $1`, []any{now}},
		{`DELETE FROM rate_counters WHERE window_start < $1`, []any{oldest}},
	} {
		if _, err := s.db.ExecContext(ctx, q.sql, q.args...); err != nil {
			return err
		}
	}
	return nil
}
