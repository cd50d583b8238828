package reminder_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/yangcheng-county/elicence/internal/reminder"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/wechat/fakewx"
)

var drivers = []string{store.DriverMySQL, store.DriverSQLite}

func forEachDriver(t *testing.T, fn func(t *testing.T, f *fixture)) {
	for _, d := range drivers {
		t.Run(d, func(t *testing.T) { fn(t, newFixture(t, d)) })
	}
}

func drain(t *testing.T, svc *reminder.Service) reminder.Summary {
	t.Helper()
	var sum reminder.Summary
	if err := svc.Drain(context.Background(), &sum); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	return sum
}

// drainAll drains, moving the clock past any backoff, until no row is
// pending: for tests of many rows on a loaded machine, where a send may
// time out and be retried.
func drainAll(t *testing.T, f *fixture, svc *reminder.Service) reminder.Summary {
	t.Helper()
	var total reminder.Summary
	for try := 0; try < 5; try++ {
		sum := drain(t, svc)
		total.Sent += sum.Sent
		total.Resent += sum.Resent
		total.Retried += sum.Retried
		if len(f.rows("state = 'pending'")) == 0 {
			break
		}
		f.clock.Add(time.Hour)
	}
	return total
}

func runOnce(t *testing.T, svc *reminder.Service) reminder.Summary {
	t.Helper()
	sum, err := svc.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	return sum
}

const sendPath = "/cgi-bin/message/template/send"

func inject(t *testing.T, f fakewx.Fault) {
	t.Helper()
	f.Path = sendPath
	if err := fake.InjectFault(f); err != nil {
		t.Fatal(err)
	}
}

