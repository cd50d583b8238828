package seal_test

import (
	"encoding/asn1"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"

	"github.com/yangcheng-county/elicence/internal/seal"
)

func hexInt(t *testing.T, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		t.Fatalf("bad hex %q", s)
	}
	return n
}

// TestSM3KnownAnswers: the two examples of GB/T 32905-2016 Appendix A.
func TestSM3KnownAnswers(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"},
		{strings.Repeat("abcd", 16), "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"},
	} {
		sum := sm3.Sum([]byte(tt.in))
		if got := hex.EncodeToString(sum[:]); got != tt.want {
			t.Errorf("SM3(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestSM2KnownAnswer: the SM2 signature example on the recommended curve
// (GM/T 0003.5-2012, the GB/T 32918 algorithm with the GB/T 32918.5
// parameters): private key d, message "message digest", user ID
// 1234567812345678, random k give the published (r, s). The signing
// equation is recomputed from d and k with the library's curve and ZA, and
// the library's verification (the one seal.Verify uses) must accept (r, s)
// and refuse it for another message.
func TestSM2KnownAnswer(t *testing.T) {
	d := hexInt(t, "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
	k := hexInt(t, "59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21")
	wantR := hexInt(t, "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3")
	wantS := hexInt(t, "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA")
	priv, err := sm2.NewPrivateKeyFromInt(d)
	if err != nil {
		t.Fatal(err)
	}
	pub := &priv.PublicKey
	if got := hex.EncodeToString(point(t, priv)[:32]); got != "09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020" {
		t.Fatalf("public key x = %s", got)
	}
	msg := []byte("message digest")
	e, err := sm2.CalculateSM2Hash(pub, msg, seal.UserID)
	if err != nil {
		t.Fatal(err)
	}
	// r = (e + x1) mod n, (x1, y1) = kG; s = (1 + d)^-1 (k - r d) mod n.
	n := sm2.P256().Params().N
	kG, err := sm2.NewPrivateKeyFromInt(k)
	if err != nil {
		t.Fatal(err)
	}
	x1 := new(big.Int).SetBytes(point(t, kG)[:32])
	r := new(big.Int).Add(new(big.Int).SetBytes(e), x1)
	r.Mod(r, n)
	inv := new(big.Int).ModInverse(new(big.Int).Add(d, big.NewInt(1)), n)
	s := new(big.Int).Sub(k, new(big.Int).Mul(r, d))
	s.Mul(s, inv).Mod(s, n)
	if r.Cmp(wantR) != 0 || s.Cmp(wantS) != 0 {
		t.Fatalf("signature (%x, %x), want (%x, %x)", r, s, wantR, wantS)
	}
	der := derSignature(t, r, s)
	if !seal.Verify(pub, msg, der) {
		t.Fatal("the published signature does not verify")
	}
	if seal.Verify(pub, []byte("message digesT"), der) {
		t.Fatal("the signature verifies for another message")
	}
}

// point is the public point of a key, X then Y, 32 bytes each.
func point(t *testing.T, k *sm2.PrivateKey) []byte {
	t.Helper()
	p, err := sm2.PublicKeyToECDH(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return p.Bytes()[1:]
}

func derSignature(t *testing.T, r, s *big.Int) []byte {
	t.Helper()
	der, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
	if err != nil {
		t.Fatal(err)
	}
	return der
}
