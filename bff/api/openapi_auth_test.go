package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/bff/api"
	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/openapi"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
)

// apiApp is a department system calling the Open API through the test
// router with real signatures.
type apiApp struct {
	ts         *testServer
	id, secret string
	department string // USCC
}

// addTestApp registers an app for the department with the given USCC the
// way `bff app add` does.
func (ts *testServer) addTestApp(uscc string) apiApp {
	ts.t.Helper()
	ctx := ts.t.Context()
	dept, err := ts.store.DepartmentByUSCC(ctx, uscc)
	if err != nil {
		ts.t.Fatal(err)
	}
	cred, err := openapi.AddApp(ctx, ts.store, dept, "业务系统 "+uscc, audit.ActorCLI("app add"), ts.clock.Now())
	if err != nil {
		ts.t.Fatal(err)
	}
	return apiApp{ts: ts, id: cred.AppID, secret: cred.AppSecret, department: uscc}
}

// call signs and sends one request; body is sent as is (nil for none).
// edit, if given, changes the request after signing (to tamper with it or
// add headers).
func (a apiApp) call(method, target string, body []byte, edit ...func(*http.Request)) *httptest.ResponseRecorder {
	a.ts.t.Helper()
	req := httptest.NewRequest(method, target, nil)
	openapi.SignRequest(req, body, a.id, a.secret, a.ts.clock.Now(), "")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, e := range edit {
		e(req)
	}
	w := httptest.NewRecorder()
	a.ts.router.ServeHTTP(w, req)
	return w
}

// callJSON marshals body and calls with an Idempotency-Key when key is set.
func (a apiApp) callJSON(method, target string, body any, key string) *httptest.ResponseRecorder {
	a.ts.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		a.ts.t.Fatal(err)
	}
	return a.call(method, target, b, withIdempotencyKey(key))
}

func withIdempotencyKey(key string) func(*http.Request) {
	return func(r *http.Request) {
		if key != "" {
			r.Header.Set(api.IdempotencyKeyHeader, key)
		}
	}
}

// echoRoute mounts a signed, idempotent test route that counts its runs.
func (ts *testServer) echoRoute(required bool, status func() int) *atomic.Int64 {
	var runs atomic.Int64
	api.MountOpenAPITestRoute(ts.engine, ts.deps.OpenAPI, "/openapi/v1/test-echo", required, func(c *gin.Context) {
		n := runs.Add(1)
		var in map[string]any
		_ = c.ShouldBindJSON(&in)
		c.JSON(status(), gin.H{"run": n, "app": api.AppID(c), "in": in})
	})
	return &runs
}

func created() int { return http.StatusCreated }

