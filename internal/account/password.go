package account

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/ids"
)

// DefaultArgon is the OWASP recommendation for argon2id (2023): 19 MiB, 2 passes,
// 1 lane. It keeps a login around 20–40 ms of one core, so a 4-core instance
// verifies on the order of a hundred passwords a second; see BenchmarkLogin.
var DefaultArgon = ArgonParams{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32

	// PolicyMinLength and PolicyMaxLength bound passwords in characters. The CNIL
	// (délibération 2022-100) accepts 8 characters from 3 categories when access is
	// restricted, which lockout and the per-address limit do; the maximum only keeps
	// hashing cost and form abuse bounded.
	PolicyMinLength = 8
	PolicyMaxLength = 128
)

var phcB64 = base64.RawStdEncoding

var errBadHash = errors.New("empreinte de mot de passe illisible")

// hashPassword returns the PHC string of password under fresh salt.
func hashPassword(password string, p ArgonParams) string {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, phcB64.EncodeToString(salt), phcB64.EncodeToString(key))
}

// phc is a parsed "$argon2id$v=19$m=..,t=..,p=..$salt$key" string.
type phc struct {
	params    ArgonParams
	salt, key []byte
}

// parsePHC reads a PHC string. It refuses parameters outside sane bounds, so that a
// tampered row cannot make one login allocate gigabytes or spin for minutes.
func parsePHC(s string) (phc, error) {
	var h phc
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return h, errBadHash
	}
	seen := map[string]bool{}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || seen[k] {
			return h, errBadHash
		}
		seen[k] = true
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return h, errBadHash
		}
		switch k {
		case "m":
			h.params.MemoryKiB = uint32(n)
		case "t":
			h.params.Time = uint32(n)
		case "p":
			if n > 255 {
				return h, errBadHash
			}
			h.params.Threads = uint8(n)
		default:
			return h, errBadHash
		}
	}
	p := h.params
	if len(seen) != 3 || p.Threads == 0 || p.Time == 0 || p.Time > 64 ||
		p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > 1<<21 {
		return h, errBadHash
	}
	var err error
	if h.salt, err = phcB64.DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return h, errBadHash
	}
	if h.key, err = phcB64.DecodeString(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > 128 {
		return h, errBadHash
	}
	return h, nil
}

// verifyPassword tells whether password matches the PHC string, and with which
// parameters it was hashed (to upgrade old hashes at login).
func verifyPassword(password, encoded string) (bool, ArgonParams, error) {
	h, err := parsePHC(encoded)
	if err != nil {
		return false, ArgonParams{}, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.params.Time, h.params.MemoryKiB, h.params.Threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1, h.params, nil
}

// hasher bounds argon2id work. At 8 a.m. after a holiday every pupil logs in at once;
// each hash takes tens of MiB and milliseconds of a core, so without a bound the
// process swaps or runs out of memory and everybody times out. With it, MaxHashing
// hashes run, MaxHashQueue wait, and the rest get ErrBusy at once, which the pages
// turn into a "réessayez dans un instant" page.
type hasher struct {
	tickets chan struct{} // running + waiting
	slots   chan struct{} // running
}

func newHasher(running, queue int) *hasher {
	return &hasher{tickets: make(chan struct{}, running+queue), slots: make(chan struct{}, running)}
}

func (h *hasher) acquire(ctx context.Context) (release func(), err error) {
	select {
	case h.tickets <- struct{}{}:
	default:
		return nil, ErrBusy
	}
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		<-h.tickets
		return nil, ctx.Err()
	}
	return func() { <-h.slots; <-h.tickets }, nil
}

// decoyHash is a hash of a random password under the configured parameters, made
// once, so that a login for an unknown or passwordless account costs one real
// verification like any other and does not tell by its speed that it is unknown.
type decoyHash struct {
	once sync.Once
	phc  string
}

// hash computes a new PHC string for password, under the admission control.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	release, err := s.hashes.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return hashPassword(password, s.cfg.Argon), nil
}

// verify checks password against encoded under the admission control; an empty or
// unreadable encoded spends the decoy hash and fails. rehash is a new PHC string when
// the stored one used other parameters than the configured ones (computed in the same
// slot, so that raising the parameters upgrades accounts as they log in).
func (s *Service) verify(ctx context.Context, password, encoded string, wantRehash bool) (ok bool, rehash string, err error) {
	release, err := s.hashes.acquire(ctx)
	if err != nil {
		return false, "", err
	}
	defer release()
	if encoded != "" {
		ok, params, err := verifyPassword(password, encoded)
		if err == nil {
			if ok && wantRehash && params != s.cfg.Argon {
				rehash = hashPassword(password, s.cfg.Argon)
			}
			return ok, rehash, nil
		}
	}
	s.decoy.once.Do(func() { s.decoy.phc = hashPassword(ids.Random(16), s.cfg.Argon) })
	_, _, _ = verifyPassword(password, s.decoy.phc)
	return false, "", nil
}

// CheckPolicy checks a new password against the policy, in the spirit of the CNIL's
// 2022 recommendation for accounts protected by an access restriction (lockout and a
// per-address limit here): 8 to 128 characters, at least 3 of the 4 kinds (lower
// case, upper case, digit, other), and nothing guessable from the person: neither
// the login nor the first or last name (nor a part of them) of 3 letters or more,
// compared without case or accents. Errors are *actor.InvalidError on "password".
func CheckPolicy(password string, p directory.Person) error {
	if n := utf8.RuneCountInString(password); n < PolicyMinLength || n > PolicyMaxLength {
		return actor.Invalid("password", "account.policy_length")
	}
	var lower, upper, digit, other int
	for _, r := range password {
		switch {
		case unicode.IsLower(r):
			lower = 1
		case unicode.IsUpper(r):
			upper = 1
		case unicode.IsDigit(r):
			digit = 1
		default:
			other = 1
		}
	}
	if lower+upper+digit+other < 3 {
		return actor.Invalid("password", "account.policy_classes")
	}
	folded := squash(directory.Fold(password))
	for _, w := range personalWords(p) {
		if strings.Contains(folded, w) {
			return actor.Invalid("password", "account.policy_personal")
		}
	}
	return nil
}

// squash drops the separators Fold keeps, so that "Jean-Pierre" in a password is
// caught as "jeanpierre" and "dupont.2024" as "dupont2024".
func squash(s string) string { return strings.NewReplacer(" ", "", "-", "").Replace(s) }

// personalWords lists the folded login, names and parts of names of 3 letters or more.
func personalWords(p directory.Person) []string {
	var out []string
	add := func(s string) {
		if s = squash(s); len(s) >= 3 {
			out = append(out, s)
		}
	}
	for _, v := range []string{strings.ReplaceAll(p.Login, ".", " "), p.FirstName, p.LastName} {
		f := directory.Fold(v)
		add(f)
		for _, part := range strings.FieldsFunc(f, func(r rune) bool { return r == ' ' || r == '-' }) {
			add(part)
		}
	}
	return out
}
