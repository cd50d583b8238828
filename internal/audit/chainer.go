package audit

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Pending is where events wait that were written durably first and join
// the chain later: a verification's usage record, written in one statement
// on the officer's request and chained in the background, so that the
// request neither waits for the chain nor queues on its head.
type Pending interface {
	// ChainPending appends up to max waiting events to the chain, in one
	// transaction, and reports how many it appended. Concurrent callers
	// must never chain one event twice.
	ChainPending(ctx context.Context, max int) (int, error)
}

// chainBatch bounds one ChainPending transaction, so the head lock is
// never held for long.
const chainBatch = 500

// Chainer appends waiting events to the chain. Every serving instance
// runs one; Pending's transactions keep them from chaining an event twice.
type Chainer struct {
	pending Pending
	every   time.Duration
	log     *slog.Logger
}

// NewChainer returns a Chainer that looks every interval.
func NewChainer(p Pending, every time.Duration, log *slog.Logger) (*Chainer, error) {
	switch {
	case p == nil:
		return nil, errors.New("audit: nil pending store")
	case every <= 0:
		return nil, errors.New("audit: chain interval must be positive")
	case log == nil:
		return nil, errors.New("audit: nil logger")
	}
	return &Chainer{pending: p, every: every, log: log}, nil
}

// Run drains what waits at once and then every interval until ctx ends. A
// failure is logged and tried again at the next tick: the events stay
// durable and waiting meanwhile.
func (c *Chainer) Run(ctx context.Context) {
	t := time.NewTicker(c.every)
	defer t.Stop()
	for {
		if _, err := c.Drain(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("audit chain: appending waiting events failed; trying again", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Drain appends batches until none comes back full or ctx ends, and
// returns how many events it appended. At shutdown, called after the last
// event was written, it leaves nothing waiting.
func (c *Chainer) Drain(ctx context.Context) (int, error) {
	total := 0
	for ctx.Err() == nil {
		n, err := c.pending.ChainPending(ctx, chainBatch)
		total += n
		if err != nil || n < chainBatch {
			return total, err
		}
	}
	return total, ctx.Err()
}
