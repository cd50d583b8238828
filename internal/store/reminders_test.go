package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/reminder"
	"github.com/yangcheng-county/elicence/internal/store/mysqltest"
)

// remFixture holds the reference data the reminder tests build licences on.
type remFixture struct {
	s        *Store
	r        *Reminders
	typeCode string
	issuer   int64
	seq      int
}

func newRemFixture(t *testing.T, s *Store) *remFixture {
	t.Helper()
	ctx := testCtx(t)
	seedCatalogue(t, s)
	dept, err := s.DepartmentByUSCC(ctx, demo.USCCCityTrafficPolice)
	if err != nil {
		t.Fatalf("issuer: %v", err)
	}
	r, err := NewReminders(s)
	if err != nil {
		t.Fatal(err)
	}
	return &remFixture{s: s, r: r, typeCode: demo.TypeDrivingLicence, issuer: dept.ID}
}

func (f *remFixture) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if err := f.s.q(testCtx(t)).Exec(q, args...).Error; err != nil {
		t.Fatalf("%s: %v", strings.Fields(q)[0], err)
	}
}

func (f *remFixture) holder(t *testing.T, name string) int64 {
	t.Helper()
	f.seq++
	row := holderRow{Kind: "person", Name: name, IDType: "111", IDNumberEnc: "x",
		IDNumberIdx: fmt.Sprintf("%064d", f.seq), PhoneEnc: "", CreatedAt: utc(time.Now())}
	if err := f.s.q(testCtx(t)).Create(&row).Error; err != nil {
		t.Fatalf("holder: %v", err)
	}
	return row.ID
}

// licence inserts a licence expiring on until (nil: long-term).
func (f *remFixture) licence(t *testing.T, holderID int64, until *time.Time, status string) int64 {
	t.Helper()
	f.seq++
	var vu any
	if until != nil {
		vu = until.Format(time.DateOnly)
	}
	now := utc(time.Now())
	row := map[string]any{
		"identifier": fmt.Sprintf("test-%d", f.seq), "number_enc": "x", "number_idx": fmt.Sprintf("%064d", f.seq),
		"type_code": f.typeCode, "holder_id": holderID, "issuer_id": f.issuer,
		"issued_on": "2020-01-01", "valid_from": "2020-01-01", "valid_until": vu, "status": status,
		"annotations": "[]", "version": 1, "face_enc": "x", "seal": "x", "created_at": now, "updated_at": now,
	}
	if err := f.s.q(testCtx(t)).Table("licences").Create(row).Error; err != nil {
		t.Fatalf("licence: %v", err)
	}
	var id int64
	if err := f.s.q(testCtx(t)).Raw("SELECT id FROM licences WHERE identifier = ?", row["identifier"]).Scan(&id).Error; err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *remFixture) account(t *testing.T, openid string, holderID int64, subscribed bool) {
	t.Helper()
	var h any
	if holderID != 0 {
		h = holderID
	}
	f.exec(t, "INSERT INTO accounts (openid, holder_id, subscribed, created_at) VALUES (?, ?, ?, ?)", openid, h, subscribed, utc(time.Now()))
}

// sweptDue gives n holders, each following the account, a licence expiring
// three days after remDay, and sweeps them into n pending 7-day rows.
func (f *remFixture) sweptDue(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		h := f.holder(t, "张三")
		f.licence(t, h, dayPtr(remDay.AddDate(0, 0, 3)), "valid")
		f.account(t, fmt.Sprintf("o-%d", i), h, true)
	}
	if _, err := f.r.Sweep(testCtx(t), f.plan(remDay)); err != nil {
		t.Fatal(err)
	}
}

// plan is the sweep plan for the default stages 7/30/90 on day.
func (f *remFixture) plan(day time.Time) reminder.SweepPlan {
	codes := []string{f.typeCode}
	w := func(stage, split int) reminder.StageWindow {
		sw := reminder.StageWindow{TypeCodes: codes, Stage: stage, From: day, To: day.AddDate(0, 0, stage)}
		if split > 0 {
			sw.Split, sw.HasSplit = day.AddDate(0, 0, split), true
		}
		return sw
	}
	return reminder.SweepPlan{Now: day.Add(2 * time.Hour),
		Windows: []reminder.StageWindow{w(7, 0), w(30, 7), w(90, 30)}}
}

type remRow struct {
	LicenceID int64   `gorm:"column:licence_id"`
	Stage     int     `gorm:"column:stage"`
	State     string  `gorm:"column:state"`
	Reason    *string `gorm:"column:reason"`
	OpenID    string  `gorm:"column:openid"`
}

