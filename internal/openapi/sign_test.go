package openapi

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// The worked examples of docs/OPENAPI.md. The expected values were
// computed with OpenSSL (`openssl dgst -sm3 [-hmac SECRET]`), not with
// this package, so a wrong digest, key handling or line layout fails here.
const (
	docSecret = "k3Jx9V0qW5nZtR8uYbL2cE7hM4aP6sD1fG0jK9lQwXy"
	docBody   = `{"action":"suspend","reason":"违法记分满12分"}`
)

func TestSM3KnownAnswers(t *testing.T) {
	for in, want := range map[string]string{
		"":      "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b",
		"abc":   "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
		docBody: "f986fb05152735dd7fd9750325b6449d692760c2e09d22ed33fdf3153405c84c",
	} {
		if got := BodyDigest([]byte(in)); got != want {
			t.Errorf("SM3(%q) = %s, want %s", in, got, want)
		}
	}
	if got := Sign("key", "abc"); got != "28e63256e7c5a087b1f073265dc53092163f7b82729735d06f28f10af9d52393" {
		t.Errorf("HMAC-SM3(key, abc) = %s", got)
	}
}

func TestWorkedExamples(t *testing.T) {
	cases := []struct {
		name, method, target, nonce, body, want string
	}{
		{"POST with a body", "POST", "https://elicence.example/openapi/v1/licences/42/events", "4f9c1a7e2b8d4e6fa0c3b5d7e9f1a2b3", docBody,
			"91640f31a844a226ec6ca0550160bbf5ff114db200c4cb508ad3065bd1c3ec28"},
		{"GET with a query", "GET", "https://elicence.example/openapi/v1/licences?type_code=121405220120805465001&licence_number=JC2026000123", "Z7qLm2Pw9Xc4Rt6Yb8Nd0Fh3Jk5Sv1Ga", "",
			"beb04bf43f2b0eb8a23d78419a8e07f1f31c598434db6d27a52420d1b7cb836d"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tc.target, nil)
			if err != nil {
				t.Fatal(err)
			}
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			SignRequest(req, body, "app_0123456789abcdef0123", docSecret, time.Unix(1796000000, 0), tc.nonce)
			if got := req.Header.Get(HeaderSignature); got != tc.want {
				t.Errorf("signature %s, want %s", got, tc.want)
			}
			if req.Header.Get(HeaderTimestamp) != "1796000000" || req.Header.Get(HeaderNonce) != tc.nonce || req.Header.Get(HeaderAppID) != "app_0123456789abcdef0123" {
				t.Errorf("headers %v", req.Header)
			}
		})
	}
}

func TestSignatureComparison(t *testing.T) {
	want := Sign(docSecret, "x")
	if !signatureMatches(want, strings.ToUpper(want)) {
		t.Error("upper-case hex of the right signature refused")
	}
	flip := "0"
	if strings.HasSuffix(want, "0") {
		flip = "1"
	}
	if signatureMatches(want, want[:len(want)-1]+flip) {
		t.Error("a wrong last digit accepted")
	}
	if signatureMatches(want, "") || signatureMatches(want, want+"00") {
		t.Error("an empty or longer signature accepted")
	}
}

func TestValidNonce(t *testing.T) {
	for n, ok := range map[string]bool{
		strings.Repeat("a", 15): false, strings.Repeat("a", 16): true, strings.Repeat("Z9", 32): true,
		strings.Repeat("a", 65): false, "abcdefgh-ijklmnop": false, "abcdefghijklmnop ": false, "中文中文中文中文中文中文": false,
	} {
		if ValidNonce(n) != ok {
			t.Errorf("ValidNonce(%q) = %v", n, !ok)
		}
	}
	if n := NewNonce(); !ValidNonce(n) || n == NewNonce() {
		t.Errorf("NewNonce %q", n)
	}
}
