package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/yangcheng-county/elicence/bff/api"
	"github.com/yangcheng-county/elicence/internal/auth"
	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/wechat"
	"github.com/yangcheng-county/elicence/internal/wechat/fakewx"
)

func TestAuthLoginRedirectsToWeChat(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	w := ts.do(http.MethodGet, "/api/v1/auth/wechat/login?next=%2Flicences%2F3", nil, "")
	if w.Code != http.StatusFound {
		t.Fatalf("status %d %s", w.Code, w.Body)
	}
	u, err := url.Parse(w.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	checks := map[string]string{
		"appid":         testAppID,
		"redirect_uri":  ts.publicURL + api.CallbackPath,
		"response_type": "code",
		"scope":         "snsapi_base",
	}
	for k, want := range checks {
		if got := q.Get(k); got != want {
			t.Errorf("authorize URL %s = %q, want %q", k, got, want)
		}
	}
	if len(q.Get("state")) != 22 {
		t.Errorf("state %q is not 128 random bits", q.Get("state"))
	}
	if !strings.HasPrefix(u.String(), ts.fakeURL+"/connect/oauth2/authorize") {
		t.Errorf("authorize URL %s is not the fake WeChat's", u)
	}
	if sessionFrom(w) != nil {
		t.Error("login set a session cookie before authentication")
	}
}

func TestAuthCallbackSetsCookieAndRedirects(t *testing.T) {
	tests := []struct {
		name, publicURL, next, wantLocation string
		wantSecure                          bool
	}{
		{"https keeps next", "https://elic.test", "/licences/3?tab=usage", "/licences/3?tab=usage", true},
		{"http is not Secure", "http://127.0.0.1:8080", "/officer", "/officer", false},
		{"protocol-relative next", "https://elic.test", "//evil.example/x", "/", true},
		{"absolute next", "https://elic.test", "https://evil.example/", "/", true},
		{"no next", "https://elic.test", "", "/", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, testServerOpts{Config: func(c *config.Config) { c.PublicURL = tt.publicURL }})
			w := ts.do(http.MethodGet, ts.wechatAuthorize(tt.next, demo.CitizenZhangsan, nil), nil, "")
			if w.Code != http.StatusFound || w.Header().Get("Location") != tt.wantLocation {
				t.Fatalf("callback: %d Location %q, want 302 %q (%s)", w.Code, w.Header().Get("Location"), tt.wantLocation, w.Body)
			}
			c := sessionFrom(w)
			if c == nil {
				t.Fatal("no session cookie")
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != tt.wantSecure || c.MaxAge != 12*3600 {
				t.Errorf("cookie = %+v, want HttpOnly, SameSite=Lax, Path=/, Secure=%v, Max-Age=43200", c, tt.wantSecure)
			}
			if len(c.Value) != 22 {
				t.Errorf("session id %q is not 128 bits base64url", c.Value)
			}
			if got := ts.do(http.MethodGet, "/api/v1/me", nil, c.Value); got.Code != http.StatusOK {
				t.Fatalf("/me with the new cookie: %d %s", got.Code, got.Body)
			}
		})
	}
}

