// Package secure protects personal data at rest with the commercial
// cryptography a county platform is assessed against (商用密码, GB/T 39786):
// short fields such as ID numbers and phone numbers are sealed with SM4-GCM,
// and a keyed blind index (HMAC-SM3) lets the store find a record by an
// exact value without keeping that value in plain text. A database dump
// alone then reveals neither the values nor, without the index key, which
// value a row holds.
//
// Values written before the switch to SM4 and SM3 (AES-256-GCM, HMAC-SHA256)
// still read while the legacy keys are configured, so the platform keeps
// serving until `bff keys rotate` has re-sealed every row.
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
	"hash"
	"strings"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

// Key sizes in bytes.
const (
	DataKeySize   = 16 // SM4
	IndexKeySize  = 32 // HMAC-SM3
	LegacyKeySize = 32 // AES-256 and HMAC-SHA256, before SM4 and SM3
)

// Formats of sealed values: the first element of every value. v1 is
// AES-256-GCM (read only), v2 is SM4-GCM. The format is bound into the
// associated data, so a v2 value relabelled v1 does not open.
const (
	formatAES = "v1"
	formatSM4 = "v2"
)

var (
	// ErrKeySize is returned for a key of the wrong length.
	ErrKeySize = errors.New("secure: wrong key size")
	// ErrSameKey is returned when two configured keys are equal: one leaked
	// key must not also open another use, and a "previous" key equal to the
	// current one would make rotation a silent no-op.
	ErrSameKey = errors.New("secure: every key must differ from the others")
	// ErrLegacyPair is returned when only one of the two legacy keys is
	// given: rows from before SM4 need both to be read and found.
	ErrLegacyPair = errors.New("secure: legacy data and index keys go together")
	// ErrMalformed is returned for a sealed value that is not in the expected format.
	ErrMalformed = errors.New("secure: malformed sealed value")
	// ErrUnknownKey is returned when a sealed value names a key the Sealer does not hold.
	ErrUnknownKey = errors.New("secure: sealed with an unknown key")
	// ErrDecrypt is returned when authentication fails: the value was
	// altered, belongs to another field, or the key is wrong.
	ErrDecrypt = errors.New("secure: cannot decrypt")
)

// Sealer encrypts short fields and computes blind indexes. It is safe for
// concurrent use.
//
// Sealed values look like "v2.<key id>.<base64url(nonce|ciphertext)>": the
// key id is the key's version, so a Sealer holding the previous (and the
// legacy) keys reads every value while sealing new ones with the current
// key. Blind indexes look like "<key id>.<64 hex>" for the same reason;
// a bare 64-hex index is a legacy HMAC-SHA256 one.
type Sealer struct {
	current sealKey
	byID    map[string]cipher.AEAD // format + "." + key id → AEAD
	index   macKey                 // current
	older   []macKey               // previous, then legacy: still searched
}

type sealKey struct {
	format, id string
	aead       cipher.AEAD
}

type macKey struct {
	id  string // "" for the legacy HMAC-SHA256 key: its indexes carry no id
	mac func() hash.Hash
	key []byte
}

// Option configures a Sealer.
type Option func(*options)

type options struct {
	prevData, prevIndex     []byte
	legacyData, legacyIndex []byte
}

// WithPrevious adds the keys being retired by a rotation: an SM4 key whose
// values still open and an HMAC-SM3 key whose indexes are still searched.
// Either may be nil when only the other one changes.
func WithPrevious(dataKey, indexKey []byte) Option {
	return func(o *options) { o.prevData, o.prevIndex = dataKey, indexKey }
}

// WithLegacy adds the pre-SM4 keys (AES-256-GCM data key, HMAC-SHA256 index
// key), so rows written before the switch read and are found until
// rotation has re-sealed them.
func WithLegacy(dataKey, indexKey []byte) Option {
	return func(o *options) { o.legacyData, o.legacyIndex = dataKey, indexKey }
}

