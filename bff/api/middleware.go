package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/yangcheng-county/elicence/internal/deadline"
)

const requestIDHeader = "X-Request-Id"

// requestID gives every request an id, echoed in the response and on every
// log line, so a citizen's complaint can be traced to one request. An id
// sent by the client is kept only if it looks like one of ours.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(requestIDHeader)
		if !validRequestID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(ctxRequestID, id)
		c.Header(requestIDHeader, id)
		c.Next()
	}
}

func validRequestID(id string) bool {
	if len(id) < 8 || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if (r < '0' || r > '9') && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && r != '-' {
			return false
		}
	}
	return true
}

// accessLog writes one structured line per request. It logs the route
// template, never the raw path or query: /v/{token} and OAuth codes must not
// reach the logs.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		attrs := []slog.Attr{
			slog.String("request_id", c.GetString(ctxRequestID)),
			slog.String("method", c.Request.Method),
			slog.String("route", routeOf(c)),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
			slog.String("client_ip", c.ClientIP()),
		}
		level := slog.LevelInfo
		if len(c.Errors) > 0 {
			attrs = append(attrs, slog.String("error", c.Errors.Last().Error()))
		}
		if status >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(c.Request.Context(), level, "http request", attrs...)
	}
}

// routeOf is the matched route template, or a fixed label for unmatched paths
// so that neither logs nor metric labels grow with attacker-chosen paths.
func routeOf(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

// recovery turns a panic into a 500 with the usual error body and logs the
// stack once.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if p := recover(); p != nil {
				log.Error("panic", "request_id", c.GetString(ctxRequestID), "route", routeOf(c), "panic", p, "stack", string(debug.Stack()))
				// A panic is a bug, never a slow dependency: the request's
				// context was cancelled as the panic unwound through
				// deadlines, which respondError would take for a timeout.
				respondPublic(c, errInternal, errInternal)
			}
		}()
		c.Next()
	}
}

// Metrics are the Prometheus series the BFF exposes on /metrics.
type Metrics struct {
	Requests      *prometheus.CounterVec
	Latency       *prometheus.HistogramVec
	Verifications *prometheus.CounterVec
}

// NewMetrics registers the HTTP and verification series on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "elicence_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "elicence_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		Verifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "elicence_verifications_total", Help: "Verifications by result and reason code.",
		}, []string{"result", "reason_code"}),
	}
	for _, col := range []prometheus.Collector{m.Requests, m.Latency, m.Verifications} {
		if err := reg.Register(col); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := routeOf(c)
		m.Requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
		m.Latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	}
}

// dataCSP is the Content-Security-Policy of answers that are never a page:
// the API's JSON and the build's hashed assets (scripts, styles, fonts).
// Nothing in them may load or run, even when one is opened on its own. The
// page policy, with its script hashes, matters only where a document or the
// service worker is served; on every other answer it would be half a
// kilobyte more for a phone on a slow network (docs/PERFORMANCE.md).
const dataCSP = "default-src 'none'; frame-ancestors 'none'"

// securityHeaders are sent on every answer: the pages hold personal data.
// csp is the pages' Content-Security-Policy (contentSecurityPolicy); hsts is
// set when the public URL is https, so browsers never again try plain http.
func securityHeaders(csp string, hsts bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		p := c.Request.URL.Path
		if strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/assets/") {
			h.Set("Content-Security-Policy", dataCSP)
		} else {
			h.Set("Content-Security-Policy", csp)
		}
		// The officer's scan page uses the camera; nothing else may.
		h.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=(), payment=(), usb=()")
		if hsts {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if c.Request.Method != http.MethodGet || strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/openapi/") {
			h.Set("Cache-Control", "no-store")
		}
		c.Next()
	}
}

// inlineScript matches a <script> element without a src attribute.
var inlineScript = regexp.MustCompile(`(?is)<script((?:\s+[a-z-]+(?:=(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*>(.*?)</script>`)

