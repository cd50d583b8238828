package secure

import (
	"bytes"
	"crypto/cipher"
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"

	"github.com/yangcheng-county/elicence/internal/secure/securetest"
)

func key(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

func dataKey(b byte) []byte  { return key(b, DataKeySize) }
func indexKey(b byte) []byte { return key(b, IndexKeySize) }

func mustSealer(t *testing.T, data, index []byte, opts ...Option) *Sealer {
	t.Helper()
	s, err := NewSealer(data, index, opts...)
	if err != nil {
		t.Fatalf("NewSealer: %v", err)
	}
	return s
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The known-answer vectors of the standards: the library the Sealer is
// built on must compute exactly these, or nothing sealed here is SM3/SM4.
func TestSM3KnownAnswers(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"GB/T 32905 A.1 abc", "abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"},
		{"GB/T 32905 A.2 512-bit", strings.Repeat("abcd", 16), "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sm3.Sum([]byte(tt.in))
			if hex.EncodeToString(got[:]) != tt.want {
				t.Fatalf("SM3(%q) = %x, want %s", tt.in, got, tt.want)
			}
			h := sm3.New() // the streaming form HMAC uses
			h.Write([]byte(tt.in))
			if hex.EncodeToString(h.Sum(nil)) != tt.want {
				t.Fatalf("streaming SM3(%q) differs", tt.in)
			}
		})
	}
}

func TestSM4KnownAnswers(t *testing.T) {
	k := unhex(t, "0123456789abcdeffedcba9876543210")
	block, err := sm4.NewCipher(k)
	if err != nil {
		t.Fatal(err)
	}
	// GB/T 32907 A.1: key = plaintext, one encryption.
	out := make([]byte, 16)
	block.Encrypt(out, k)
	if got := hex.EncodeToString(out); got != "681edf34d206965e86b3e94f536e4246" {
		t.Fatalf("SM4 = %s, want 681edf34d206965e86b3e94f536e4246", got)
	}
	back := make([]byte, 16)
	block.Decrypt(back, out)
	if !bytes.Equal(back, k) {
		t.Fatalf("SM4 decrypt = %x, want %x", back, k)
	}
	// GB/T 32907 A.2: the same block encrypted 1,000,000 times.
	copy(out, k)
	for range 1_000_000 {
		block.Encrypt(out, out)
	}
	if got := hex.EncodeToString(out); got != "595298c7c6fd271f0402f804c33d3f66" {
		t.Fatalf("SM4 ×10⁶ = %s, want 595298c7c6fd271f0402f804c33d3f66", got)
	}
}