// TestReminderErrorCodes drives every errcode path of docs/REMINDERS.md through the
// real WeChat adapter against the fake over HTTP.
func TestReminderErrorCodes(t *testing.T) {
	type want struct {
		state    string
		attempts int
		reason   string
		errText  string
	}
	cases := []struct {
		name  string
		fault fakewx.Fault
		first want
		// after is how far the clock moves before the second dispatch;
		// zero means the first outcome is final.
		after  time.Duration
		second string
	}{
		{"40001 refreshed and retried once", fakewx.Fault{ErrCode: 40001}, want{"sent", 1, "", ""}, 0, ""},
		{"42001 refreshed and retried once", fakewx.Fault{ErrCode: 42001}, want{"sent", 1, "", ""}, 0, ""},
		{"40014 refreshed and retried once", fakewx.Fault{ErrCode: 40014}, want{"sent", 1, "", ""}, 0, ""},
		{"40001 still failing after refresh backs off", fakewx.Fault{ErrCode: 40001, Count: 2}, want{"pending", 1, "", "errcode 40001"}, 30 * time.Second, "sent"},
		{"42001 still failing after refresh backs off", fakewx.Fault{ErrCode: 42001, Count: 2}, want{"pending", 1, "", "errcode 42001"}, 30 * time.Second, "sent"},
		{"-1 system busy backs off", fakewx.Fault{ErrCode: -1}, want{"pending", 1, "", "errcode -1"}, 30 * time.Second, "sent"},
		{"HTTP 500 backs off", fakewx.Fault{HTTPStatus: 500}, want{"pending", 1, "", "unavailable"}, 30 * time.Second, "sent"},
		{"45011 waits a minute", fakewx.Fault{ErrCode: 45011}, want{"pending", 0, "", "errcode 45011"}, time.Minute, "sent"},
		{"43004 permanent", fakewx.Fault{ErrCode: 43004}, want{"failed", 1, "wechat_43004", "errcode 43004"}, 24 * time.Hour, "failed"},
		{"40003 permanent", fakewx.Fault{ErrCode: 40003}, want{"failed", 1, "wechat_40003", "errcode 40003"}, 24 * time.Hour, "failed"},
		{"43101 permanent", fakewx.Fault{ErrCode: 43101}, want{"failed", 1, "wechat_43101", "errcode 43101"}, 24 * time.Hour, "failed"},
		{"40037 permanent", fakewx.Fault{ErrCode: 40037}, want{"failed", 1, "wechat_40037", "errcode 40037"}, 24 * time.Hour, "failed"},
		{"47003 permanent", fakewx.Fault{ErrCode: 47003}, want{"failed", 1, "wechat_47003", "errcode 47003"}, 24 * time.Hour, "failed"},
	}
	for _, driver := range drivers {
		for _, c := range cases {
			t.Run(driver+"/"+c.name, func(t *testing.T) {
				f := newFixture(t, driver)
				svc, m := f.service(nil, nil)
				id, _ := f.one(5)
				if _, err := svc.Sweep(context.Background()); err != nil {
					t.Fatal(err)
				}
				tokensBefore := fake.Calls("/cgi-bin/stable_token")
				inject(t, c.fault)
				drain(t, svc)
				r := f.stageRow(id, 7)
				if r.State != c.first.state || r.Attempts != c.first.attempts || r.Reason != c.first.reason || !strings.Contains(r.LastError, c.first.errText) {
					t.Fatalf("after first dispatch: %+v, want %+v", r, c.first)
				}
				if c.first.state == "sent" {
					if sendCount(r.ID) != 1 || r.MsgID == 0 {
						t.Fatalf("sent row: count %d, msgid %d", sendCount(r.ID), r.MsgID)
					}
					if fake.Calls("/cgi-bin/stable_token") < tokensBefore+2 {
						t.Fatalf("the access token was not refreshed (%d token calls)", fake.Calls("/cgi-bin/stable_token")-tokensBefore)
					}
				}
				if c.after == 0 {
					return
				}
				// Not due again before its time: nothing happens a second early.
				f.clock.Add(c.after - time.Second)
				drain(t, svc)
				if got := f.stageRow(id, 7); got.State != c.first.state {
					t.Fatalf("dispatched %s early: %+v", c.after, got)
				}
				f.clock.Add(time.Second)
				if c.after >= 24*time.Hour {
					f.clock.Set(at(2025, 3, 11, 10, 0))
				}
				sendsBefore := fake.Calls(sendPath)
				drain(t, svc)
				r = f.stageRow(id, 7)
				if r.State != c.second {
					t.Fatalf("after second dispatch: %+v, want %s", r, c.second)
				}
				switch c.second {
				case "sent":
					if sendCount(r.ID) != 1 {
						t.Fatalf("sent %d times", sendCount(r.ID))
					}
					if value(t, m.Sent) != 1 {
						t.Fatalf("sent counter = %v", value(t, m.Sent))
					}
				case "failed":
					if fake.Calls(sendPath) != sendsBefore {
						t.Fatal("a permanently failed row was sent again")
					}
					if value(t, m.Failed) != 1 {
						t.Fatalf("failed counter = %v", value(t, m.Failed))
					}
				}
			})
		}
	}
}

// TestReminderDailyQuotaPausesAllSending: 45009 stops every dispatcher
// until 00:00 Asia/Shanghai (then quiet hours hold it to 08:00).
func TestReminderDailyQuotaPausesAllSending(t *testing.T) {
	forEachDriver(t, func(t *testing.T, f *fixture) {
		svc, _ := f.service(nil, nil)
		other, _ := f.service(f.open(), func(o *reminder.Options) { o.Worker = "other-instance" })
		a, _ := f.one(5)
		b, _ := f.one(6)
		if _, err := svc.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
		inject(t, fakewx.Fault{ErrCode: 45009})
		sum := drain(t, svc)
		if !sum.PausedUntil.Equal(at(2025, 3, 11, 0, 0)) {
			t.Fatalf("paused until %v, want next midnight in Shanghai", sum.PausedUntil)
		}
		for _, id := range []int64{a, b} {
			r := f.stageRow(id, 7)
			if r.State != "pending" || r.Attempts != 0 || sendCount(r.ID) != 0 {
				t.Fatalf("row after 45009: %+v", r)
			}
		}
		// Another instance honours the pause too.
		f.clock.Set(at(2025, 3, 10, 23, 59))
		if sum := drain(t, other); sum.Claimed != 0 {
			t.Fatalf("another instance claimed %d rows during the pause", sum.Claimed)
		}
		f.clock.Set(at(2025, 3, 11, 8, 0))
		drain(t, other)
		for _, id := range []int64{a, b} {
			if r := f.stageRow(id, 7); r.State != "sent" || sendCount(r.ID) != 1 {
				t.Fatalf("row after the pause: %+v (sent %d)", r, sendCount(r.ID))
			}
		}
	})
}

