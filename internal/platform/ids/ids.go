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