// TestSealedValuesAreSM4GCM opens a sealed value with SM4-GCM built
// independently from the library, so the format is pinned: another
// implementation holding the key can read what the platform wrote.
func TestSealedValuesAreSM4GCM(t *testing.T) {
	s := mustSealer(t, dataKey(1), indexKey(2))
	ct, err := s.Encrypt("holder.id_number", "140522198503120016")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(ct, ".")
	if len(parts) != 3 || parts[0] != "v2" || parts[1] != keyID(sm3.New, dataKey(1), "elicence data key id") {
		t.Fatalf("sealed value %q is not v2.<key id>.<data>", ct)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	block, _ := sm4.NewCipher(dataKey(1))
	gcm, _ := cipher.NewGCM(block)
	plain, err := gcm.Open(nil, raw[:12], raw[12:], []byte("v2|holder.id_number"))
	if err != nil || string(plain) != "140522198503120016" {
		t.Fatalf("independent SM4-GCM open = %q, %v", plain, err)
	}

	idx := s.BlindIndex("holder.id_number", "140522198503120016")
	m := hmac.New(sm3.New, indexKey(2))
	m.Write([]byte("holder.id_number\x00140522198503120016"))
	want := keyID(sm3.New, indexKey(2), "elicence index key id") + "." + hex.EncodeToString(m.Sum(nil))
	if idx != want {
		t.Fatalf("BlindIndex = %s, want HMAC-SM3 %s", idx, want)
	}
}

func TestNewSealerRejectsBadKeys(t *testing.T) {
	tests := []struct {
		name        string
		data, index []byte
		opts        []Option
		want        error
	}{
		{"AES-sized data key", key(1, 32), indexKey(2), nil, ErrKeySize},
		{"short data key", key(1, 15), indexKey(2), nil, ErrKeySize},
		{"nil data key", nil, indexKey(2), nil, ErrKeySize},
		{"short index key", dataKey(1), key(2, 16), nil, ErrKeySize},
		{"same data and index", key(1, 16), key(1, 16), nil, ErrSameKey},
		{"previous equals current", dataKey(1), indexKey(2), []Option{WithPrevious(dataKey(1), nil)}, ErrSameKey},
		{"previous index equals current", dataKey(1), indexKey(2), []Option{WithPrevious(nil, indexKey(2))}, ErrSameKey},
		{"short previous data key", dataKey(1), indexKey(2), []Option{WithPrevious(key(3, 8), nil)}, ErrKeySize},
		{"short previous index key", dataKey(1), indexKey(2), []Option{WithPrevious(nil, key(3, 8))}, ErrKeySize},
		{"legacy data key alone", dataKey(1), indexKey(2), []Option{WithLegacy(key(5, 32), nil)}, ErrLegacyPair},
		{"legacy index key alone", dataKey(1), indexKey(2), []Option{WithLegacy(nil, key(5, 32))}, ErrLegacyPair},
		{"short legacy key", dataKey(1), indexKey(2), []Option{WithLegacy(key(5, 16), key(6, 32))}, ErrKeySize},
		{"legacy index equals current", dataKey(1), indexKey(2), []Option{WithLegacy(key(5, 32), indexKey(2))}, ErrSameKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSealer(tt.data, tt.index, tt.opts...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := NewSealer(dataKey(1), indexKey(2), WithPrevious(dataKey(3), indexKey(4)), WithLegacy(key(5, 32), key(6, 32))); err != nil {
		t.Fatalf("valid keys rejected: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	s := mustSealer(t, dataKey(1), indexKey(2))
	for _, v := range []string{"", "140522198503120016", "13800000001", "山西省阳城县凤城镇", strings.Repeat("x", 4096)} {
		ct, err := s.Encrypt("holder.id_number", v)
		if err != nil {
			t.Fatalf("Encrypt: %v", err)
		}
		if v != "" && strings.Contains(ct, v) {
			t.Fatalf("sealed value contains the plaintext: %q", ct)
		}
		if !strings.HasPrefix(ct, s.SealedPrefix()) || s.NeedsReseal(ct) {
			t.Fatalf("sealed value %q lacks the current key's prefix %q", ct, s.SealedPrefix())
		}
		got, err := s.Decrypt("holder.id_number", ct)
		if err != nil {
			t.Fatalf("Decrypt: %v", err)
		}
		if got != v {
			t.Fatalf("round trip = %q, want %q", got, v)
		}
	}
}

func TestFreshNonceEachTime(t *testing.T) {
	s := mustSealer(t, dataKey(1), indexKey(2))
	seen := map[string]bool{}
	for i := range 50 {
		ct, err := s.Encrypt("f", "same value")
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.RawURLEncoding.DecodeString(strings.Split(ct, ".")[2])
		if err != nil {
			t.Fatal(err)
		}
		nonce := string(raw[:12])
		if seen[nonce] || seen[ct] {
			t.Fatalf("nonce or ciphertext repeated after %d calls", i)
		}
		seen[nonce], seen[ct] = true, true
	}
}

func TestTamperAndMisuseFail(t *testing.T) {
	s := mustSealer(t, dataKey(1), indexKey(2))
	ct, err := s.Encrypt("holder.phone", "13800000001")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(ct, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[2])
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 0x01
		return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(b)
	}
	other := mustSealer(t, dataKey(3), indexKey(2))

	tests := []struct {
		name   string
		s      *Sealer
		field  string
		sealed string
		want   error
	}{
		{"flipped nonce", s, "holder.phone", flip(0), ErrDecrypt},
		{"flipped ciphertext", s, "holder.phone", flip(13), ErrDecrypt},
		{"flipped tag", s, "holder.phone", flip(len(raw) - 1), ErrDecrypt},
		{"other field", s, "holder.id_number", ct, ErrDecrypt},
		{"other key", other, "holder.phone", ct, ErrUnknownKey},
		{"forged key id", other, "holder.phone", parts[0] + "." + keyID(sm3.New, dataKey(3), "elicence data key id") + "." + parts[2], ErrDecrypt},
		{"relabelled as AES", s, "holder.phone", "v1." + parts[1] + "." + parts[2], ErrUnknownKey},
		{"unknown format", s, "holder.phone", "v9." + parts[1] + "." + parts[2], ErrMalformed},
		{"not base64", s, "holder.phone", parts[0] + "." + parts[1] + ".***", ErrMalformed},
		{"truncated", s, "holder.phone", parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(raw[:20]), ErrMalformed},
		{"plain text", s, "holder.phone", "13800000001", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.s.Decrypt(tt.field, tt.sealed)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decrypt = %q, %v; want error %v", got, err, tt.want)
			}
		})
	}
}

func TestLegacyValuesStillRead(t *testing.T) {
	aesKey, shaKey := key(5, 32), key(6, 32)
	old := securetest.LegacySeal(aesKey, "holder.id_number", "140522198503120016")
	oldIndex := securetest.LegacyIndex(shaKey, "holder.id_number", "140522198503120016")

	s := mustSealer(t, dataKey(1), indexKey(2), WithLegacy(aesKey, shaKey))
	got, err := s.Decrypt("holder.id_number", old)
	if err != nil || got != "140522198503120016" {
		t.Fatalf("legacy Decrypt = %q, %v", got, err)
	}
	if !s.NeedsReseal(old) {
		t.Fatal("an AES value should need re-sealing")
	}
	if _, err := s.Decrypt("holder.phone", old); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("legacy value opened for another field: %v", err)
	}
	idx := s.BlindIndexes("holder.id_number", "140522198503120016")
	if len(idx) != 2 || idx[1] != oldIndex || idx[0] != s.BlindIndex("holder.id_number", "140522198503120016") {
		t.Fatalf("BlindIndexes = %v, want [current, legacy %s]", idx, oldIndex)
	}
	if strings.HasPrefix(oldIndex, s.IndexPrefix()) {
		t.Fatal("a legacy index looks current")
	}
	without := mustSealer(t, dataKey(1), indexKey(2))
	if _, err := without.Decrypt("holder.id_number", old); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("legacy value opened without the legacy key: %v", err)
	}
	if len(without.BlindIndexes("k", "v")) != 1 {
		t.Fatal("a sealer without older keys searches more than one index")
	}
}

func TestKeyRotation(t *testing.T) {
	old := mustSealer(t, dataKey(1), indexKey(2))
	ct, err := old.Encrypt("f", "secret")
	if err != nil {
		t.Fatal(err)
	}
	oldIdx := old.BlindIndex("k", "secret")
	rotated := mustSealer(t, dataKey(3), indexKey(4), WithPrevious(dataKey(1), indexKey(2)))
	got, err := rotated.Decrypt("f", ct)
	if err != nil || got != "secret" {
		t.Fatalf("rotated Decrypt = %q, %v", got, err)
	}
	if !rotated.NeedsReseal(ct) {
		t.Fatal("value sealed with a previous key should need resealing")
	}
	fresh, _ := rotated.Encrypt("f", "secret")
	if rotated.NeedsReseal(fresh) {
		t.Fatal("value sealed with the current key should not need resealing")
	}
	if _, err := old.Decrypt("f", fresh); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("old sealer opened a value sealed with the new key: %v", err)
	}
	idx := rotated.BlindIndexes("k", "secret")
	if len(idx) != 2 || idx[1] != oldIdx || idx[0] == oldIdx || !strings.HasPrefix(idx[0], rotated.IndexPrefix()) {
		t.Fatalf("BlindIndexes = %v, want [new, %s]", idx, oldIdx)
	}
	if strings.HasPrefix(oldIdx, rotated.IndexPrefix()) {
		t.Fatal("the previous key's index carries the current prefix")
	}
	dataOnly := mustSealer(t, dataKey(3), indexKey(2), WithPrevious(dataKey(1), nil))
	if dataOnly.BlindIndex("k", "secret") != oldIdx {
		t.Fatal("rotating the data key alone changed the index")
	}
}

