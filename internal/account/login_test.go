package account

import (
	"strings"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/ids"
)

func TestLogin(t *testing.T) {
	e := newEnv(t, Config{})
	p := e.active("Élise", "Reclus", directory.Eleve, "")

	tok, got, err := e.acc.Login(e.ctx, "  "+strings.ToUpper(p.Login)+" ", goodPassword, "192.0.2.7", "Mozilla/5.0 "+strings.Repeat("x", 1000))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != p.ID || got.State != directory.StateActive || got.Login != p.Login {
		t.Fatalf("personne %+v", got)
	}
	if len(tok) < 50 {
		t.Fatalf("jeton trop court : %q", tok)
	}
	// The database holds the hash of the token, never the token.
	var n int
	if err := e.db.QueryRowContext(e.ctx, `SELECT COUNT(*) FROM sessions WHERE id_hash = $1`, tok).Scan(&n); err != nil || n != 0 {
		t.Fatalf("jeton en clair en base : %d %v", n, err)
	}
	sess, who, err := e.acc.Lookup(e.ctx, tok)
	if err != nil || who.ID != p.ID || sess.ID != ids.Hash(tok) || sess.IP != "192.0.2.7" || len(sess.UserAgent) != maxUserAgentLen {
		t.Fatalf("Lookup : %+v %+v %v", sess, who, err)
	}
	if !sess.ExpiresAt.Equal(e.clock.Now().Add(time.Hour)) {
		t.Errorf("expiration %v", sess.ExpiresAt)
	}
	x := e.wantAudit("login", true, p.ID, "")
	if x.ActorID != p.ID || x.ActorLogin != p.Login || x.IP != "192.0.2.7" || x.StructureID != e.school.ID {
		t.Errorf("audit de connexion : %+v", x)
	}

	_, err = e.login(p, "Cartable-2025")
	wantErr(t, err, ErrBadCredentials)
	e.wantAudit("login.failed", false, p.ID, "bad_password")

	_, _, err = e.acc.Login(e.ctx, "personne.inconnue", goodPassword, "192.0.2.1", "")
	wantErr(t, err, ErrBadCredentials)
	x = e.wantAudit("login.failed", false, "", "unknown_login")
	if x.ActorLogin != "personne.inconnue" || x.TargetID != "" {
		t.Errorf("audit d'un inconnu : %+v", x)
	}

	pending := e.person("Paul", "Langevin", directory.Enseignant, "")
	_, err = e.login(pending, "n'importe quoi")
	wantErr(t, err, ErrNotActivated)
	e.wantAudit("login.failed", false, pending.ID, "not_activated")

	blocked := e.active("Marie", "Curie", directory.Enseignant, "")
	if err := e.dir.SetState(e.ctx, sys, blocked.ID, directory.StateBlocked); err != nil {
		t.Fatal(err)
	}
	// A wrong password tells nothing about the block; the right one does.
	_, err = e.login(blocked, "Mauvais-2024")
	wantErr(t, err, ErrBadCredentials)
	_, err = e.login(blocked, goodPassword)
	wantErr(t, err, ErrBlocked)
	e.wantAudit("login.failed", false, blocked.ID, "blocked")
}

