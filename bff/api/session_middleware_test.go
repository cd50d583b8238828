package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/bff/api"
	"github.com/yangcheng-county/elicence/internal/demo"
)

func TestSessionIdleAndAbsoluteTimeout(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	cookie := ts.login(demo.CitizenZhangsan)
	ts.clock.Add(29 * time.Minute)
	if w := ts.do(http.MethodGet, "/api/v1/me", nil, cookie); w.Code != http.StatusOK {
		t.Fatalf("after 29 idle minutes: %d", w.Code)
	}
	ts.clock.Add(30 * time.Minute)
	w := ts.do(http.MethodGet, "/api/v1/me", nil, cookie)
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("after 30 idle minutes: %d", w.Code)
	}
	if c := sessionFrom(w); c == nil || c.MaxAge >= 0 {
		t.Errorf("stale cookie not cleared: %+v", c)
	}

	// Absolute: active every 20 minutes, still out after 12 hours.
	cookie = ts.login(demo.CitizenZhangsan)
	for elapsed := time.Duration(0); elapsed < 12*time.Hour; elapsed += 20 * time.Minute {
		if w := ts.do(http.MethodGet, "/api/v1/me", nil, cookie); w.Code != http.StatusOK {
			t.Fatalf("active session refused after %s: %d", elapsed, w.Code)
		}
		ts.clock.Add(20 * time.Minute)
	}
	if w := ts.do(http.MethodGet, "/api/v1/me", nil, cookie); w.Code != http.StatusUnauthorized {
		t.Fatalf("after 12 hours: %d", w.Code)
	}
}

func TestSessionUnknownCookieIsAnonymous(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	for _, c := range []string{"AAAAAAAAAAAAAAAAAAAAAA", "garbage", strings.Repeat("x", 500)} {
		if w := ts.do(http.MethodGet, "/api/v1/me", nil, c); w.Code != http.StatusUnauthorized {
			t.Errorf("cookie %.20q: %d", c, w.Code)
		}
	}
	// Pages that need no login still work with a stale cookie.
	if w := ts.do(http.MethodGet, "/api/v1/time", nil, "AAAAAAAAAAAAAAAAAAAAAA"); w.Code != http.StatusOK {
		t.Errorf("/time with a stale cookie: %d", w.Code)
	}
}

func TestSessionFailsClosedWhenRedisIsDown(t *testing.T) {
	ts := newTestServer(t, testServerOpts{MiniRedis: true})
	cookie := ts.login(demo.OfficerPolice)
	ts.mini.Close()
	w := ts.do(http.MethodGet, "/api/v1/me", nil, cookie)
	if w.Code != http.StatusServiceUnavailable || errorCode(w) != "dependency_unavailable" {
		t.Fatalf("/me with Redis down: %d %s", w.Code, w.Body)
	}
	// Without a cookie nobody is resolved, so the request is plainly anonymous.
	if w := ts.do(http.MethodGet, "/api/v1/me", nil, ""); w.Code != http.StatusUnauthorized {
		t.Fatalf("anonymous /me with Redis down: %d", w.Code)
	}
}

func TestSessionFailsClosedWhenDatabaseIsDown(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	cookie := ts.login(demo.OfficerPolice)
	ts.store.Close()
	w := ts.do(http.MethodGet, "/api/v1/me", nil, cookie)
	if w.Code != http.StatusServiceUnavailable || errorCode(w) != "dependency_unavailable" {
		t.Fatalf("/me with the database down: %d %s", w.Code, w.Body)
	}
}

func TestSessionCSRFGuard(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	cookie := ts.login(demo.CitizenZhangsan)
	tests := []struct {
		name, method, path, contentType string
		wantRefused                     bool
	}{
		{"form post", http.MethodPost, "/api/v1/me/realname", "application/x-www-form-urlencoded", true},
		{"multipart", http.MethodPost, "/api/v1/me/realname", "multipart/form-data; boundary=x", true},
		{"text/plain", http.MethodPost, "/api/v1/me/realname", "text/plain", true},
		{"no type", http.MethodPost, "/api/v1/auth/logout", "", true},
		{"form logout", http.MethodPost, "/api/v1/auth/logout", "application/x-www-form-urlencoded", true},
		{"json lookalike", http.MethodPost, "/api/v1/me/realname", "application/jsonp", true},
		{"PUT form", http.MethodPut, "/api/v1/licences/1/reminders", "text/plain", true},
		{"json", http.MethodPost, "/api/v1/me/realname", "application/json", false},
		{"json with charset", http.MethodPost, "/api/v1/me/realname", "application/json; charset=utf-8", false},
		{"GET needs nothing", http.MethodGet, "/api/v1/me", "", false},
		{"body, no type", http.MethodPost, "/api/v1/me/realname", "", true},
		{"body-less, no type", http.MethodPost, "/api/v1/me/realname", "", false},
	}
	for _, tt := range tests {
		body := strings.NewReader(`{"name":"张三","id_number":"1"}`)
		if tt.name == "body-less, no type" {
			body = strings.NewReader("")
		}
		req := httptest.NewRequest(tt.method, tt.path, body)
		if tt.contentType != "" {
			req.Header.Set("Content-Type", tt.contentType)
		}
		req.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: cookie})
		w := httptest.NewRecorder()
		ts.router.ServeHTTP(w, req)
		refused := w.Code == http.StatusUnsupportedMediaType && errorCode(w) == "json_required"
		if refused != tt.wantRefused {
			t.Errorf("%s: %d %s, want refused=%v", tt.name, w.Code, w.Body, tt.wantRefused)
		}
	}
	// The refused logout did not end the session.
	if w := ts.do(http.MethodGet, "/api/v1/me", nil, cookie); w.Code != http.StatusOK {
		t.Fatalf("session ended by a cross-site form: %d", w.Code)
	}
}

func TestSessionLogsHoldNoSecrets(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	cookie := ts.login(demo.CitizenZhangsan)
	ts.bind(cookie, demo.ZhangsanName, demo.ZhangsanIDNumber, demo.ZhangsanPhone)
	code := ts.outbox.List()[0].Code
	ts.do(http.MethodPost, "/api/v1/auth/logout", nil, cookie)
	ts.assertNoSecrets(cookie, code, demo.ZhangsanIDNumber, demo.ZhangsanPhone, "FAKECODE")
	if !strings.Contains(ts.logs.String(), `"route":"/api/v1/auth/wechat/callback"`) {
		t.Errorf("access log lacks the callback route:\n%s", ts.logs.String())
	}
}
