package api

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestStaticServesPrecompressed: the H5 build's .br and .gz siblings go out
// with Content-Encoding and Vary, hashed assets are immutable, index.html
// and unhashed files revalidate, and a client that accepts neither
// encoding gets the plain file.
func TestStaticServesPrecompressed(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"index.html": "<!doctype html>plain", "index.html.br": "BR-INDEX", "index.html.gz": "GZ-INDEX",
		"assets/app-1a2b.js": "plain js", "assets/app-1a2b.js.gz": "GZ-JS",
		"sw.js":              "self",
		"console/index.html": "CONSOLE", "console/assets/console-9f8e.js": "console js",
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.NoRoute((&systemHandlers{static: dir}).spa)
	cases := []struct {
		path, accept, wantBody, wantEnc, wantType, wantCache string
	}{
		{"/licences", "gzip, deflate, br", "BR-INDEX", "br", "text/html; charset=utf-8", "no-cache"},
		{"/", "gzip", "GZ-INDEX", "gzip", "text/html; charset=utf-8", "no-cache"},
		{"/", "br;q=0, gzip;q=0.5", "GZ-INDEX", "gzip", "text/html; charset=utf-8", "no-cache"},
		{"/", "", "<!doctype html>plain", "", "text/html; charset=utf-8", "no-cache"},
		{"/assets/app-1a2b.js", "br, gzip", "GZ-JS", "gzip", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		{"/assets/app-1a2b.js", "identity", "plain js", "", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		{"/sw.js", "br", "self", "", "text/javascript; charset=utf-8", "no-cache"},
		// The console: its own index.html for its history-mode routes.
		{"/console/", "", "CONSOLE", "", "text/html; charset=utf-8", "no-cache"},
		{"/console/licences/12", "br", "CONSOLE", "", "text/html; charset=utf-8", "no-cache"},
		{"/console", "", "CONSOLE", "", "text/html; charset=utf-8", "no-cache"},
		{"/console/assets/console-9f8e.js", "", "console js", "", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		{"/consoles", "", "<!doctype html>plain", "", "text/html; charset=utf-8", "no-cache"},
	}
	for _, tc := range cases {
		req := httptest.NewRequest(http.MethodGet, tc.path, nil)
		if tc.accept != "" {
			req.Header.Set("Accept-Encoding", tc.accept)
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		h := rec.Header()
		if rec.Code != http.StatusOK || rec.Body.String() != tc.wantBody || h.Get("Content-Encoding") != tc.wantEnc ||
			h.Get("Content-Type") != tc.wantType || h.Get("Cache-Control") != tc.wantCache || h.Get("Vary") != "Accept-Encoding" {
			t.Errorf("GET %s (Accept-Encoding %q): %d %q enc=%q type=%q cache=%q vary=%q", tc.path, tc.accept, rec.Code, rec.Body,
				h.Get("Content-Encoding"), h.Get("Content-Type"), h.Get("Cache-Control"), h.Get("Vary"))
		}
	}
}
