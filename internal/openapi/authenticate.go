package openapi

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// Refusals of a signed request. The first covers every way of not proving
// who you are, so a caller learns nothing about which app ids exist or are
// disabled.
var (
	ErrSignatureInvalid     = errors.New("openapi: signature invalid")
	ErrTimestampOutOfWindow = errors.New("openapi: timestamp out of window")
	ErrNonceReused          = errors.New("openapi: nonce reused")
	ErrRateLimited          = errors.New("openapi: rate limited")
)

// Signed is what a request presents: the four headers and what the
// signature covers.
type Signed struct {
	AppID, Timestamp, Nonce, Signature string
	Method, Path, RawQuery             string
	Body                               []byte
}

// NonceStore remembers nonces (redisx.Nonces). Claim returns false when
// the nonce was already used by the app; it must fail closed, returning an
// error, never true, when its store is down.
type NonceStore interface {
	Claim(ctx context.Context, appID, nonce string, ttl time.Duration) (bool, error)
}

// Counter counts requests in fixed windows (redisx.Counter).
type Counter interface {
	Add(ctx context.Context, key string, window time.Duration) (int, error)
}

// Limit bounds each app's requests to PerWindow per Window.
type Limit struct {
	PerWindow int
	Window    time.Duration
}

// Authenticator checks signed requests.
type Authenticator struct {
	apps    AppRepository
	nonces  NonceStore
	counter Counter
	limit   Limit
	key     func(parts ...string) string
	now     func() time.Time
}

// NewAuthenticator builds the checker. key builds full counter keys
// (redisx.Client.Key); now is the clock (nil: time.Now).
func NewAuthenticator(apps AppRepository, nonces NonceStore, counter Counter, limit Limit, key func(...string) string, now func() time.Time) (*Authenticator, error) {
	switch {
	case apps == nil || nonces == nil || counter == nil || key == nil:
		return nil, errors.New("openapi: NewAuthenticator: nil dependency")
	case limit.PerWindow < 1 || limit.Window <= 0:
		return nil, errors.New("openapi: NewAuthenticator: limit must allow at least one request in a positive window")
	}
	if now == nil {
		now = time.Now
	}
	return &Authenticator{apps: apps, nonces: nonces, counter: counter, limit: limit, key: key, now: now}, nil
}

// Authenticate returns the calling app when req is signed by an enabled
// app within the window with a nonce it has not used before, and the app
// is within its rate limit. Checks run cheapest-refusal first, and the
// nonce is spent only by a request that proved who sent it, so nobody can
// burn another app's nonces or budget.
func (a *Authenticator) Authenticate(ctx context.Context, req Signed) (App, error) {
	if req.AppID == "" || req.Signature == "" || !ValidNonce(req.Nonce) {
		return App{}, ErrSignatureInvalid
	}
	ts, err := strconv.ParseInt(req.Timestamp, 10, 64)
	if err != nil {
		return App{}, ErrSignatureInvalid
	}
	app, secret, err := a.apps.AppSecret(ctx, req.AppID)
	if errors.Is(err, ErrAppNotFound) {
		return App{}, ErrSignatureInvalid
	}
	if err != nil {
		return App{}, err
	}
	want := Sign(secret, StringToSign(req.Method, req.Path, req.RawQuery, req.Timestamp, req.Nonce, BodyDigest(req.Body)))
	if !signatureMatches(want, req.Signature) || app.DisabledAt != nil {
		return App{}, ErrSignatureInvalid
	}
	if skew := a.now().Sub(time.Unix(ts, 0)); skew > Window || skew < -Window {
		return App{}, ErrTimestampOutOfWindow
	}
	n, err := a.counter.Add(ctx, a.key("rl", "openapi", app.ID), a.limit.Window)
	if err != nil {
		return App{}, err
	}
	if n > a.limit.PerWindow {
		return App{}, ErrRateLimited
	}
	// Remembered for twice the window: a timestamp up to Window in the
	// future stays acceptable for 2×Window from the first use.
	fresh, err := a.nonces.Claim(ctx, app.ID, req.Nonce, 2*Window)
	if err != nil {
		return App{}, err
	}
	if !fresh {
		return App{}, ErrNonceReused
	}
	return app, nil
}
