package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/account"
	"github.com/yangcheng-county/elicence/internal/reminder"
	"github.com/yangcheng-county/elicence/internal/wechat/fakewx"
)

func reminderPath(id int64) string { return fmt.Sprintf("/api/v1/licences/%d/reminders", id) }

func decodeSwitch(t *testing.T, w *httptest.ResponseRecorder) bool {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	v, ok := body["enabled"].(bool)
	if !ok || len(body) != 1 {
		t.Fatalf("body = %v, want {\"enabled\": bool}", body)
	}
	return v
}

func TestReminderSwitchOwnership(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		w := newWorld(t, testServerOpts{Driver: driver})
		ctx := context.Background()
		zsPath := reminderPath(w.zsDriving.ID)

		if r := w.do(http.MethodGet, zsPath, nil, w.zhangsan); r.Code != http.StatusOK || !decodeSwitch(t, r) {
			t.Fatalf("GET own: %d %s, want enabled", r.Code, r.Body)
		}
		r := w.do(http.MethodPut, zsPath, map[string]bool{"enabled": false}, w.zhangsan)
		if r.Code != http.StatusOK || decodeSwitch(t, r) {
			t.Fatalf("PUT off: %d %s", r.Code, r.Body)
		}
		if r := w.do(http.MethodGet, zsPath, nil, w.zhangsan); r.Code != http.StatusOK || decodeSwitch(t, r) {
			t.Fatalf("GET after off: %d %s", r.Code, r.Body)
		}
		if out, err := w.reminders.OptedOut(ctx, w.zsDriving.HolderID, w.zsDriving.ID); err != nil || !out {
			t.Fatalf("opt-out not stored: %v %v", out, err)
		}

		cases := []struct {
			name, method, path, cookie string
			body                       any
			status                     int
			code                       string
		}{
			{"other holder reads", http.MethodGet, zsPath, w.lisi, nil, http.StatusNotFound, "not_found"},
			{"other holder writes", http.MethodPut, zsPath, w.lisi, map[string]bool{"enabled": true}, http.StatusNotFound, "not_found"},
			{"officer", http.MethodGet, zsPath, w.police, nil, http.StatusForbidden, "realname_required"},
			{"unbound", http.MethodPut, zsPath, w.wangwu, map[string]bool{"enabled": true}, http.StatusForbidden, "realname_required"},
			{"anonymous", http.MethodGet, zsPath, "", nil, http.StatusUnauthorized, "not_logged_in"},
			{"no such licence", http.MethodGet, reminderPath(987654), w.zhangsan, nil, http.StatusNotFound, "not_found"},
			{"bad id", http.MethodGet, "/api/v1/licences/012/reminders", w.zhangsan, nil, http.StatusNotFound, "not_found"},
			{"missing field", http.MethodPut, zsPath, w.zhangsan, map[string]string{}, http.StatusBadRequest, "validation_failed"},
			{"wrong type", http.MethodPut, zsPath, w.zhangsan, map[string]string{"enabled": "yes"}, http.StatusBadRequest, "validation_failed"},
		}
		for _, c := range cases {
			r := w.do(c.method, c.path, c.body, c.cookie)
			if r.Code != c.status || errorCode(r) != c.code {
				t.Errorf("%s: %d %s, want %d %s", c.name, r.Code, r.Body, c.status, c.code)
			}
		}
		// The refused write changed nothing.
		if out, _ := w.reminders.OptedOut(ctx, w.zsDriving.HolderID, w.zsDriving.ID); !out {
			t.Fatal("another holder's PUT turned the reminders back on")
		}
		if r := w.do(http.MethodPut, zsPath, map[string]bool{"enabled": true}, w.zhangsan); r.Code != http.StatusOK || !decodeSwitch(t, r) {
			t.Fatalf("PUT on: %d %s", r.Code, r.Body)
		}
		if out, _ := w.reminders.OptedOut(ctx, w.zsDriving.HolderID, w.zsDriving.ID); out {
			t.Fatal("opt-out still stored after switching on")
		}
	})
}

// pushEvent sends a WeChat push through the router, signed with token.
func pushEvent(ts *testServer, token string, e fakewx.Event, at time.Time) *httptest.ResponseRecorder {
	ts.t.Helper()
	req, err := fakewx.NewEventRequest(context.Background(), "http://elic.test/wechat/events", token, e, at)
	if err != nil {
		ts.t.Fatal(err)
	}
	w := httptest.NewRecorder()
	ts.router.ServeHTTP(w, req)
	return w
}

func TestEventPushesSignedAndBadlySigned(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	ctx := context.Background()
	const openid = "o-event-user"
	now := time.Now()

	// URL check (GET): echo when signed, 403 otherwise.
	q := fakewx.SignedQuery(testEventToken, now, "n0nce")
	q.Set("echostr", "echo-123")
	w := ts.do(http.MethodGet, "/wechat/events?"+q.Encode(), nil, "")
	if w.Code != http.StatusOK || w.Body.String() != "echo-123" {
		t.Fatalf("signed URL check: %d %q", w.Code, w.Body)
	}
	bad := fakewx.SignedQuery("wrong-token", now, "n0nce")
	bad.Set("echostr", "echo-123")
	if w := ts.do(http.MethodGet, "/wechat/events?"+bad.Encode(), nil, ""); w.Code != http.StatusForbidden {
		t.Fatalf("badly signed URL check: %d", w.Code)
	}

	// A badly signed subscribe changes nothing.
	if w := pushEvent(ts, "wrong-token", fakewx.Event{Event: fakewx.EventSubscribe, OpenID: openid}, now); w.Code != http.StatusForbidden {
		t.Fatalf("badly signed push: %d %s", w.Code, w.Body)
	}
	if _, err := ts.store.Get(ctx, openid); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("badly signed push created an account: %v", err)
	}
	// A stale signature (replayed an hour later) is refused too.
	if w := pushEvent(ts, testEventToken, fakewx.Event{Event: fakewx.EventSubscribe, OpenID: openid}, now.Add(-time.Hour)); w.Code != http.StatusForbidden {
		t.Fatalf("stale push: %d", w.Code)
	}

	subscribed := func() bool {
		t.Helper()
		a, err := ts.store.Get(ctx, openid)
		if err != nil {
			t.Fatalf("account: %v", err)
		}
		return a.Subscribed
	}
	for i, step := range []struct {
		event string
		want  bool
	}{{fakewx.EventSubscribe, true}, {fakewx.EventSubscribe, true}, {fakewx.EventUnsubscribe, false}, {fakewx.EventSubscribe, true}} {
		w := pushEvent(ts, testEventToken, fakewx.Event{Event: step.event, OpenID: openid}, now)
		body, _ := io.ReadAll(w.Result().Body)
		if w.Code != http.StatusOK || string(body) != "success" {
			t.Fatalf("step %d %s: %d %q", i, step.event, w.Code, body)
		}
		if got := subscribed(); got != step.want {
			t.Fatalf("step %d %s: subscribed = %v, want %v", i, step.event, got, step.want)
		}
	}

	// A delivery report for an unknown msgid is acknowledged and kept.
	w = pushEvent(ts, testEventToken, fakewx.Event{Event: fakewx.EventTemplateSendJobFinish, OpenID: openid, MsgID: 4242, Status: "success"}, now)
	if w.Code != http.StatusOK {
		t.Fatalf("template report: %d", w.Code)
	}
	if err := ts.reminders.RecordReceipt(ctx, reminder.Receipt{MsgID: 4242, Status: "success", At: now}, reminder.StateDelivered, ""); err != nil {
		t.Fatalf("re-recording the same report: %v", err)
	}
}
