// Package securetest writes values the way the platform did before SM4 and
// SM3: AES-256-GCM sealed values "v1.<key id>.<base64url(nonce|ciphertext)>"
// with the field bound as "v1|field", and bare 64-hex HMAC-SHA256 blind
// indexes. Tests build a database from before the switch with it; it is
// written apart from package secure so the old format is pinned, not
// whatever secure now reads.
package securetest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// LegacySeal seals plain for field with a 32-byte AES key.
func LegacySeal(aesKey []byte, field, plain string) string {
	block, err := aes.NewCipher(aesKey)
	if err != nil {
		panic("securetest: " + err.Error())
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic("securetest: " + err.Error())
	}
	nonce := make([]byte, gcm.NonceSize())
	_, _ = rand.Read(nonce)
	m := hmac.New(sha256.New, aesKey)
	m.Write([]byte("elicence key id"))
	id := hex.EncodeToString(m.Sum(nil)[:4])
	return "v1." + id + "." + base64.RawURLEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte(plain), []byte("v1|"+field)))
}

// LegacyIndex is the HMAC-SHA256 blind index of value for kind.
func LegacyIndex(key []byte, kind, value string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}
