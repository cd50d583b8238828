package secure

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func mustSealer(t *testing.T, enc, idx []byte, opts ...Option) *Sealer {
	t.Helper()
	s, err := NewSealer(enc, idx, opts...)
	if err != nil {
		t.Fatalf("NewSealer: %v", err)
	}
	return s
}

func TestNewSealerRejectsBadKeys(t *testing.T) {
	tests := []struct {
		name     string
		enc, idx []byte
		want     error
	}{
		{"short enc", key(1)[:31], key(2), ErrKeySize},
		{"long enc", append(key(1), 0), key(2), ErrKeySize},
		{"nil enc", nil, key(2), ErrKeySize},
		{"short idx", key(1), key(2)[:16], ErrKeySize},
		{"same keys", key(1), key(1), ErrSameKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSealer(tt.enc, tt.idx)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := NewSealer(key(1), key(2)); err != nil {
		t.Fatalf("valid keys rejected: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	s := mustSealer(t, key(1), key(2))
	for _, v := range []string{"", "140522198503120016", "13800000001", "山西省阳城县凤城镇", strings.Repeat("x", 4096)} {
		ct, err := s.Encrypt("holder.id_number", v)
		if err != nil {
			t.Fatalf("Encrypt: %v", err)
		}
		if v != "" && strings.Contains(ct, v) {
			t.Fatalf("sealed value contains the plaintext: %q", ct)
		}
		if !strings.HasPrefix(ct, "v1.") {
			t.Fatalf("sealed value %q lacks the version prefix", ct)
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
	s := mustSealer(t, key(1), key(2))
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
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
	s := mustSealer(t, key(1), key(2))
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
	other := mustSealer(t, key(3), key(2))

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
		{"forged key id", other, "holder.phone", parts[0] + "." + keyID(key(3)) + "." + parts[2], ErrDecrypt},
		{"wrong version", s, "holder.phone", "v9." + parts[1] + "." + parts[2], ErrMalformed},
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

func TestKeyRotation(t *testing.T) {
	old := mustSealer(t, key(1), key(2))
	ct, err := old.Encrypt("f", "secret")
	if err != nil {
		t.Fatal(err)
	}
	rotated := mustSealer(t, key(3), key(2), WithPreviousKeys(key(1)))
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
	if _, err := NewSealer(key(3), key(2), WithPreviousKeys(key(1)[:5])); !errors.Is(err, ErrKeySize) {
		t.Fatalf("short previous key accepted: %v", err)
	}
}

func TestBlindIndex(t *testing.T) {
	a := mustSealer(t, key(1), key(2))
	a2 := mustSealer(t, key(9), key(2)) // same index key, other enc key
	b := mustSealer(t, key(1), key(4))

	x := a.BlindIndex("id_number", "140522198503120016")
	if len(x) != 64 {
		t.Fatalf("index length = %d, want 64", len(x))
	}
	if _, err := hex.DecodeString(x); err != nil {
		t.Fatalf("index is not hex: %v", err)
	}
	tests := []struct {
		name string
		got  string
		same bool
	}{
		{"stable", a.BlindIndex("id_number", "140522198503120016"), true},
		{"independent of enc key", a2.BlindIndex("id_number", "140522198503120016"), true},
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
	k := key(7)
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"hex", hex.EncodeToString(k), true},
		{"std base64", base64.StdEncoding.EncodeToString(k), true},
		{"raw url base64", base64.RawURLEncoding.EncodeToString(k), true},
		{"spaces trimmed", "  " + hex.EncodeToString(k) + "\n", true},
		{"short", base64.StdEncoding.EncodeToString(k[:16]), false},
		{"garbage", "not a key!", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKey(tt.in)
			if tt.ok != (err == nil) {
				t.Fatalf("ParseKey err = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && !bytes.Equal(got, k) {
				t.Fatalf("ParseKey = %x, want %x", got, k)
			}
		})
	}
	g1, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	g2, _ := GenerateKey()
	if len(g1) != KeySize || bytes.Equal(g1, g2) {
		t.Fatal("GenerateKey returned a short or repeated key")
	}
}
