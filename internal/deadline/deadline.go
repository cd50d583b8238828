// Package deadline carries the time budget of each storage call from the
// HTTP edge, which knows what a request may spend, to the adapters that make
// the calls. A database that stops answering (connection open, no reply)
// would otherwise hold every request for the whole outage: with a budget in
// the request's context each read gives up after Budget.Read and the caller
// answers 503, then the next request tries again by itself.
//
// Work without a budget in its context (migrations, the reminder sweep, the
// command-line tools) is bounded only by its own context, because a batch
// legitimately takes longer than one request's read.
package deadline

import (
	"context"
	"time"
)

// Budget is what one storage call of a request may take.
type Budget struct {
	// Read bounds one read statement (the verify path's reads among them).
	Read time.Duration
	// Write bounds one write statement, which may wait for a row lock.
	Write time.Duration
}

type budgetKey struct{}

// With returns ctx carrying b; zero fields mean "no bound of its own".
func With(ctx context.Context, b Budget) context.Context {
	return context.WithValue(ctx, budgetKey{}, b)
}

// From returns the budget ctx carries; ok is false when there is none.
func From(ctx context.Context) (b Budget, ok bool) {
	b, ok = ctx.Value(budgetKey{}).(Budget)
	return b, ok
}

// Bound returns ctx limited to d from now (never later than ctx's own
// deadline) and its cancel function; with d <= 0 it returns ctx as it is.
func Bound(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}
