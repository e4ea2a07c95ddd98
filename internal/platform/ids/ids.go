// Package ids makes identifiers and secrets from crypto/rand.
package ids

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
)

var enc = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// New returns a random 128-bit identifier, 26 lower-case characters, safe in URLs.
func New() string { return Random(16) }

// Random returns n random bytes encoded in lower-case base32.
func Random(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return enc.EncodeToString(b)
}

// Code returns a human-typable code of n characters without look-alike characters
// (no 0/O, 1/I/L), for activation codes printed on letters.
func Code(n int) string {
	const alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	var sb strings.Builder
	for _, c := range b {
		// 256 % 31 != 0: the bias is below 1% and harmless for a single-use, rate-limited code.
		sb.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return sb.String()
}

// Hash returns the hex SHA-256 of a secret, so that tokens stored in the database
// cannot be replayed by whoever reads the database.
func Hash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// Sequence makes identifiers of the same form as New (26 characters of the same
// alphabet) that share a random prefix and then increase. Bulk loads (a directory
// import creating a million persons) use it so that their rows land next to each
// other in every index keyed by id, instead of all over it: with random ids each row
// touches a different page of every such index, and a large load spends its time
// moving b-tree pages. The prefix carries 70 random bits, so that two sequences
// never meet. One sequence is for one goroutine.
type Sequence struct {
	prefix string
	n      uint64
}

// seqDigits is the counter's width: 12 characters of 4 bits (48 bits).
const seqDigits = 12

// NewSequence starts a sequence.
func NewSequence() *Sequence {
	return &Sequence{prefix: Random(10)[:26-seqDigits]}
}

// Next returns the sequence's next identifier.
func (s *Sequence) Next() string {
	s.n++
	var b [26]byte
	copy(b[:], s.prefix)
	// The counter is written with the letters a to p, one per 4 bits, which sort
	// in the order of the numbers they stand for.
	for i, v := 25, s.n; i >= 26-seqDigits; i-- {
		b[i] = 'a' + byte(v&15)
		v >>= 4
	}
	return string(b[:])
}
