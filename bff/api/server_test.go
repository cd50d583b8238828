package api

import (
	"github.com/yangcheng-county/elicence/internal/wallet"

	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/yangcheng-county/elicence/internal/auth"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/realname"
	"github.com/yangcheng-county/elicence/internal/redisx"
	"github.com/yangcheng-county/elicence/internal/redisx/redistest"
	"github.com/yangcheng-county/elicence/internal/reminder"
	"github.com/yangcheng-county/elicence/internal/secure"
	"github.com/yangcheng-county/elicence/internal/showcode"
	"github.com/yangcheng-county/elicence/internal/sms"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
	"github.com/yangcheng-county/elicence/internal/testkit"
	"github.com/yangcheng-county/elicence/internal/verify"
	"github.com/yangcheng-county/elicence/internal/wechat"
	"github.com/yangcheng-county/elicence/internal/wechat/fakewx"
)

// Test WeChat account of the shared fake.
const (
	testAppID     = "wxtest0000000001"
	testAppSecret = "test-app-secret"
	// demoSnapshot is a snapshot-page user on the fake's picker.
	demoSnapshot = "demo-snapshot"
	// testEventToken is the server URL token event pushes are signed with.
	testEventToken = "test-token"
)

// sharedFake is one fake WeChat over real HTTP for the whole test binary:
// the WeChat SDK's HTTP settings are process-wide, so every client in this
// process must talk to the same fake.
var sharedFake struct {
	once sync.Once
	fake *fakewx.Server
	srv  *httptest.Server
	err  error
}

func testFakeWeChat(t testing.TB) (*fakewx.Server, string) {
	t.Helper()
	sharedFake.once.Do(func() {
		users := []fakewx.DemoUser{
			{OpenID: demo.CitizenZhangsan, Label: "张三"},
			{OpenID: demo.CitizenLisi, Label: "李四"},
			{OpenID: demo.CitizenWangwu, Label: "王五"},
			{OpenID: demo.OfficerPolice, Label: "交警"},
			{OpenID: demo.OfficerHousing, Label: "不动产登记中心"},
			{OpenID: demoSnapshot, Label: "快照页用户", Snapshot: true},
		}
		sharedFake.fake, sharedFake.err = fakewx.New("", users, fakewx.WithCredentials(testAppID, testAppSecret))
		if sharedFake.err == nil {
			sharedFake.srv = httptest.NewServer(sharedFake.fake)
		}
	})
	if sharedFake.err != nil {
		t.Fatalf("fake WeChat: %v", sharedFake.err)
	}
	return sharedFake.fake, sharedFake.srv.URL
}

// testServerOpts vary a test server; the zero value is the usual one.
type testServerOpts struct {
	// Driver is store.DriverSQLite (default) or store.DriverMySQL.
	Driver string
	// PublicURL defaults to https://elic.test.
	PublicURL string
	// NoDevMode leaves the dev SMS outbox (and its route) out.
	NoDevMode bool
	// MiniRedis runs Redis in a private miniredis (which the test may stop)
	// instead of the shared real Redis.
	MiniRedis bool
	// ResendInterval overrides realname.resend_interval (default 60s).
	ResendInterval time.Duration
}

// testServer is the whole HTTP stack on real dependencies: Redis, a
// migrated and seeded store, the fake WeChat over HTTP.
type testServer struct {
	t         *testing.T
	router    *gin.Engine
	admin     http.Handler // the admin listener's handler: /metrics, pprof
	store     *store.Store
	redis     *redisx.Client
	mini      *miniredis.Miniredis // set with testServerOpts.MiniRedis
	outbox    *sms.DevOutbox
	fake      *fakewx.Server
	fakeURL   string
	clock     *testkit.Clock
	logs      *testkit.LogBuffer
	publicURL string
	deps      Deps
	// reminders is the expiry-reminder outbox on the test store.
	reminders *store.Reminders
	// oauthBinding holds, per OAuth state, the login-binding cookie that
	// /login set; do sends it back on that state's callback, as the browser
	// that started the login would.
	oauthBinding map[string]string
}