func TestAuthCallbackRefusals(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})

	// Replaying a callback (same code and state) fails the second time.
	cb := ts.wechatAuthorize("/", demo.CitizenLisi, nil)
	if w := ts.do(http.MethodGet, cb, nil, ""); w.Code != http.StatusFound {
		t.Fatalf("first callback: %d %s", w.Code, w.Body)
	}

	// A code for a valid state that WeChat has never issued.
	good, _ := url.Parse(ts.wechatAuthorize("/", demo.CitizenLisi, nil))
	q := good.Query()
	q.Set("code", "FAKECODEnever-issued")
	bogusCode := good.Path + "?" + q.Encode()

	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantCode   string
	}{
		{"replayed callback", cb, http.StatusBadRequest, "oauth_state_invalid"},
		{"forged state", api.CallbackPath + "?code=abc&state=AAAAAAAAAAAAAAAAAAAAAA", http.StatusBadRequest, "oauth_state_invalid"},
		{"no state", api.CallbackPath + "?code=abc", http.StatusBadRequest, "oauth_state_invalid"},
		{"no code (user declined)", api.CallbackPath + "?state=AAAAAAAAAAAAAAAAAAAAAA", http.StatusBadRequest, "oauth_state_invalid"},
		{"code unknown to WeChat", bogusCode, http.StatusBadRequest, "oauth_code_invalid"},
		{"snapshot user", ts.wechatAuthorize("/", demoSnapshot, nil), http.StatusForbidden, "snapshot_user"},
		{"snapshot flag on a normal user", ts.wechatAuthorize("/", demo.CitizenZhangsan, url.Values{"fake_snapshot": {"1"}}), http.StatusForbidden, "snapshot_user"},
	}
	for _, tt := range tests {
		got := ts.do(http.MethodGet, tt.path, nil, "")
		if got.Code != tt.wantStatus || errorCode(got) != tt.wantCode {
			t.Errorf("%s: %d %s, want %d %s", tt.name, got.Code, got.Body, tt.wantStatus, tt.wantCode)
		}
		if sessionFrom(got) != nil {
			t.Errorf("%s: a session cookie was set", tt.name)
		}
	}
	// The snapshot user did not even get an account.
	if _, err := ts.store.Get(context.Background(), demoSnapshot); err == nil {
		t.Error("snapshot user got an account")
	}
}

func TestAuthLogout(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	cookie := ts.login(demo.CitizenZhangsan)
	other := ts.login(demo.CitizenZhangsan) // a second device
	key := ts.redis.Key("sess", auth.Hash(cookie))
	if ts.redis.Redis().Exists(context.Background(), key).Val() != 1 {
		t.Fatalf("session not stored under %s", key)
	}

	w := ts.do(http.MethodPost, "/api/v1/auth/logout", nil, cookie)
	if w.Code != http.StatusNoContent {
		t.Fatalf("logout: %d %s", w.Code, w.Body)
	}
	if c := sessionFrom(w); c == nil || c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("logout did not clear the cookie: %+v", c)
	}
	// Killed server-side: the old cookie value no longer works anywhere.
	if ts.redis.Redis().Exists(context.Background(), key).Val() != 0 {
		t.Error("session still in Redis after logout")
	}
	if w := ts.do(http.MethodGet, "/api/v1/me", nil, cookie); w.Code != http.StatusUnauthorized {
		t.Errorf("/me with a logged-out cookie: %d", w.Code)
	}
	if w := ts.do(http.MethodGet, "/api/v1/me", nil, other); w.Code != http.StatusOK {
		t.Errorf("logout ended the other device's session: %d", w.Code)
	}
	// Logging out without a session is harmless.
	if w := ts.do(http.MethodPost, "/api/v1/auth/logout", nil, ""); w.Code != http.StatusNoContent {
		t.Errorf("anonymous logout: %d", w.Code)
	}
}

func TestAuthLoginEndsPreviousSession(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	old := ts.login(demo.CitizenLisi)
	w := ts.do(http.MethodGet, ts.wechatAuthorize("/", demo.CitizenZhangsan, nil), nil, old)
	c := sessionFrom(w)
	if w.Code != http.StatusFound || c == nil || c.Value == old {
		t.Fatalf("callback: %d cookie %+v", w.Code, c)
	}
	if w := ts.do(http.MethodGet, "/api/v1/me", nil, old); w.Code != http.StatusUnauthorized {
		t.Errorf("the session present at login survived: %d", w.Code)
	}
}

func TestAuthCallbackWeChatDown(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	for _, f := range []fakewx.Fault{
		{Path: "/sns/oauth2/access_token", HTTPStatus: http.StatusBadGateway},
		{Path: "/sns/oauth2/access_token", ErrCode: wechat.CodeSystemBusy},
	} {
		cb := ts.wechatAuthorize("/", demo.CitizenZhangsan, nil)
		if err := ts.fake.InjectFault(f); err != nil {
			t.Fatal(err)
		}
		w := ts.do(http.MethodGet, cb, nil, "")
		if w.Code != http.StatusServiceUnavailable || errorCode(w) != "dependency_unavailable" || sessionFrom(w) != nil {
			t.Errorf("fault %+v: %d %s", f, w.Code, w.Body)
		}
	}
}

