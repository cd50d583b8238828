package api

import (
	"context"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

type systemHandlers struct {
	ready func(ctx context.Context) error
	// readyWithin bounds the readiness check; a dependency slower than one
	// read budget is not ready.
	readyWithin time.Duration
	now         func() time.Time
	static      string
}

func (h *systemHandlers) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz answers 503 while the database or Redis is unreachable, so a load
// balancer stops sending verifications that would fail anyway.
func (h *systemHandlers) readyz(c *gin.Context) {
	within := h.readyWithin
	if within <= 0 {
		within = time.Second
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), within)
	defer cancel()
	if err := h.ready(ctx); err != nil {
		_ = c.Error(err)
		// The usual error body (docs/API.md), plus the status probes read.
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable",
			"error": gin.H{"code": errUnavailable.Code, "message": errUnavailable.Message}})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// time lets the show-code page sync its watermark clock to the server, so a
// screenshot shows its age whatever the phone's clock says.
func (h *systemHandlers) time(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"now": h.now().Format("2006-01-02T15:04:05.000Z07:00")})
}

func (h *systemHandlers) showCodePage(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	h.serveIndex(c)
}

// consolePrefix is where the staff's console is served: its own
// index.html and assets (the console entry of the front-end build).
const consolePrefix = "/console"

// spa serves the built H5: a file when one exists, index.html for any other
// GET outside /api/ and /openapi/ so that history-mode routes survive a
// reload; under /console/ the same with the console's index.html.
func (h *systemHandlers) spa(c *gin.Context) {
	p := c.Request.URL.Path
	if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead || strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/openapi/") {
		respondError(c, errNotFound)
		return
	}
	if h.static == "" {
		respondError(c, errNotFound)
		return
	}
	clean := path.Clean("/" + p)
	file := filepath.Join(h.static, filepath.FromSlash(clean))
	if st, err := os.Stat(file); err == nil && !st.IsDir() {
		if strings.HasPrefix(clean, "/assets/") || strings.HasPrefix(clean, consolePrefix+"/assets/") {
			// Vite puts a content hash in every asset name.
			c.Header("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			// Unhashed files (the service worker, icons) are revalidated.
			c.Header("Cache-Control", "no-cache")
		}
		serveFile(c, file)
		return
	}
	if clean == consolePrefix || strings.HasPrefix(clean, consolePrefix+"/") {
		serveIndexOf(c, filepath.Join(h.static, "console", "index.html"))
		return
	}
	h.serveIndex(c)
}

func (h *systemHandlers) serveIndex(c *gin.Context) {
	if h.static == "" {
		respondError(c, errNotFound)
		return
	}
	serveIndexOf(c, filepath.Join(h.static, "index.html"))
}

// serveIndexOf serves an app's index.html, revalidated on every load so a
// new build is picked up at once.
func serveIndexOf(c *gin.Context, index string) {
	if c.Writer.Header().Get("Cache-Control") == "" {
		c.Header("Cache-Control", "no-cache")
	}
	serveFile(c, index)
}