func newTestServer(t *testing.T, opts testServerOpts) *testServer {
	t.Helper()
	ts := &testServer{
		t:         t,
		clock:     testkit.NewClock(time.Now().UTC().Truncate(time.Second)),
		logs:      &testkit.LogBuffer{},
		publicURL: opts.PublicURL,
	}
	if ts.publicURL == "" {
		ts.publicURL = "https://elic.test"
	}
	log := slog.New(slog.NewJSONHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	if opts.MiniRedis {
		ts.redis, ts.mini = redistest.Mini(t)
	} else {
		ts.redis = redistest.Open(t)
	}

	sealer, err := secure.NewSealer(randomKey(t), randomKey(t))
	if err != nil {
		t.Fatal(err)
	}
	driver := store.DriverSQLite
	if opts.Driver == store.DriverMySQL {
		driver = store.DriverMySQL
	}
	st := storetest.Seeded(t, driver, storetest.DSN(t, driver), ts.clock.Now(), store.WithSealer(sealer), store.WithLogger(log))
	ts.store = st

	ts.fake, ts.fakeURL = testFakeWeChat(t)
	wx, err := wechat.New(wechat.Options{
		AppID: testAppID, AppSecret: testAppSecret, Token: "test-token",
		APIBase: ts.fakeURL, HTTPTimeout: 5 * time.Second, KeyPrefix: ts.redis.Key(),
	}, ts.redis.Redis())
	if err != nil {
		t.Fatal(err)
	}

	sessStore, err := redisx.NewSessions(ts.redis)
	if err != nil {
		t.Fatal(err)
	}
	authSvc, err := auth.NewService(sessStore, WeChatLogin(wx), st, auth.Options{
		RedirectURI: ts.publicURL + CallbackPath, Idle: 30 * time.Minute, Absolute: 12 * time.Hour, Now: ts.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.outbox = sms.NewDevOutbox(0, ts.clock.Now)
	rnStore, err := redisx.NewRealname(ts.redis)
	if err != nil {
		t.Fatal(err)
	}
	resend := opts.ResendInterval
	if resend == 0 {
		resend = time.Minute
	}
	rnSvc, err := realname.NewService(rnStore, st, st, ts.outbox, realname.Options{
		CodeTTL: 5 * time.Minute, MaxFailures: 5, FailureWindow: time.Hour, ResendInterval: resend,
		Key: randomKey(t), Now: ts.clock.Now, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}

	reg := prometheus.NewRegistry()
	metrics, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}

	scStore, err := redisx.NewShowCodeStore(ts.redis)
	if err != nil {
		t.Fatal(err)
	}
	showCodes, err := showcode.NewService(scStore, showcode.Options{PublicURL: ts.publicURL, TTL: 60 * time.Second, Now: ts.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := verify.NewService(showCodes, st, st, redisx.NewCounter(ts.redis), verify.Options{
		PublicURL: ts.publicURL,
		Limits:    verify.Limits{PerOfficer: 20, PerIP: 60, Window: 10 * time.Minute},
		Key:       ts.redis.Key, Now: ts.clock.Now,
		Observe: func(result, reason string) { metrics.Verifications.WithLabelValues(result, reason).Inc() },
	})
	if err != nil {
		t.Fatal(err)
	}
	walletSvc, err := wallet.New(st, st, storetest.SealDemo(t, st, ts.clock.Now).Signing, ts.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	ts.reminders, err = store.NewReminders(st)
	if err != nil {
		t.Fatal(err)
	}
	prefs, err := reminder.NewPreferences(ts.reminders, store.DateLocation(), ts.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	events, err := reminder.NewEvents(ts.reminders, st, store.DateLocation(), log, ts.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	nonces, err := redisx.NewEventNonces(ts.redis)
	if err != nil {
		t.Fatal(err)
	}
	eventHandler, err := wechat.NewEventHandler(wechat.Options{AppID: testAppID, Token: testEventToken}, events, nonces, log)
	if err != nil {
		t.Fatal(err)
	}
	ts.deps = Deps{
		Log: log, Metrics: metrics,
		Ready:     func(ctx context.Context) error { return ts.redis.Ping(ctx) },
		Now:       ts.clock.Now,
		PublicURL: ts.publicURL, Auth: authSvc, Realname: rnSvc,
		Accounts: st, Holders: st, WeChatJS: wx,
		Wallet: walletSvc, ShowCodes: showCodes, Verifier: verifier, UsageLists: st,
		Reminders: prefs, WeChatEvents: eventHandler, Seals: storetest.SealDemo(t, st, ts.clock.Now).Registry,
	}
	if !opts.NoDevMode {
		ts.deps.SMSOutbox = ts.outbox
	}
	ts.deps.OpenAPI = testOpenAPIDeps(t, st, ts.redis, ts.clock.Now, testRateLimit)
	ts.admin = NewAdminHandler(reg)
	ts.router, err = NewRouter(ts.deps)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// scrape reads /metrics from the admin handler.
func (ts *testServer) scrape() *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	ts.admin.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return w
}

func randomKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// do sends one request through the router. A non-nil body is sent as JSON;
// cookie, if not empty, is the session cookie.
func (ts *testServer) do(method, path string, body any, cookie string) *httptest.ResponseRecorder {
	ts.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			ts.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil || method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
	}
	if req.URL.Path == CallbackPath {
		if v, ok := ts.oauthBinding[req.URL.Query().Get("state")]; ok {
			req.AddCookie(&http.Cookie{Name: testOAuthCookie, Value: v})
		}
	}
	w := httptest.NewRecorder()
	ts.router.ServeHTTP(w, req)
	return w
}

// testOAuthCookie is the cookie that ties a login's state to the browser
// that started it.
const testOAuthCookie = "elic_oauth"

// noRedirect is an HTTP client that reports redirects instead of following.
var noRedirect = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// wechatAuthorize follows the login redirect into the fake WeChat (over
// real HTTP) as openid would, and returns the callback path+query WeChat
// sends the browser back to. extra adds fake knobs to the authorize URL.
func (ts *testServer) wechatAuthorize(next, openid string, extra url.Values) string {
	ts.t.Helper()
	w := ts.do(http.MethodGet, "/api/v1/auth/wechat/login?next="+url.QueryEscape(next), nil, "")
	if w.Code != http.StatusFound {
		ts.t.Fatalf("login: status %d %s", w.Code, w.Body)
	}
	u, err := url.Parse(w.Header().Get("Location"))
	if err != nil {
		ts.t.Fatal(err)
	}
	q := u.Query()
	for _, c := range w.Result().Cookies() {
		if c.Name == testOAuthCookie {
			if ts.oauthBinding == nil {
				ts.oauthBinding = map[string]string{}
			}
			ts.oauthBinding[q.Get("state")] = c.Value
		}
	}
	q.Set("fake_openid", openid)
	for k, v := range extra {
		q[k] = v
	}
	u.RawQuery, u.Fragment = q.Encode(), ""
	resp, err := noRedirect.Get(u.String())
	if err != nil {
		ts.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		ts.t.Fatalf("fake authorize: status %d", resp.StatusCode)
	}
	cb, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		ts.t.Fatal(err)
	}
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != ts.publicURL+CallbackPath {
		ts.t.Fatalf("WeChat sent the browser to %s, want the callback", got)
	}
	return cb.RequestURI()
}

// sessionFrom returns the session cookie set by a response, or nil.
func sessionFrom(w *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	return nil
}

// login runs the whole OAuth flow for openid and returns the session cookie value.
func (ts *testServer) login(openid string) string {
	ts.t.Helper()
	w := ts.do(http.MethodGet, ts.wechatAuthorize("/", openid, nil), nil, "")
	c := sessionFrom(w)
	if w.Code != http.StatusFound || c == nil || c.Value == "" {
		ts.t.Fatalf("callback for %s: status %d, cookie %v, body %s", openid, w.Code, c, w.Body)
	}
	return c.Value
}

// lastSMSCode reads the newest code from /api/v1/dev/sms, as a developer would.
func (ts *testServer) lastSMSCode(phone string) string {
	ts.t.Helper()
	w := ts.do(http.MethodGet, "/api/v1/dev/sms", nil, "")
	var body struct {
		Items []struct{ Phone, Code string }
	}
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &body) != nil || len(body.Items) == 0 {
		ts.t.Fatalf("dev sms: status %d %s", w.Code, w.Body)
	}
	if body.Items[0].Phone != phone {
		ts.t.Fatalf("newest SMS went to %s, want %s", body.Items[0].Phone, phone)
	}
	return body.Items[0].Code
}

// bind runs real-name binding for a logged-in session and fails the test
// unless it succeeds.
func (ts *testServer) bind(cookie, name, idNumber, phone string) {
	ts.t.Helper()
	w := ts.do(http.MethodPost, "/api/v1/me/realname", map[string]string{"name": name, "id_number": idNumber}, cookie)
	var start struct {
		ChallengeID string `json:"challenge_id"`
	}
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &start) != nil {
		ts.t.Fatalf("realname start: %d %s", w.Code, w.Body)
	}
	w = ts.do(http.MethodPost, "/api/v1/me/realname/confirm",
		map[string]string{"challenge_id": start.ChallengeID, "code": ts.lastSMSCode(phone)}, cookie)
	if w.Code != http.StatusOK {
		ts.t.Fatalf("realname confirm: %d %s", w.Code, w.Body)
	}
}

// errorCode is the "code" of a JSON error body, or "".
func errorCode(w *httptest.ResponseRecorder) string {
	var body struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	return body.Error.Code
}

// assertNoSecrets fails if any secret appears in the captured logs.
func (ts *testServer) assertNoSecrets(secrets ...string) {
	ts.t.Helper()
	logs := ts.logs.String()
	if logs == "" {
		ts.t.Fatal("no logs captured: the check would prove nothing")
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			ts.t.Errorf("logs contain %q", s)
		}
	}
}

// reasonCode is the reason_code of an error body (refusals, invalid codes).
func reasonCode(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		ReasonCode string `json:"reason_code"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body %s: %v", w.Body, err)
	}
	return body.ReasonCode
}