// contentSecurityPolicy allows scripts from the service's own origin only,
// plus any inline script of the built index.html by its hash: an injected
// script, inline or from elsewhere, does not run. Styles may be inline (Vant
// sets style attributes); images may be data: or blob: URLs (QR codes);
// nothing may frame the pages or be framed by them.
func contentSecurityPolicy(staticDir string) (string, error) {
	scripts := "'self'"
	if staticDir != "" {
		index, err := os.ReadFile(filepath.Join(staticDir, "index.html"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("api: read index.html for the CSP: %w", err)
		}
		for _, m := range inlineScript.FindAllSubmatch(index, -1) {
			if bytes.Contains(bytes.ToLower(m[1]), []byte("src=")) || len(bytes.TrimSpace(m[2])) == 0 {
				continue
			}
			sum := sha256.Sum256(m[2])
			scripts += " 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		}
	}
	return "default-src 'self'; script-src " + scripts + "; style-src 'self' 'unsafe-inline'; " +
		"img-src 'self' data: blob:; media-src 'self' blob: mediastream:; font-src 'self' data:; " +
		"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'", nil
}

// deadlines puts the request's time limits into its context: the whole
// request ends by timeout, and each database statement it makes by the
// budget's bounds (store and Redis read them from the context), so a
// dependency that stops answering turns into a 503 in about one read
// budget, and the next request tries again by itself.
func deadlines(timeout time.Duration, budget deadline.Budget) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := deadline.With(c.Request.Context(), budget)
		if timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

// maxAPIBody bounds an API request body. The largest real one (a scanned
// code and a purpose) is well under 1 KiB.
const maxAPIBody = 64 << 10

var errTooLarge = &publicError{Status: http.StatusRequestEntityTooLarge, Code: "request_too_large", Message: "请求内容过大"}

// limitBody keeps a caller from making the server buffer an arbitrarily
// large body: a declared length over the limit is refused before reading,
// and an undeclared one is cut off at the limit (the decode then fails).
// /wechat/events bounds its own body.
func limitBody(c *gin.Context) {
	if !strings.HasPrefix(c.Request.URL.Path, "/api/") || c.Request.Body == nil {
		c.Next()
		return
	}
	limit := int64(maxAPIBody)
	if c.Request.URL.Path == consoleUploadPath {
		limit = maxUploadBody
	}
	if c.Request.ContentLength > limit {
		respondError(c, errTooLarge)
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	c.Next()
}

// Context keys set by middleware.
const (
	ctxRequestID = "request_id"
	ctxPrincipal = "principal"
)

// Principal is who is calling, resolved from the session cookie.
type Principal struct {
	SessionID   string // hashed id, never the cookie value
	OpenID      string
	HolderID    int64 // 0 until real-name binding
	OfficerDept int64 // 0 unless the account is a bound officer
}

func principalFrom(c *gin.Context) (Principal, bool) {
	v, ok := c.Get(ctxPrincipal)
	if !ok {
		return Principal{}, false
	}
	p, ok := v.(Principal)
	return p, ok
}

// requireLogin refuses requests without a valid session.
func requireLogin(c *gin.Context) {
	if _, ok := principalFrom(c); !ok {
		respondError(c, errNotLoggedIn)
	}
}

// requireHolder refuses callers who have not bound their real name.
func requireHolder(c *gin.Context) {
	p, ok := principalFrom(c)
	switch {
	case !ok:
		respondError(c, errNotLoggedIn)
	case p.HolderID == 0:
		respondError(c, errNeedsRealname)
	}
}

// requireOfficer refuses callers who are not bound officers.
func requireOfficer(c *gin.Context) {
	p, ok := principalFrom(c)
	switch {
	case !ok:
		respondError(c, errNotLoggedIn)
	case p.OfficerDept == 0:
		respondError(c, errNotOfficer)
	}
}
