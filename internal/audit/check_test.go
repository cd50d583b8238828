package audit_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/redisx"
	"github.com/yangcheng-county/elicence/internal/redisx/redistest"
)

// fakeChain answers a walk with n and err, reporting progress at each of
// steps; when hold is set it waits for it after the first report.
type fakeChain struct {
	n      int64
	err    error
	steps  []int64
	hold   chan struct{}
	walked chan struct{}
}

func (f *fakeChain) VerifyAuditProgress(ctx context.Context, progress func(checked, total int64)) (int64, error) {
	for i, s := range f.steps {
		progress(s, f.n)
		if i == 0 && f.hold != nil {
			f.walked <- struct{}{}
			<-f.hold
		}
	}
	return f.n, f.err
}

func newChecker(t *testing.T, v audit.ChainVerifier) (*audit.Checker, *redisx.AuditChecks, *redisx.Client) {
	t.Helper()
	rc := redistest.Open(t)
	st, err := redisx.NewAuditChecks(rc)
	if err != nil {
		t.Fatal(err)
	}
	c, err := audit.NewChecker(v, st, time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return c, st, rc
}

func TestCheckerResults(t *testing.T) {
	for _, tt := range []struct {
		name  string
		chain *fakeChain
		want  audit.Check
	}{
		{"intact", &fakeChain{n: 2500, steps: []int64{1000, 2000, 2500}}, audit.Check{State: audit.CheckIntact, Checked: 2500, Total: 2500}},
		{"broken", &fakeChain{n: 6, err: &audit.TamperError{Seq: 7, Why: "content does not match its hash"}, steps: []int64{6}},
			audit.Check{State: audit.CheckBroken, Checked: 6, Total: 6, BadSeq: 7, Why: "content does not match its hash"}},
		{"failed", &fakeChain{n: 3, err: errors.New("database gone")}, audit.Check{State: audit.CheckFailed, Checked: 3}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := newChecker(t, tt.chain)
			started, err := c.Start(t.Context(), "staff:demo-admin")
			if err != nil || started.State != audit.CheckRunning || started.ID == "" {
				t.Fatalf("Start = %+v, %v", started, err)
			}
			c.Wait()
			got, err := c.Get(t.Context(), started.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != tt.want.State || got.Checked != tt.want.Checked || got.Total != tt.want.Total ||
				got.BadSeq != tt.want.BadSeq || got.Why != tt.want.Why || got.StartedBy != "staff:demo-admin" {
				t.Fatalf("check = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestCheckerOneAtATime: a start while a check runs answers the running
// check with its progress; once it ends, the next start is a new check.
func TestCheckerOneAtATime(t *testing.T) {
	chain := &fakeChain{n: 3000, steps: []int64{1000, 3000}, hold: make(chan struct{}), walked: make(chan struct{})}
	c, _, _ := newChecker(t, chain)
	first, err := c.Start(t.Context(), "staff:a")
	if err != nil {
		t.Fatal(err)
	}
	<-chain.walked
	again, err := c.Start(t.Context(), "staff:b")
	if err != nil || again.ID != first.ID || again.State != audit.CheckRunning || again.Checked != 1000 || again.Total != 3000 {
		t.Fatalf("second start while running = %+v, %v; want the first check at 1000 of 3000", again, err)
	}
	close(chain.hold)
	c.Wait()
	chain.hold = nil
	next, err := c.Start(t.Context(), "staff:b")
	if err != nil || next.ID == first.ID {
		t.Fatalf("start after the end = %+v, %v; want a new check", next, err)
	}
	c.Wait()
	if _, err := c.Get(t.Context(), "no-such-check"); !errors.Is(err, audit.ErrCheckNotFound) {
		t.Fatalf("unknown check: %v", err)
	}
}

// TestCheckerTakesOverAnAbandonedMark: a running mark whose check is gone
// (its instance died) does not block the next start.
func TestCheckerTakesOverAnAbandonedMark(t *testing.T) {
	c, _, rc := newChecker(t, &fakeChain{n: 1})
	if err := rc.Redis().Set(t.Context(), rc.Key("auditcheck", "running"), "gone", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	ck, err := c.Start(t.Context(), "staff:a")
	if err != nil || ck.ID == "gone" {
		t.Fatalf("Start over an abandoned mark = %+v, %v", ck, err)
	}
	c.Wait()
	if got, err := c.Get(t.Context(), ck.ID); err != nil || got.State != audit.CheckIntact {
		t.Fatalf("check = %+v, %v", got, err)
	}
}
