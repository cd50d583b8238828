package verify

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/showcode"
)

// Default limits on failed typed short codes per Window. A short code has
// 10^8 values; within one code's lifetime (60 s, inside at most two fixed
// windows) one IP gets at most 2 × 20 = 40 guesses, a chance of 4 × 10^-7
// to hit a given code. docs/API.md has the arithmetic.
const (
	DefaultShortPerOfficer = 10
	DefaultShortPerIP      = 20
)

// InvalidCodeError is showcode.ErrInvalid with the reason an officer is
// told. errors.Is(err, showcode.ErrInvalid) holds for it.
type InvalidCodeError struct {
	Reason showcode.Reason
}

func (e *InvalidCodeError) Error() string {
	return "verify: show code not verifiable (" + string(e.Reason) + ")"
}

// Unwrap makes the error read as showcode.ErrInvalid.
func (e *InvalidCodeError) Unwrap() error { return showcode.ErrInvalid }

// ReasonOf is the reason carried by an invalid-code error, or "".
func ReasonOf(err error) showcode.Reason {
	var ic *InvalidCodeError
	if errors.As(err, &ic) {
		return ic.Reason
	}
	return ""
}

func (l Limits) withShortDefaults() Limits {
	if l.ShortPerOfficer < 1 {
		l.ShortPerOfficer = DefaultShortPerOfficer
	}
	if l.ShortPerIP < 1 {
		l.ShortPerIP = DefaultShortPerIP
	}
	return l
}

func (s *Service) shortKeys(req Request) [2]string {
	ip := req.ClientIP
	if ip == "" {
		ip = "unknown"
	}
	return [2]string{s.opts.Key("rl", "verify", "short", "officer", req.OfficerOpenID), s.opts.Key("rl", "verify", "short", "ip", ip)}
}

// codeFailed handles an error from peeking or consuming a code: an invalid
// code is counted and explained, anything else is a dependency failure.
func (s *Service) codeFailed(ctx context.Context, req Request, code string, short bool, err error) error {
	if !errors.Is(err, showcode.ErrInvalid) {
		return s.fail(ctx, req, err)
	}
	return s.invalid(ctx, req, code, short)
}

// invalid counts a failed code (against the short-code limits too when it
// was typed) and returns it with the reason the officer is told. An empty
// code (nothing that parsed) reads as used, like an unknown one.
func (s *Service) invalid(ctx context.Context, req Request, code string, short bool) error {
	if err := s.fail(ctx, req, showcode.ErrInvalid); !errors.Is(err, showcode.ErrInvalid) {
		return err
	}
	if short {
		for _, k := range s.shortKeys(req) {
			if _, err := s.counter.Add(ctx, k, s.opts.Limits.Window); err != nil {
				return unavailable("redis", err)
			}
		}
	}
	reason := showcode.ReasonUsed
	if code != "" {
		r, err := s.codes.Reason(ctx, code)
		if err != nil {
			return unavailable("redis", err)
		}
		reason = r
	}
	if s.opts.Audit != nil {
		// The chain holds every attempt, not only those that found a
		// licence: a run of invalid codes from one officer is what an
		// auditor looks for. The code itself is never written.
		_, err := s.opts.Audit.AppendAudit(ctx, audit.Event{At: s.opts.Now(), Actor: audit.ActorOfficer(req.OfficerOpenID),
			Action: "verification.code_invalid", Object: "department:" + strconv.FormatInt(req.DepartmentID, 10),
			Detail: fmt.Sprintf("reason=%s short=%t ip=%s", reason, short, req.ClientIP)})
		if err != nil {
			return dbErr("audit", err)
		}
	}
	return &InvalidCodeError{Reason: reason}
}

// recorded reports whether officer's first verification of licenceID, at
// the time a code was consumed, left its usage record. Only a replay asks,
// so the lookup costs nothing on the ordinary path.
func (s *Service) recorded(ctx context.Context, licenceID int64, officer string, at time.Time) (bool, error) {
	recs, err := s.usage.UsageByLicence(ctx, licenceID, HistoryLimit)
	if err != nil {
		return false, dbErr("usage", err)
	}
	since := at.Add(-time.Second) // the database may keep whole seconds
	for _, r := range recs {
		if r.OfficerOpenID == officer && r.Result != ResultRefused && !r.At.Before(since) {
			return true, nil
		}
	}
	return false, nil
}
