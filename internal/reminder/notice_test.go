package reminder_test

import (
	"fmt"
	"github.com/yangcheng-county/elicence/internal/demo"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/reminder"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
)

// zhangsanID is a resident ID number with a correct check digit.
const zhangsanID = "140522198503120016"

// noticeEnv is a fixture with the lifecycle service acting for the
// real-estate centre, on the fixture's clock.
type noticeEnv struct {
	*fixture
	life   *licence.Lifecycle
	issuer licence.Department
}

func newNoticeEnv(t *testing.T, f *fixture) *noticeEnv {
	t.Helper()
	life, err := licence.NewLifecycle(f.st, f.st, f.st, storetest.SealDemo(t, f.st, f.clock.Now).Signing, f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := f.st.DepartmentByUSCC(f.ctx, demo.USCCRealEstateCentre)
	if err != nil {
		t.Fatal(err)
	}
	return &noticeEnv{fixture: f, life: life, issuer: issuer}
}

// issue issues a long-term real-estate title to 张三 and returns it.
func (e *noticeEnv) issue(number string) licence.Record {
	e.t.Helper()
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, shanghai)
	rec, err := e.life.Issue(e.ctx, e.issuer, "cli:test", licence.IssueRequest{
		TypeCode: demo.TypeRealEstateTitle, Number: number,
		Holder:   licence.Holder{Name: "张三", IDType: "111", IDNumber: zhangsanID},
		IssuedOn: day, ValidFrom: day,
		Fields: map[string]string{"right_holder": "张三", "location": "阳城县凤城镇测试路1号", "area": "100㎡"},
	})
	if err != nil {
		e.t.Fatalf("issue: %v", err)
	}
	return rec
}

// account adds a WeChat account bound to holder (none when 0).
func (e *noticeEnv) account(openid string, holder int64, subscribed bool) {
	e.t.Helper()
	var h any
	if holder != 0 {
		h = holder
	}
	e.exec("INSERT INTO accounts (openid, holder_id, subscribed, created_at) VALUES (?, ?, ?, ?)", openid, h, subscribed, time.Now().UTC())
}

func (e *noticeEnv) apply(id int64, action string) (licence.Record, error) {
	req := licence.EventRequest{Action: action, Reason: "测试"}
	if action == licence.ActionRenew {
		until := time.Date(2031, 4, 1, 0, 0, 0, 0, shanghai)
		req.ValidUntil = &until
	}
	return e.life.Apply(e.ctx, e.issuer, "cli:test", id, req)
}

// notice is a notice row as the tests read it.
type notice struct {
	row
	Action, Status, Kind string
	EventID              int64
}

func (e *noticeEnv) notices(where string, args ...any) []notice {
	e.t.Helper()
	q := "SELECT id, kind, action, COALESCE(licence_status, ''), event_id FROM reminders WHERE kind = 'notice'"
	if where != "" {
		q += " AND " + where
	}
	rs, err := e.raw.QueryContext(e.ctx, q+" ORDER BY id", args...)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rs.Close()
	var out []notice
	for rs.Next() {
		var n notice
		if err := rs.Scan(&n.ID, &n.Kind, &n.Action, &n.Status, &n.EventID); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, n)
	}
	if err := rs.Err(); err != nil {
		e.t.Fatal(err)
	}
	for i := range out {
		out[i].row = e.rows("id = ?", out[i].ID)[0]
	}
	return out
}