func TestLockout(t *testing.T) {
	e := newEnv(t, Config{LockAfter: 3, LockFor: 15 * time.Minute})
	p := e.active("Louis", "Pasteur", directory.Eleve, "")
	admin := e.admin()

	for i := 0; i < 2; i++ {
		_, err := e.login(p, "Mauvais-2024")
		wantErr(t, err, ErrBadCredentials)
	}
	// A success resets the count.
	e.mustLogin(p, goodPassword)
	for i := 0; i < 2; i++ {
		_, err := e.login(p, "Mauvais-2024")
		wantErr(t, err, ErrBadCredentials)
	}
	_, err := e.login(p, "Mauvais-2024")
	wantErr(t, err, ErrLocked)
	e.wantAudit("login.failed", false, p.ID, "locked_now")
	// Locked: even the right password is refused, without being checked.
	_, err = e.login(p, goodPassword)
	wantErr(t, err, ErrLocked)
	e.wantAudit("login.failed", false, p.ID, "locked")
	locked, until, err := e.acc.IsLocked(e.ctx, p.ID)
	if err != nil || !locked || !until.Equal(e.clock.Now().Add(15*time.Minute)) {
		t.Fatalf("IsLocked : %v %v %v", locked, until, err)
	}

	// The lock ends by itself; one more failure then locks again at once.
	e.clock.Add(16 * time.Minute)
	if locked, _, _ := e.acc.IsLocked(e.ctx, p.ID); locked {
		t.Fatal("verrou non levé après 15 minutes")
	}
	_, err = e.login(p, "Mauvais-2024")
	wantErr(t, err, ErrLocked)

	// Nobody but an administrator of the person's structure unlocks.
	stranger := actorOf(e.active("Ada", "Lovelace", directory.Enseignant, ""), "")
	wantErr(t, e.acc.Unlock(e.ctx, stranger, p.ID), actor.ErrForbidden)
	if err := e.acc.Unlock(e.ctx, admin, p.ID); err != nil {
		t.Fatal(err)
	}
	x := e.wantAudit("account.unlock", true, p.ID, "")
	if x.ActorID != admin.PersonID || x.StructureID != e.school.ID {
		t.Errorf("audit du déverrouillage : %+v", x)
	}
	e.mustLogin(p, goodPassword)
	// After the unlock and a success, the count starts again from zero.
	_, err = e.login(p, "Mauvais-2024")
	wantErr(t, err, ErrBadCredentials)
	if locked, _, _ := e.acc.IsLocked(e.ctx, p.ID); locked {
		t.Fatal("verrouillé après un seul échec")
	}
	if locked, _, err := e.acc.IsLocked(e.ctx, "inconnu"); locked || err != nil {
		t.Fatalf("IsLocked d'un inconnu : %v %v", locked, err)
	}
}

func TestIPRateLimit(t *testing.T) {
	e := newEnv(t, Config{IPLimit: 4, IPWindow: 5 * time.Minute, LockAfter: 100})
	p := e.active("Irène", "Joliot", directory.Eleve, "")
	const ip = "198.51.100.9"
	for i := 0; i < 4; i++ {
		// Unknown logins, wrong passwords and wrong codes all count.
		var err error
		switch i % 3 {
		case 0:
			_, _, err = e.acc.Login(e.ctx, "inconnu"+string(rune('a'+i)), "x", ip, "")
			wantErr(t, err, ErrBadCredentials)
		case 1:
			_, _, err = e.acc.Login(e.ctx, p.Login, "Mauvais-2024", ip, "")
			wantErr(t, err, ErrBadCredentials)
		case 2:
			wantErr(t, e.acc.Activate(e.ctx, p.Login, "AAAAAAAA", goodPassword, ip), ErrBadCode)
		}
	}
	_, _, err := e.acc.Login(e.ctx, p.Login, goodPassword, ip, "")
	wantErr(t, err, ErrRateLimited)
	e.wantAudit("login.failed", false, "", "rate_limited")
	wantErr(t, e.acc.Activate(e.ctx, p.Login, "AAAAAAAA", goodPassword, ip), ErrRateLimited)
	wantErr(t, e.acc.ResetPassword(e.ctx, "jeton", goodPassword, ip), ErrRateLimited)

	// Another address is not affected, and successes do not count.
	for i := 0; i < 6; i++ {
		if _, _, err := e.acc.Login(e.ctx, p.Login, goodPassword, "198.51.100.10", ""); err != nil {
			t.Fatal(err)
		}
	}
	// The next window starts afresh.
	e.clock.Add(5 * time.Minute)
	if _, _, err := e.acc.Login(e.ctx, p.Login, goodPassword, ip, ""); err != nil {
		t.Fatal(err)
	}
}

