package reminder

import (
	"context"
	"errors"
	"time"
)

// Scheduler runs the reminders inside `serve`: the daily sweep at
// Options.DailyAt in Options.Location, and a dispatcher that polls the
// outbox every PollInterval. Several instances may each run one: sweeps are
// idempotent and dispatchers lease rows.
type Scheduler struct {
	svc *Service
	// wait sleeps between passes; tests replace it to step the loop.
	wait func(ctx context.Context, d time.Duration) error
	// sweepRetry is how long a failed sweep waits before the next try, so a
	// database outage is not hammered every poll.
	sweepRetry  time.Duration
	lastFailure time.Time
}

// NewScheduler returns the long-running loop around svc.
func NewScheduler(svc *Service) (*Scheduler, error) {
	if svc == nil {
		return nil, errors.New("reminder: scheduler: service is nil")
	}
	return &Scheduler{svc: svc, wait: sleep, sweepRetry: time.Minute}, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Run loops until ctx ends. On start-up it catches up: when the most recent
// daily slot has passed without a finished sweep (the service was down at
// 09:00), it sweeps at once. It returns nil when ctx is cancelled.
func (s *Scheduler) Run(ctx context.Context) error {
	log := s.svc.log
	log.InfoContext(ctx, "reminder scheduler started", "worker", s.svc.opts.Worker,
		"daily_at", s.svc.opts.DailyAt, "time_zone", s.svc.opts.Location.String())
	for {
		s.Pass(ctx)
		if err := s.wait(ctx, s.svc.opts.PollInterval); err != nil {
			log.InfoContext(context.WithoutCancel(ctx), "reminder scheduler stopped")
			return nil //nolint:nilerr // a cancelled context is how the scheduler is stopped, not a failure
		}
	}
}

// Pass is one turn of the loop: sweep if a daily slot is owed, then
// dispatch until nothing is due, then refresh the gauges.
func (s *Scheduler) Pass(ctx context.Context) {
	log := s.svc.log
	if owed, err := s.sweepOwed(ctx); err != nil {
		log.ErrorContext(ctx, "reminder sweep check failed", "error", err)
	} else if owed {
		if _, err := s.svc.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.lastFailure = s.svc.now()
			log.ErrorContext(ctx, "reminder sweep failed", "error", err)
		}
	}
	var sum Summary
	if err := s.svc.Drain(ctx, &sum); err != nil && ctx.Err() == nil {
		log.ErrorContext(ctx, "reminder dispatch failed", "error", err)
	}
	if sum.Claimed > 0 {
		log.InfoContext(ctx, "reminder dispatch pass", "claimed", sum.Claimed, "sent", sum.Sent,
			"retried", sum.Retried, "failed", sum.Failed, "dead", sum.Dead, "cancelled", sum.Cancelled,
			"skipped", sum.Skipped, "released", sum.Released, "resent", sum.Resent)
	}
	s.svc.observeQueue(ctx)
}

// sweepOwed reports whether the latest daily slot at or before now has no
// finished sweep on or after its day. A sweep on day D covers every licence
// due by D, so one catch-up sweep after a long outage is enough.
func (s *Scheduler) sweepOwed(ctx context.Context) (bool, error) {
	now := s.svc.now()
	if !s.lastFailure.IsZero() && now.Sub(s.lastFailure) < s.sweepRetry {
		return false, nil
	}
	local := now.In(s.svc.opts.Location)
	slot := civilDay(now, s.svc.opts.Location)
	if minuteOfDay(local) < s.svc.opts.DailyAt {
		slot = slot.AddDate(0, 0, -1)
	}
	last, err := s.svc.store.LastSweepDay(ctx)
	if err != nil {
		return false, err
	}
	return last.IsZero() || asDay(last).Before(slot), nil
}