func (f *remFixture) rows(t *testing.T) map[string]string {
	t.Helper()
	var rows []remRow
	if err := f.s.q(testCtx(t)).Raw("SELECT licence_id, stage, state, reason, openid FROM reminders").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[fmt.Sprintf("%d/%d", r.LicenceID, r.Stage)] = r.State
	}
	return out
}

func dayPtr(t time.Time) *time.Time { return &t }

var remDay = time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)

func TestReminderSweepSelectsDueLicencesOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		f := newRemFixture(t, s)
		ctx := testCtx(t)
		day := remDay
		in := func(days int) *time.Time { return dayPtr(day.AddDate(0, 0, days)) }
		lic := map[string]int64{}
		add := func(name string, until *time.Time, status string, openid string, subscribed bool, bound bool) {
			h := f.holder(t, name)
			lic[name] = f.licence(t, h, until, status)
			if openid != "" {
				hid := h
				if !bound {
					hid = 0
				}
				f.account(t, openid, hid, subscribed)
			}
		}
		add("at20", in(20), "valid", "o-at20", true, true)
		add("at5", in(5), "valid", "o-at5", true, true)
		add("at0", in(0), "valid", "o-at0", true, true)
		add("at60", in(60), "valid", "o-at60", true, true)
		add("at90", in(90), "valid", "o-at90", true, true)
		add("at91", in(91), "valid", "o-at91", true, true)
		add("expired", in(-1), "valid", "o-expired", true, true)
		add("revoked", in(20), "revoked", "o-revoked", true, true)
		add("unsub", in(20), "valid", "o-unsub", false, true)
		add("unbound", in(20), "valid", "o-unbound", true, false)
		add("noaccount", in(20), "valid", "", false, false)
		add("longterm", nil, "valid", "o-longterm", true, true)
		add("optout", in(20), "valid", "o-optout", true, true)
		var optHolder int64
		if err := s.q(ctx).Raw("SELECT holder_id FROM licences WHERE id = ?", lic["optout"]).Scan(&optHolder).Error; err != nil {
			t.Fatal(err)
		}
		if err := f.r.SetOptOut(ctx, optHolder, lic["optout"], true, day); err != nil {
			t.Fatal(err)
		}
		// Two accounts bound to one holder still make one row per stage.
		h := f.holder(t, "two")
		lic["two"] = f.licence(t, h, in(20), "valid")
		f.account(t, "o-two-a", h, true)
		f.account(t, "o-two-b", h, true)

		res, err := f.r.Sweep(ctx, f.plan(day))
		if err != nil {
			t.Fatalf("Sweep: %v", err)
		}
		want := map[string]string{}
		set := func(name string, stage int, state string) { want[fmt.Sprintf("%d/%d", lic[name], stage)] = state }
		set("at20", 30, "pending")
		set("at20", 90, "skipped")
		set("at5", 7, "pending")
		set("at5", 30, "skipped")
		set("at5", 90, "skipped")
		set("at0", 7, "pending")
		set("at0", 30, "skipped")
		set("at0", 90, "skipped")
		set("at60", 90, "pending")
		set("at90", 90, "pending")
		set("two", 30, "pending")
		set("two", 90, "skipped")
		got := f.rows(t)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("rows after sweep:\n got %v\nwant %v", got, want)
		}
		if res.Pending != 6 || res.Skipped != 6 || res.Superseded != 0 {
			t.Fatalf("result = %+v, want 6 pending, 6 skipped", res)
		}

		again, err := f.r.Sweep(ctx, f.plan(day))
		if err != nil {
			t.Fatal(err)
		}
		if again != (reminder.SweepResult{}) {
			t.Fatalf("second sweep changed %+v, want nothing", again)
		}

		// 31 days later at60 is at 29 days: its 30-day stage arrives and the
		// 90-day row, still pending, is superseded.
		later, err := f.r.Sweep(ctx, f.plan(day.AddDate(0, 0, 31)))
		if err != nil {
			t.Fatal(err)
		}
		got = f.rows(t)
		if got[fmt.Sprintf("%d/30", lic["at60"])] != "pending" || got[fmt.Sprintf("%d/90", lic["at60"])] != "skipped" {
			t.Fatalf("at60 after 31 days: %v", got)
		}
		if later.Superseded < 1 {
			t.Fatalf("later sweep = %+v, want a superseded row", later)
		}
	})
}