func TestSessions(t *testing.T) {
	e := newEnv(t, Config{SessionIdle: time.Hour, SessionMax: 3 * time.Hour})
	p := e.active("Sophie", "Germain", directory.Enseignant, "")
	other := e.active("Emmy", "Noether", directory.Enseignant, "")
	me := actorOf(p, "192.0.2.1")

	t1 := e.mustLogin(p, goodPassword)
	e.clock.Add(time.Minute)
	_, _, err := e.acc.Login(e.ctx, p.Login, goodPassword, "192.0.2.2", "Téléphone")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Minute)
	t3 := e.mustLogin(p, goodPassword)
	e.mustLogin(other, goodPassword) // not listed among p's

	list, err := e.acc.Sessions(e.ctx, me)
	if err != nil || len(list) != 3 {
		t.Fatalf("Sessions : %v %v", list, err)
	}
	if list[0].ID != ids.Hash(t3) || list[1].UserAgent != "Téléphone" || list[2].ID != ids.Hash(t1) {
		t.Fatalf("ordre des sessions : %+v", list)
	}

	// seen_at is written only when a minute old: the hot path stays read-only.
	s0, _, _ := e.acc.Lookup(e.ctx, t1)
	e.clock.Add(30 * time.Second)
	s1, _, err := e.acc.Lookup(e.ctx, t1)
	if err != nil || !s1.SeenAt.Equal(s0.SeenAt) || !s1.ExpiresAt.Equal(s0.ExpiresAt) {
		t.Fatalf("seen_at réécrit au bout de 30 s : %v → %v", s0.SeenAt, s1.SeenAt)
	}
	e.clock.Add(31 * time.Second)
	s2, _, err := e.acc.Lookup(e.ctx, t1)
	if err != nil || !s2.SeenAt.Equal(e.clock.Now()) || !s2.ExpiresAt.Equal(e.clock.Now().Add(time.Hour)) {
		t.Fatalf("seen_at non glissé : %+v %v", s2, err)
	}

	// Sliding: used every 50 minutes the session lives on, up to SessionMax.
	for i := 0; i < 3; i++ {
		e.clock.Add(50 * time.Minute)
		if _, _, err := e.acc.Lookup(e.ctx, t1); err != nil {
			t.Fatalf("session close après %d × 50 min : %v", i+1, err)
		}
	}
	e.clock.Add(40 * time.Minute) // past created + 3 h
	_, _, err = e.acc.Lookup(e.ctx, t1)
	wantErr(t, err, ErrNoSession)
	// Idle: the others were not used for more than an hour.
	_, _, err = e.acc.Lookup(e.ctx, t3)
	wantErr(t, err, ErrNoSession)
	if list, _ := e.acc.Sessions(e.ctx, me); len(list) != 0 {
		t.Fatalf("sessions expirées listées : %+v", list)
	}
	for _, bad := range []string{"", "inconnu", strings.Repeat("a", 1000)} {
		_, _, err = e.acc.Lookup(e.ctx, bad)
		wantErr(t, err, ErrNoSession)
	}

	// Revoke one, then all.
	a1, a2 := e.mustLogin(p, goodPassword), e.mustLogin(p, goodPassword)
	tOther := e.mustLogin(other, goodPassword)
	wantErr(t, e.acc.Revoke(e.ctx, me, ids.Hash(tOther)), actor.ErrNotFound) // someone else's
	wantErr(t, e.acc.Revoke(e.ctx, me, a1), actor.ErrNotFound)               // the token is not the ID
	if err := e.acc.Revoke(e.ctx, me, ids.Hash(a1)); err != nil {
		t.Fatal(err)
	}
	e.wantAudit("session.revoke", true, p.ID, "")
	_, _, err = e.acc.Lookup(e.ctx, a1)
	wantErr(t, err, ErrNoSession)
	if _, _, err := e.acc.Lookup(e.ctx, a2); err != nil {
		t.Fatal(err)
	}
	e.mustLogin(p, goodPassword)
	if err := e.acc.RevokeAll(e.ctx, me); err != nil {
		t.Fatal(err)
	}
	if x := e.wantAudit("session.revoke_all", true, p.ID, ""); x.Details["count"] == "" {
		t.Errorf("audit : %+v", x)
	}
	if list, _ := e.acc.Sessions(e.ctx, me); len(list) != 0 {
		t.Fatalf("sessions après RevokeAll : %+v", list)
	}
	if _, _, err := e.acc.Lookup(e.ctx, tOther); err != nil {
		t.Fatalf("la session d'un autre a été fermée : %v", err)
	}
	wantErr(t, e.acc.RevokeAll(e.ctx, actor.Actor{}), actor.ErrForbidden)
	if _, err := e.acc.Sessions(e.ctx, actor.Actor{}); err == nil {
		t.Fatal("Sessions sans personne")
	}

	// Logout ends the cookie's session; twice is fine.
	if err := e.acc.Logout(e.ctx, tOther); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.acc.Lookup(e.ctx, tOther)
	wantErr(t, err, ErrNoSession)
	if err := e.acc.Logout(e.ctx, tOther); err != nil {
		t.Fatal(err)
	}
	if x := e.wantAudit("logout", true, other.ID, ""); x.ActorLogin != other.Login {
		t.Errorf("audit de déconnexion : %+v", x)
	}

	// A person who stops being active loses their sessions at once, even if a row remains.
	b := e.mustLogin(other, goodPassword)
	if _, err := e.db.ExecContext(e.ctx, `UPDATE persons SET state = 'blocked' WHERE id = $1`, other.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.acc.Lookup(e.ctx, b)
	wantErr(t, err, ErrNoSession)

	// The system may end anyone's session.
	c := e.mustLogin(p, goodPassword)
	if err := e.acc.Revoke(e.ctx, sys, ids.Hash(c)); err != nil {
		t.Fatal(err)
	}
}