func TestReminderMaxAttemptsThenDead(t *testing.T) {
	forEachDriver(t, func(t *testing.T, f *fixture) {
		svc, m := f.service(nil, nil) // MaxAttempts 3, RetryBase 30s
		id, _ := f.one(5)
		if _, err := svc.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
		inject(t, fakewx.Fault{ErrCode: -1, Count: 3}) // -1 is not retried by the adapter
		for i, wait := range []time.Duration{0, 30 * time.Second, 60 * time.Second} {
			f.clock.Add(wait)
			drain(t, svc)
			r := f.stageRow(id, 7)
			if r.Attempts != i+1 {
				t.Fatalf("attempt %d: %+v", i+1, r)
			}
		}
		r := f.stageRow(id, 7)
		if r.State != "dead" || r.LastError != "errcode -1: system error" {
			t.Fatalf("row = %+v, want dead with the last error kept", r)
		}
		if value(t, m.Dead) != 1 {
			t.Fatalf("dead counter = %v", value(t, m.Dead))
		}
		f.clock.Add(24 * time.Hour)
		if sum := drain(t, svc); sum.Claimed != 0 {
			t.Fatal("a dead row was claimed again")
		}
	})
}

// TestReminderTimeoutResendIsDropped: WeChat got the message but the answer
// came too late; the resend carries the same client_msg_id and WeChat drops
// it, so the citizen gets one message.
func TestReminderTimeoutResendIsDropped(t *testing.T) {
	f := newFixture(t, store.DriverMySQL)
	svc, _ := f.service(nil, nil)
	id, openid := f.one(5)
	if _, err := svc.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	inject(t, fakewx.Fault{Delay: wxTimeout + 500*time.Millisecond})
	drain(t, svc)
	r := f.stageRow(id, 7)
	if r.State != "pending" || r.Attempts != 1 || !strings.Contains(r.LastError, "unavailable") {
		t.Fatalf("after timeout: %+v", r)
	}
	waitFor(t, "the fake to accept the slow send", func() bool { return sendCount(r.ID) == 1 })
	f.clock.Add(30 * time.Second)
	drain(t, svc)
	r = f.stageRow(id, 7)
	msgs := slices.DeleteFunc(fake.Messages(), func(m fakewx.Message) bool { return m.ClientMsgID != fmt.Sprint(r.ID) })
	if r.State != "sent" || sendCount(r.ID) != 2 || len(msgs) != 1 || msgs[0].MsgID != r.MsgID || msgs[0].ToUser != openid {
		t.Fatalf("after resend: %+v, sends %d, messages %+v", r, sendCount(r.ID), msgs)
	}
}