func TestReminderClaimLeasesAndReclaimsExpired(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		f := newRemFixture(t, s)
		ctx := testCtx(t)
		f.sweptDue(t, 10)
		now := remDay.Add(3 * time.Hour)
		claim := func(worker string, n int, at time.Time) []reminder.Row {
			rows, err := f.r.Claim(ctx, reminder.ClaimRequest{Now: at, Lease: time.Minute, Worker: worker, Limit: n})
			if err != nil {
				t.Fatalf("Claim: %v", err)
			}
			return rows
		}
		a := claim("w1", 4, now)
		b := claim("w2", 4, now)
		c := claim("w3", 4, now)
		if len(a) != 4 || len(b) != 4 || len(c) != 2 {
			t.Fatalf("claimed %d/%d/%d, want 4/4/2", len(a), len(b), len(c))
		}
		seen := map[int64]bool{}
		for _, r := range slices.Concat(a, b, c) {
			if seen[r.ID] {
				t.Fatalf("row %d claimed twice", r.ID)
			}
			seen[r.ID] = true
			if r.Attempts != 1 || r.InFlight || r.Stage != 7 || !r.LeaseUntil.Equal(now.Add(time.Minute)) {
				t.Fatalf("claimed row = %+v", r)
			}
			if r.ExpiryDate.Format(time.DateOnly) != remDay.AddDate(0, 0, 3).Format(time.DateOnly) {
				t.Fatalf("expiry = %v", r.ExpiryDate)
			}
		}
		if more := claim("w1", 4, now); len(more) != 0 {
			t.Fatalf("claimed %d more, want 0", len(more))
		}

		// w1 finishes one; w2's leases run out and w3 takes them over.
		ok, err := f.r.Finish(ctx, a[0].ID, "w1", reminder.Outcome{State: reminder.StateSent, MsgID: 77, At: now})
		if err != nil || !ok {
			t.Fatalf("Finish = %v, %v", ok, err)
		}
		if ok, _ := f.r.Finish(ctx, a[1].ID, "w2", reminder.Outcome{State: reminder.StateSent, MsgID: 78, At: now}); ok {
			t.Fatal("a worker finished a row leased by another")
		}
		later := now.Add(2 * time.Minute)
		re := claim("w3", 20, later)
		if len(re) != 9 {
			t.Fatalf("reclaimed %d rows, want the 9 unfinished", len(re))
		}
		owner := map[int64]string{}
		for w, rows := range map[string][]reminder.Row{"w1": a, "w2": b, "w3": c} {
			for _, r := range rows {
				owner[r.ID] = w
			}
		}
		for _, r := range re {
			if !r.InFlight || r.Attempts != 2 || r.PrevLeasedBy != owner[r.ID] {
				t.Fatalf("reclaimed row = %+v, previously leased by %s", r, owner[r.ID])
			}
		}
		if ok, _ := f.r.Finish(ctx, b[0].ID, "w2", reminder.Outcome{State: reminder.StateSent, MsgID: 79, At: later}); ok {
			t.Fatal("finish by the worker whose lease expired succeeded")
		}
		for _, r := range re {
			if r.ID != b[0].ID {
				if ok, err := f.r.Finish(ctx, r.ID, "w3", reminder.Outcome{State: reminder.StateSent, MsgID: 1000 + r.ID, At: later}); !ok || err != nil {
					t.Fatalf("finish reclaimed: %v %v", ok, err)
				}
			}
		}
		// A release refunds the attempt and makes the row due at the given time.
		ok, err = f.r.Finish(ctx, b[0].ID, "w3", reminder.Outcome{State: reminder.StatePending, Refund: true, NextAttempt: later.Add(time.Hour), At: later})
		if err != nil || !ok {
			t.Fatalf("release = %v, %v", ok, err)
		}
		if got := claim("w1", 20, later.Add(59*time.Minute)); len(got) != 0 {
			t.Fatalf("released row due early: %+v", got)
		}
		got := claim("w1", 20, later.Add(time.Hour))
		if len(got) != 1 || got[0].ID != b[0].ID || got[0].Attempts != 2 || got[0].InFlight {
			t.Fatalf("after release claimed %+v", got)
		}
		counts, err := f.r.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if counts[reminder.StateSent] != 9 || counts[reminder.StateSending] != 1 {
			t.Fatalf("counts = %v", counts)
		}
		qs, err := f.r.QueueStats(ctx, later.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if qs.Depth != 1 || !qs.OldestDue.IsZero() {
			t.Fatalf("queue stats = %+v", qs)
		}
	})
}

