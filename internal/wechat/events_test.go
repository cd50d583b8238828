package wechat_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"github.com/yangcheng-county/elicence/internal/redisx"
	"github.com/yangcheng-county/elicence/internal/redisx/redistest"
	"github.com/yangcheng-county/elicence/internal/wechat"
	"github.com/yangcheng-county/elicence/internal/wechat/fakewx"
)

const eventToken = "evtoken123"

type recordingSink struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (s *recordingSink) record(call string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call)
	return s.err
}

func (s *recordingSink) Subscribed(_ context.Context, openid string) error {
	return s.record("subscribed " + openid)
}

func (s *recordingSink) Unsubscribed(_ context.Context, openid string) error {
	return s.record("unsubscribed " + openid)
}

func (s *recordingSink) TemplateFinished(_ context.Context, openid string, msgID int64, status string) error {
	return s.record(fmt.Sprintf("finished %s %d %s", openid, msgID, status))
}

func (s *recordingSink) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newEventHandler(t *testing.T, opts wechat.Options, sink wechat.EventSink) http.Handler {
	t.Helper()
	h, err := wechat.NewEventHandler(opts, sink, testNonces(t), discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// testNonces is the push nonce memory on the test Redis.
func testNonces(t *testing.T) *redisx.EventNonces {
	t.Helper()
	n, err := redisx.NewEventNonces(redistest.Open(t))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestEventHandlerURLCheck(t *testing.T) {
	h := newEventHandler(t, wechat.Options{Token: eventToken}, &recordingSink{})
	now := time.Now()
	valid := fakewx.SignedQuery(eventToken, now, "n0nce")
	for _, tc := range []struct {
		name   string
		query  url.Values
		status int
		body   string
	}{
		{"valid", with(valid, "echostr", "echo-123"), 200, "echo-123"},
		{"wrong token", with(fakewx.SignedQuery("other-token", now, "n0nce"), "echostr", "e"), 403, ""},
		{"tampered nonce", with(with(valid, "echostr", "e"), "nonce", "other"), 403, ""},
		{"no signature", url.Values{"echostr": {"e"}}, 403, ""},
		{"stale timestamp", with(fakewx.SignedQuery(eventToken, now.Add(-10*time.Minute), "n"), "echostr", "e"), 403, ""},
		{"future timestamp", with(fakewx.SignedQuery(eventToken, now.Add(10*time.Minute), "n"), "echostr", "e"), 403, ""},
		{"valid without echostr", valid, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(h, httptest.NewRequest(http.MethodGet, "/wechat/events?"+tc.query.Encode(), nil))
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			if tc.body != "" && w.Body.String() != tc.body {
				t.Fatalf("body %q, want %q", w.Body.String(), tc.body)
			}
		})
	}
}

func with(q url.Values, k, v string) url.Values {
	out := url.Values{}
	for key, vals := range q {
		out[key] = slices.Clone(vals)
	}
	out.Set(k, v)
	return out
}

func TestEventHandlerEvents(t *testing.T) {
	const openid = "demo-officer-police"
	for _, tc := range []struct {
		name    string
		event   fakewx.Event
		token   string // signing token; eventToken when empty
		sinkErr error
		status  int
		calls   []string
	}{
		{name: "subscribe", event: fakewx.Event{Event: "subscribe", OpenID: openid},
			status: 200, calls: []string{"subscribed " + openid}},
		{name: "unsubscribe", event: fakewx.Event{Event: "unsubscribe", OpenID: openid},
			status: 200, calls: []string{"unsubscribed " + openid}},
		{name: "template success", event: fakewx.Event{Event: "TEMPLATESENDJOBFINISH", OpenID: openid, MsgID: 3000000123, Status: "success"},
			status: 200, calls: []string{"finished " + openid + " 3000000123 success"}},
		{name: "template user block", event: fakewx.Event{Event: "TEMPLATESENDJOBFINISH", OpenID: openid, MsgID: 7, Status: "failed:user block"},
			status: 200, calls: []string{"finished " + openid + " 7 failed:user block"}},
		{name: "template system failed", event: fakewx.Event{Event: "TEMPLATESENDJOBFINISH", OpenID: openid, MsgID: 8, Status: "failed: system failed"},
			status: 200, calls: []string{"finished " + openid + " 8 failed: system failed"}},
		{name: "other event ignored", event: fakewx.Event{Event: "VIEW", OpenID: openid},
			status: 200},
		{name: "badly signed", event: fakewx.Event{Event: "unsubscribe", OpenID: openid}, token: "forged-token",
			status: 403},
		{name: "sink failure asks for a re-push", event: fakewx.Event{Event: "subscribe", OpenID: openid}, sinkErr: errors.New("db down"),
			status: 500, calls: []string{"subscribed " + openid}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &recordingSink{err: tc.sinkErr}
			h := newEventHandler(t, wechat.Options{Token: eventToken}, sink)
			token := tc.token
			if token == "" {
				token = eventToken
			}
			req, err := fakewx.NewEventRequest(context.Background(), "http://platform.test/wechat/events", token, tc.event, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			w := serve(h, req)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d (%s)", w.Code, tc.status, w.Body)
			}
			if tc.status == 200 && w.Body.String() != "success" {
				t.Fatalf("body %q, want success", w.Body.String())
			}
			if got := sink.Calls(); !slices.Equal(got, tc.calls) {
				t.Fatalf("sink calls %q, want %q", got, tc.calls)
			}
		})
	}
}

func TestEventHandlerRejectsOddRequests(t *testing.T) {
	sink := &recordingSink{}
	h := newEventHandler(t, wechat.Options{Token: eventToken}, sink)

	text := `<xml><ToUserName><![CDATA[gh_x]]></ToUserName><FromUserName><![CDATA[u1]]></FromUserName>` +
		`<CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content><MsgId>1</MsgId></xml>`
	for _, tc := range []struct {
		name   string
		method string
		body   string
		status int
	}{
		{"user text message acknowledged", http.MethodPost, text, 200},
		{"unparsable body", http.MethodPost, "<xml><oops", 400},
		{"put", http.MethodPut, text, 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := fakewx.SignedQuery(eventToken, time.Now(), "n-"+tc.name).Encode()
			w := serve(h, httptest.NewRequest(tc.method, "/wechat/events?"+q, strings.NewReader(tc.body)))
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
		})
	}
	if calls := sink.Calls(); len(calls) != 0 {
		t.Fatalf("sink called: %q", calls)
	}
}

