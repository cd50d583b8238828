package fakewx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/yangcheng-county/elicence/internal/redisx"
	"github.com/yangcheng-county/elicence/internal/redisx/redistest"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/testkit"
	"github.com/yangcheng-county/elicence/internal/wechat"
	"github.com/yangcheng-county/elicence/internal/wechat/fakewx"
)

const (
	appID  = "wxfake00000000001"
	secret = "fake-secret"
)

type env struct {
	t     *testing.T
	fake  *fakewx.Server
	srv   *httptest.Server
	clock *testkit.Clock
}

// newEnv mounts a fake at MountPath of an httptest server whose URL is the
// platform's base URL.
func newEnv(t *testing.T, opts ...fakewx.Option) *env {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	clk := testkit.NewClock(time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC))
	users := []fakewx.DemoUser{
		{OpenID: "demo-citizen-zhangsan", Label: "张三"},
		{OpenID: "demo-snapshot", Label: "快照", Snapshot: true},
	}
	opts = append([]fakewx.Option{fakewx.WithCredentials(appID, secret), fakewx.WithClock(clk.Now)}, opts...)
	f, err := fakewx.New(srv.URL, users, opts...)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle(fakewx.MountPath+"/", f)
	return &env{t: t, fake: f, srv: srv, clock: clk}
}

// do sends a request to the fake and decodes a JSON answer.
func (e *env) do(method, path string, body any) (int, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	if raw, ok := body.([]byte); ok {
		rd = bytes.NewReader(raw)
	} else if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.fake.APIBase()+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out); err != nil {
			e.t.Fatalf("%s %s: bad JSON %q", method, path, raw)
		}
	}
	return resp.StatusCode, out
}

func errcode(m map[string]any) int {
	v, _ := m["errcode"].(float64)
	return int(v)
}

func (e *env) token(force bool) string {
	e.t.Helper()
	_, res := e.do(http.MethodPost, "/cgi-bin/stable_token", map[string]any{
		"grant_type": "client_credential", "appid": appID, "secret": secret, "force_refresh": force,
	})
	tok, _ := res["access_token"].(string)
	if tok == "" {
		e.t.Fatalf("no token: %v", res)
	}
	return tok
}

func (e *env) send(tok string, body any) map[string]any {
	e.t.Helper()
	_, res := e.do(http.MethodPost, "/cgi-bin/message/template/send?access_token="+url.QueryEscape(tok), body)
	return res
}

func okMessage(cid string) map[string]any {
	return map[string]any{
		"touser": "demo-citizen-zhangsan", "template_id": "tpl-1", "url": "https://h5.example.gov.cn/l/1",
		"data":          map[string]any{"thing1": map[string]string{"value": "机动车驾驶证"}},
		"client_msg_id": cid,
	}
}

func TestTemplateSendValidation(t *testing.T) {
	e := newEnv(t)
	tok := e.token(false)
	data := func(items map[string]any) map[string]any {
		m := okMessage("")
		m["data"] = items
		return m
	}
	for _, tc := range []struct {
		name string
		tok  string
		body any
		code int
	}{
		{"ok", tok, okMessage(""), 0},
		{"missing token", "", okMessage(""), 41001},
		{"unknown token", "FAKE_AT_nope", okMessage(""), 40001},
		{"not json", tok, []byte("{"), 47001},
		{"no touser", tok, map[string]any{"template_id": "t", "data": map[string]any{"a": map[string]string{"value": "b"}}}, 40003},
		{"snapshot touser", tok, map[string]any{"touser": "demo-snapshot", "template_id": "t", "data": map[string]any{"a": map[string]string{"value": "b"}}}, 40003},
		{"no template", tok, map[string]any{"touser": "u1", "data": map[string]any{"a": map[string]string{"value": "b"}}}, 40037},
		{"empty data", tok, data(map[string]any{}), 47003},
		{"first", tok, data(map[string]any{"first": map[string]string{"value": "您好"}}), 47003},
		{"remark", tok, data(map[string]any{"remark": map[string]string{"value": "谢谢"}}), 47003},
		{"item colour", tok, data(map[string]any{"thing1": map[string]string{"value": "a", "color": "#173177"}}), 47003},
		{"21 characters", tok, data(map[string]any{"thing1": map[string]string{"value": strings.Repeat("证", 21)}}), 47003},
		{"20 characters", tok, data(map[string]any{"thing1": map[string]string{"value": strings.Repeat("证", 20)}}), 0},
		{"emoji", tok, data(map[string]any{"thing1": map[string]string{"value": "到期😀"}}), 47003},
		{"value not a string", tok, data(map[string]any{"thing1": map[string]any{"value": 5}}), 47001},
		{"relative url", tok, map[string]any{"touser": "u1", "template_id": "t", "url": "/x", "data": map[string]any{"a": map[string]string{"value": "b"}}}, 47003},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.send(tc.tok, tc.body)
			if got := errcode(res); got != tc.code {
				t.Fatalf("errcode %d, want %d (%v)", got, tc.code, res)
			}
			if tc.code == 0 {
				if id, _ := res["msgid"].(float64); id == 0 {
					t.Fatalf("no msgid: %v", res)
				}
			}
		})
	}
	if n := e.fake.Stats().Messages; n != 2 {
		t.Fatalf("recorded %d messages, want 2", n)
	}
	if status, res := e.do(http.MethodGet, "/cgi-bin/message/template/send?access_token="+tok, nil); status != 200 || errcode(res) != 43002 {
		t.Fatalf("GET send: %d %v", status, res)
	}
}

