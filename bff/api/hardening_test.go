package api_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/config"
)

// TestSecurityHeaders: every page carries the CSP (scripts from the service
// itself plus the built page's inline script by hash, nothing else), the
// API's answers and the hashed assets one that lets nothing load or run,
// camera only for the service's own pages, and HSTS when the service is
// public over https only.
func TestSecurityHeaders(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	static := t.TempDir()
	inline := `window.__boot=1`
	index := `<!doctype html><html><head><script type="module" crossorigin src="/assets/index-abc.js"></script>` +
		`<script>` + inline + `</script></head><body><div id="app"></div></body></html>`
	if err := os.WriteFile(filepath.Join(static, "index.html"), []byte(index), 0o600); err != nil {
		t.Fatal(err)
	}
	// The service worker's own fetches are bound by the CSP it is served with.
	if err := os.WriteFile(filepath.Join(static, "sw.js"), []byte(`self.addEventListener('fetch', () => {})`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(static, "assets"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(static, "assets", "index-abc.js"), []byte(`console.log(1)`), 0o600); err != nil {
		t.Fatal(err)
	}
	// sha256 of `window.__boot=1`, base64 (openssl dgst -sha256 -binary | base64).
	const inlineHash = "'sha256-RD3k4NI1764GZbtdw1ihRZd6LvxjqGule5vtERkZQK4='"
	for _, tc := range []struct {
		publicURL string
		hsts      bool
	}{{"https://elic.test", true}, {"http://127.0.0.1:8080", false}} {
		ts.rewire(func(c *config.Config) { c.PublicURL, c.HTTP.StaticDir = tc.publicURL, static })
		r := ts.router
		for _, path := range []string{"/", "/api/v1/time", "/licences", "/sw.js", "/assets/index-abc.js"} {
			w := httptest.NewRecorder()
			r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
			h := w.Header()
			csp := h.Get("Content-Security-Policy")
			wants := []string{"default-src 'self'", "script-src 'self' " + inlineHash + ";", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"}
			if strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/assets/") {
				// Never a page: nothing may load or run.
				wants = []string{"default-src 'none'", "frame-ancestors 'none'"}
				if strings.Contains(csp, "'self'") || strings.Contains(csp, "sha256-") {
					t.Errorf("%s %s: CSP %q allows more than nothing", tc.publicURL, path, csp)
				}
			}
			for _, want := range wants {
				if !strings.Contains(csp, want) {
					t.Errorf("%s %s: CSP %q lacks %q", tc.publicURL, path, csp, want)
				}
			}
			_, scripts, _ := strings.Cut(csp, "script-src")
			scripts, _, _ = strings.Cut(scripts, ";")
			if strings.Contains(csp, "unsafe-eval") || strings.Contains(scripts, "unsafe-inline") {
				t.Errorf("CSP allows arbitrary script: %q", csp)
			}
			if pp := h.Get("Permissions-Policy"); !strings.Contains(pp, "camera=(self)") {
				t.Errorf("%s: Permissions-Policy %q", path, pp)
			}
			if got := h.Get("Strict-Transport-Security") != ""; got != tc.hsts {
				t.Errorf("%s %s: HSTS present = %v, want %v", tc.publicURL, path, got, tc.hsts)
			}
		}
	}
}

// TestMetricsOffThePublicPort: /metrics and pprof answer on the admin
// handler only; on the public router they are unknown paths.
func TestMetricsOffThePublicPort(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	for _, path := range []string{"/metrics", "/debug/pprof/"} {
		if w := ts.do(http.MethodGet, path, nil, ""); w.Code == http.StatusOK && !strings.Contains(w.Header().Get("Content-Type"), "text/html") {
			t.Errorf("public %s answered %d %q", path, w.Code, w.Body.String())
		} else if strings.Contains(w.Body.String(), "elicence_http_requests_total") || strings.Contains(w.Body.String(), "goroutine") {
			t.Errorf("public %s leaks admin data", path)
		}
		w := httptest.NewRecorder()
		ts.admin.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusOK {
			t.Errorf("admin %s: %d", path, w.Code)
		}
	}
}

// TestMintLimitPerHolder: one holder mints at most Max codes per window;
// another holder is not affected.
func TestMintLimitPerHolder(t *testing.T) {
	w := newWorld(t, testServerOpts{Config: func(c *config.Config) { c.ShowCode.MintsPerHolder, c.ShowCode.MintWindow = 3, time.Minute }})
	for i := 0; i < 3; i++ {
		w.mint(w.zhangsan, w.zsDriving, "basic")
	}
	rec := w.do(http.MethodPost, licencePath(w.zsIDCard, "/show-codes"), map[string]string{"scope": "basic"}, w.zhangsan)
	if rec.Code != http.StatusTooManyRequests || errorCode(rec) != "rate_limited" {
		t.Fatalf("4th mint in the window: %d %s, want 429 rate_limited", rec.Code, rec.Body)
	}
	w.mint(w.lisi, w.lsIDCard, "basic")
}
