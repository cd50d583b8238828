package verify_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	mysqldriver "github.com/go-sql-driver/mysql"
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

// maxSQLRoundTrips is a verification's budget of database round trips
// (docs/PERFORMANCE.md).
const maxSQLRoundTrips = 3

// socketTrips counts database round trips on the wire: one each time the
// client, having sent something, reads the server's answer. It sees what
// the driver does, whatever gorm and database/sql make of a call: a
// prepared statement's prepare and execute are two, the close sent after
// them without waiting for an answer is none.
type socketTrips struct{ n atomic.Int64 }

type countedConn struct {
	net.Conn
	trips *socketTrips
	sent  atomic.Bool
}

func (c *countedConn) Write(b []byte) (int, error) {
	c.sent.Store(true)
	return c.Conn.Write(b)
}

func (c *countedConn) Read(b []byte) (int, error) {
	if c.sent.Swap(false) {
		c.trips.n.Add(1)
	}
	return c.Conn.Read(b)
}

// countedNets names each counting dialer apart: the driver's registry of
// dialers is global.
var countedNets atomic.Int64

// countingDSN returns a DSN rewriter for envOptions.dsn: connections go
// through a dialer that counts into trips, with go-sql-driver's client-side
// interpolation on or off.
func countingDSN(t *testing.T, trips *socketTrips, interpolate bool) func(string) string {
	name := fmt.Sprintf("tcp-counted-%d", countedNets.Add(1))
	mysqldriver.RegisterDialContext(name, func(ctx context.Context, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		return &countedConn{Conn: c, trips: trips}, nil
	})
	return func(dsn string) string {
		cfg, err := mysqldriver.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Net, cfg.InterpolateParams = name, interpolate
		return cfg.FormatDSN()
	}
}

// TestVerificationSQLRoundTrips: a verification costs two database round
// trips with production's DSN (interpolateParams=true): the one joined
// SELECT and the usage record's INSERT, autocommitted; its audit entry is
// chained later, off the request. With the driver's default every
// statement is prepared first: twice as many. The count is exact, so an
// added statement, transaction or prepare fails it. MariaDB only: SQLite
// has no network to cross.
func TestVerificationSQLRoundTrips(t *testing.T) {
	for _, tc := range []struct {
		name        string
		interpolate bool
		want        int64
	}{
		{"interpolateParams=true as in production", true, 2},
		{"driver default, prepare and execute", false, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			trips := &socketTrips{}
			e := newEnv(t, store.DriverMySQL, envOptions{dsn: countingDSN(t, trips, tc.interpolate)})
			ctx := context.Background()
			// The first verification opens the pool's connection; its
			// handshake is not a cost of the steady state.
			if _, err := e.verifier.Verify(ctx, e.req(police, e.police, e.mint(t, e.zsDriving, showcode.ScopeBasic).Content)); err != nil {
				t.Fatal(err)
			}
			code := e.mint(t, e.zsDriving, showcode.ScopeBasic)
			trips.n.Store(0)
			res, err := e.verifier.Verify(ctx, e.req(police, e.police, code.Content))
			got := trips.n.Load()
			if err != nil || !res.Valid {
				t.Fatalf("verification: %+v, %v", res, err)
			}
			if got != tc.want {
				t.Errorf("%d SQL round trips, want %d", got, tc.want)
			}
			if tc.interpolate && got > maxSQLRoundTrips {
				t.Errorf("%d SQL round trips, over the budget of %d", got, maxSQLRoundTrips)
			}
			if p, err := e.store.PendingAudit(ctx); err != nil || p != 2 {
				t.Errorf("usage records waiting for the chain = %d, %v; want both", p, err)
			}
		})
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
