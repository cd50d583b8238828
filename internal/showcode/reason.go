package showcode

import (
	"context"
	"errors"
	"fmt"
)

// Reason says to an officer why a code did not verify, so the words on the
// screen tell them what to do next. Only an authenticated officer is told,
// and only two answers exist: a code nobody ever minted reads as used, so a
// guesser cannot tell a hit on a spent code from a miss.
type Reason string

const (
	// ReasonExpired: the code existed and ran out; the holder refreshes it.
	ReasonExpired Reason = "expired"
	// ReasonUsed: spent by another scan (a screenshot or a forwarded
	// code), or never a code at all.
	ReasonUsed Reason = "used"
)

// Reason tells why code (a token or a short code) is not verifiable. It
// is asked only after a verification failed with ErrInvalid: a code whose
// expiry is remembered and past is expired, whether or not it was spent
// first; everything else reads as used.
func (s *Service) Reason(ctx context.Context, code string) (Reason, error) {
	h, err := s.ref(ctx, code)
	if err != nil {
		if errors.Is(err, ErrInvalid) {
			return ReasonUsed, nil
		}
		return "", err
	}
	exp, err := s.store.Expiry(ctx, h)
	if err != nil {
		return "", fmt.Errorf("showcode: expiry: %w", err)
	}
	if !exp.IsZero() && !s.now().Before(exp) {
		return ReasonExpired, nil
	}
	return ReasonUsed, nil
}