// TestEventReplayRefused: a signed query string seen once (in a proxy log,
// say) cannot carry a second body, such as a forged unsubscribe that would
// cancel a citizen's reminders. A push that failed here is not remembered,
// so WeChat's retry of it is still handled.
func TestEventReplayRefused(t *testing.T) {
	sink := &recordingSink{}
	h := newEventHandler(t, wechat.Options{Token: eventToken}, sink)
	now := time.Now()
	req, err := fakewx.NewEventRequest(context.Background(), "http://platform.test/wechat/events", eventToken,
		fakewx.Event{Event: "TEMPLATESENDJOBFINISH", OpenID: "demo-citizen-zhangsan", MsgID: 9, Status: "success"}, now)
	if err != nil {
		t.Fatal(err)
	}
	signed := req.URL.String()
	if w := serve(h, req); w.Code != 200 {
		t.Fatalf("first push: %d", w.Code)
	}
	forged := httptest.NewRequest(http.MethodPost, signed,
		bytes.NewReader(fakewx.EventXML(fakewx.Event{Event: "unsubscribe", OpenID: "demo-citizen-zhangsan"}, now)))
	serve(h, forged)
	want := []string{"finished demo-citizen-zhangsan 9 success"}
	if got := sink.Calls(); !slices.Equal(got, want) {
		t.Fatalf("sink calls %q, want only %q: the replayed URL was acted on", got, want)
	}

	// A push whose sink failed is released: the same push again is handled.
	failing := &recordingSink{err: errors.New("db down")}
	h2 := newEventHandler(t, wechat.Options{Token: eventToken}, failing)
	req, err = fakewx.NewEventRequest(context.Background(), "http://platform.test/wechat/events", eventToken,
		fakewx.Event{Event: "subscribe", OpenID: "demo-citizen-lisi"}, now)
	if err != nil {
		t.Fatal(err)
	}
	retryURL := req.URL.String()
	if w := serve(h2, req); w.Code != 500 {
		t.Fatalf("failing push: %d, want 500", w.Code)
	}
	failing.err = nil
	retry := httptest.NewRequest(http.MethodPost, retryURL,
		bytes.NewReader(fakewx.EventXML(fakewx.Event{Event: "subscribe", OpenID: "demo-citizen-lisi"}, now)))
	if w := serve(h2, retry); w.Code != 200 {
		t.Fatalf("retry: %d, want 200", w.Code)
	}
	if got := failing.Calls(); len(got) != 2 {
		t.Fatalf("sink calls %q, want the failed push and its retry", got)
	}
}

