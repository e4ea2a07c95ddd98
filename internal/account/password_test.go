package account

import (
	"context"
	"crypto/subtle"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/preau-ent/preau/internal/directory"
)

func TestCheckPolicy(t *testing.T) {
	p := directory.Person{Login: "jean-pierre.lefevre2", FirstName: "Jean-Pierre", LastName: "Lefèvre", Profile: directory.Enseignant}
	li := directory.Person{Login: "li.ng", FirstName: "Li", LastName: "Ng"}
	for _, c := range []struct {
		pw   string
		who  directory.Person
		want string // "" when accepted
	}{
		{"Cartable-2024", p, ""},
		{"cartable2024!", p, ""},                // lower, digit, other
		{"CARTABLE2024x", p, ""},                // upper, digit, lower
		{"Éléphant-rose", p, ""},                // accented letters count as letters
		{"Ab1!", p, "account.policy_length"},    // too short
		{"Ab1!abc", p, "account.policy_length"}, // 7
		{"Ab1!" + strings.Repeat("x", 125), p, "account.policy_length"},
		{"Ab1!" + strings.Repeat("x", 124), p, ""}, // 128 exactly
		{"éééééééé", p, "account.policy_classes"},
		{"cartableecole", p, "account.policy_classes"},
		{"cartable2024", p, "account.policy_classes"},
		{"CARTABLE-ECOLE", p, "account.policy_classes"},
		{"Lefevre-2024", p, "account.policy_personal"},    // last name without accent
		{"xxLEFÈVRExx1", p, "account.policy_personal"},    // upper case and accent
		{"Pierre!2024", p, "account.policy_personal"},     // part of a compound first name
		{"JeanPierre#1", p, "account.policy_personal"},    // whole first name
		{"Jean.Pierre-1", p, "account.policy_personal"},   // separators do not hide it
		{"Ng-Li-2024-ok!", li, ""},                        // names shorter than 3 are not checked
		{"Li-Ng-2024-ok!", li, "account.policy_personal"}, // but the login "li.ng" is
		{"Zz-lefevre2-x", p, "account.policy_personal"},   // login part
		{"Bonjour-Ng!2024", li, ""},
	} {
		err := CheckPolicy(c.pw, c.who)
		if c.want == "" {
			if err != nil {
				t.Errorf("%q refusé : %v", c.pw, err)
			}
			continue
		}
		wantInvalid(t, err, "password", c.want)
	}
}

func TestHashRoundTrip(t *testing.T) {
	enc := hashPassword("Cartable-2024", fastArgon)
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(enc) {
		t.Fatalf("format PHC : %s", enc)
	}
	if enc == hashPassword("Cartable-2024", fastArgon) {
		t.Error("deux empreintes identiques : le sel n'est pas aléatoire")
	}
	ok, params, err := verifyPassword("Cartable-2024", enc)
	if err != nil || !ok || params != fastArgon {
		t.Fatalf("vérification : %v %v %+v", ok, err, params)
	}
	if ok, _, err := verifyPassword("cartable-2024", enc); ok || err != nil {
		t.Fatalf("mauvais mot de passe accepté : %v %v", ok, err)
	}

	// The parsed parts are what argon2id was given: recompute independently.
	h, err := parsePHC(enc)
	if err != nil {
		t.Fatal(err)
	}
	key := argon2.IDKey([]byte("Cartable-2024"), h.salt, 1, 64, 1, 32)
	if subtle.ConstantTimeCompare(key, h.key) != 1 || len(h.salt) != saltLen {
		t.Fatal("clé recalculée différente")
	}

	// A hash made elsewhere with other parameters (PHC strings are portable).
	other := "$argon2id$v=19$m=256,t=3,p=2$c2FsdHNhbHRzYWx0$" + phcB64.EncodeToString(argon2.IDKey([]byte("secret"), []byte("saltsaltsalt"), 3, 256, 2, 24))
	if ok, params, err := verifyPassword("secret", other); !ok || err != nil || params != (ArgonParams{MemoryKiB: 256, Time: 3, Threads: 2}) {
		t.Fatalf("empreinte étrangère : %v %v %+v", ok, err, params)
	}

	salt, key64 := phcB64.EncodeToString([]byte("0123456789abcdef")), phcB64.EncodeToString(make([]byte, 32))
	for _, bad := range []string{
		"",
		"plain",
		"$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key64,
		"$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key64,
		"$argon2id$v=19$m=64,t=1$" + salt + "$" + key64,
		"$argon2id$v=19$m=64,t=1,p=1,p=1$" + salt + "$" + key64,
		"$argon2id$v=19$m=64,t=1,x=1$" + salt + "$" + key64,
		"$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key64,
		"$argon2id$v=19$m=4,t=1,p=1$" + salt + "$" + key64,
		"$argon2id$v=19$m=99999999,t=1,p=1$" + salt + "$" + key64, // would allocate ~100 GB
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "=$" + key64,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key64 + "$",
		"$argon2id$v=19$m=64,t=1,p=1$$" + key64,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$c2hvcnQ",
		"$argon2id$v=19$m=-1,t=1,p=1$" + salt + "$" + key64,
	} {
		if _, err := parsePHC(bad); !errors.Is(err, errBadHash) {
			t.Errorf("parsePHC(%q) = %v", bad, err)
		}
		if ok, _, _ := verifyPassword("x", bad); ok {
			t.Errorf("empreinte invalide acceptée : %q", bad)
		}
	}
}

