package showcode

import (
	"net/url"
	"strings"
)

// maxScanned bounds what ParseScanned will look at: a real QR text is about
// 60 bytes, and anything much longer is not ours.
const maxScanned = 512

// ParseScanned extracts the token (or the short code) from what an officer's scanner read.
// It accepts, after trimming surrounding white space:
//
//   - the bare token (22 characters of unpadded base64url);
//   - a short code: 8 digits, possibly grouped by spaces or a hyphen;
//   - the full QR text {publicURL}/v/{token};
//   - any http(s) URL whose path is exactly /v/{token}, or
//     {path of publicURL}/v/{token}, on any host.
//
// Other hosts are accepted because the host is not what makes a code
// trustworthy: the token is looked up only in this service's own store, so
// a code shown under an old or alternative domain still verifies, and a
// forged URL can name only a token that either exists here or does not.
// URLs with user info, a query or a fragment are refused: no QR this service
// mints has them, so they are a sign of tampering or of someone else's QR.
// Everything else is ErrInvalid, decided without touching any store.
func ParseScanned(text, publicURL string) (string, error) {
	text = strings.TrimSpace(text)
	if text == "" || len(text) > maxScanned {
		return "", ErrInvalid
	}
	if validToken(text) {
		return text, nil
	}
	if short, ok := normaliseShortCode(text); ok {
		return short, nil
	}
	if base := strings.TrimRight(publicURL, "/"); base != "" {
		if tok, ok := strings.CutPrefix(text, base+"/v/"); ok {
			if validToken(tok) {
				return tok, nil
			}
			return "", ErrInvalid
		}
	}
	u, err := url.Parse(text)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
		return "", ErrInvalid
	}
	p := u.EscapedPath()
	var prefix string
	if pu, err := url.Parse(strings.TrimRight(publicURL, "/")); err == nil {
		prefix = pu.EscapedPath()
	}
	for _, base := range []string{"", prefix} {
		if tok, ok := strings.CutPrefix(p, base+"/v/"); ok && validToken(tok) {
			return tok, nil
		}
	}
	return "", ErrInvalid
}