// Every way of not proving who is calling is a 401 with its own code, and
// only a correctly signed, fresh, first-time request gets through.
func TestOpenAPISignature(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			ts := newTestServer(t, testServerOpts{Driver: driver})
			runs := ts.echoRoute(false, created)
			app := ts.addTestApp(demo.USCCRealEstateCentre)
			other := ts.addTestApp(demo.USCCCityTrafficPolice)
			body := []byte(`{"a":"证"}`)
			const path = "/openapi/v1/test-echo?x=1&y=%E8%AF%81"

			if w := app.call("POST", path, body); w.Code != http.StatusCreated || !strings.Contains(w.Body.String(), app.id) {
				t.Fatalf("good signature: %d %s", w.Code, w.Body)
			}
			stale := func(d time.Duration) func(*http.Request) {
				return func(r *http.Request) {
					openapi.SignRequest(r, body, app.id, app.secret, ts.clock.Now().Add(d), "")
				}
			}
			cases := []struct {
				name string
				edit func(*http.Request)
				code string
			}{
				{"wrong secret", func(r *http.Request) { openapi.SignRequest(r, body, app.id, other.secret, ts.clock.Now(), "") }, "signature_invalid"},
				{"unknown app", func(r *http.Request) { r.Header.Set(openapi.HeaderAppID, "app_00000000000000000000") }, "signature_invalid"},
				{"another app's id", func(r *http.Request) { r.Header.Set(openapi.HeaderAppID, other.id) }, "signature_invalid"},
				{"body changed", func(r *http.Request) { r.Body = httpBody(`{"a":"假"}`) }, "signature_invalid"},
				{"query changed", func(r *http.Request) { r.URL.RawQuery = "x=2&y=%E8%AF%81" }, "signature_invalid"},
				{"signed for another path", func(r *http.Request) {
					sent := *r.URL
					r.URL.Path = "/openapi/v1/other"
					openapi.SignRequest(r, body, app.id, app.secret, ts.clock.Now(), "")
					r.URL = &sent
				}, "signature_invalid"},
				{"no signature", func(r *http.Request) { r.Header.Del(openapi.HeaderSignature) }, "signature_invalid"},
				{"short nonce", func(r *http.Request) { r.Header.Set(openapi.HeaderNonce, "abc") }, "signature_invalid"},
				{"timestamp not a number", func(r *http.Request) { r.Header.Set(openapi.HeaderTimestamp, "soon") }, "signature_invalid"},
				{"stale timestamp", stale(-openapi.Window - time.Second), "timestamp_out_of_window"},
				{"future timestamp", stale(openapi.Window + time.Second), "timestamp_out_of_window"},
			}
			for _, tc := range cases {
				w := app.call("POST", path, body, tc.edit)
				if w.Code != http.StatusUnauthorized || errorCode(w) != tc.code {
					t.Errorf("%s: %d %s, want 401 %s", tc.name, w.Code, w.Body, tc.code)
				}
			}
			// A timestamp just inside the window is accepted.
			if w := app.call("POST", path, body, stale(-openapi.Window+time.Second)); w.Code != http.StatusCreated {
				t.Errorf("timestamp inside the window: %d %s", w.Code, w.Body)
			}

			// The same nonce twice: the replay is refused, even signed right.
			const nonce = "ReplayNonce0123456789"
			sign := func(r *http.Request) { openapi.SignRequest(r, body, app.id, app.secret, ts.clock.Now(), nonce) }
			if w := app.call("POST", path, body, sign); w.Code != http.StatusCreated {
				t.Fatalf("first use of a nonce: %d %s", w.Code, w.Body)
			}
			if w := app.call("POST", path, body, sign); w.Code != http.StatusUnauthorized || errorCode(w) != "nonce_reused" {
				t.Errorf("replayed nonce: %d %s, want 401 nonce_reused", w.Code, w.Body)
			}
			// Nonces are per app: another app may use the same one.
			if w := other.call("POST", path, body, func(r *http.Request) {
				openapi.SignRequest(r, body, other.id, other.secret, ts.clock.Now(), nonce)
			}); w.Code != http.StatusCreated {
				t.Errorf("same nonce, other app: %d %s", w.Code, w.Body)
			}
			if got := runs.Load(); got != 4 {
				t.Errorf("handler ran %d times, want 4 (only the accepted requests)", got)
			}

			// A disabled app is refused at once, like an unknown one.
			if err := openapi.DisableApp(t.Context(), ts.store, licence.Department{}, app.id, audit.ActorCLI("app disable"), ts.clock.Now()); err != nil {
				t.Fatal(err)
			}
			if w := app.call("POST", path, body); w.Code != http.StatusUnauthorized || errorCode(w) != "signature_invalid" {
				t.Errorf("disabled app: %d %s", w.Code, w.Body)
			}
			ts.assertNoSecrets(app.secret, other.secret)

			// Adding an app is in the audit chain, without its secret.
			entries, err := ts.store.AuditEvents(t.Context(), 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			added := 0
			for _, e := range entries {
				if strings.Contains(e.Detail, app.secret) || strings.Contains(e.Detail, other.secret) {
					t.Errorf("audit entry %d holds an app secret", e.Seq)
				}
				if e.Action == "app.add" && (e.Object == "app:"+app.id || e.Object == "app:"+other.id) && e.Actor == "cli:app add" {
					added++
				}
			}
			if added != 2 {
				t.Errorf("%d app.add audit entries for the two apps, want 2", added)
			}
		})
	}
}

func httpBody(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }

// The Open API is not a browser API: a session cookie grants nothing there,
// and the browser CSRF guard (JSON content type) does not apply.
func TestOpenAPIOutsideSessionAndCSRFGuard(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	ts.echoRoute(false, created)
	app := ts.addTestApp(demo.USCCRealEstateCentre)
	cookie := ts.login(demo.CitizenZhangsan)

	req := httptest.NewRequest("POST", "/openapi/v1/test-echo", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: cookie})
	w := httptest.NewRecorder()
	ts.router.ServeHTTP(w, req)
	if w.Code != http.StatusUnauthorized || errorCode(w) != "signature_invalid" {
		t.Errorf("session cookie, no signature: %d %s", w.Code, w.Body)
	}
	w = app.call("POST", "/openapi/v1/test-echo", []byte(`{}`), func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") })
	if w.Code != http.StatusCreated {
		t.Errorf("signed text/plain POST: %d %s (the browser guard must not apply)", w.Code, w.Body)
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("Open API answers must not be cached: %v", w.Header())
	}
	// Unknown Open API paths are JSON 404s, never the H5's index page.
	w = app.call("GET", "/openapi/v1/nothing-here", nil)
	if w.Code != http.StatusNotFound || errorCode(w) != "not_found" {
		t.Errorf("unknown path: %d %s", w.Code, w.Body)
	}
}

