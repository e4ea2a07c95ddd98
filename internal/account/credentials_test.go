package account

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/mail"
	"github.com/preau-ent/preau/internal/rights"
)

func TestActivation(t *testing.T) {
	e := newEnv(t, Config{ActivationValidity: 10 * 24 * time.Hour})
	admin := e.admin()
	p := e.person("Camille", "Claudel", directory.Eleve, "")

	// Only an administrator of one of the person's structures issues codes.
	teacher := actorOf(e.active("Victor", "Hugo", directory.Enseignant, ""), "")
	_, err := e.acc.IssueActivation(e.ctx, teacher, p.ID)
	wantErr(t, err, actor.ErrForbidden)
	outsider := e.personIn(e.other.ID, "Jean", "Jaurès", directory.Eleve, "")
	_, err = e.acc.IssueActivation(e.ctx, admin, outsider.ID)
	wantErr(t, err, actor.ErrForbidden)
	_, err = e.acc.IssueActivation(e.ctx, admin, "inconnu")
	wantErr(t, err, actor.ErrForbidden)
	_, err = e.acc.IssueActivation(e.ctx, sys, "inconnu")
	wantErr(t, err, actor.ErrNotFound)

	code, err := e.acc.IssueActivation(e.ctx, admin, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[A-HJKMNP-Z2-9]{8}$`).MatchString(code) {
		t.Fatalf("code %q", code)
	}
	x := e.wantAudit("account.activation_issued", true, p.ID, "")
	if x.ActorID != admin.PersonID || x.StructureID != e.school.ID || strings.Contains(x.Details["until"]+x.Details["login"], code) {
		t.Errorf("audit : %+v", x)
	}
	var stored string
	if err := e.db.QueryRowContext(e.ctx, `SELECT activation_hash FROM credentials WHERE person_id = $1`, p.ID).Scan(&stored); err != nil || stored == code || len(stored) != 64 {
		t.Fatalf("code stocké en clair ? %q %v", stored, err)
	}

	wantErr(t, e.acc.Activate(e.ctx, p.Login, "ABCDEFGH", goodPassword, "192.0.2.1"), ErrBadCode)
	e.wantAudit("account.activate", false, p.ID, "bad_code")
	wantErr(t, e.acc.Activate(e.ctx, "inconnu", code, goodPassword, "192.0.2.1"), ErrBadCode)
	// A good code with a password the policy refuses: the code stays usable.
	wantInvalid(t, e.acc.Activate(e.ctx, p.Login, code, "court", "192.0.2.1"), "password", "account.policy_length")
	wantInvalid(t, e.acc.Activate(e.ctx, p.Login, code, "Claudel-2024", "192.0.2.1"), "password", "account.policy_personal")
	// Typed as people type codes from a letter.
	typed := strings.ToLower(code[:4]) + "-" + code[4:]
	if err := e.acc.Activate(e.ctx, strings.ToUpper(p.Login), typed, goodPassword, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	e.wantAudit("account.activate", true, p.ID, "")
	if got, _ := e.dir.Person(e.ctx, p.ID); got.State != directory.StateActive {
		t.Fatalf("état après activation : %s", got.State)
	}
	e.mustLogin(p, goodPassword)
	// Single use.
	wantErr(t, e.acc.Activate(e.ctx, p.Login, code, "Autre-Mot-2025", "192.0.2.1"), ErrBadCode)

	// Expired code.
	q := e.person("Berthe", "Morisot", directory.Eleve, "")
	code, err = e.acc.IssueActivation(e.ctx, admin, q.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(10*24*time.Hour + time.Second)
	wantErr(t, e.acc.Activate(e.ctx, q.Login, code, goodPassword, "192.0.2.1"), ErrBadCode)
	e.wantAudit("account.activate", false, q.ID, "expired_code")

	// A new code is how an administrator resets a password: the person goes back to
	// pending, their sessions end, the old password no longer works.
	tok := e.mustLogin(p, goodPassword)
	code, err = e.acc.IssueActivation(e.ctx, admin, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = e.acc.Lookup(e.ctx, tok)
	wantErr(t, err, ErrNoSession)
	_, err = e.login(p, goodPassword)
	wantErr(t, err, ErrNotActivated)
	if err := e.acc.Activate(e.ctx, p.Login, code, "Nouveau-Mot-2025", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	e.mustLogin(p, "Nouveau-Mot-2025")

	// A blocked person stays blocked through a new code.
	if err := e.dir.SetState(e.ctx, sys, p.ID, directory.StateBlocked); err != nil {
		t.Fatal(err)
	}
	code, err = e.acc.IssueActivation(e.ctx, admin, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.acc.Activate(e.ctx, p.Login, code, goodPassword, "192.0.2.1"), ErrBlocked)
}

// A local administrator cannot take over an account holding a role they could not
// grant, such as a super administrator attached to their school.
func TestNoTakeoverOfHigherRoles(t *testing.T) {
	e := newEnv(t, Config{})
	admin := e.admin()
	super := e.active("Simone", "Veil", directory.Personnel, "")
	if err := e.rights.Grant(e.ctx, sys, super.ID, rights.SuperAdmin, ""); err != nil {
		t.Fatal(err)
	}
	_, err := e.acc.IssueActivation(e.ctx, admin, super.ID)
	wantErr(t, err, actor.ErrForbidden)
	otherAdmin := e.active("Olympe", "Gouges", directory.Personnel, "")
	if err := e.rights.Grant(e.ctx, sys, otherAdmin.ID, rights.LocalAdmin, e.other.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.acc.IssueActivation(e.ctx, admin, otherAdmin.ID)
	wantErr(t, err, actor.ErrForbidden)
	if _, err := e.acc.IssueActivation(e.ctx, actorOf(super, ""), otherAdmin.ID); err != nil {
		t.Fatal(err)
	}
}

func TestSetPassword(t *testing.T) {
	e := newEnv(t, Config{})
	admin := e.admin()
	p := e.person("Rosa", "Bonheur", directory.Enseignant, "")
	wantErr(t, e.acc.SetPassword(e.ctx, admin, p.ID, goodPassword), actor.ErrForbidden)
	wantErr(t, e.acc.SetPassword(e.ctx, sys, "inconnu", goodPassword), actor.ErrNotFound)
	wantInvalid(t, e.acc.SetPassword(e.ctx, sys, p.ID, "rosa-bonheur-1"), "password", "account.policy_personal")
	if err := e.acc.SetPassword(e.ctx, sys, p.ID, goodPassword); err != nil {
		t.Fatal(err)
	}
	if x := e.wantAudit("account.password_set", true, p.ID, ""); x.ActorLogin != "système:test" {
		t.Errorf("audit : %+v", x)
	}
	e.mustLogin(p, goodPassword)
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t, Config{})
	p := e.active("Nicolas", "Bourbaki", directory.Enseignant, "")
	me := actorOf(p, "192.0.2.1")
	keep := e.mustLogin(p, goodPassword)
	other := e.mustLogin(p, goodPassword)
	sess, _, err := e.acc.Lookup(e.ctx, keep)
	if err != nil {
		t.Fatal(err)
	}
	ctx := WithSession(e.ctx, sess.ID)

	wantInvalid(t, e.acc.ChangePassword(ctx, me, "Mauvais-2024", "Nouveau-Mot-2025"), "current", "account.bad_current_password")
	e.wantAudit("account.password_change", false, p.ID, "bad_current_password")
	wantInvalid(t, e.acc.ChangePassword(ctx, me, goodPassword, "nouveaumot"), "password", "account.policy_classes")
	wantErr(t, e.acc.ChangePassword(ctx, actor.Actor{}, goodPassword, "Nouveau-Mot-2025"), actor.ErrForbidden)
	wantErr(t, e.acc.ChangePassword(ctx, sys, goodPassword, "Nouveau-Mot-2025"), actor.ErrForbidden)

	if err := e.acc.ChangePassword(ctx, me, goodPassword, "Nouveau-Mot-2025"); err != nil {
		t.Fatal(err)
	}
	e.wantAudit("account.password_change", true, p.ID, "")
	if _, _, err := e.acc.Lookup(e.ctx, keep); err != nil {
		t.Fatalf("la session courante a été fermée : %v", err)
	}
	_, _, err = e.acc.Lookup(e.ctx, other)
	wantErr(t, err, ErrNoSession)
	_, err = e.login(p, goodPassword)
	wantErr(t, err, ErrBadCredentials)
	e.mustLogin(p, "Nouveau-Mot-2025")

	// Without WithSession every session ends.
	if err := e.acc.ChangePassword(e.ctx, me, "Nouveau-Mot-2025", "Encore-Un-2026"); err != nil {
		t.Fatal(err)
	}
	if list, _ := e.acc.Sessions(e.ctx, me); len(list) != 0 {
		t.Fatalf("sessions restantes : %d", len(list))
	}
}

var linkRE = regexp.MustCompile(`https://ent\.example\.fr/reinitialisation\?jeton=([a-z2-7]+)`)

func resetLink(token string) string {
	return "https://ent.example.fr/reinitialisation?jeton=" + url.QueryEscape(token)
}

// tokenFromSpool reads the newest mail of the spool and returns its token.
func (e *env) tokenFromSpool(wantTo string) (string, mail.Spooled) {
	e.t.Helper()
	list, err := e.spool.List(e.ctx)
	if err != nil || len(list) == 0 {
		e.t.Fatalf("aucun courriel : %v", err)
	}
	m := list[0]
	if m.To != wantTo {
		e.t.Fatalf("courriel pour %q, voulu %q", m.To, wantTo)
	}
	match := linkRE.FindStringSubmatch(m.Body)
	if match == nil {
		e.t.Fatalf("pas de lien dans %q", m.Body)
	}
	return match[1], m
}

func (e *env) mails() int {
	e.t.Helper()
	list, err := e.spool.List(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return len(list)
}

func TestResetFlow(t *testing.T) {
	e := newEnv(t, Config{ResetValidity: 30 * time.Minute, LockAfter: 2})
	p := e.active("Marie", "Skłodowska", directory.Responsable, "marie.sklodowska@example.fr")
	tok := e.mustLogin(p, goodPassword)
	// Locked out: the reset is also the way back in.
	for i := 0; i < 2; i++ {
		_, _ = e.login(p, "Mauvais-2024")
	}
	if locked, _, _ := e.acc.IsLocked(e.ctx, p.ID); !locked {
		t.Fatal("compte non verrouillé")
	}

	if err := e.acc.RequestReset(e.ctx, " "+p.Login+" ", "192.0.2.1", resetLink); err != nil {
		t.Fatal(err)
	}
	token, m := e.tokenFromSpool("marie.sklodowska@example.fr")
	if !strings.Contains(m.Subject, "réinitialisation") || !strings.Contains(m.Body, "Bonjour Marie SKŁODOWSKA") ||
		!strings.Contains(m.Body, p.Login) || !strings.Contains(m.Body, "30 minutes") {
		t.Errorf("courriel : %q\n%s", m.Subject, m.Body)
	}
	e.wantAudit("account.reset_request", true, p.ID, "")

	wantErr(t, e.acc.ResetPassword(e.ctx, "faux-jeton", "Nouveau-Mot-2025", "192.0.2.1"), ErrBadToken)
	e.wantAudit("account.reset", false, "", "bad_token")
	wantInvalid(t, e.acc.ResetPassword(e.ctx, token, "marie-2025-Ok", "192.0.2.1"), "password", "account.policy_personal")
	if err := e.acc.ResetPassword(e.ctx, token, "Nouveau-Mot-2025", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	e.wantAudit("account.reset", true, p.ID, "")
	wantErr(t, e.acc.ResetPassword(e.ctx, token, "Encore-Un-2026", "192.0.2.1"), ErrBadToken) // single use
	_, _, err := e.acc.Lookup(e.ctx, tok)
	wantErr(t, err, ErrNoSession)
	e.mustLogin(p, "Nouveau-Mot-2025") // and the lock is gone

	// By e-mail address, in any case; an older link dies when a newer one is used.
	e.clock.Add(time.Hour) // out of the per-person window
	if err := e.acc.RequestReset(e.ctx, "Marie.Sklodowska@EXAMPLE.fr", "192.0.2.1", resetLink); err != nil {
		t.Fatal(err)
	}
	first, _ := e.tokenFromSpool("marie.sklodowska@example.fr")
	e.clock.Add(time.Millisecond)
	if err := e.acc.RequestReset(e.ctx, p.Login, "192.0.2.1", resetLink); err != nil {
		t.Fatal(err)
	}
	second, _ := e.tokenFromSpool("marie.sklodowska@example.fr")
	if first == second {
		t.Fatal("même jeton deux fois")
	}
	if err := e.acc.ResetPassword(e.ctx, second, "Encore-Un-2026", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.acc.ResetPassword(e.ctx, first, "Encore-Un-2027", "192.0.2.1"), ErrBadToken)

	// Expired link.
	e.clock.Add(time.Hour)
	if err := e.acc.RequestReset(e.ctx, p.Login, "192.0.2.1", resetLink); err != nil {
		t.Fatal(err)
	}
	late, _ := e.tokenFromSpool("marie.sklodowska@example.fr")
	e.clock.Add(30*time.Minute + time.Second)
	wantErr(t, e.acc.ResetPassword(e.ctx, late, "Encore-Un-2027", "192.0.2.1"), ErrBadToken)

	// Nothing tells the form which accounts exist, and nothing is sent for them.
	before := e.mails()
	pending := e.person("Pierre", "Curie", directory.Responsable, "pierre@example.fr")
	noMail := e.active("Eve", "Curie", directory.Eleve, "")
	for _, who := range []string{"inconnu", "inconnu@example.fr", pending.Login, "pierre@example.fr", noMail.Login, ""} {
		if err := e.acc.RequestReset(e.ctx, who, "192.0.2.2", resetLink); err != nil {
			t.Fatalf("RequestReset(%q) = %v", who, err)
		}
	}
	if n := e.mails(); n != before {
		t.Fatalf("%d courriels envoyés à des comptes qui ne devaient rien recevoir", n-before)
	}
	e.wantAudit("account.reset_request", false, "", "unknown")

	// At most a few mails per person per hour, whoever asks.
	e.clock.Add(time.Hour)
	before = e.mails()
	for i := 0; i < 5; i++ {
		if err := e.acc.RequestReset(e.ctx, p.Login, "192.0.2."+string(rune('3'+i)), resetLink); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.mails() - before; n != resetPerPerson {
		t.Fatalf("%d courriels, voulu %d", n, resetPerPerson)
	}
	e.wantAudit("account.reset_request", false, p.ID, "too_many")
}

func TestResetFamilyAddress(t *testing.T) {
	e := newEnv(t, Config{})
	parent := e.active("Anne", "Martin", directory.Responsable, "famille.martin@example.fr")
	child := e.active("Léo", "Martin", directory.Eleve, "famille.martin@example.fr")
	if err := e.acc.RequestReset(e.ctx, "famille.martin@example.fr", "192.0.2.1", resetLink); err != nil {
		t.Fatal(err)
	}
	list, err := e.spool.List(e.ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("%d courriels : %v", len(list), err)
	}
	body := list[0].Body + list[1].Body
	if !strings.Contains(body, parent.Login) || !strings.Contains(body, child.Login) {
		t.Fatalf("chaque compte doit recevoir son lien : %s", body)
	}
}

func TestResetRateLimit(t *testing.T) {
	e := newEnv(t, Config{IPLimit: 3})
	for i := 0; i < 3; i++ {
		if err := e.acc.RequestReset(e.ctx, "inconnu", "192.0.2.1", resetLink); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, e.acc.RequestReset(e.ctx, "inconnu", "192.0.2.1", resetLink), ErrRateLimited)
	if err := e.acc.RequestReset(e.ctx, "inconnu", "192.0.2.2", resetLink); err != nil {
		t.Fatal(err)
	}
}

// failingSender stands for a mail relay that is down.
type failingSender struct{}

func (failingSender) Send(context.Context, mail.Message) error { return context.DeadlineExceeded }

func TestResetMailFailureIsSilent(t *testing.T) {
	e := newEnv(t, Config{})
	p := e.active("Paul", "Éluard", directory.Enseignant, "paul@example.fr")
	e.acc.mail = failingSender{}
	if err := e.acc.RequestReset(e.ctx, p.Login, "192.0.2.1", resetLink); err != nil {
		t.Fatalf("l'échec d'envoi ne doit pas trahir le compte : %v", err)
	}
	e.wantAudit("account.reset_request", false, p.ID, "mail_failed")
}

func TestFrenchDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Minute: "30 minutes", time.Minute: "1 minute", 90 * time.Minute: "90 minutes",
		time.Hour: "1 heure", 2 * time.Hour: "2 heures", 48 * time.Hour: "2 jours", 10 * time.Second: "1 minute",
	} {
		if got := frenchDuration(d); got != want {
			t.Errorf("%v → %q, voulu %q", d, got, want)
		}
	}
}