func TestEventHandlerSafeMode(t *testing.T) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	aesKey := strings.TrimSuffix(base64.StdEncoding.EncodeToString(key), "=")
	opts := wechat.Options{AppID: appID, Token: eventToken, EncodingAESKey: aesKey}
	sink := &recordingSink{}
	h := newEventHandler(t, opts, sink)
	now := time.Now()
	event := fakewx.Event{Event: "subscribe", OpenID: "demo-citizen-zhangsan"}

	t.Run("plaintext refused", func(t *testing.T) {
		req, err := fakewx.NewEventRequest(context.Background(), "http://platform.test/wechat/events", eventToken, event, now)
		if err != nil {
			t.Fatal(err)
		}
		if w := serve(h, req); w.Code != http.StatusForbidden {
			t.Fatalf("status %d, want 403", w.Code)
		}
	})

	encrypt := func(t *testing.T, appid string) (string, string) {
		t.Helper()
		random := make([]byte, 16)
		if _, err := rand.Read(random); err != nil {
			t.Fatal(err)
		}
		enc, err := util.EncryptMsg(random, fakewx.EventXML(event, now), appid, aesKey)
		if err != nil {
			t.Fatal(err)
		}
		return string(enc), fmt.Sprintf("<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[%s]]></Encrypt></xml>", enc)
	}

	t.Run("encrypted accepted", func(t *testing.T) {
		enc, body := encrypt(t, appID)
		q := fakewx.SignedQuery(eventToken, now, "n2")
		q.Set("encrypt_type", "aes")
		q.Set("msg_signature", util.Signature(eventToken, q.Get("timestamp"), q.Get("nonce"), enc))
		w := serve(h, httptest.NewRequest(http.MethodPost, "/wechat/events?"+q.Encode(), bytes.NewReader([]byte(body))))
		if w.Code != http.StatusOK || w.Body.String() != "success" {
			t.Fatalf("status %d body %q", w.Code, w.Body)
		}
		if got := sink.Calls(); !slices.Equal(got, []string{"subscribed demo-citizen-zhangsan"}) {
			t.Fatalf("sink calls %q", got)
		}
	})

	t.Run("body not matching msg_signature refused", func(t *testing.T) {
		_, body := encrypt(t, appID)
		q := fakewx.SignedQuery(eventToken, now, "n3")
		q.Set("encrypt_type", "aes")
		q.Set("msg_signature", "0000")
		w := serve(h, httptest.NewRequest(http.MethodPost, "/wechat/events?"+q.Encode(), strings.NewReader(body)))
		if w.Code != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", w.Code)
		}
	})
}

func TestNewEventHandlerValidates(t *testing.T) {
	sink := &recordingSink{}
	for _, tc := range []struct {
		name string
		opts wechat.Options
		sink wechat.EventSink
		log  *slog.Logger
	}{
		{"nil sink", wechat.Options{Token: eventToken}, nil, discardLogger()},
		{"nil logger", wechat.Options{Token: eventToken}, sink, nil},
		{"no token", wechat.Options{}, sink, discardLogger()},
		{"short aes key", wechat.Options{AppID: appID, Token: eventToken, EncodingAESKey: "short"}, sink, discardLogger()},
		{"aes without appid", wechat.Options{Token: eventToken, EncodingAESKey: strings.Repeat("a", 43)}, sink, discardLogger()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := wechat.NewEventHandler(tc.opts, tc.sink, testNonces(t), tc.log); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