func TestReminderReceiptAppliesWhicheverComesFirst(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		f := newRemFixture(t, s)
		ctx := testCtx(t)
		f.sweptDue(t, 3)
		now := remDay.Add(3 * time.Hour)
		rows, err := f.r.Claim(ctx, reminder.ClaimRequest{Now: now, Lease: time.Minute, Worker: "w", Limit: 3})
		if err != nil || len(rows) != 3 {
			t.Fatalf("claim: %d, %v", len(rows), err)
		}
		rc := func(msgID int64, status string, state reminder.State, reason string) {
			if err := f.r.RecordReceipt(ctx, reminder.Receipt{MsgID: msgID, Status: status, At: now}, state, reason); err != nil {
				t.Fatal(err)
			}
		}
		// Report before the msgid is recorded.
		rc(101, "success", reminder.StateDelivered, "")
		// Report after.
		if ok, err := f.r.Finish(ctx, rows[1].ID, "w", reminder.Outcome{State: reminder.StateSent, MsgID: 102, At: now}); !ok || err != nil {
			t.Fatal(ok, err)
		}
		rc(102, "failed:user block", reminder.StateFailed, reminder.ReasonDeliveryFailed)
		rc(102, "failed:user block", reminder.StateFailed, reminder.ReasonDeliveryFailed) // re-pushed
		if ok, err := f.r.Finish(ctx, rows[0].ID, "w", reminder.Outcome{State: reminder.StateSent, MsgID: 101, At: now}); !ok || err != nil {
			t.Fatal(ok, err)
		}
		if ok, err := f.r.Finish(ctx, rows[2].ID, "w", reminder.Outcome{State: reminder.StateSent, MsgID: 103, At: now}); !ok || err != nil {
			t.Fatal(ok, err)
		}
		var got []struct {
			ID       int64   `gorm:"column:id"`
			State    string  `gorm:"column:state"`
			Delivery *string `gorm:"column:delivery"`
		}
		if err := s.q(ctx).Raw("SELECT id, state, delivery FROM reminders WHERE stage = 7 ORDER BY id").Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		want := map[int64]string{rows[0].ID: "delivered", rows[1].ID: "failed", rows[2].ID: "sent"}
		for _, g := range got {
			if want[g.ID] != g.State {
				t.Errorf("row %d state %s, want %s", g.ID, g.State, want[g.ID])
			}
		}
	})
}

