package showcode

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ShortCodeLen is the number of digits of a short code (数字核验码): the
// fallback an officer types when the camera cannot read the QR.
const ShortCodeLen = 8

// shortCodeSpace is how many short codes there are: 10^8.
const shortCodeSpace = 100_000_000

// Remember is how long after its expiry a code's hash (and its short code)
// is still known, so an officer can be told "expired, ask for a fresh one"
// instead of a bare "invalid". It reveals nothing a scanner could use: an
// expired code can no longer be consumed.
const Remember = 15 * time.Minute

// ErrShortCodeTaken is returned by Store.SaveShort when the short code is
// already held by another live or remembered code.
var ErrShortCodeTaken = errors.New("showcode: short code taken")

// mintShortAttempts bounds the retries on a short-code collision. With
// 10^8 codes and even a thousand codes known at once, one collision has a
// chance of 10^-5, four in a row practically none.
const mintShortAttempts = 4

// IsShortCode reports whether s is exactly ShortCodeLen ASCII digits.
func IsShortCode(s string) bool {
	if len(s) != ShortCodeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// normaliseShortCode reads what an officer typed: digits, possibly grouped
// by spaces or a hyphen as the holder's screen shows them ("1234 5678").
func normaliseShortCode(s string) (string, bool) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\u3000' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	return s, IsShortCode(s)
}

// drawShortCode draws a uniformly distributed 8-digit code from r, by
// rejection so that no code is likelier than another.
func drawShortCode(r io.Reader) (string, error) {
	const limit = (1 << 32) / shortCodeSpace * shortCodeSpace
	var b [4]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return "", fmt.Errorf("showcode: read random: %w", err)
		}
		if v := binary.BigEndian.Uint32(b[:]); v < limit {
			return fmt.Sprintf("%08d", v%shortCodeSpace), nil
		}
	}
}

// mintShort gives the code under hash a short code of its own, kept as
// long as the code is remembered. The store holds the short code's hash,
// like the token's.
func (s *Service) mintShort(ctx context.Context, hash string) (string, error) {
	for range mintShortAttempts {
		short, err := drawShortCode(s.rand)
		if err != nil {
			return "", err
		}
		err = s.store.SaveShort(ctx, Hash(short), hash, s.ttl+Remember)
		if errors.Is(err, ErrShortCodeTaken) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("showcode: save short code: %w", err)
		}
		return short, nil
	}
	return "", errors.New("showcode: no free short code")
}

// ref is the store key of what an officer submitted: the token's hash, or
// the hash a short code points to. Anything else is ErrInvalid.
func (s *Service) ref(ctx context.Context, code string) (string, error) {
	if validToken(code) {
		return Hash(code), nil
	}
	if IsShortCode(code) {
		h, err := s.store.ResolveShort(ctx, Hash(code))
		if err != nil {
			return "", wrap("resolve short code", err)
		}
		return h, nil
	}
	return "", ErrInvalid
}