// NewSealer builds a Sealer from a 16-byte SM4 data key and a separate
// 32-byte HMAC-SM3 index key, plus the older keys given as options.
func NewSealer(dataKey, indexKey []byte, opts ...Option) (*Sealer, error) {
	var o options
	for _, fn := range opts {
		fn(&o)
	}
	if (o.legacyData == nil) != (o.legacyIndex == nil) {
		return nil, ErrLegacyPair
	}
	all := [][]byte{dataKey, indexKey, o.prevData, o.prevIndex, o.legacyData, o.legacyIndex}
	for i, a := range all {
		for _, b := range all[i+1:] {
			if a != nil && b != nil && subtle.ConstantTimeCompare(a, b) == 1 {
				return nil, ErrSameKey
			}
		}
	}
	s := &Sealer{byID: map[string]cipher.AEAD{}}
	cur, err := s.addSM4("data key", dataKey)
	if err != nil {
		return nil, err
	}
	s.current = cur
	if s.index, err = newSM3Index("index key", indexKey); err != nil {
		return nil, err
	}
	if o.prevData != nil {
		if _, err := s.addSM4("previous data key", o.prevData); err != nil {
			return nil, err
		}
	}
	if o.prevIndex != nil {
		prev, err := newSM3Index("previous index key", o.prevIndex)
		if err != nil {
			return nil, err
		}
		s.older = append(s.older, prev)
	}
	if o.legacyData != nil {
		if len(o.legacyData) != LegacyKeySize || len(o.legacyIndex) != LegacyKeySize {
			return nil, fmt.Errorf("secure: legacy keys: %w (want %d bytes)", ErrKeySize, LegacyKeySize)
		}
		block, err := aes.NewCipher(o.legacyData)
		if err != nil {
			return nil, fmt.Errorf("secure: legacy data key: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secure: legacy data key: %w", err)
		}
		s.byID[formatAES+"."+keyID(sha256.New, o.legacyData, "elicence key id")] = aead
		s.older = append(s.older, macKey{mac: sha256.New, key: clone(o.legacyIndex)})
	}
	return s, nil
}

