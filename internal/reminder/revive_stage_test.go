package reminder_test

import (
	"context"
	"testing"

	"github.com/yangcheng-county/elicence/internal/reminder"
)

// TestReminderRevivedRowYieldsToNearerStage: a 90-day reminder cancelled by
// an unsubscribe is revived when the user follows again 15 days before
// expiry. By then the 30-day stage is due too, so only one reminder may go
// out for the two ("several stages due at once → only the nearest"); sending
// the revived 90-day row and then, with the next sweep, the 30-day one would
// reach the citizen twice on consecutive days.
func TestReminderRevivedRowYieldsToNearerStage(t *testing.T) {
	forEachDriver(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		svc, _ := f.service(nil, nil)
		events, err := reminder.NewEvents(f.rem, f.st, shanghai, f.log, f.clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		id, openid := f.one(40) // the 90-day stage is due, not yet the 30-day one
		if _, err := svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if err := events.Unsubscribed(ctx, openid); err != nil {
			t.Fatal(err)
		}
		if r := f.stageRow(id, 90); r.State != "cancelled" {
			t.Fatalf("90-day row after unsubscribe: %+v", r)
		}

		// 15 days later (25 left): the day's sweep finds no follower; then
		// the user follows again and the 90-day row is revived.
		f.clock.Set(at(2025, 3, 25, 10, 0))
		if _, err := svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if err := events.Subscribed(ctx, openid); err != nil {
			t.Fatal(err)
		}
		drain(t, svc)
		f.clock.Set(at(2025, 3, 26, 10, 0))
		runOnce(t, svc)

		var got []string
		for _, m := range fake.Messages() {
			if m.ToUser == openid {
				got = append(got, m.Data["number4"].Value)
			}
		}
		if len(got) != 1 {
			t.Fatalf("reminders sent for one expiry with the 90- and 30-day stages due at once: days left %v", got)
		}
		if r := f.stageRow(id, 90); r.State != "skipped" || r.Reason != reminder.ReasonSuperseded {
			t.Fatalf("revived 90-day row: %+v", r)
		}
		if r := f.stageRow(id, 30); r.State != "sent" {
			t.Fatalf("30-day row: %+v", r)
		}
	})
}
