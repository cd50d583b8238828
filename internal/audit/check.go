package audit

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// CheckState is where a chain check stands.
type CheckState string

// States of a chain check.
const (
	CheckRunning CheckState = "running"
	CheckIntact  CheckState = "intact" // every entry verifies: Checked entries
	CheckBroken  CheckState = "broken" // BadSeq is the first entry that does not
	CheckFailed  CheckState = "failed" // the check could not finish (database error)
)

// Check is one run of the chain verification that `bff audit verify` makes,
// started from the console and polled for its progress. It is kept in a
// shared store (Redis), so any instance answers the poll, whichever runs it.
type Check struct {
	ID        string     `json:"id"`
	State     CheckState `json:"state"`
	Checked   int64      `json:"checked"`
	Total     int64      `json:"total"`
	BadSeq    int64      `json:"bad_seq,omitempty"`
	Why       string     `json:"why,omitempty"`
	StartedBy string     `json:"started_by"`
	StartedAt time.Time  `json:"started_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// ChainVerifier walks the chain (the store's VerifyAuditProgress): it
// returns the number of entries that verify, or a *TamperError at the
// first that does not, calling progress as it goes.
type ChainVerifier interface {
	VerifyAuditProgress(ctx context.Context, progress func(checked, total int64)) (int64, error)
}

// CheckStore keeps checks and the mark of the one running (Redis).
type CheckStore interface {
	// Start records c as the running check and returns it, unless a check
	// is already running: then it returns that one and started false.
	Start(ctx context.Context, c Check, ttl time.Duration) (running Check, started bool, err error)
	// Save records c's progress and keeps the running mark for ttl.
	Save(ctx context.Context, c Check, ttl time.Duration) error
	// Finish records c's result for ttl and clears the running mark.
	Finish(ctx context.Context, c Check, ttl time.Duration) error
	// Get returns a check; found is false when it is unknown or expired.
	Get(ctx context.Context, id string) (c Check, found bool, err error)
}

// ErrCheckNotFound is an unknown or expired check id.
var ErrCheckNotFound = errors.New("audit: chain check not found")

// How long checks are kept. A running check's record is renewed with every
// batch, so one whose instance died goes away after runningTTL and the
// next start begins afresh; a result is kept for resultTTL.
const (
	runningTTL = 2 * time.Minute
	resultTTL  = 24 * time.Hour
	// maxRun bounds one walk; a chain of ten million entries takes minutes.
	maxRun = time.Hour
)

// Checker runs chain checks in the background, one at a time across every
// instance: a start while one runs answers the running one, so repeated
// clicks never walk the chain twice at once.
type Checker struct {
	verifier ChainVerifier
	store    CheckStore
	now      func() time.Time
	log      *slog.Logger
	running  sync.WaitGroup
}

// NewChecker checks its dependencies.
func NewChecker(v ChainVerifier, st CheckStore, now func() time.Time, log *slog.Logger) (*Checker, error) {
	if v == nil || st == nil || now == nil || log == nil {
		return nil, errors.New("audit: NewChecker needs a verifier, a store, a clock and a logger")
	}
	return &Checker{verifier: v, store: st, now: now, log: log}, nil
}

// Start begins a check by actor, or returns the one already running. The
// walk outlives the request that started it (ctx's values are kept, its
// cancellation is not).
func (c *Checker) Start(ctx context.Context, actor string) (Check, error) {
	now := c.now()
	ck := Check{ID: rand.Text(), State: CheckRunning, StartedBy: actor, StartedAt: now, UpdatedAt: now}
	cur, started, err := c.store.Start(ctx, ck, runningTTL)
	if err != nil || !started {
		return cur, err
	}
	c.running.Add(1)
	go func() {
		defer c.running.Done()
		c.run(context.WithoutCancel(ctx), ck)
	}()
	return ck, nil
}

func (c *Checker) run(ctx context.Context, ck Check) {
	ctx, cancel := context.WithTimeout(ctx, maxRun)
	defer cancel()
	n, err := c.verifier.VerifyAuditProgress(ctx, func(checked, total int64) {
		ck.Checked, ck.Total, ck.UpdatedAt = checked, total, c.now()
		if err := c.store.Save(ctx, ck, runningTTL); err != nil {
			c.log.Warn("audit chain check: progress not saved", "check", ck.ID, "err", err)
		}
	})
	ck.Checked, ck.UpdatedAt = n, c.now()
	var te *TamperError
	switch {
	case err == nil:
		ck.State, ck.Total = CheckIntact, n
	case errors.As(err, &te):
		ck.State, ck.BadSeq, ck.Why = CheckBroken, te.Seq, te.Why
		c.log.Error("audit chain broken", "check", ck.ID, "seq", te.Seq, "why", te.Why)
	default:
		ck.State = CheckFailed
		c.log.Error("audit chain check failed", "check", ck.ID, "err", err)
	}
	if err := c.store.Finish(ctx, ck, resultTTL); err != nil {
		c.log.Error("audit chain check: result not saved", "check", ck.ID, "err", err)
	}
}

// Get returns a check, or ErrCheckNotFound.
func (c *Checker) Get(ctx context.Context, id string) (Check, error) {
	ck, found, err := c.store.Get(ctx, id)
	if err != nil {
		return Check{}, err
	}
	if !found {
		return Check{}, ErrCheckNotFound
	}
	return ck, nil
}

// Wait returns once the checks this instance started have ended.
func (c *Checker) Wait() { c.running.Wait() }