// A callback is accepted only from the browser that started the login: a
// callback URL captured by an attacker (their own code and state) and sent
// to a victim must not log the victim into the attacker's account, where
// the victim would then bind their own real name for the attacker (login
// CSRF, RFC 6749 §10.12).
func TestAuthCallbackBoundToBrowser(t *testing.T) {
	for _, publicURL := range []string{"https://elic.test", "http://127.0.0.1:8080"} {
		ts := newTestServer(t, testServerOpts{Config: func(c *config.Config) { c.PublicURL = publicURL }})
		login := ts.do(http.MethodGet, "/api/v1/auth/wechat/login?next=/", nil, "")
		var binding *http.Cookie
		for _, c := range login.Result().Cookies() {
			if c.Name == testOAuthCookie {
				binding = c
			}
		}
		wantSecure := strings.HasPrefix(publicURL, "https:")
		if binding == nil || binding.Value == "" || !binding.HttpOnly || binding.SameSite != http.SameSiteLaxMode ||
			binding.Path != api.CallbackPath || binding.Secure != wantSecure || binding.MaxAge <= 0 || binding.MaxAge > int(auth.StateTTL.Seconds()) {
			t.Fatalf("%s: login binding cookie = %+v", publicURL, binding)
		}

		cb := ts.wechatAuthorize("/licences", demo.CitizenZhangsan, nil) // the attacker's callback
		send := func(value string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodGet, cb, nil)
			if value != "" {
				req.AddCookie(&http.Cookie{Name: testOAuthCookie, Value: value})
			}
			w := httptest.NewRecorder()
			ts.router.ServeHTTP(w, req)
			return w
		}
		for name, value := range map[string]string{"no binding cookie": "", "another login's cookie": binding.Value} {
			w := send(value)
			if w.Code != http.StatusBadRequest || errorCode(w) != "oauth_state_invalid" || sessionFrom(w) != nil {
				t.Errorf("%s: %s: %d %s, want 400 oauth_state_invalid and no session", publicURL, name, w.Code, w.Body)
			}
		}
		// The browser that started the login still completes it, and its
		// binding cookie is dropped.
		w := ts.do(http.MethodGet, cb, nil, "")
		if w.Code != http.StatusFound || sessionFrom(w) == nil {
			t.Fatalf("%s: own callback: %d %s", publicURL, w.Code, w.Body)
		}
		cleared := false
		for _, c := range w.Result().Cookies() {
			cleared = cleared || c.Name == testOAuthCookie && c.MaxAge < 0
		}
		if !cleared {
			t.Errorf("%s: callback left the binding cookie in place", publicURL)
		}
	}
}