// Bodies are bounded before the signature is checked.
func TestOpenAPIBodyIsBounded(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	ts.echoRoute(false, created)
	app := ts.addTestApp(demo.USCCRealEstateCentre)
	big := []byte(`{"a":"` + strings.Repeat("x", api.MaxOpenAPIBody) + `"}`)
	if w := app.call("POST", "/openapi/v1/test-echo", big); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d %s", w.Code, w.Body)
	}
	w := app.call("POST", "/openapi/v1/test-echo", big, func(r *http.Request) { r.ContentLength = -1 })
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body without a length: %d %s", w.Code, w.Body)
	}
}

// Each app has its own request budget; past it, 429, and other apps are
// not affected.
func TestOpenAPIRateLimitPerApp(t *testing.T) {
	ts := newTestServer(t, testServerOpts{Config: func(c *config.Config) { c.OpenAPI.RateLimit, c.OpenAPI.RateWindow = 3, time.Minute }})
	ts.echoRoute(false, created)
	app := ts.addTestApp(demo.USCCRealEstateCentre)
	other := ts.addTestApp(demo.USCCCityTrafficPolice)
	for i := 1; i <= 4; i++ {
		w := app.call("POST", "/openapi/v1/test-echo", []byte(`{}`))
		if want := http.StatusCreated; i <= 3 && w.Code != want || i == 4 && (w.Code != http.StatusTooManyRequests || errorCode(w) != "rate_limited") {
			t.Errorf("request %d: %d %s", i, w.Code, w.Body)
		}
	}
	if w := other.call("POST", "/openapi/v1/test-echo", []byte(`{}`)); w.Code != http.StatusCreated {
		t.Errorf("other app: %d %s", w.Code, w.Body)
	}
}

// With Redis down nothing gets through: no nonce can be checked, so the
// answer is 503, never a pass.
func TestOpenAPIFailsClosedWithoutRedis(t *testing.T) {
	ts := newTestServer(t, testServerOpts{MiniRedis: true})
	runs := ts.echoRoute(false, created)
	app := ts.addTestApp(demo.USCCRealEstateCentre)
	ts.mini.Close()
	w := app.call("POST", "/openapi/v1/test-echo", []byte(`{}`))
	if w.Code != http.StatusServiceUnavailable || errorCode(w) != "dependency_unavailable" || runs.Load() != 0 {
		t.Errorf("Redis down: %d %s, runs %d", w.Code, w.Body, runs.Load())
	}
}