func TestReminderPauseCancelReviveOptOut(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		f := newRemFixture(t, s)
		ctx := testCtx(t)
		now := remDay.Add(3 * time.Hour)

		if until, err := f.r.PausedUntil(ctx); err != nil || !until.IsZero() {
			t.Fatalf("no pause: %v %v", until, err)
		}
		long := now.Add(10 * time.Hour)
		if err := f.r.Pause(ctx, long, "45009", now); err != nil {
			t.Fatal(err)
		}
		if err := f.r.Pause(ctx, now.Add(time.Minute), "45011", now); err != nil {
			t.Fatal(err)
		}
		if until, err := f.r.PausedUntil(ctx); err != nil || !until.Equal(long) {
			t.Fatalf("pause = %v, %v; want the longer %v", until, err, long)
		}

		h := f.holder(t, "张三")
		l1 := f.licence(t, h, dayPtr(remDay.AddDate(0, 0, 3)), "valid")
		l2 := f.licence(t, h, dayPtr(remDay.AddDate(0, 0, 20)), "valid")
		f.account(t, "o-1", h, true)
		if _, err := f.r.Sweep(ctx, f.plan(remDay)); err != nil {
			t.Fatal(err)
		}
		if n, err := f.r.CancelPending(ctx, "", l1, reminder.ReasonOptedOut, now); err != nil || n != 1 {
			t.Fatalf("cancel licence: %d, %v", n, err)
		}
		if n, err := f.r.CancelPending(ctx, "o-1", 0, reminder.ReasonUnsubscribed, now); err != nil || n != 1 {
			t.Fatalf("cancel account: %d, %v", n, err)
		}
		// Revive matches the reason and leaves rows past their expiry.
		if n, err := f.r.Revive(ctx, "o-1", 0, reminder.ReasonUnsubscribed, remDay.AddDate(0, 0, 21), now); err != nil || n != 0 {
			t.Fatalf("revive after expiry: %d, %v", n, err)
		}
		if n, err := f.r.Revive(ctx, "o-1", 0, reminder.ReasonUnsubscribed, remDay, now); err != nil || n != 1 {
			t.Fatalf("revive account: %d, %v", n, err)
		}
		if n, err := f.r.Revive(ctx, "", l1, reminder.ReasonOptedOut, remDay, now); err != nil || n != 1 {
			t.Fatalf("revive licence: %d, %v", n, err)
		}
		if got := f.rows(t); got[fmt.Sprintf("%d/7", l1)] != "pending" || got[fmt.Sprintf("%d/30", l2)] != "pending" {
			t.Fatalf("rows = %v", got)
		}

		if out, err := f.r.OptedOut(ctx, h, l1); err != nil || out {
			t.Fatalf("opted out before switch: %v %v", out, err)
		}
		for _, v := range []bool{true, true, false, false} {
			if err := f.r.SetOptOut(ctx, h, l1, v, now); err != nil {
				t.Fatal(err)
			}
			if out, err := f.r.OptedOut(ctx, h, l1); err != nil || out != v {
				t.Fatalf("opted out = %v, %v; want %v", out, err, v)
			}
		}
		// The switch flipped on two phones at once: on InnoDB an INSERT
		// IGNORE and a DELETE of one key deadlock now and then, and the
		// loser must run again instead of failing the request.
		var flips sync.WaitGroup
		flipErrs := make(chan error, 8)
		for w := range 8 {
			flips.Go(func() {
				for i := range 40 {
					if err := f.r.SetOptOut(ctx, h, l1, (w+i)%2 == 0, now); err != nil {
						flipErrs <- err
						return
					}
				}
			})
		}
		flips.Wait()
		close(flipErrs)
		for err := range flipErrs {
			t.Fatalf("concurrent switch: %v", err)
		}
		if err := f.r.SetOptOut(ctx, h, l1, false, now); err != nil {
			t.Fatal(err)
		}
		if owner, err := f.r.LicenceHolder(ctx, l1); err != nil || owner != h {
			t.Fatalf("holder = %d, %v", owner, err)
		}
		if _, err := f.r.LicenceHolder(ctx, 999999); !errors.Is(err, reminder.ErrNotFound) {
			t.Fatalf("missing licence: %v", err)
		}

		if d, err := f.r.LastSweepDay(ctx); err != nil || !d.IsZero() {
			t.Fatalf("last sweep before any: %v %v", d, err)
		}
		id, err := f.r.BeginSweep(ctx, remDay, now, "w")
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := f.r.LastSweepDay(ctx); !d.IsZero() {
			t.Fatal("an unfinished sweep counted")
		}
		if err := f.r.FinishSweep(ctx, id, now, reminder.SweepResult{Pending: 2}); err != nil {
			t.Fatal(err)
		}
		if d, err := f.r.LastSweepDay(ctx); err != nil || !d.Equal(remDay) {
			t.Fatalf("last sweep = %v, %v; want %v", d, err, remDay)
		}
	})
}

func TestReminderTargetReadsLicenceAndAccount(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		f := newRemFixture(t, s)
		ctx := testCtx(t)
		h := f.holder(t, "张三")
		l := f.licence(t, h, dayPtr(remDay.AddDate(0, 0, 5)), "valid")
		f.account(t, "o-1", h, true)
		if _, err := f.r.Sweep(ctx, f.plan(remDay)); err != nil {
			t.Fatal(err)
		}
		rows, err := f.r.Claim(ctx, reminder.ClaimRequest{Now: remDay.Add(3 * time.Hour), Lease: time.Minute, Worker: "w", Limit: 10})
		if err != nil || len(rows) != 1 {
			t.Fatalf("claim = %d, %v", len(rows), err)
		}
		tg, err := f.r.Target(ctx, rows[0])
		if err != nil {
			t.Fatal(err)
		}
		if !tg.LicenceFound || tg.Status != "valid" || tg.ValidUntil == nil || tg.ValidUntil.Format(time.DateOnly) != "2025-03-15" ||
			tg.HolderID != h || tg.HolderName != "张三" || tg.TypeName != "机动车驾驶证" || tg.IssuerName == "" ||
			!tg.AccountFound || tg.AccountHolderID != h || !tg.Subscribed || tg.OptedOut || tg.NearerStage {
			t.Fatalf("target = %+v", tg)
		}
		// The type's own stages come along, so the dispatcher can tell a
		// nearer stage that is due but has no row yet.
		f.exec(t, "UPDATE licence_types SET reminder_stages = '[60, 15]'")
		if tg, err := f.r.Target(ctx, rows[0]); err != nil || fmt.Sprint(tg.Stages) != "[60 15]" {
			t.Fatalf("target stages = %v, %v", tg.Stages, err)
		}
		// The stage-30 row of the same expiry (skipped) is farther, not nearer.
		far := rows[0]
		far.Stage = 30
		f.exec(t, "UPDATE accounts SET subscribed = 0 WHERE openid = 'o-1'")
		if err := f.r.SetOptOut(ctx, h, l, true, remDay); err != nil {
			t.Fatal(err)
		}
		tg, err = f.r.Target(ctx, far)
		if err != nil {
			t.Fatal(err)
		}
		if tg.Subscribed || !tg.OptedOut || !tg.NearerStage {
			t.Fatalf("target after changes = %+v", tg)
		}
		gone := rows[0]
		gone.LicenceID = 999999
		if tg, err := f.r.Target(ctx, gone); err != nil || tg.LicenceFound {
			t.Fatalf("missing licence target = %+v, %v", tg, err)
		}
	})
}