func TestReminderQuietHours(t *testing.T) {
	forEachDriver(t, func(t *testing.T, f *fixture) {
		svc, _ := f.service(nil, nil)
		id, _ := f.one(5)
		f.clock.Set(at(2025, 3, 10, 22, 0))
		sum := runOnce(t, svc)
		if sum.Sweep.Pending != 1 || sum.Claimed != 0 || !sum.QuietUntil.Equal(at(2025, 3, 11, 8, 0)) {
			t.Fatalf("at 22:00: %+v", sum)
		}
		f.clock.Set(at(2025, 3, 11, 7, 59))
		if sum := drain(t, svc); sum.Claimed != 0 {
			t.Fatalf("claimed at 07:59: %+v", sum)
		}
		if r := f.stageRow(id, 7); r.State != "pending" || sendCount(r.ID) != 0 {
			t.Fatalf("sent inside quiet hours: %+v", r)
		}
		f.clock.Set(at(2025, 3, 11, 8, 0))
		drain(t, svc)
		if r := f.stageRow(id, 7); r.State != "sent" {
			t.Fatalf("at 08:00: %+v", r)
		}

		// Quiet hours beginning in the middle of a batch: the rest of the
		// batch is handed back, due when they end.
		f.clock.Set(at(2025, 3, 11, 20, 59))
		for i := 0; i < 3; i++ {
			f.one(5)
		}
		if _, err := svc.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
		rem, _ := store.NewReminders(f.st)
		hook := &hookSender{next: mustSender(t, f), after: func() { f.clock.Set(at(2025, 3, 11, 21, 0)) }}
		hooked, _ := f.serviceWith(rem, hook, nil)
		sum = drain(t, hooked)
		if sum.Sent != 1 || sum.Released != 2 {
			t.Fatalf("batch across 21:00: %+v", sum)
		}
		released := f.rows("state = 'pending'")
		if len(released) != 2 {
			t.Fatalf("released rows = %d, want 2", len(released))
		}
		for _, r := range released {
			if r.Attempts != 0 || !r.NextDue.Equal(at(2025, 3, 12, 8, 0).UTC()) {
				t.Fatalf("released row: %+v", r)
			}
		}

		// No quiet hours configured: a new reminder goes out at 03:00; the
		// released ones are due at 08:00 as recorded.
		night, _ := f.service(nil, func(o *reminder.Options) { o.Quiet = reminder.QuietHours{} })
		f.clock.Set(at(2025, 3, 12, 3, 0))
		f.one(5)
		if sum := runOnce(t, night); sum.Sent != 1 || sum.Claimed != 1 {
			t.Fatalf("without quiet hours: %+v", sum)
		}
	})
}

// hookSender calls after once, after the first successful send.
type hookSender struct {
	next  reminder.Sender
	after func()
	done  bool
}

func (h *hookSender) SendTemplate(ctx context.Context, m reminder.Message) (int64, error) {
	id, err := h.next.SendTemplate(ctx, m)
	if err == nil && !h.done {
		h.done = true
		h.after()
	}
	return id, err
}

