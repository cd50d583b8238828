// Package secure protects personal data at rest: short fields such as ID
// numbers and phone numbers are sealed with AES-256-GCM, and a keyed blind
// index (HMAC-SHA256) lets the store find a record by an exact value without
// keeping that value in plain text. A database dump alone then reveals
// neither the values nor, without the index key, which value a row holds.
package secure

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length in bytes of every key the package accepts.
const KeySize = 32

// formatVersion is the first element of every sealed value. It changes only
// when the layout of sealed values changes, so old rows stay readable.
const formatVersion = "v1"

var (
	// ErrKeySize is returned for a key that is not exactly KeySize bytes.
	ErrKeySize = errors.New("secure: key must be 32 bytes")
	// ErrSameKey is returned when the encryption and index keys are equal:
	// one leaked key must not also open the other use.
	ErrSameKey = errors.New("secure: encryption and index keys must differ")
	// ErrMalformed is returned for a sealed value that is not in the expected format.
	ErrMalformed = errors.New("secure: malformed sealed value")
	// ErrUnknownKey is returned when a sealed value names a key the Sealer does not hold.
	ErrUnknownKey = errors.New("secure: sealed with an unknown key")
	// ErrDecrypt is returned when authentication fails: the value was
	// altered, belongs to another field, or the key is wrong.
	ErrDecrypt = errors.New("secure: cannot decrypt")
)

// Sealer encrypts short fields and computes blind indexes. It is safe for
// concurrent use. Sealed values look like "v1.<key id>.<base64url(nonce|ciphertext)>";
// the key id lets a Sealer built with WithPreviousKeys read values sealed
// before a key rotation while sealing new ones with the current key.
type Sealer struct {
	current  keyEntry
	byID     map[string]cipher.AEAD
	indexKey []byte
}

type keyEntry struct {
	id   string
	aead cipher.AEAD
}

// Option configures a Sealer.
type Option func(*Sealer) error

// WithPreviousKeys adds retired encryption keys that may still open older
// values. New values are always sealed with the current key.
func WithPreviousKeys(keys ...[]byte) Option {
	return func(s *Sealer) error {
		for i, k := range keys {
			e, err := newKeyEntry(k)
			if err != nil {
				return fmt.Errorf("secure: previous key %d: %w", i, err)
			}
			if _, dup := s.byID[e.id]; !dup {
				s.byID[e.id] = e.aead
			}
		}
		return nil
	}
}

// NewSealer builds a Sealer from a 32-byte encryption key and a separate
// 32-byte blind-index key. The index key cannot rotate without rebuilding
// every index column, so it is kept apart from the encryption key.
func NewSealer(encKey, indexKey []byte, opts ...Option) (*Sealer, error) {
	if len(indexKey) != KeySize {
		return nil, fmt.Errorf("secure: index key: %w", ErrKeySize)
	}
	cur, err := newKeyEntry(encKey)
	if err != nil {
		return nil, fmt.Errorf("secure: encryption key: %w", err)
	}
	if subtle.ConstantTimeCompare(encKey, indexKey) == 1 {
		return nil, ErrSameKey
	}
	s := &Sealer{
		current:  cur,
		byID:     map[string]cipher.AEAD{cur.id: cur.aead},
		indexKey: append([]byte(nil), indexKey...),
	}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func newKeyEntry(key []byte) (keyEntry, error) {
	if len(key) != KeySize {
		return keyEntry{}, ErrKeySize
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return keyEntry{}, fmt.Errorf("secure: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return keyEntry{}, fmt.Errorf("secure: %w", err)
	}
	return keyEntry{id: keyID(key), aead: aead}, nil
}

// keyID names a key without revealing it: a short HMAC of a fixed label.
func keyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("elicence key id"))
	return hex.EncodeToString(m.Sum(nil)[:4])
}

// Encrypt seals plaintext for the named field. The field name is bound as
// associated data, so a value copied from one column into another (say a
// phone number into the ID-number column) fails to decrypt instead of
// being read as the wrong thing. Each call uses a fresh random nonce.
func (s *Sealer) Encrypt(field, plaintext string) (string, error) {
	aead := s.current.aead
	buf := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("secure: nonce: %w", err)
	}
	buf = aead.Seal(buf, buf, []byte(plaintext), s.aad(field))
	return formatVersion + "." + s.current.id + "." + base64.RawURLEncoding.EncodeToString(buf), nil
}

// Decrypt opens a value sealed by Encrypt for the same field.
func (s *Sealer) Decrypt(field, sealed string) (string, error) {
	parts := strings.Split(sealed, ".")
	if len(parts) != 3 || parts[0] != formatVersion {
		return "", ErrMalformed
	}
	aead, ok := s.byID[parts[1]]
	if !ok {
		return "", ErrUnknownKey
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return "", ErrMalformed
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, raw[:n], raw[n:], s.aad(field))
	if err != nil {
		return "", ErrDecrypt
	}
	return string(plain), nil
}

// NeedsReseal reports whether a sealed value was made with a key other than
// the current one, so a background job can re-encrypt it after a rotation.
func (s *Sealer) NeedsReseal(sealed string) bool {
	parts := strings.SplitN(sealed, ".", 3)
	return len(parts) != 3 || parts[0] != formatVersion || parts[1] != s.current.id
}

func (s *Sealer) aad(field string) []byte {
	return []byte(formatVersion + "|" + field)
}

// BlindIndex returns a keyed, deterministic digest (64 hex chars) of value
// for exact-match lookups. kind separates uses, so equal values in two
// different columns do not produce equal indexes. Callers normalise the
// value first (trim, upper-case a trailing X) because the index matches
// bytes, not meaning.
func (s *Sealer) BlindIndex(kind, value string) string {
	m := hmac.New(sha256.New, s.indexKey)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

// ParseKey decodes a key given in configuration as 64 hex characters or as
// standard / URL-safe base64 (with or without padding) of 32 bytes.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, ErrKeySize
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("secure: key is neither 64 hex characters nor base64: %w", ErrKeySize)
}

// GenerateKey returns a new random key, for first-run setup in embedded mode.
func GenerateKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("secure: generate key: %w", err)
	}
	return k, nil
}
