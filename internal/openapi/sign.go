// Package openapi is the platform's side of the Open API for department
// systems: app credentials, the request signature (HMAC-SM3 over the
// method, path, query, timestamp, nonce and body digest), the single-use
// nonce and timestamp window that stop replays, the per-app rate limit and
// idempotent retries. docs/OPENAPI.md is the contract a department's
// developer implements; this package is its one implementation on the
// server and, through SignRequest, in tests.
//
// SM3 (GB/T 32905) and HMAC over it are what the county's security rules
// ask of government systems; the digest comes from github.com/emmansun/gmsm.
package openapi

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

// Request headers of a signed call.
const (
	HeaderAppID     = "X-Elicence-App-Id"
	HeaderTimestamp = "X-Elicence-Timestamp"
	HeaderNonce     = "X-Elicence-Nonce"
	HeaderSignature = "X-Elicence-Signature"
)

// Window is how far a request's timestamp may be from the server's clock,
// either way. Nonces are remembered at least this long, so a captured
// request can be replayed neither inside the window (nonce) nor after it
// (timestamp).
const Window = 300 * time.Second

// Nonce length bounds, in characters of [A-Za-z0-9].
const (
	MinNonceLen = 16
	MaxNonceLen = 64
)

// BodyDigest is the lowercase hex SM3 of a request body; an empty body
// digests the empty string.
func BodyDigest(body []byte) string {
	sum := sm3.Sum(body)
	return hex.EncodeToString(sum[:])
}

// StringToSign is what the signature covers, one element per line:
// METHOD, path, raw query, timestamp, nonce and the body digest. The path
// and query are taken exactly as sent on the request line (percent-encoding
// kept, no re-ordering), so neither side has to canonicalise anything.
func StringToSign(method, path, rawQuery, timestamp, nonce, bodyDigest string) string {
	return strings.Join([]string{strings.ToUpper(method), path, rawQuery, timestamp, nonce, bodyDigest}, "\n")
}

// Sign returns the lowercase hex HMAC-SM3 of stringToSign keyed with the
// app secret's bytes as printed by `bff app add`.
func Sign(secret, stringToSign string) string {
	m := hmac.New(sm3.New, []byte(secret))
	m.Write([]byte(stringToSign))
	return hex.EncodeToString(m.Sum(nil))
}

// signatureMatches compares a presented signature with the expected one in
// constant time, so the comparison does not reveal how many leading
// characters were right.
func signatureMatches(expected, presented string) bool {
	return hmac.Equal([]byte(expected), []byte(strings.ToLower(presented)))
}

// ValidNonce reports whether n has the allowed length and alphabet.
func ValidNonce(n string) bool {
	if len(n) < MinNonceLen || len(n) > MaxNonceLen {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewNonce returns 32 random characters of [A-Za-z0-9].
func NewNonce() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("openapi: random nonce: " + err.Error())
	}
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b[:])
}

// SignRequest signs req as app appID at time at with the given nonce (a
// fresh one when empty): it sets the four X-Elicence-* headers. body must
// be the exact bytes req will send (nil for none); req.Body is set to it.
// It is the reference client of docs/OPENAPI.md, used by the tests.
func SignRequest(req *http.Request, body []byte, appID, secret string, at time.Time, nonce string) {
	if nonce == "" {
		nonce = NewNonce()
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	sts := StringToSign(req.Method, req.URL.EscapedPath(), req.URL.RawQuery, ts, nonce, BodyDigest(body))
	req.Header.Set(HeaderAppID, appID)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignature, Sign(secret, sts))
	if body != nil {
		req.Body = http.NoBody
		if len(body) > 0 {
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
		req.ContentLength = int64(len(body))
	}
}
