// Package api is the BFF's HTTP transport: the route table, middleware,
// request/response types and handlers that only translate between HTTP and
// the domain services.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Deps are everything the HTTP layer calls, built in one place (bff/wire.go).
type Deps struct {
	Log            *slog.Logger
	Metrics        *Metrics
	Gatherer       prometheus.Gatherer
	TrustedProxies []string
	// StaticDir holds the built H5; empty serves no pages.
	StaticDir string
	// Ready checks the database and Redis for /readyz.
	Ready func(ctx context.Context) error
	Now   func() time.Time
	// FakeWeChat is mounted at /fakewx/ in dev mode only; nil otherwise.
	FakeWeChat http.Handler
}

func (d Deps) validate() error {
	switch {
	case d.Log == nil:
		return errors.New("api: Deps.Log is nil")
	case d.Metrics == nil || d.Gatherer == nil:
		return errors.New("api: Deps.Metrics or Deps.Gatherer is nil")
	case d.Ready == nil:
		return errors.New("api: Deps.Ready is nil")
	case d.Now == nil:
		return errors.New("api: Deps.Now is nil")
	}
	return nil
}

// NewRouter builds the whole route table. Reading this function shows the
// entire HTTP surface of the service.
func NewRouter(d Deps) (*gin.Engine, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// ClientIP() feeds rate limits and usage records: trust only the
	// configured proxies, never X-Forwarded-For from anyone.
	if err := r.SetTrustedProxies(d.TrustedProxies); err != nil {
		return nil, err
	}
	r.Use(requestID(), recovery(d.Log), securityHeaders(), d.Metrics.middleware(), accessLog(d.Log))

	sys := &systemHandlers{ready: d.Ready, now: d.Now, static: d.StaticDir}
	r.GET("/healthz", sys.healthz)
	r.GET("/readyz", sys.readyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(d.Gatherer, promhttp.HandlerOpts{})))
	if d.FakeWeChat != nil {
		r.Any("/fakewx/*path", gin.WrapH(d.FakeWeChat))
	}

	v1 := r.Group("/api/v1")
	v1.GET("/time", sys.time)

	// Pages of the H5. /v/:token is the text inside a show code's QR: it
	// serves the page that verifies it, never caching it.
	r.GET("/v/:token", sys.showCodePage)
	r.NoRoute(sys.spa)
	return r, nil
}
