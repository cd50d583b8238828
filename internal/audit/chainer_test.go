package audit_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
	"github.com/yangcheng-county/elicence/internal/testkit"
)

// recorder writes police verifications of 张三's first licence.
type recorder struct {
	st                      *store.Store
	licenceID, departmentID int64
}

func newRecorder(t *testing.T, driver string) recorder {
	t.Helper()
	st := storetest.Seeded(t, driver, storetest.DSN(t, driver), time.Now())
	ctx := t.Context()
	zs, err := st.HolderByIDNumber(ctx, store.IDTypeResident, demo.ZhangsanIDNumber)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := st.LicencesByHolder(ctx, zs.ID)
	if err != nil {
		t.Fatal(err)
	}
	police, err := st.DepartmentByUSCC(ctx, demo.USCCTrafficBrigade)
	if err != nil {
		t.Fatal(err)
	}
	return recorder{st: st, licenceID: ls[0].ID, departmentID: police.ID}
}

func (r recorder) record(t *testing.T, n int) {
	t.Helper()
	for range n {
		if err := r.st.RecordUsage(t.Context(), licence.UsageRecord{LicenceID: r.licenceID, OfficerOpenID: demo.OfficerPolice,
			DepartmentID: r.departmentID, Purpose: demo.PurposeTrafficEnforcement, Scope: "basic", Result: "valid", ReasonCode: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
}

func (r recorder) pending(t *testing.T) int64 {
	t.Helper()
	n, err := r.st.PendingAudit(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNewChainerRejectsBadWiring(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	st := storetest.Migrated(t, store.DriverSQLite, storetest.DSN(t, store.DriverSQLite))
	for _, tc := range []struct {
		name  string
		p     audit.Pending
		every time.Duration
		log   *slog.Logger
	}{
		{"nil store", nil, time.Second, log},
		{"zero interval", st, 0, log},
		{"nil logger", st, time.Second, nil},
	} {
		if _, err := audit.NewChainer(tc.p, tc.every, tc.log); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

// TestChainerDrain: Drain chains everything that waits, across more than
// one batch, and the chain verifies with every record in it.
func TestChainerDrain(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			r := newRecorder(t, driver)
			before, err := r.st.VerifyAudit(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			const n = 501 // one full batch and one more
			r.record(t, n)
			c, err := audit.NewChainer(r.st, time.Hour, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := c.Drain(t.Context()); err != nil || got != n {
				t.Fatalf("Drain = %d, %v; want %d", got, err, n)
			}
			if p := r.pending(t); p != 0 {
				t.Fatalf("%d still waiting after Drain", p)
			}
			if after, err := r.st.VerifyAudit(t.Context()); err != nil || after != before+n {
				t.Fatalf("VerifyAudit = %d, %v; want %d", after, err, before+n)
			}
		})
	}
}

// TestChainerRun: a running Chainer chains what waits when it starts and
// what arrives later, and returns when its context ends.
func TestChainerRun(t *testing.T) {
	r := newRecorder(t, store.DriverSQLite)
	r.record(t, 2)
	c, err := audit.NewChainer(r.st, 10*time.Millisecond, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	waitFor(t, "the records at start", func() bool { return r.pending(t) == 0 })
	r.record(t, 1)
	waitFor(t, "a record written later", func() bool { return r.pending(t) == 0 })
	cancel()
	<-done
	if _, err := r.st.VerifyAudit(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestChainerFailure: when the database cannot be reached Drain returns
// the error, and Run logs it and keeps trying rather than stopping.
func TestChainerFailure(t *testing.T) {
	st := storetest.Migrated(t, store.DriverSQLite, storetest.DSN(t, store.DriverSQLite))
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	logs := &testkit.LogBuffer{}
	c, err := audit.NewChainer(st, 10*time.Millisecond, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Drain(t.Context()); err == nil {
		t.Fatal("Drain on a closed store reported no error")
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	waitFor(t, "two logged failures", func() bool { return strings.Count(logs.String(), "trying again") >= 2 })
	cancel()
	<-done
}

// waitFor polls cond until it holds; the bound only keeps a broken
// Chainer from hanging the test run.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
