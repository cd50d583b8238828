package verify_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/showcode"
	"github.com/yangcheng-county/elicence/internal/store"
)

// tripCounter counts Redis round trips: one per command sent alone, one per
// pipeline.
type tripCounter struct{ n atomic.Int64 }

func (c *tripCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *tripCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.n.Add(1); return next(ctx, cmd) }
}
func (c *tripCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { c.n.Add(1); return next(ctx, cmds) }
}

// TestVerificationRedisRoundTrips: a scanned QR verifies with two Redis
// round trips (counters and code read together; the atomic consume), a
// typed short code with one more to resolve it.
func TestVerificationRedisRoundTrips(t *testing.T) {
	e := newEnv(t, store.DriverSQLite, envOptions{})
	trips := &tripCounter{}
	e.redis.Redis().AddHook(trips)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		code func(showcode.Code) string
		want int64
	}{
		{"scanned QR", func(c showcode.Code) string { return c.Content }, 2},
		{"typed short code", func(c showcode.Code) string { return c.ShortCode }, 4},
	} {
		code := e.mint(t, e.zsDriving, showcode.ScopeBasic)
		// Scripts run as EVALSHA; a first run loads them, which is not a
		// cost of the steady state: warm them with a code of their own.
		if _, err := e.verifier.Verify(ctx, e.req(police, e.police, tc.code(e.mint(t, e.zsDriving, showcode.ScopeBasic)))); err != nil {
			t.Fatal(err)
		}
		trips.n.Store(0)
		res, err := e.verifier.Verify(ctx, e.req(police, e.police, tc.code(code)))
		if err != nil || !res.Valid {
			t.Fatalf("%s: %+v, %v", tc.name, res, err)
		}
		if got := trips.n.Load(); got != tc.want {
			t.Errorf("%s: %d Redis round trips, want %d", tc.name, got, tc.want)
		}
	}
}

// TestInvalidAttemptsAreAudited: an attempt with a code that reaches no
// licence still leaves an audit entry, without the code in it.
func TestInvalidAttemptsAreAudited(t *testing.T) {
	e := newEnv(t, store.DriverSQLite, envOptions{})
	ctx := context.Background()
	code := e.mint(t, e.zsDriving, showcode.ScopeBasic)
	if _, err := e.verifier.Verify(ctx, e.req(police, e.police, code.Token)); err != nil {
		t.Fatal(err)
	}
	// Someone else's scan of the used code.
	if _, err := e.verifier.Verify(ctx, e.req(demo.OfficerHousing, e.housing, code.Token)); !errors.Is(err, showcode.ErrInvalid) {
		t.Fatalf("used code: %v", err)
	}
	n, err := e.store.VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last, err := e.store.AuditEvents(ctx, n-1, 1)
	if err != nil || len(last) != 1 {
		t.Fatal(last, err)
	}
	ev := last[0]
	if ev.Action != "verification.code_invalid" || ev.Actor != "officer:"+demo.OfficerHousing ||
		!strings.Contains(ev.Detail, "reason=used") || strings.Contains(ev.Detail, code.Token) || strings.Contains(ev.Detail, code.ShortCode) {
		t.Fatalf("audit entry = %+v", ev)
	}
}