func TestBlindIndex(t *testing.T) {
	a := mustSealer(t, dataKey(1), indexKey(2))
	a2 := mustSealer(t, dataKey(9), indexKey(2)) // same index key, other data key
	b := mustSealer(t, dataKey(1), indexKey(4))

	x := a.BlindIndex("id_number", "140522198503120016")
	digest := IndexDigest(x)
	if len(digest) != 64 || x != a.IndexPrefix()+digest {
		t.Fatalf("index %q is not <key id>.<64 hex>", x)
	}
	if _, err := hex.DecodeString(digest); err != nil {
		t.Fatalf("index digest is not hex: %v", err)
	}
	if IndexDigest(digest) != digest {
		t.Fatal("IndexDigest changed a legacy (bare) index")
	}
	tests := []struct {
		name string
		got  string
		same bool
	}{
		{"stable", a.BlindIndex("id_number", "140522198503120016"), true},
		{"independent of data key", a2.BlindIndex("id_number", "140522198503120016"), true},
		{"keyed", b.BlindIndex("id_number", "140522198503120016"), false},
		{"kind separates", a.BlindIndex("phone", "140522198503120016"), false},
		{"value matters", a.BlindIndex("id_number", "140522199007080021"), false},
		{"no ambiguity at the join", a.BlindIndex("id_numbe", "r140522198503120016"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.got == x) != tt.same {
				t.Fatalf("index %s vs %s, want same=%v", tt.got, x, tt.same)
			}
		})
	}
	if strings.Contains(x, hex.EncodeToString([]byte("1405"))) {
		t.Fatal("index leaks the value")
	}
}

func TestParseKey(t *testing.T) {
	k := key(7, 16)
	tests := []struct {
		name string
		in   string
		size int
		ok   bool
	}{
		{"hex", hex.EncodeToString(k), 16, true},
		{"std base64", base64.StdEncoding.EncodeToString(k), 16, true},
		{"raw url base64", base64.RawURLEncoding.EncodeToString(k), 16, true},
		{"spaces trimmed", "  " + hex.EncodeToString(k) + "\n", 16, true},
		{"wrong size", hex.EncodeToString(k), 32, false},
		{"short base64", base64.StdEncoding.EncodeToString(k[:8]), 16, false},
		{"garbage", "not a key!", 16, false},
		{"empty", "", 16, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKey(tt.in, tt.size)
			if tt.ok != (err == nil) {
				t.Fatalf("ParseKey err = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && !bytes.Equal(got, k) {
				t.Fatalf("ParseKey = %x, want %x", got, k)
			}
		})
	}
	g1, err := GenerateKey(DataKeySize)
	if err != nil {
		t.Fatal(err)
	}
	g2, _ := GenerateKey(DataKeySize)
	if len(g1) != DataKeySize || bytes.Equal(g1, g2) {
		t.Fatal("GenerateKey returned a short or repeated key")
	}
}
