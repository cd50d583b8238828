package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/bff/api"
	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/demo"
)

// A panicking handler is answered with the usual 500 body, and the request
// still shows up where operators look for failures: the access log and the
// request metrics. Recovery sitting outside them would hide exactly the
// requests that need attention.
func TestPanicIsAnsweredLoggedAndCounted(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	ts.engine.GET("/api/v1/test-panic", func(c *gin.Context) { panic("boom") })

	w := ts.do(http.MethodGet, "/api/v1/test-panic", nil, "")
	if w.Code != http.StatusInternalServerError || errorCode(w) != "internal_error" || strings.Contains(w.Body.String(), "boom") {
		t.Fatalf("panic answered %d %s, want 500 internal_error without the panic text", w.Code, w.Body)
	}
	if w.Header().Get(api.RequestIDHeader) == "" || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("panic answer lacks the usual headers: %v", w.Header())
	}
	logs := ts.logs.String()
	if !strings.Contains(logs, `"msg":"http request"`) || !strings.Contains(logs, `"route":"/api/v1/test-panic","status":500`) {
		t.Errorf("no access log line for the panicked request:\n%s", logs)
	}
	m := ts.scrape()
	if !strings.Contains(m.Body.String(), `elicence_http_requests_total{method="GET",route="/api/v1/test-panic",status="500"} 1`) {
		t.Errorf("panicked request not counted in /metrics")
	}
}

// API bodies are small JSON objects; a logged-in caller must not be able to
// make the server buffer megabytes per request (embedded mode has no proxy
// in front to cap bodies).
func TestAPIBodyIsBounded(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	cookie := ts.login(demo.CitizenZhangsan)
	big := `{"name":"` + strings.Repeat("张", 1<<20) + `","id_number":"140522198503120016"}`
	send := func(chunked bool) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/me/realname", strings.NewReader(big))
		if chunked {
			req.ContentLength = -1
		}
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: cookie})
		w := httptest.NewRecorder()
		ts.router.ServeHTTP(w, req)
		return w
	}
	if w := send(false); w.Code != http.StatusRequestEntityTooLarge || errorCode(w) != "request_too_large" {
		t.Errorf("oversized body: %d %s, want 413 request_too_large", w.Code, w.Body)
	}
	// Without a length the read itself is cut off.
	if w := send(true); w.Code < 400 || w.Code >= 500 {
		t.Errorf("oversized chunked body: %d %s, want a 4xx", w.Code, w.Body)
	}
	// Ordinary requests are unaffected.
	if w := ts.do(http.MethodPost, "/api/v1/me/realname", map[string]string{"name": demo.ZhangsanName, "id_number": demo.ZhangsanIDNumber}, cookie); w.Code != http.StatusOK {
		t.Errorf("normal body: %d %s", w.Code, w.Body)
	}
}

// /readyz answers 503 while a dependency is down, and its body is the
// error shape every other failure has (docs/API.md), keeping "status".
func TestReadyz(t *testing.T) {
	ts := newTestServer(t, testServerOpts{MiniRedis: true})
	if w := ts.do(http.MethodGet, "/readyz", nil, ""); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"status":"ready"`) {
		t.Fatalf("ready: %d %s", w.Code, w.Body)
	}
	ts.mini.Close()
	w := ts.do(http.MethodGet, "/readyz", nil, "")
	if w.Code != http.StatusServiceUnavailable || errorCode(w) != "dependency_unavailable" || !strings.Contains(w.Body.String(), `"status":"unavailable"`) {
		t.Fatalf("Redis down: %d %s, want 503 dependency_unavailable", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), "127.0.0.1") {
		t.Errorf("readyz leaks the dependency error: %s", w.Body)
	}
}

// ClientIP feeds the per-IP verification limit and usage records: a
// forged X-Forwarded-For counts only when it comes from a trusted proxy.
func TestClientIPTrustsOnlyConfiguredProxies(t *testing.T) {
	for _, tt := range []struct {
		proxies []string
		want    string
	}{
		{nil, `"client_ip":"192.0.2.1"`},
		{[]string{"192.0.2.1"}, `"client_ip":"203.0.113.9"`},
		{[]string{"198.51.100.0/24"}, `"client_ip":"192.0.2.1"`},
	} {
		ts := newTestServer(t, testServerOpts{Config: func(c *config.Config) { c.HTTP.TrustedProxies = tt.proxies }})
		r := ts.router
		req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		req.RemoteAddr = "192.0.2.1:4321"
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		req.Header.Set("X-Real-IP", "203.0.113.9")
		r.ServeHTTP(httptest.NewRecorder(), req)
		if !strings.Contains(ts.logs.String(), tt.want) {
			t.Errorf("proxies %v: access log lacks %s", tt.proxies, tt.want)
		}
	}
}