// TestBusy fills the hashing slots and the queue by hand: the next login is refused
// at once, a queued one waits for a slot (and gives up with its context).
func TestBusy(t *testing.T) {
	e := newEnv(t, Config{MaxHashing: 1, MaxHashQueue: 1})
	p := e.active("Jules", "Verne", directory.Eleve, "")
	h := e.acc.hashes

	// One hash running, the queue empty: a login waits, and gives up with its context.
	h.tickets <- struct{}{}
	h.slots <- struct{}{}
	ctx, cancel := context.WithTimeout(e.ctx, 300*time.Millisecond)
	_, _, err := e.acc.Login(ctx, p.Login, goodPassword, "192.0.2.1", "")
	cancel()
	wantErr(t, err, context.DeadlineExceeded)
	if len(h.tickets) != 1 {
		t.Fatalf("un abandon garde sa place dans la file : %d", len(h.tickets))
	}

	// One running and one waiting: full. Refused at once, without waiting.
	h.tickets <- struct{}{}
	start := time.Now()
	_, _, err = e.acc.Login(e.ctx, p.Login, goodPassword, "192.0.2.1", "")
	wantErr(t, err, ErrBusy)
	if time.Since(start) > time.Second {
		t.Error("ErrBusy aurait dû être immédiat")
	}
	wantErr(t, e.acc.Activate(e.ctx, p.Login, "X", goodPassword, ""), ErrBadCode) // codes need no hash
	wantErr(t, e.acc.SetPassword(e.ctx, sys, p.ID, "Autre-Mot-2025"), ErrBusy)
	// A busy refusal is not a failure: it neither counts against the address nor the account.
	if n, _ := e.acc.rateCount(e.ctx, ipKey("192.0.2.1"), e.acc.cfg.IPWindow); n != 0 {
		t.Errorf("échecs comptés : %d", n)
	}

	// A queued login goes through as soon as the running hash ends.
	<-h.tickets
	done := make(chan error, 1)
	go func() {
		_, _, err := e.acc.Login(e.ctx, p.Login, goodPassword, "192.0.2.1", "")
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("connexion passée sans place libre : %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	<-h.slots
	<-h.tickets
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(h.tickets) != 0 || len(h.slots) != 0 {
		t.Fatalf("places non rendues : %d %d", len(h.tickets), len(h.slots))
	}
}

func TestDefaults(t *testing.T) {
	s := New(nil, nil, nil, nil, nil, Config{})
	c := s.Config()
	if c.SessionIdle != time.Hour || c.SessionMax != 12*time.Hour || c.ActivationValidity != 120*24*time.Hour ||
		c.ResetValidity != 30*time.Minute || c.LockAfter != 5 || c.LockFor != 15*time.Minute || c.IPLimit != 30 ||
		c.IPWindow != 5*time.Minute || c.MaxHashing < 1 || c.MaxHashQueue != 64 || c.Argon != DefaultArgon {
		t.Fatalf("défauts : %+v", c)
	}
	if DefaultArgon != (ArgonParams{MemoryKiB: 19456, Time: 2, Threads: 1}) {
		t.Fatalf("paramètres OWASP : %+v", DefaultArgon)
	}
}