// browserAccept is the Accept header the WeChat browser (and any browser)
// sends on a page navigation.
const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,image/apng,*/*;q=0.8"

// navigate sends a GET with the given Accept header (none when empty),
// with the login-binding cookie on a callback as do sends it.
func (ts *testServer) navigate(path, accept string) *httptest.ResponseRecorder {
	ts.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
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

// A failed login in the WeChat browser shows a page a citizen can read;
// API clients keep the JSON error body, byte for byte.
func TestAuthCallbackErrorPage(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	bogusCode := func() string {
		u, _ := url.Parse(ts.wechatAuthorize("/", demo.CitizenLisi, nil))
		q := u.Query()
		q.Set("code", "FAKECODEnever-issued")
		return u.Path + "?" + q.Encode()
	}
	wechatDown := func() string {
		cb := ts.wechatAuthorize("/", demo.CitizenZhangsan, nil)
		if err := ts.fake.InjectFault(fakewx.Fault{Path: "/sns/oauth2/access_token", HTTPStatus: http.StatusBadGateway}); err != nil {
			t.Fatal(err)
		}
		return cb
	}
	cases := []struct {
		name          string
		path          func() string
		status        int
		code, message string
		retry         bool
		hint          string
	}{
		{"forged state", func() string { return api.CallbackPath + "?code=abc&state=AAAAAAAAAAAAAAAAAAAAAA" },
			http.StatusBadRequest, "oauth_state_invalid", "登录链接已失效,请重新登录", true, ""},
		{"code unknown to WeChat", bogusCode,
			http.StatusBadRequest, "oauth_code_invalid", "微信授权已失效,请重新登录", true, ""},
		{"snapshot user", func() string { return ts.wechatAuthorize("/", demoSnapshot, nil) },
			http.StatusForbidden, "snapshot_user", "请在微信中打开本服务并授权后使用", false, "公众号菜单"},
		{"WeChat down", wechatDown,
			http.StatusServiceUnavailable, "dependency_unavailable", "服务暂时不可用,请稍后再试", true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name+"/browser", func(t *testing.T) {
			w := ts.navigate(tc.path(), browserAccept)
			body := w.Body.String()
			if w.Code != tc.status || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
				t.Fatalf("%d %s %s, want %d text/html", w.Code, w.Header().Get("Content-Type"), body, tc.status)
			}
			if !strings.Contains(body, "<p>"+tc.message+"</p>") || !strings.Contains(body, `name="viewport"`) || !strings.Contains(body, `lang="zh-CN"`) {
				t.Errorf("page does not state %q on a mobile page:\n%s", tc.message, body)
			}
			if json.Valid(w.Body.Bytes()) || strings.Contains(body, tc.code) || strings.Contains(body, `"error"`) {
				t.Errorf("page carries the JSON error:\n%s", body)
			}
			const retryLink = `<a class="button" href="/api/v1/auth/wechat/login?next=/">重新登录</a>`
			if got := strings.Contains(body, retryLink); got != tc.retry {
				t.Errorf("retry link present = %v, want %v:\n%s", got, tc.retry, body)
			}
			if tc.hint != "" && !strings.Contains(body, tc.hint) {
				t.Errorf("page does not say %q:\n%s", tc.hint, body)
			}
			for _, external := range []string{"<script", "src=", "<link", "http://", "https://"} {
				if strings.Contains(body, external) {
					t.Errorf("page uses %q: it must be self-contained", external)
				}
			}
			if w.Header().Get("Vary") != "Accept" {
				t.Errorf("Vary %q, want Accept: the answer depends on it", w.Header().Get("Vary"))
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("Content-Security-Policy %q", csp)
			}
			if sessionFrom(w) != nil {
				t.Error("a session cookie was set")
			}
		})
		for _, accept := range []string{"application/json", "", "*/*", "application/json, text/html;q=0.9"} {
			t.Run(tc.name+"/accept "+accept, func(t *testing.T) {
				w := ts.navigate(tc.path(), accept)
				want, _ := json.Marshal(map[string]any{"error": map[string]string{"code": tc.code, "message": tc.message}})
				if w.Code != tc.status || w.Body.String() != string(want) || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
					t.Errorf("%d %s %s, want %d %s", w.Code, w.Header().Get("Content-Type"), w.Body, tc.status, want)
				}
			})
		}
	}
}

// The login route itself answers a browser with the page too, for example
// when Redis is down and no state can be stored.
func TestAuthLoginErrorPage(t *testing.T) {
	ts := newTestServer(t, testServerOpts{MiniRedis: true})
	ts.mini.Close()
	w := ts.navigate("/api/v1/auth/wechat/login?next=/", browserAccept)
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "服务暂时不可用") ||
		!strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("browser: %d %s %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	if w := ts.navigate("/api/v1/auth/wechat/login?next=/", ""); w.Code != http.StatusServiceUnavailable || errorCode(w) != "dependency_unavailable" {
		t.Fatalf("API client: %d %s", w.Code, w.Body)
	}
}
