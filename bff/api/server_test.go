package api_test

import (
	"bytes"
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

	"github.com/yangcheng-county/elicence/bff/api"
	"github.com/yangcheng-county/elicence/bff/wire"
	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/redisx"
	"github.com/yangcheng-county/elicence/internal/redisx/redistest"
	"github.com/yangcheng-county/elicence/internal/secure"
	"github.com/yangcheng-county/elicence/internal/sms"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
	"github.com/yangcheng-county/elicence/internal/testkit"
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
	// MiniRedis runs Redis in a private miniredis (which the test may stop)
	// instead of the shared real Redis.
	MiniRedis bool
	// Config changes the test configuration (testConfig) before the
	// service is composed.
	Config func(*config.Config)
}

// testServer is the whole HTTP stack, composed by bff/wire as `serve`
// composes it, on real dependencies: Redis, a migrated and seeded store, the
// fake WeChat over HTTP, and a clock the test moves.
type testServer struct {
	t *testing.T
	// router serves the requests of the tests: engine, with every
	// /api/v1 answer checked against the API document (apidoc_test.go).
	router http.Handler
	// engine is the route table as composed, for tests that mount a route
	// of their own or read the table.
	engine    *gin.Engine
	admin     http.Handler // the admin listener's handler: /metrics, pprof
	store     *store.Store
	redis     *redisx.Client
	mini      *miniredis.Miniredis // set with testServerOpts.MiniRedis
	outbox    *sms.DevOutbox       // nil outside dev mode
	fake      *fakewx.Server
	fakeURL   string
	clock     *testkit.Clock
	logs      *testkit.LogBuffer
	publicURL string
	deps      api.Deps
	// reminders is the expiry-reminder outbox on the test store.
	reminders *store.Reminders
	// seals are the composed service's seal registry and signer, over the
	// demo seals seeded as embedded mode seeds them.
	seals *wire.Seals
	// oauthBinding holds, per OAuth state, the login-binding cookie that
	// /login set; do sends it back on that state's callback, as the browser
	// that started the login would.
	oauthBinding map[string]string

	// What the service is composed from, for rewire.
	cfg    config.Config
	log    *slog.Logger
	opened wire.Opened
}

// testConfig is the embedded configuration with the test's public URL and
// WeChat account, no H5 pages to serve, and a data directory of its own for
// the local seal CA and the seals' keys.
func testConfig(t testing.TB) config.Config {
	t.Helper()
	cfg, err := config.Load("../../configs/default.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	cfg.PublicURL = "https://elic.test"
	cfg.HTTP.StaticDir = ""
	cfg.DataDir = t.TempDir()
	cfg.Seals.KeyDir = cfg.DataDir + "/seals"
	cfg.WeChat.Fake, cfg.WeChat.AppID, cfg.WeChat.AppSecret, cfg.WeChat.Token = false, testAppID, testAppSecret, testEventToken
	return cfg
}

func newTestServer(t *testing.T, opts testServerOpts) *testServer {
	t.Helper()
	ts := &testServer{
		t:     t,
		clock: testkit.NewClock(time.Now().UTC().Truncate(time.Second)),
		logs:  &testkit.LogBuffer{},
		cfg:   testConfig(t),
	}
	if opts.Config != nil {
		opts.Config(&ts.cfg)
	}
	ts.log = slog.New(slog.NewJSONHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	if opts.MiniRedis {
		ts.redis, ts.mini = redistest.Mini(t)
	} else {
		ts.redis = redistest.Open(t)
	}
	indexKey := randomKey(t, secure.IndexKeySize)
	sealer, err := secure.NewSealer(randomKey(t, secure.DataKeySize), indexKey)
	if err != nil {
		t.Fatal(err)
	}
	driver := store.DriverSQLite
	if opts.Driver == store.DriverMySQL {
		driver = store.DriverMySQL
	}
	ts.store = storetest.Seeded(t, driver, storetest.DSN(t, driver), ts.clock.Now(), store.WithSealer(sealer), store.WithLogger(ts.log))
	if ts.reminders, err = store.NewReminders(ts.store); err != nil {
		t.Fatal(err)
	}
	if err := wire.SeedDemoSeals(t.Context(), ts.cfg, ts.store, ts.clock.Now); err != nil {
		t.Fatal(err)
	}
	ts.fake, ts.fakeURL = testFakeWeChat(t)
	ts.opened = wire.Opened{Store: ts.store, Redis: ts.redis, IndexKey: indexKey, WeChatAPIBase: ts.fakeURL, Now: ts.clock.Now}
	ts.compose()
	return ts
}

// rewire composes the service again with the configuration changed by
// edit, over the same store, Redis and clock: logins and data stay.
func (ts *testServer) rewire(edit func(*config.Config)) {
	ts.t.Helper()
	edit(&ts.cfg)
	ts.compose()
}

func (ts *testServer) compose() {
	ts.t.Helper()
	svc, err := wire.Compose(ts.cfg, ts.log, ts.opened)
	if err != nil {
		ts.t.Fatal(err)
	}
	if ts.engine, err = svc.Router(); err != nil {
		ts.t.Fatal(err)
	}
	ts.router = specChecked(ts.t.Errorf, ts.engine)
	ts.deps, ts.admin, ts.outbox, ts.publicURL, ts.seals = svc.Deps, svc.Admin(), svc.Deps.SMSOutbox, ts.cfg.PublicURL, svc.Seals
}

// scrape reads /metrics from the admin handler.
func (ts *testServer) scrape() *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	ts.admin.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return w
}

func randomKey(t testing.TB, size int) []byte {
	t.Helper()
	k := make([]byte, size)
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
		req.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: cookie})
	}
	if req.URL.Path == api.CallbackPath {
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
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != ts.publicURL+api.CallbackPath {
		ts.t.Fatalf("WeChat sent the browser to %s, want the callback", got)
	}
	return cb.RequestURI()
}

// sessionFrom returns the session cookie set by a response, or nil.
func sessionFrom(w *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == api.SessionCookie {
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