func TestMessagesAndStatsEndpoints(t *testing.T) {
	e := newEnv(t)
	tok := e.token(false)
	r1 := e.send(tok, okMessage("cid-a"))
	e.clock.Add(time.Second)
	r2 := e.send(tok, okMessage("cid-b"))
	dup := e.send(tok, okMessage("cid-a"))
	if dup["msgid"] != r1["msgid"] {
		t.Fatalf("duplicate got msgid %v, first %v", dup["msgid"], r1["msgid"])
	}

	_, res := e.do(http.MethodGet, "/_messages", nil)
	items, _ := res["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("items = %v", res)
	}
	newest := items[0].(map[string]any)
	if newest["msgid"] != r2["msgid"] {
		t.Fatalf("newest first: got msgid %v, want %v", newest["msgid"], r2["msgid"])
	}
	for _, k := range []string{"touser", "template_id", "url", "data", "client_msg_id", "msgid", "at"} {
		if _, ok := newest[k]; !ok {
			t.Errorf("message lacks %q: %v", k, newest)
		}
	}
	val := newest["data"].(map[string]any)["thing1"].(map[string]any)["value"]
	if val != "机动车驾驶证" {
		t.Fatalf("data.thing1.value = %v", val)
	}
	if at, _ := time.Parse(time.RFC3339, newest["at"].(string)); !at.Equal(e.clock.Now()) {
		t.Fatalf("at = %v, want %v", newest["at"], e.clock.Now())
	}

	_, stats := e.do(http.MethodGet, "/_stats", nil)
	by := stats["by_client_msg_id"].(map[string]any)
	if by["cid-a"] != 2.0 || by["cid-b"] != 1.0 || stats["messages"] != 2.0 || stats["sends_accepted"] != 3.0 {
		t.Fatalf("stats = %v", stats)
	}
	if e.fake.SendCount("cid-a") != 2 || e.fake.Calls("/fakewx/cgi-bin/message/template/send") != 3 {
		t.Fatalf("SendCount %d, Calls %d", e.fake.SendCount("cid-a"), e.fake.Calls("/cgi-bin/message/template/send"))
	}
}