// A retried POST with the same Idempotency-Key gets the first answer again
// and does not run twice; the key with another body is a conflict.
func TestOpenAPIIdempotency(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	status := atomic.Int64{}
	status.Store(http.StatusCreated)
	runs := ts.echoRoute(true, func() int { return int(status.Load()) })
	app := ts.addTestApp(demo.USCCRealEstateCentre)
	other := ts.addTestApp(demo.USCCCityTrafficPolice)
	const path = "/openapi/v1/test-echo"

	if w := app.callJSON("POST", path, gin.H{"n": 1}, ""); w.Code != http.StatusBadRequest || errorCode(w) != "idempotency_key_required" {
		t.Errorf("no key on a route that needs one: %d %s", w.Code, w.Body)
	}
	if w := app.callJSON("POST", path, gin.H{"n": 1}, "bad key"); w.Code != http.StatusBadRequest || errorCode(w) != "idempotency_key_invalid" {
		t.Errorf("key with a space: %d %s", w.Code, w.Body)
	}
	first := app.callJSON("POST", path, gin.H{"n": 1}, "k-1")
	if first.Code != http.StatusCreated || first.Header().Get(api.ReplayedHeader) != "" {
		t.Fatalf("first: %d %v %s", first.Code, first.Header(), first.Body)
	}
	again := app.callJSON("POST", path, gin.H{"n": 1}, "k-1")
	if again.Code != http.StatusCreated || again.Header().Get(api.ReplayedHeader) != "true" || !bytes.Equal(again.Body.Bytes(), first.Body.Bytes()) ||
		again.Header().Get("Content-Type") != first.Header().Get("Content-Type") {
		t.Errorf("replay: %d %v %s, want the first answer %s", again.Code, again.Header(), again.Body, first.Body)
	}
	if w := app.callJSON("POST", path, gin.H{"n": 2}, "k-1"); w.Code != http.StatusConflict || errorCode(w) != "idempotency_conflict" {
		t.Errorf("same key, other body: %d %s", w.Code, w.Body)
	}
	if w := app.callJSON("POST", path+"?x=1", gin.H{"n": 1}, "k-1"); w.Code != http.StatusConflict || errorCode(w) != "idempotency_conflict" {
		t.Errorf("same key, other query: %d %s", w.Code, w.Body)
	}
	// Keys are per app.
	if w := other.callJSON("POST", path, gin.H{"n": 1}, "k-1"); w.Code != http.StatusCreated || w.Header().Get(api.ReplayedHeader) != "" {
		t.Errorf("same key, other app: %d %v", w.Code, w.Header())
	}
	if got := runs.Load(); got != 2 {
		t.Errorf("handler ran %d times, want 2", got)
	}

	// A 5xx is not kept: the retry runs again.
	status.Store(http.StatusServiceUnavailable)
	if w := app.callJSON("POST", path, gin.H{"n": 3}, "k-2"); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("failing run: %d", w.Code)
	}
	status.Store(http.StatusCreated)
	if w := app.callJSON("POST", path, gin.H{"n": 3}, "k-2"); w.Code != http.StatusCreated || w.Header().Get(api.ReplayedHeader) != "" {
		t.Errorf("retry after a 5xx: %d %v, want a fresh run", w.Code, w.Header())
	}
	// A 4xx is an answer like any other and is kept.
	status.Store(http.StatusUnprocessableEntity)
	app.callJSON("POST", path, gin.H{"n": 4}, "k-3")
	status.Store(http.StatusCreated)
	if w := app.callJSON("POST", path, gin.H{"n": 4}, "k-3"); w.Code != http.StatusUnprocessableEntity || w.Header().Get(api.ReplayedHeader) != "true" {
		t.Errorf("replayed 422: %d %v", w.Code, w.Header())
	}

	// Keys live a day.
	ttl := ts.redis.Redis().TTL(t.Context(), ts.redis.Key("idem", app.id, sha256Hex("k-1"))).Val()
	if ttl < 23*time.Hour || ttl > 24*time.Hour {
		t.Errorf("key kept for %s, want 24h", ttl)
	}
}

// Two requests with the same key at once: one runs, the other is told to
// wait (409 idempotency_in_progress) instead of running it a second time.
func TestOpenAPIIdempotencyConcurrent(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	app := ts.addTestApp(demo.USCCRealEstateCentre)
	entered, release := make(chan struct{}), make(chan struct{})
	var runs atomic.Int64
	api.MountOpenAPITestRoute(ts.engine, ts.deps.OpenAPI, "/openapi/v1/test-slow", true, func(c *gin.Context) {
		runs.Add(1)
		close(entered)
		<-release
		c.JSON(http.StatusCreated, gin.H{"ok": true})
	})
	var wg sync.WaitGroup
	var first *httptest.ResponseRecorder
	wg.Add(1)
	go func() {
		defer wg.Done()
		first = app.callJSON("POST", "/openapi/v1/test-slow", gin.H{"n": 1}, "same")
	}()
	<-entered
	second := app.callJSON("POST", "/openapi/v1/test-slow", gin.H{"n": 1}, "same")
	close(release)
	wg.Wait()
	if second.Code != http.StatusConflict || errorCode(second) != "idempotency_in_progress" {
		t.Errorf("concurrent duplicate: %d %s", second.Code, second.Body)
	}
	if first.Code != http.StatusCreated || runs.Load() != 1 {
		t.Errorf("first: %d, runs %d", first.Code, runs.Load())
	}
	if w := app.callJSON("POST", "/openapi/v1/test-slow", gin.H{"n": 1}, "same"); w.Header().Get(api.ReplayedHeader) != "true" || runs.Load() != 1 {
		t.Errorf("after the first finished: %d %v runs %d", w.Code, w.Header(), runs.Load())
	}
}

// The document is served without a signature.
func TestOpenAPIDocumentServed(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	w := ts.do("GET", "/openapi/v1/openapi.yaml", nil, "")
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Body.String(), "openapi: 3.1") || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/yaml") {
		t.Errorf("document: %d %q %.40s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
