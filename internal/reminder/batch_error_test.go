package reminder_test

import (
	"context"
	"errors"
	"testing"

	"github.com/yangcheng-county/elicence/internal/reminder"
)

// flakyTarget fails the first Target call, as a database hiccup would.
type flakyTarget struct {
	reminder.Store
	failed bool
}

func (s *flakyTarget) Target(ctx context.Context, r reminder.Row) (reminder.Target, error) {
	if !s.failed {
		s.failed = true
		return reminder.Target{}, errors.New("database hiccup")
	}
	return s.Store.Target(ctx, r)
}

// TestReminderBatchHandedBackOnStoreError: when handling one row of a batch
// fails, the rows after it were never tried. They are handed back at once,
// their attempt refunded, instead of staying leased until the lease runs
// out and then being resent as if a dispatcher had died with them in flight.
func TestReminderBatchHandedBackOnStoreError(t *testing.T) {
	forEachDriver(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		for i := 0; i < 3; i++ {
			f.one(5)
		}
		svc, _ := f.serviceWith(&flakyTarget{Store: f.rem}, mustSender(t, f), nil)
		if _, err := svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		var sum reminder.Summary
		if _, err := svc.DispatchBatch(ctx, &sum); err == nil {
			t.Fatal("DispatchBatch hid the store error")
		}
		for _, r := range f.rows("stage = 7") {
			if r.State != "pending" || r.Attempts != 0 {
				t.Fatalf("row left behind after the failed batch: %+v", r)
			}
		}
		// Due again at once, at the same clock: all three are sent, and
		// none is taken for a row that was in flight.
		sum = drain(t, svc)
		if sum.Sent != 3 || sum.Resent != 0 {
			t.Fatalf("after the failed batch: %+v", sum)
		}
		if recs := records(f.logs, "resending row that was in flight"); len(recs) != 0 {
			t.Fatalf("unsent rows logged as in flight: %v", recs)
		}
	})
}