// TestReminderSweepUsesIndex checks on MariaDB that the sweep reads
// licences and accounts from the covering indexes of migration 0002, never
// scanning a table or looking rows up by primary key.
func TestReminderSweepUsesIndex(t *testing.T) {
	s := openStore(t, DriverMySQL, mysqltest.DSN(t), true)
	f := newRemFixture(t, s)
	ctx := testCtx(t)
	// 4,000 licences spread over ten years, a holder and account each.
	var hv, lv, av []string
	now := utc(time.Now()).Format("2006-01-02 15:04:05")
	for i := 1; i <= 4000; i++ {
		hv = append(hv, fmt.Sprintf("(%d,'person','张三','111','x','%064d','','%s')", i, i, now))
		until := remDay.AddDate(0, 0, i*10%3650-100).Format(time.DateOnly)
		lv = append(lv, fmt.Sprintf("(%d,'id-%d','x','%064d','%s',%d,%d,'2020-01-01','2020-01-01','%s','valid','[]',1,'x','x','%s','%s')",
			i, i, i, f.typeCode, i, f.issuer, until, now, now))
		av = append(av, fmt.Sprintf("('o-%d',%d,1,'%s')", i, i, now))
	}
	f.exec(t, "INSERT INTO holders (id, kind, name, id_type, id_number_enc, id_number_idx, phone_enc, created_at) VALUES "+strings.Join(hv, ","))
	f.exec(t, "INSERT INTO licences (id, identifier, number_enc, number_idx, type_code, holder_id, issuer_id, issued_on, valid_from, valid_until, status, annotations, version, face_enc, seal, created_at, updated_at) VALUES "+strings.Join(lv, ","))
	f.exec(t, "INSERT INTO accounts (openid, holder_id, subscribed, created_at) VALUES "+strings.Join(av, ","))
	f.exec(t, "ANALYZE TABLE licences, accounts, holders")

	for _, w := range f.plan(remDay).Windows {
		q, args := f.r.SweepSelectSQL(w)
		var plan []map[string]any
		if err := s.q(ctx).Raw("EXPLAIN "+q, args...).Scan(&plan).Error; err != nil {
			t.Fatalf("EXPLAIN: %v", err)
		}
		keys := map[string]string{}
		for _, p := range plan {
			keys[fmt.Sprint(p["table"])] = fmt.Sprint(p["key"])
			if tb := fmt.Sprint(p["table"]); (tb == "l" || tb == "a") && !strings.Contains(fmt.Sprint(p["Extra"]), "Using index") {
				t.Errorf("stage %d: table %s is not read from the index alone: %v", w.Stage, tb, p)
			}
		}
		if keys["l"] != "ix_licences_reminder" || keys["a"] != "ix_accounts_reminder" {
			t.Fatalf("stage %d: keys %v, want licences by ix_licences_reminder and accounts by ix_accounts_reminder; plan %v", w.Stage, keys, plan)
		}
	}
	res, err := f.r.Sweep(ctx, f.plan(remDay))
	if err != nil {
		t.Fatal(err)
	}
	// Expiry days run -100, -90, …: 10 a day-window of 100 days.
	if res.Pending == 0 {
		t.Fatalf("sweep over the seeded licences enqueued nothing: %+v", res)
	}
}