func TestRehashOnLogin(t *testing.T) {
	e := newEnv(t, Config{})
	p := e.active("Henri", "Poincaré", directory.Enseignant, "")
	old := hashPassword(goodPassword, ArgonParams{MemoryKiB: 32, Time: 1, Threads: 1})
	if _, err := e.db.ExecContext(e.ctx, `UPDATE credentials SET password_hash = $1 WHERE person_id = $2`, old, p.ID); err != nil {
		t.Fatal(err)
	}
	e.mustLogin(p, goodPassword)
	var now string
	if err := e.db.QueryRowContext(e.ctx, `SELECT password_hash FROM credentials WHERE person_id = $1`, p.ID).Scan(&now); err != nil {
		t.Fatal(err)
	}
	h, err := parsePHC(now)
	if err != nil || h.params != fastArgon {
		t.Fatalf("empreinte non mise à niveau : %s %v", now, err)
	}
	e.mustLogin(p, goodPassword)
}

func TestPurgeExpired(t *testing.T) {
	e := newEnv(t, Config{})
	p := e.active("Alan", "Turing", directory.Enseignant, "alan@example.fr")
	live := e.mustLogin(p, goodPassword)
	_, _ = e.login(p, "Mauvais-2024") // a rate counter
	if err := e.acc.RequestReset(e.ctx, p.Login, "192.0.2.1", func(string) string { return "x" }); err != nil {
		t.Fatal(err)
	}
	pending := e.person("Grace", "Hopper", directory.Enseignant, "")
	if _, err := e.acc.IssueActivation(e.ctx, sys, pending.ID); err != nil {
		t.Fatal(err)
	}
	count := func(q string) int {
		var n int
		if err := e.db.QueryRowContext(e.ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := e.acc.PurgeExpired(e.ctx); err != nil {
		t.Fatal(err)
	}
	if count(`SELECT COUNT(*) FROM sessions`) != 1 || count(`SELECT COUNT(*) FROM password_resets`) != 1 || count(`SELECT COUNT(*) FROM rate_counters`) == 0 {
		t.Fatal("la purge a supprimé des données encore valides")
	}
	e.clock.Add(121 * 24 * time.Hour)
	if err := e.acc.PurgeExpired(e.ctx); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`SELECT COUNT(*) FROM sessions`, `SELECT COUNT(*) FROM password_resets`, `SELECT COUNT(*) FROM rate_counters`,
		`SELECT COUNT(*) FROM credentials WHERE activation_hash <> ''`} {
		if n := count(q); n != 0 {
			t.Errorf("%s = %d après la purge", q, n)
		}
	}
	_, _, err := e.acc.Lookup(e.ctx, live)
	wantErr(t, err, ErrNoSession)
}