func TestFaultKnob(t *testing.T) {
	e := newEnv(t)
	tok := e.token(false)

	status, res := e.do(http.MethodPost, "/_faults", map[string]any{"path": "/fakewx/cgi-bin/message/template/send", "errcode": 45009, "count": 2})
	if status != 200 {
		t.Fatalf("inject: %d %v", status, res)
	}
	if err := e.fake.InjectFault(fakewx.Fault{Path: "/cgi-bin/message/template/send", HTTPStatus: 500}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{45009, 45009} {
		if got := errcode(e.send(tok, okMessage(""))); got != want {
			t.Fatalf("call %d: errcode %d, want %d", i, got, want)
		}
	}
	if status, _ := e.do(http.MethodPost, "/cgi-bin/message/template/send?access_token="+tok, okMessage("")); status != 500 {
		t.Fatalf("third call status %d, want 500", status)
	}
	if got := errcode(e.send(tok, okMessage(""))); got != 0 {
		t.Fatalf("after faults: errcode %d", got)
	}

	for _, bad := range []map[string]any{
		{"path": "/nope", "errcode": 1},
		{"path": "/cgi-bin/token"},
		{"path": "/cgi-bin/token", "errcode": 1, "colour": "red"},
		{"path": "/cgi-bin/token", "http_status": 200},
		{"path": "/cgi-bin/token", "delay_ms": 3600000},
	} {
		if status, _ := e.do(http.MethodPost, "/_faults", bad); status != 400 {
			t.Errorf("fault %v accepted (%d)", bad, status)
		}
	}

	e.do(http.MethodPost, "/_faults", map[string]any{"path": "/cgi-bin/ticket/getticket", "errcode": -1, "count": 3})
	_, list := e.do(http.MethodGet, "/_faults", nil)
	if items := list["items"].([]any); len(items) != 1 || items[0].(map[string]any)["count"] != 3.0 {
		t.Fatalf("pending faults = %v", list)
	}
	e.do(http.MethodPost, "/_faults/reset", nil)
	if n := len(e.fake.PendingFaults()); n != 0 {
		t.Fatalf("%d faults after reset", n)
	}
}

func TestFaultDelayThenProceed(t *testing.T) {
	e := newEnv(t)
	tok := e.token(false)
	if err := e.fake.InjectFault(fakewx.Fault{Path: "/cgi-bin/message/template/send", Delay: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if got := errcode(e.send(tok, okMessage("slow"))); got != 0 {
		t.Fatalf("delayed call: errcode %d", got)
	}
	if e.fake.SendCount("slow") != 1 {
		t.Fatal("delayed call not processed")
	}
}

func TestStableTokenSemantics(t *testing.T) {
	e := newEnv(t)
	t1 := e.token(false)
	if t2 := e.token(false); t2 != t1 {
		t.Fatal("normal mode changed the token")
	}
	ticketCode := func(tok string) int {
		_, res := e.do(http.MethodGet, "/cgi-bin/ticket/getticket?type=jsapi&access_token="+url.QueryEscape(tok), nil)
		return errcode(res)
	}
	if c := ticketCode(t1); c != 0 {
		t.Fatalf("getticket with fresh token: %d", c)
	}
	if c := ticketCode("FAKE_AT_x"); c != 40001 {
		t.Fatalf("getticket with unknown token: %d", c)
	}

	t3 := e.token(true)
	if t3 == t1 || ticketCode(t1) != 40001 || ticketCode(t3) != 0 {
		t.Fatal("force_refresh did not replace and invalidate the old token")
	}

	// Five minutes before expiry, normal mode hands out a new token while
	// the old one lives on until it expires.
	e.clock.Add(2*time.Hour - 4*time.Minute)
	t4 := e.token(false)
	if t4 == t3 || ticketCode(t3) != 0 {
		t.Fatal("renewal near expiry wrong")
	}
	e.clock.Add(5 * time.Minute)
	if c := ticketCode(t3); c != 42001 {
		t.Fatalf("expired token: errcode %d, want 42001", c)
	}

	e.do(http.MethodPost, "/_tokens/expire", nil)
	if c := ticketCode(t4); c != 40001 {
		t.Fatalf("after ExpireTokens: errcode %d, want 40001", c)
	}

	for _, tc := range []struct {
		name string
		body map[string]any
		code int
	}{
		{"wrong secret", map[string]any{"grant_type": "client_credential", "appid": appID, "secret": "x"}, 40125},
		{"wrong appid", map[string]any{"grant_type": "client_credential", "appid": "wx0", "secret": secret}, 40013},
		{"wrong grant", map[string]any{"grant_type": "password", "appid": appID, "secret": secret}, 40002},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, res := e.do(http.MethodPost, "/cgi-bin/stable_token", tc.body); errcode(res) != tc.code {
				t.Fatalf("errcode %d, want %d", errcode(res), tc.code)
			}
		})
	}
}

func TestPlainTokenReplacesPrevious(t *testing.T) {
	e := newEnv(t)
	get := func() string {
		_, res := e.do(http.MethodGet, "/cgi-bin/token?grant_type=client_credential&appid="+appID+"&secret="+secret, nil)
		return res["access_token"].(string)
	}
	t1 := get()
	t2 := get()
	if t1 == t2 {
		t.Fatal("same token twice")
	}
	check := func(tok string) int {
		_, res := e.do(http.MethodGet, "/cgi-bin/ticket/getticket?type=jsapi&access_token="+tok, nil)
		return errcode(res)
	}
	if check(t1) != 0 {
		t.Fatal("old token died at once")
	}
	e.clock.Add(6 * time.Minute)
	if check(t1) != 42001 || check(t2) != 0 {
		t.Fatal("old token should expire five minutes after replacement")
	}
}

func TestOAuth(t *testing.T) {
	e := newEnv(t)
	callback := e.srv.URL + "/cb?next=%2Fh5"
	authorize := func(q url.Values) (int, *url.URL) {
		t.Helper()
		base := url.Values{"appid": {appID}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"snsapi_base"}, "state": {"s1"}}
		for k, v := range q {
			base[k] = v
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get(e.fake.APIBase() + "/connect/oauth2/authorize?" + base.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		return resp.StatusCode, loc
	}
	exchange := func(code string) map[string]any {
		_, res := e.do(http.MethodGet, "/sns/oauth2/access_token?grant_type=authorization_code&appid="+appID+"&secret="+secret+"&code="+url.QueryEscape(code), nil)
		return res
	}

	for _, tc := range []struct {
		name string
		q    url.Values
	}{
		{"foreign redirect host", url.Values{"redirect_uri": {"https://evil.example/cb"}, "fake_openid": {"u1"}}},
		{"bad scope", url.Values{"scope": {"snsapi_login"}, "fake_openid": {"u1"}}},
		{"wrong appid", url.Values{"appid": {"wx0"}, "fake_openid": {"u1"}}},
		{"bad openid", url.Values{"fake_openid": {"a b"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, _ := authorize(tc.q); status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", status)
			}
		})
	}

	status, loc := authorize(url.Values{"fake_openid": {"demo-citizen-zhangsan"}})
	if status != http.StatusFound || loc.Query().Get("state") != "s1" || loc.Query().Get("next") != "/h5" {
		t.Fatalf("redirect %d %v", status, loc)
	}
	code := loc.Query().Get("code")
	res := exchange(code)
	if res["openid"] != "demo-citizen-zhangsan" || res["scope"] != "snsapi_base" {
		t.Fatalf("exchange: %v", res)
	}
	if _, ok := res["is_snapshotuser"]; ok {
		t.Fatal("real user flagged as snapshot")
	}
	if c := errcode(exchange(code)); c != 40163 {
		t.Fatalf("reused code: %d", c)
	}
	_, info := e.do(http.MethodGet, "/sns/userinfo?access_token="+url.QueryEscape(res["access_token"].(string))+"&openid=demo-citizen-zhangsan", nil)
	if errcode(info) != 48001 {
		t.Fatalf("userinfo with snsapi_base: %v", info)
	}

	_, loc = authorize(url.Values{"fake_openid": {"demo-snapshot"}})
	if res := exchange(loc.Query().Get("code")); res["is_snapshotuser"] != 1.0 {
		t.Fatalf("snapshot exchange: %v", res)
	}

	_, loc = authorize(url.Values{"fake_openid": {"demo-citizen-zhangsan"}, "scope": {"snsapi_userinfo"}})
	res = exchange(loc.Query().Get("code"))
	_, info = e.do(http.MethodGet, "/sns/userinfo?access_token="+url.QueryEscape(res["access_token"].(string))+"&openid=demo-citizen-zhangsan", nil)
	if info["nickname"] != "张三" {
		t.Fatalf("userinfo: %v", info)
	}

	_, loc = authorize(url.Values{"fake_openid": {"demo-citizen-zhangsan"}})
	e.clock.Add(6 * time.Minute)
	if c := errcode(exchange(loc.Query().Get("code"))); c != 40029 {
		t.Fatalf("expired code: %d", c)
	}
	if c := errcode(exchange("")); c != 41008 {
		t.Fatalf("missing code: %d", c)
	}
}

func TestMountedBehindStripPrefix(t *testing.T) {
	f, err := fakewx.New("", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.StripPrefix("/wx", f))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/wx/_messages")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != `{"items":[]}` {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name  string
		base  string
		users []fakewx.DemoUser
	}{
		{"relative base", "/x", nil},
		{"bad openid", "", []fakewx.DemoUser{{OpenID: "a b"}}},
		{"duplicate", "", []fakewx.DemoUser{{OpenID: "a"}, {OpenID: "a"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := fakewx.New(tc.base, tc.users); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// sink records what the platform's event handler receives from the fake.
type sink struct {
	mu    sync.Mutex
	calls []string
}

func (s *sink) add(c string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	return nil
}

func (s *sink) Subscribed(_ context.Context, openid string) error {
	return s.add("sub " + openid)
}

func (s *sink) Unsubscribed(_ context.Context, openid string) error {
	return s.add("unsub " + openid)
}

func (s *sink) TemplateFinished(_ context.Context, openid string, id int64, status string) error {
	return s.add(fmt.Sprintf("done %s %d %s", openid, id, status))
}

func (s *sink) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

func TestEventPushReachesHandler(t *testing.T) {
	const token = "evtoken123"
	sk := &sink{}
	h, err := wechat.NewEventHandler(wechat.Options{Token: token}, sk, testNonces(t), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	platform := httptest.NewServer(h)
	defer platform.Close()
	// The handler checks timestamps against the real clock, so this fake
	// runs on it too.
	e := newEnv(t, fakewx.WithEventPush(platform.URL+"/wechat/events", token, nil), fakewx.WithClock(time.Now))

	if status, res := e.do(http.MethodPost, "/_push", map[string]any{"event": "subscribe", "openid": "demo-citizen-zhangsan"}); status != 200 {
		t.Fatalf("push: %d %v", status, res)
	}
	res := e.send(e.token(false), okMessage("c1"))
	e.fake.Close() // wait for the TEMPLATESENDJOBFINISH push
	want := []string{"sub demo-citizen-zhangsan", fmt.Sprintf("done demo-citizen-zhangsan %d success", int64(res["msgid"].(float64)))}
	if got := sk.list(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("sink got %q, want %q", got, want)
	}
}

func TestConcurrentSends(t *testing.T) {
	e := newEnv(t)
	tok := e.token(false)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Senders come in pairs sharing a client_msg_id.
			b, _ := json.Marshal(okMessage(fmt.Sprint("cid-", i/2)))
			resp, err := http.Post(e.fake.APIBase()+"/cgi-bin/message/template/send?access_token="+tok, "application/json", bytes.NewReader(b))
			if err != nil {
				errs <- err
				return
			}
			_ = resp.Body.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := e.fake.Stats()
	if st.Messages != 8 || st.SendsAccepted != 16 {
		t.Fatalf("stats %+v", st)
	}
	for i := range 8 {
		if n := st.ByClientMsgID[fmt.Sprint("cid-", i)]; n != 2 {
			t.Fatalf("cid-%d sent %d times", i, n)
		}
	}
}

// WeChat drops a repeated (touser, client_msg_id) for ten minutes only; a
// fake that deduplicates forever would let tests pass for resends that reach
// citizens twice in production.
func TestClientMsgIDDedupLastsTenMinutes(t *testing.T) {
	e := newEnv(t)
	tok := e.token(false)
	first := e.send(tok, okMessage("cid-window"))
	e.clock.Add(10*time.Minute - time.Second)
	dup := e.send(tok, okMessage("cid-window"))
	if errcode(dup) != 0 || dup["msgid"] != first["msgid"] || len(e.fake.Messages()) != 1 {
		t.Fatalf("resend inside the window: %v (first %v), %d messages", dup, first, len(e.fake.Messages()))
	}
	e.clock.Add(time.Second)
	late := e.send(tok, okMessage("cid-window"))
	if errcode(late) != 0 || late["msgid"] == first["msgid"] || len(e.fake.Messages()) != 2 {
		t.Fatalf("resend after ten minutes: %v (first %v), %d messages", late, first, len(e.fake.Messages()))
	}
	// The new message opens a new window.
	e.clock.Add(time.Minute)
	if again := e.send(tok, okMessage("cid-window")); again["msgid"] != late["msgid"] || len(e.fake.Messages()) != 2 {
		t.Fatalf("resend inside the new window: %v (late %v)", again, late)
	}
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
