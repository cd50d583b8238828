// Package token makes the service's bearer secrets — session ids, OAuth
// states, real-name challenge ids and show codes — in one way: 128 bits from
// the CSPRNG, written as unpadded base64url, and kept at rest only as their
// SHA-256. Whoever reads Redis sees hashes that cannot be presented back.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
)

// Len is the length of a token: 16 bytes in unpadded base64url.
const Len = 22

// New returns a fresh token from crypto/rand.
func New() (string, error) { return From(rand.Reader) }

// From returns a token read from r; tests pass a fixed source.
func From(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("token: read random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Hash is the form a token is stored and looked up under: hex SHA-256.
func Hash(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// WellFormed accepts exactly the canonical encoding of 16 bytes, so that no
// two spellings name the same secret and junk never reaches Redis.
func WellFormed(t string) bool {
	if len(t) != Len {
		return false
	}
	var buf [16]byte
	n, err := base64.RawURLEncoding.Strict().Decode(buf[:], []byte(t))
	return err == nil && n == 16
}