func TestReminderOptOut(t *testing.T) {
	forEachDriver(t, func(t *testing.T, f *fixture) {
		svc, _ := f.service(nil, nil)
		prefs, err := reminder.NewPreferences(f.rem, shanghai, f.clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		before, _ := f.one(5)                      // switched off before the sweep
		during, _ := f.one(5)                      // switched off while pending
		racing, _ := f.one(5)                      // switched off between claim and send
		holder := func(l int64) int64 { return l } // seed gives holder id = licence id

		if err := prefs.SetEnabled(ctx, holder(before), before, false); err != nil {
			t.Fatal(err)
		}
		if on, err := prefs.Enabled(ctx, holder(before), before); err != nil || on {
			t.Fatalf("Enabled = %v, %v", on, err)
		}
		if _, err := prefs.Enabled(ctx, holder(during), before); !errors.Is(err, reminder.ErrNotFound) {
			t.Fatalf("another holder's licence: %v", err)
		}
		if err := prefs.SetEnabled(ctx, holder(during), before, true); !errors.Is(err, reminder.ErrNotFound) {
			t.Fatalf("another holder switched it: %v", err)
		}
		if _, err := svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if rs := f.rows("licence_id = ?", before); len(rs) != 0 {
			t.Fatalf("opted-out licence enqueued: %+v", rs)
		}
		if err := prefs.SetEnabled(ctx, holder(during), during, false); err != nil {
			t.Fatal(err)
		}
		if r := f.stageRow(during, 7); r.State != "cancelled" || r.Reason != "opted_out" {
			t.Fatalf("pending row after opt-out: %+v", r)
		}
		if err := f.rem.SetOptOut(ctx, holder(racing), racing, true, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
		sum := drain(t, svc)
		if sum.Sent != 0 || sum.Cancelled != 1 {
			t.Fatalf("dispatch: %+v", sum)
		}
		if r := f.stageRow(racing, 7); r.State != "cancelled" || r.Reason != "opted_out" || sendCount(r.ID) != 0 {
			t.Fatalf("re-check before sending: %+v", r)
		}
		// Switching back on revives the cancelled reminder.
		if err := prefs.SetEnabled(ctx, holder(during), during, true); err != nil {
			t.Fatal(err)
		}
		drain(t, svc)
		if r := f.stageRow(during, 7); r.State != "sent" || sendCount(r.ID) != 1 {
			t.Fatalf("after switching on: %+v", r)
		}
	})
}

func TestReminderUnsubscribeSubscribe(t *testing.T) {
	forEachDriver(t, func(t *testing.T, f *fixture) {
		svc, _ := f.service(nil, nil)
		events, err := reminder.NewEvents(f.rem, f.st, shanghai, f.log, f.clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		id, openid := f.one(5)
		quiet, quietOpenID := f.one(6) // unsubscribes without the event reaching us
		if _, err := svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if err := events.Unsubscribed(ctx, openid); err != nil {
			t.Fatal(err)
		}
		if r := f.stageRow(id, 7); r.State != "cancelled" || r.Reason != "unsubscribed" {
			t.Fatalf("after unsubscribe: %+v", r)
		}
		f.exec("UPDATE accounts SET subscribed = 0 WHERE openid = ?", quietOpenID)
		drain(t, svc)
		if r := f.stageRow(quiet, 7); r.State != "cancelled" || r.Reason != "unsubscribed" || sendCount(r.ID) != 0 {
			t.Fatalf("re-check of an unsubscribed account: %+v", r)
		}
		if fake.Calls(sendPath) != 0 {
			t.Fatal("sent to an account that does not follow")
		}
		if sum, _ := svc.Sweep(ctx); sum.Pending != 0 {
			t.Fatalf("sweep enqueued for unsubscribed accounts: %+v", sum)
		}
		// Following again resumes: the cancelled reminder is revived.
		if err := events.Subscribed(ctx, openid); err != nil {
			t.Fatal(err)
		}
		if err := events.Subscribed(ctx, openid); err != nil { // WeChat re-pushes
			t.Fatal(err)
		}
		drain(t, svc)
		if r := f.stageRow(id, 7); r.State != "sent" || sendCount(r.ID) != 1 {
			t.Fatalf("after subscribe: %+v (sent %d)", r, sendCount(r.ID))
		}
		// A follower never seen before gets an account, subscribed.
		if err := events.Subscribed(ctx, "o-new-follower"); err != nil {
			t.Fatal(err)
		}
		if a, err := f.st.Get(ctx, "o-new-follower"); err != nil || !a.Subscribed {
			t.Fatalf("new follower: %+v, %v", a, err)
		}
		if err := events.Unsubscribed(ctx, "o-never-seen"); err != nil {
			t.Fatalf("unsubscribe of an unknown account: %v", err)
		}
	})
}

func TestReminderRevokedBeforeSend(t *testing.T) {
	forEachDriver(t, func(t *testing.T, f *fixture) {
		svc, _ := f.service(nil, nil)
		ids := map[string]int64{}
		for _, st := range []string{"revoked", "cancelled", "withdrawn", "suspended", "lost"} {
			ids[st], _ = f.one(5)
		}
		if _, err := svc.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
		for st, id := range ids {
			f.exec("UPDATE licences SET status = ? WHERE id = ?", st, id)
		}
		sum := drain(t, svc)
		if sum.Sent != 0 || sum.Cancelled != len(ids) || fake.Calls(sendPath) != 0 {
			t.Fatalf("dispatch: %+v, %d sends", sum, fake.Calls(sendPath))
		}
		for st, id := range ids {
			if r := f.stageRow(id, 7); r.State != "cancelled" || r.Reason != "licence_"+st {
				t.Errorf("%s: %+v", st, r)
			}
		}
	})
}

func TestReminderRenewal(t *testing.T) {
	forEachDriver(t, func(t *testing.T, f *fixture) {
		svc, _ := f.service(nil, nil)
		ctx := context.Background()
		renewed, _ := f.one(5)
		amended, _ := f.one(5)
		if _, err := svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		newExpiry := f.day(5).AddDate(6, 0, 0)
		f.exec("UPDATE licences SET valid_until = ?, version = 2 WHERE id = ?", newExpiry.Format(time.DateOnly), renewed)
		// An amendment that keeps the expiry date leaves the reminder due.
		f.exec("UPDATE licences SET version = 2 WHERE id = ?", amended)
		sum := drain(t, svc)
		if r := f.stageRow(renewed, 7); r.State != "cancelled" || r.Reason != "renewed" || sendCount(r.ID) != 0 {
			t.Fatalf("renewed licence's row: %+v", r)
		}
		if r := f.stageRow(amended, 7); r.State != "sent" {
			t.Fatalf("amended licence's row: %+v", r)
		}
		if sum.Sent != 1 || sum.Cancelled != 1 {
			t.Fatalf("dispatch: %+v", sum)
		}
		// The renewal's stages come with the sweep when they are due.
		if res, _ := svc.Sweep(ctx); res.Pending != 0 {
			t.Fatalf("sweep right after renewal: %+v", res)
		}
		f.clock.Set(time.Date(newExpiry.Year(), newExpiry.Month(), newExpiry.Day()-20, 10, 0, 0, 0, shanghai))
		fake.Reset()
		runOnce(t, svc)
		rs := f.rows("licence_id = ? AND expiry_date = ?", renewed, newExpiry.Format(time.DateOnly))
		if len(rs) != 2 || rs[0].Stage+rs[1].Stage != 120 {
			t.Fatalf("rows for the new expiry: %+v", rs)
		}
		msgs := fake.Messages()
		if len(msgs) != 1 || msgs[0].Data["time3"].Value != fmt.Sprintf("%d年%d月%d日", newExpiry.Year(), newExpiry.Month(), newExpiry.Day()) ||
			msgs[0].Data["number4"].Value != "20" {
			t.Fatalf("message for the renewal: %+v", msgs)
		}
	})
}

func TestReminderSeveralStagesDue(t *testing.T) {
	forEachDriver(t, func(t *testing.T, f *fixture) {
		svc, _ := f.service(nil, nil)
		// 22:00: swept, but quiet hours hold the sending.
		f.clock.Set(at(2025, 3, 10, 22, 0))
		first, _ := f.one(5) // 90 and 30 already passed: only 7 is pending
		slow, _ := f.one(40) // 90 is due
		sum := runOnce(t, svc)
		if sum.Sweep.Pending != 2 || sum.Sweep.Skipped != 2 || sum.Claimed != 0 {
			t.Fatalf("first run: %+v", sum)
		}
		for stage, state := range map[int]string{7: "pending", 30: "skipped", 90: "skipped"} {
			r := f.stageRow(first, stage)
			if r.State != state || (state == "skipped") != (r.Reason == "nearer_stage_due") {
				t.Fatalf("stage %d: %+v, want %s", stage, r, state)
			}
		}
		// Eleven days later: slow's 30-day stage supersedes its unsent 90;
		// first expired unsent; third is first seen with 5 days left.
		f.clock.Set(at(2025, 3, 21, 10, 0))
		third, _ := f.one(5)
		sum = runOnce(t, svc)
		if sum.Sweep.Superseded != 1 || sum.Sent != 2 || sum.Cancelled != 1 {
			t.Fatalf("second run: %+v", sum)
		}
		if r := f.stageRow(slow, 90); r.State != "skipped" || r.Reason != "superseded" {
			t.Fatalf("90-day row: %+v", r)
		}
		if r := f.stageRow(first, 7); r.State != "cancelled" || r.Reason != "expired" {
			t.Fatalf("row past its expiry: %+v", r)
		}
		got := map[string]string{}
		for _, m := range fake.Messages() {
			got[m.ClientMsgID] = m.Data["number4"].Value
		}
		want := map[string]string{fmt.Sprint(f.stageRow(slow, 30).ID): "29", fmt.Sprint(f.stageRow(third, 7).ID): "5"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("messages (client_msg_id → days left) %v, want %v", got, want)
		}
	})
}

func TestReminderMessageContent(t *testing.T) {
	forEachDriver(t, func(t *testing.T, f *fixture) {
		svc, _ := f.service(nil, nil)
		longIssuer := "山西省晋城市阳城县某某某某某某某某某某某某证照管理办公室"
		f.exec("INSERT INTO departments (id, name, uscc, kind, area_code, created_at) VALUES (900, ?, '91140522MA0000000X', 'issuer', '140522', ?)",
			longIssuer, time.Now().UTC())
		longOrg := "阳城县某某某某某某某某某某某某某某某商贸有限责任公司"
		ids := f.seed([]lic{
			{holder: "欧阳娜娜", until: f.day(5), openid: "o-person", subscribed: true, issuer: 900},
			{holder: longOrg, org: true, until: f.day(12), openid: "o-org", subscribed: true},
		})
		runOnce(t, svc)
		msgs := fake.Messages()
		if len(msgs) != 2 {
			t.Fatalf("%d messages", len(msgs))
		}
		byUser := map[string]fakewx.Message{}
		for _, m := range msgs {
			byUser[m.ToUser] = m
			keys := make([]string, 0, len(m.Data))
			for k, v := range m.Data {
				keys = append(keys, k)
				if n := utf8.RuneCountInString(v.Value); n > 20 || !utf8.ValidString(v.Value) {
					t.Errorf("%s = %q: %d characters", k, v.Value, n)
				}
			}
			slices.Sort(keys)
			if fmt.Sprint(keys) != "[number4 thing1 thing2 thing5 time3]" {
				t.Errorf("keywords %v (no first/remark, exactly the configured ones)", keys)
			}
			if m.TemplateID != templateID {
				t.Errorf("template %q", m.TemplateID)
			}
		}
		p, o := byUser["o-person"], byUser["o-org"]
		wantP := map[string]string{"thing1": "机动车驾驶证", "thing2": "欧***", "time3": "2025年3月15日", "number4": "5",
			"thing5": string([]rune(longIssuer)[:20])}
		for k, v := range wantP {
			if p.Data[k].Value != v {
				t.Errorf("person %s = %q, want %q", k, p.Data[k].Value, v)
			}
		}
		if p.URL != fmt.Sprintf("%s/licences/%d", publicURL, ids[0]) || p.ClientMsgID != fmt.Sprint(f.stageRow(ids[0], 7).ID) {
			t.Errorf("person link %q, client_msg_id %q", p.URL, p.ClientMsgID)
		}
		if o.Data["thing2"].Value != string([]rune(longOrg)[:20]) || o.Data["number4"].Value != "12" || o.Data["thing5"].Value != "晋城市公安局交通警察支队" {
			t.Errorf("organisation message %+v", o.Data)
		}
		if o.URL != fmt.Sprintf("%s/licences/%d", publicURL, ids[1]) {
			t.Errorf("organisation link %q", o.URL)
		}
	})
}

func TestReminderDeliveryReports(t *testing.T) {
	forEachDriver(t, func(t *testing.T, f *fixture) {
		svc, _ := f.service(nil, nil)
		events, err := reminder.NewEvents(f.rem, f.st, shanghai, f.log, f.clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		ids := []int64{}
		for i := 0; i < 3; i++ {
			id, _ := f.one(5)
			ids = append(ids, id)
		}
		runOnce(t, svc)
		statuses := []string{reminder.DeliverySuccess, reminder.DeliveryUserBlock, reminder.DeliverySystemFailed}
		wantState := []string{"delivered", "failed", "failed"}
		for i, id := range ids {
			r := f.stageRow(id, 7)
			if err := events.TemplateFinished(ctx, r.OpenID, r.MsgID, statuses[i]); err != nil {
				t.Fatal(err)
			}
			// WeChat re-pushes; the second report changes nothing.
			if err := events.TemplateFinished(ctx, r.OpenID, r.MsgID, statuses[i]); err != nil {
				t.Fatal(err)
			}
			got := f.stageRow(id, 7)
			if got.State != wantState[i] || (i > 0) != (got.Reason == "delivery_failed") {
				t.Errorf("%s: %+v", statuses[i], got)
			}
		}
	})
}

func TestReminderSchedulerCatchesUp(t *testing.T) {
	forEachDriver(t, func(t *testing.T, f *fixture) {
		svc, _ := f.service(nil, nil)
		sched, err := reminder.NewScheduler(svc)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		sweeps := func() int {
			var n int
			if err := f.raw.QueryRowContext(ctx, "SELECT COUNT(*) FROM reminder_sweeps WHERE finished_at IS NOT NULL").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		id, _ := f.one(5)

		// First start at 07:00, before the 09:00 slot: yesterday's sweep is
		// owed, so it sweeps at once; quiet hours hold the sending.
		f.clock.Set(at(2025, 3, 10, 7, 0))
		sched.Pass(ctx)
		if sweeps() != 1 || f.stageRow(id, 7).State != "pending" {
			t.Fatalf("start-up: %d sweeps, row %+v", sweeps(), f.stageRow(id, 7))
		}
		sched.Pass(ctx)
		f.clock.Set(at(2025, 3, 10, 9, 30))
		sched.Pass(ctx)
		if sweeps() != 1 {
			t.Fatalf("%d sweeps on one day", sweeps())
		}
		if r := f.stageRow(id, 7); r.State != "sent" {
			t.Fatalf("dispatcher loop did not send: %+v", r)
		}
		f.clock.Set(at(2025, 3, 11, 8, 59))
		sched.Pass(ctx)
		if sweeps() != 1 {
			t.Fatal("swept before the daily time")
		}
		f.clock.Set(at(2025, 3, 11, 9, 0))
		sched.Pass(ctx)
		if sweeps() != 2 {
			t.Fatal("no sweep at the daily time")
		}
		// Down for three days: one catch-up sweep at start-up.
		f.clock.Set(at(2025, 3, 14, 15, 0))
		sched.Pass(ctx)
		sched.Pass(ctx)
		if sweeps() != 3 {
			t.Fatalf("%d sweeps after downtime, want 3", sweeps())
		}

		// Run loops until its context ends and returns nil.
		late, _ := f.one(5)
		f.clock.Set(at(2025, 3, 15, 9, 0))
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- sched.Run(runCtx) }()
		waitFor(t, "the scheduler to send", func() bool {
			rs := f.rows("licence_id = ? AND stage = 7", late)
			return len(rs) == 1 && rs[0].State == "sent"
		})
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
	})
}

func TestReminderStatusAndGauges(t *testing.T) {
	forEachDriver(t, func(t *testing.T, f *fixture) {
		svc, m := f.service(nil, nil)
		for i := 0; i < 3; i++ {
			f.one(5)
		}
		f.one(60)
		f.clock.Set(at(2025, 3, 10, 22, 0))
		runOnce(t, svc)
		f.clock.Set(at(2025, 3, 10, 22, 10))
		counts, oldest, err := svc.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if counts[reminder.StatePending] != 4 || counts[reminder.StateSkipped] != 6 || counts[reminder.StateSent] != 0 || len(counts) != len(reminder.States) {
			t.Fatalf("counts = %v", counts)
		}
		if oldest != 10*time.Minute {
			t.Fatalf("oldest due = %v, want 10m", oldest)
		}
		if out := reminder.FormatStatus(counts, oldest); !strings.Contains(out, "pending    4") || !strings.Contains(out, "oldest due 10m0s") {
			t.Fatalf("status text:\n%s", out)
		}
		if value(t, m.QueueDepth) != 4 {
			t.Fatalf("queue depth gauge = %v", value(t, m.QueueDepth))
		}
		f.clock.Set(at(2025, 3, 11, 8, 0))
		runOnce(t, svc)
		if value(t, m.QueueDepth) != 0 || value(t, m.OldestDueAge) != 0 || value(t, m.Sent) != 4 {
			t.Fatalf("gauges after sending: depth %v, age %v, sent %v",
				value(t, m.QueueDepth), value(t, m.OldestDueAge), value(t, m.Sent))
		}
	})
}

func mustSender(t *testing.T, f *fixture) reminder.Sender {
	t.Helper()
	s, err := newSender(f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// value reads a counter or gauge.
func value(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}