func (s *Sealer) addSM4(name string, key []byte) (sealKey, error) {
	if len(key) != DataKeySize {
		return sealKey{}, fmt.Errorf("secure: %s: %w (want %d bytes for SM4)", name, ErrKeySize, DataKeySize)
	}
	block, err := sm4.NewCipher(key)
	if err != nil {
		return sealKey{}, fmt.Errorf("secure: %s: %w", name, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return sealKey{}, fmt.Errorf("secure: %s: %w", name, err)
	}
	k := sealKey{format: formatSM4, id: keyID(sm3.New, key, "elicence data key id"), aead: aead}
	s.byID[k.format+"."+k.id] = aead
	return k, nil
}

func newSM3Index(name string, key []byte) (macKey, error) {
	if len(key) != IndexKeySize {
		return macKey{}, fmt.Errorf("secure: %s: %w (want %d bytes for HMAC-SM3)", name, ErrKeySize, IndexKeySize)
	}
	return macKey{id: keyID(sm3.New, key, "elicence index key id"), mac: sm3.New, key: clone(key)}, nil
}

// keyID names a key without revealing it: 4 bytes of an HMAC of a fixed
// label. The label differs per use, so the id of a data key says nothing of
// an index key's.
func keyID(h func() hash.Hash, key []byte, label string) string {
	m := hmac.New(h, key)
	m.Write([]byte(label))
	return hex.EncodeToString(m.Sum(nil)[:4])
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// Encrypt seals plaintext for the named field with SM4-GCM and the current
// key. The field name is bound as associated data, so a value copied from
// one column into another (say a phone number into the ID-number column)
// fails to decrypt instead of being read as the wrong thing. Each call uses
// a fresh random nonce.
func (s *Sealer) Encrypt(field, plaintext string) (string, error) {
	aead := s.current.aead
	buf := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("secure: nonce: %w", err)
	}
	buf = aead.Seal(buf, buf, []byte(plaintext), aad(s.current.format, field))
	return s.current.format + "." + s.current.id + "." + base64.RawURLEncoding.EncodeToString(buf), nil
}

// Decrypt opens a value sealed for the same field, by the current key, the
// previous one or (format v1) the legacy AES key.
func (s *Sealer) Decrypt(field, sealed string) (string, error) {
	parts := strings.Split(sealed, ".")
	if len(parts) != 3 || (parts[0] != formatSM4 && parts[0] != formatAES) {
		return "", ErrMalformed
	}
	aead, ok := s.byID[parts[0]+"."+parts[1]]
	if !ok {
		return "", ErrUnknownKey
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return "", ErrMalformed
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, raw[:n], raw[n:], aad(parts[0], field))
	if err != nil {
		return "", ErrDecrypt
	}
	return string(plain), nil
}

// NeedsReseal reports whether a sealed value was made with a key other than
// the current one, so rotation knows to re-seal it.
func (s *Sealer) NeedsReseal(sealed string) bool {
	return !strings.HasPrefix(sealed, s.SealedPrefix())
}

// SealedPrefix is how every value sealed with the current key begins, for
// finding in SQL the values that still need re-sealing.
func (s *Sealer) SealedPrefix() string { return s.current.format + "." + s.current.id + "." }

func aad(format, field string) []byte { return []byte(format + "|" + field) }

// BlindIndex returns the current keyed, deterministic digest of value for
// exact-match lookups: "<key id>.<64 hex>". kind separates uses, so equal
// values in two different columns do not produce equal indexes. Callers
// normalise the value first (trim, upper-case a trailing X) because the
// index matches bytes, not meaning.
func (s *Sealer) BlindIndex(kind, value string) string {
	return s.index.of(kind, value)
}

// BlindIndexes returns the indexes value may be stored under: the current
// one first, then those of the previous and legacy index keys. Lookups
// search all of them, so a row is found whether or not rotation has
// reached it yet.
func (s *Sealer) BlindIndexes(kind, value string) []string {
	out := make([]string, 0, 1+len(s.older))
	out = append(out, s.index.of(kind, value))
	for _, k := range s.older {
		out = append(out, k.of(kind, value))
	}
	return out
}

// IndexPrefix is how every index made with the current index key begins.
func (s *Sealer) IndexPrefix() string { return s.index.id + "." }

// HoldsIndexKey reports whether id names an index key this Sealer
// searches with: the current, the previous or ("" — legacy indexes carry
// no id) the legacy one.
func (s *Sealer) HoldsIndexKey(id string) bool {
	if id == s.index.id {
		return true
	}
	for _, k := range s.older {
		if k.id == id {
			return true
		}
	}
	return false
}

// IndexDigest returns the hex digest of an index without its key id.
func IndexDigest(index string) string {
	return index[strings.IndexByte(index, '.')+1:]
}

func (k macKey) of(kind, value string) string {
	m := hmac.New(k.mac, k.key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	sum := hex.EncodeToString(m.Sum(nil))
	if k.id == "" {
		return sum
	}
	return k.id + "." + sum
}

// ParseKey decodes a key of size bytes given in configuration as hex or as
// standard / URL-safe base64 (with or without padding).
func ParseKey(s string, size int) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*size {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != size {
				return nil, fmt.Errorf("%w: want %d bytes, got %d", ErrKeySize, size, len(b))
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("secure: key is neither %d hex characters nor base64: %w", 2*size, ErrKeySize)
}

// GenerateKey returns a new random key of size bytes, for first-run setup
// in embedded mode.
func GenerateKey(size int) ([]byte, error) {
	k := make([]byte, size)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("secure: generate key: %w", err)
	}
	return k, nil
}