// TestNoticeSuspendSendsOncePerFollowingAccount: a suspension queues one
// notice per following account of the holder in the change's transaction,
// each sent once with the change template, although the licence is no
// longer valid when it is sent.
func TestNoticeSuspendSendsOncePerFollowingAccount(t *testing.T) {
	forEachDriver(t, func(t *testing.T, f *fixture) {
		e := newNoticeEnv(t, f)
		svc, _ := f.service(nil, nil)
		rec := e.issue("晋(2024)阳城县不动产权第0007001号")
		e.account("o-zs-phone", rec.HolderID, true)
		e.account("o-zs-tablet", rec.HolderID, true)
		e.account("o-zs-left", rec.HolderID, false) // bound, no longer follows
		e.account("o-stranger", 0, true)            // follows, bound to nobody
		if n := e.notices(""); len(n) != 0 {
			t.Fatalf("issue queued notices: %+v", n)
		}

		if _, err := e.apply(rec.ID, licence.ActionSuspend); err != nil {
			t.Fatalf("suspend: %v", err)
		}
		ns := e.notices("licence_id = ?", rec.ID)
		var to []string
		for _, n := range ns {
			to = append(to, n.OpenID)
			if n.State != "pending" || n.Action != "suspend" || n.Status != "suspended" || n.EventID == 0 || n.Stage != 0 {
				t.Errorf("notice row %+v", n)
			}
		}
		slices.Sort(to)
		if fmt.Sprint(to) != "[o-zs-phone o-zs-tablet]" {
			t.Fatalf("notices to %v, want the two following accounts of the holder", to)
		}
		var history int64
		if err := f.raw.QueryRowContext(f.ctx, "SELECT COUNT(*) FROM licence_events WHERE id = ? AND licence_id = ? AND action = 'suspend'",
			ns[0].EventID, rec.ID).Scan(&history); err != nil || history != 1 {
			t.Fatalf("notice names history row %d: %d rows, %v", ns[0].EventID, history, err)
		}

		sum := drain(t, svc)
		if sum.Sent != 2 || sum.Cancelled != 0 {
			t.Fatalf("dispatch: %+v", sum)
		}
		msgs := fake.Messages()
		if len(msgs) != 2 {
			t.Fatalf("%d messages", len(msgs))
		}
		today := f.clock.Now().In(shanghai)
		want := map[string]string{"thing1": "不动产权证书", "thing2": "张*", "phrase3": "暂扣", "phrase4": "暂扣",
			"time5": fmt.Sprintf("%d年%d月%d日", today.Year(), today.Month(), today.Day()), "time6": "长期"}
		for _, m := range msgs {
			if m.TemplateID != changeTpl || m.URL != fmt.Sprintf("%s/licences/%d", publicURL, rec.ID) {
				t.Errorf("message %+v", m)
			}
			if len(m.Data) != len(want) {
				t.Errorf("keywords %v, want exactly %v (no first/remark)", m.Data, want)
			}
			for k, v := range want {
				if got := m.Data[k].Value; got != v || utf8.RuneCountInString(got) > reminder.MaxValueRunes {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		}
		for _, n := range e.notices("licence_id = ?", rec.ID) {
			if n.State != "sent" || n.MsgID == 0 || sendCount(n.ID) != 1 {
				t.Errorf("after dispatch: %+v, %d sends", n, sendCount(n.ID))
			}
		}
		// Nothing is sent twice, and a restore (not announced) queues nothing.
		if _, err := e.apply(rec.ID, licence.ActionRestore); err != nil {
			t.Fatalf("restore: %v", err)
		}
		if sum := drain(t, svc); sum.Claimed != 0 || fake.Calls(sendPath) != 2 {
			t.Fatalf("second drain: %+v, %d sends", sum, fake.Calls(sendPath))
		}
		// Suspended again: a new event, a new notice per account.
		if _, err := e.apply(rec.ID, licence.ActionSuspend); err != nil {
			t.Fatalf("second suspend: %v", err)
		}
		if ns := e.notices("licence_id = ? AND state = 'pending'", rec.ID); len(ns) != 2 {
			t.Fatalf("second suspension: %+v", ns)
		}
	})
}

// TestNoticeRenewAndTerminalActions: renew announces the new version (its
// page, its new last valid day); revoke, cancel and withdraw each queue a
// notice; restore and pledge do not.
func TestNoticeRenewAndTerminalActions(t *testing.T) {
	forEachDriver(t, func(t *testing.T, f *fixture) {
		e := newNoticeEnv(t, f)
		svc, _ := f.service(nil, nil)
		renewed := e.issue("晋(2024)阳城县不动产权第0007101号")
		e.account("o-zs", renewed.HolderID, true)
		next, err := e.apply(renewed.ID, licence.ActionRenew)
		if err != nil {
			t.Fatalf("renew: %v", err)
		}
		if ns := e.notices(""); len(ns) != 1 || ns[0].LicenceID != next.ID || ns[0].Action != "renew" || ns[0].Status != "valid" {
			t.Fatalf("renew notices: %+v (new version %d)", ns, next.ID)
		}
		drain(t, svc)
		msgs := fake.Messages()
		if len(msgs) != 1 || msgs[0].URL != fmt.Sprintf("%s/licences/%d", publicURL, next.ID) ||
			msgs[0].Data["phrase3"].Value != "延续有效期" || msgs[0].Data["time6"].Value != "2031年4月1日" {
			t.Fatalf("renew message: %+v", msgs)
		}

		// The holder's switch, set on an earlier version, holds for the
		// renewal's notice too.
		prefs, err := reminder.NewPreferences(f.rem, shanghai, f.clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		quiet := e.issue("晋(2024)阳城县不动产权第0007102号")
		if err := prefs.SetEnabled(f.ctx, quiet.HolderID, quiet.ID, false); err != nil {
			t.Fatal(err)
		}
		next, err = e.apply(quiet.ID, licence.ActionRenew)
		if err != nil {
			t.Fatalf("renew: %v", err)
		}
		if ns := e.notices("licence_id = ?", next.ID); len(ns) != 0 {
			t.Fatalf("renewal of a licence switched off: %+v", ns)
		}

		for i, action := range []string{licence.ActionRevoke, licence.ActionCancel, licence.ActionWithdraw, licence.ActionPledge} {
			rec := e.issue(fmt.Sprintf("晋(2024)阳城县不动产权第00072%02d号", i))
			if _, err := e.apply(rec.ID, action); err != nil {
				t.Fatalf("%s: %v", action, err)
			}
			got := len(e.notices("licence_id = ?", rec.ID))
			if want := map[bool]int{true: 1, false: 0}[licence.Notifies(action)]; got != want {
				t.Errorf("%s: %d notices, want %d", action, got, want)
			}
		}
		if sum := drain(t, svc); sum.Sent != 3 || sum.Cancelled != 0 {
			t.Fatalf("revoked, cancelled, withdrawn: %+v", sum)
		}
	})
}

// TestNoticeFailedChangeLeavesNone: a change that fails, before or after
// its notices are written, leaves no notice.
func TestNoticeFailedChangeLeavesNone(t *testing.T) {
	forEachDriver(t, func(t *testing.T, f *fixture) {
		e := newNoticeEnv(t, f)
		rec := e.issue("晋(2024)阳城县不动产权第0007301号")
		e.account("o-zs", rec.HolderID, true)

		// Refused by the transition table: fn fails before any write.
		if _, err := e.apply(rec.ID, licence.ActionRestore); err == nil {
			t.Fatal("restore of a valid licence was accepted")
		}
		// The audit append fails after the history line and the notices
		// were written: the whole transaction rolls back.
		_, err := f.st.UpdateLicence(f.ctx, rec.ID, func(l *licence.Licence) (licence.Change, error) {
			l.Status = licence.StatusSuspended
			now := f.clock.Now()
			return licence.Change{
				History: licence.HistoryEntry{Version: l.Version, Action: licence.ActionSuspend, FromStatus: licence.StatusValid,
					ToStatus: licence.StatusSuspended, Reason: "测试", Actor: "cli:test", EffectiveAt: now, At: now},
				Notify: true, // Audit left empty: refused by the chain
			}, nil
		})
		if err == nil || !strings.Contains(err.Error(), "actor and action are required") {
			t.Fatalf("update with a bad audit event: %v", err)
		}
		if ns := e.notices(""); len(ns) != 0 {
			t.Fatalf("failed changes left notices: %+v", ns)
		}
		l, err := f.st.Licence(f.ctx, rec.ID)
		if err != nil || l.Status != licence.StatusValid {
			t.Fatalf("licence after the failed change: %+v, %v", l, err)
		}
	})
}

// TestNoticeAccountChecks: a notice is cancelled, not sent, when its
// account stopped following or was unbound, or the holder switched the
// licence's messages off; a holder who switched off before the change
// gets no notice at all; following again does not revive a notice.
func TestNoticeAccountChecks(t *testing.T) {
	forEachDriver(t, func(t *testing.T, f *fixture) {
		e := newNoticeEnv(t, f)
		svc, _ := f.service(nil, nil)
		events, err := reminder.NewEvents(f.rem, f.st, shanghai, f.log, f.clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		prefs, err := reminder.NewPreferences(f.rem, shanghai, f.clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		leaving := e.issue("晋(2024)阳城县不动产权第0007401号")
		switched := e.issue("晋(2024)阳城县不动产权第0007402号")
		before := e.issue("晋(2024)阳城县不动产权第0007403号")
		e.account("o-zs", leaving.HolderID, true)
		if err := prefs.SetEnabled(f.ctx, before.HolderID, before.ID, false); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{leaving.ID, switched.ID, before.ID} {
			if _, err := e.apply(id, licence.ActionSuspend); err != nil {
				t.Fatalf("suspend %d: %v", id, err)
			}
		}
		if ns := e.notices("licence_id = ?", before.ID); len(ns) != 0 {
			t.Fatalf("notice despite the holder's switch: %+v", ns)
		}
		// The switch turned off after the change cancels the notice.
		if err := prefs.SetEnabled(f.ctx, switched.HolderID, switched.ID, false); err != nil {
			t.Fatal(err)
		}
		if n := e.notices("licence_id = ?", switched.ID); len(n) != 1 || n[0].State != "cancelled" || n[0].Reason != reminder.ReasonOptedOut {
			t.Fatalf("switched off: %+v", n)
		}
		// Unsubscribe cancels the account's pending notices at once;
		// following again revives none of them.
		if err := events.Unsubscribed(f.ctx, "o-zs"); err != nil {
			t.Fatal(err)
		}
		if n := e.notices("licence_id = ?", leaving.ID); len(n) != 1 || n[0].State != "cancelled" || n[0].Reason != reminder.ReasonUnsubscribed {
			t.Fatalf("unsubscribed: %+v", n)
		}
		if err := events.Subscribed(f.ctx, "o-zs"); err != nil {
			t.Fatal(err)
		}
		if n := e.notices("state = 'pending'"); len(n) != 0 {
			t.Fatalf("pending after following again: %+v", n)
		}
		// Unbound between the change and the send: checked just before sending.
		unbound := e.issue("晋(2024)阳城县不动产权第0007404号")
		if _, err := e.apply(unbound.ID, licence.ActionSuspend); err != nil {
			t.Fatal(err)
		}
		f.exec("UPDATE accounts SET holder_id = NULL WHERE openid = 'o-zs'")
		sum := drain(t, svc)
		if sum.Sent != 0 || sum.Cancelled != 1 || fake.Calls(sendPath) != 0 {
			t.Fatalf("dispatch: %+v, %d sends", sum, fake.Calls(sendPath))
		}
		if n := e.notices("licence_id = ?", unbound.ID); len(n) != 1 || n[0].State != "cancelled" || n[0].Reason != reminder.ReasonUnbound {
			t.Fatalf("unbound: %+v", n)
		}
	})
}

// TestNoticeLeavesExpiryRowsAlone: a notice (stage 0) dated on a licence's
// expiry day is not a "nearer stage" of that day's expiry reminder, and
// expiry reminders keep one row per stage whatever the notices.
func TestNoticeLeavesExpiryRowsAlone(t *testing.T) {
	forEachDriver(t, func(t *testing.T, f *fixture) {
		svc, _ := f.service(nil, nil)
		id, openid := f.one(7)
		if _, err := svc.Sweep(f.ctx); err != nil {
			t.Fatal(err)
		}
		f.exec(`INSERT INTO reminders (licence_id, stage, expiry_date, licence_version, openid, state, attempts, next_attempt_at,
  created_at, updated_at, kind, event_id, action, licence_status, notice_to)
VALUES (?, 0, ?, 1, ?, 'sent', 1, ?, ?, ?, 'notice', 1, 'renew', 'valid', ?)`,
			id, f.day(7).Format(time.DateOnly), openid, time.Now().UTC(), time.Now().UTC(), time.Now().UTC(), openid)
		if res, err := svc.Sweep(f.ctx); err != nil || res.Superseded != 0 || res.Pending != 0 {
			t.Fatalf("second sweep: %+v, %v", res, err)
		}
		if sum := drain(t, svc); sum.Sent != 1 || sum.Skipped != 0 {
			t.Fatalf("dispatch: %+v", sum)
		}
		if r := f.stageRow(id, 7); r.State != "sent" {
			t.Fatalf("expiry row: %+v", r)
		}
	})
}
