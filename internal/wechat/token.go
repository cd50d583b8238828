package wechat

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/silenceper/wechat/v2/credential"
)

const (
	// tokenMargin is taken off expires_in before caching, so a token is
	// replaced before WeChat drops it (the SDK uses the same 5 minutes).
	tokenMargin = 5 * time.Minute
	// forceRefreshInterval bounds force_refresh calls per process: WeChat
	// allows few of them a day, and a run of 40001s must not burn them all.
	forceRefreshInterval = 30 * time.Second
)

// tokenSource is the access-token handle installed into the SDK. It keeps the
// SDK's cache key and stable_token endpoint but returns typed errors and can
// replace a token WeChat rejected, which the SDK's handle cannot: it only ever
// calls stable_token with force_refresh=false and never drops its cache entry.
type tokenSource struct {
	stable *credential.StableAccessToken
	cache  *RedisCache
	key    string
	now    func() time.Time

	mu         sync.Mutex // one fetch at a time per process
	lastForced time.Time
}

var _ credential.AccessTokenContextHandle = (*tokenSource)(nil)

func newTokenSource(appID, appSecret string, c *RedisCache) (*tokenSource, error) {
	stable, ok := credential.NewStableAccessToken(appID, appSecret, credential.CacheKeyOfficialAccountPrefix, c).(*credential.StableAccessToken)
	if !ok {
		return nil, errors.New("wechat: unexpected stable access token handle type")
	}
	return &tokenSource{
		stable: stable,
		cache:  c,
		key:    fmt.Sprintf("%s_stable_access_token_%s", credential.CacheKeyOfficialAccountPrefix, appID),
		now:    time.Now,
	}, nil
}

// GetAccessToken implements credential.AccessTokenHandle.
func (t *tokenSource) GetAccessToken() (string, error) {
	return t.GetAccessTokenContext(context.Background())
}

// GetAccessTokenContext returns the cached token, fetching one on a miss.
func (t *tokenSource) GetAccessTokenContext(ctx context.Context) (string, error) {
	if tok := t.cached(ctx); tok != "" {
		return tok, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if tok := t.cached(ctx); tok != "" {
		return tok, nil
	}
	return t.fetch(ctx, false)
}

// refresh replaces bad, a token WeChat has just rejected. If another instance
// already stored a different token, that one is used; otherwise a new token is
// forced (at most once per forceRefreshInterval in this process, plain fetch
// otherwise).
func (t *tokenSource) refresh(ctx context.Context, bad string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tok := t.cached(ctx); tok != "" && tok != bad {
		return tok, nil
	}
	now := t.now()
	force := t.lastForced.IsZero() || now.Sub(t.lastForced) >= forceRefreshInterval
	if force {
		t.lastForced = now
	}
	return t.fetch(ctx, force)
}

func (t *tokenSource) cached(ctx context.Context) string {
	s, _ := t.cache.GetContext(ctx, t.key).(string)
	return s
}

func (t *tokenSource) fetch(ctx context.Context, force bool) (string, error) {
	res, err := t.stable.GetAccessTokenDirectly(ctx, force)
	if res.ErrCode != 0 {
		return "", apiError("get access token", res.ErrCode, res.ErrMsg)
	}
	if err != nil {
		return "", transport("get access token", err)
	}
	if res.AccessToken == "" {
		return "", fmt.Errorf("wechat: get access token: %w: empty token in answer", ErrUnavailable)
	}
	ttl := time.Duration(res.ExpiresIn)*time.Second - tokenMargin
	if err := t.cache.SetContext(ctx, t.key, res.AccessToken, ttl); err != nil {
		return "", fmt.Errorf("wechat: store access token: %w", err)
	}
	return res.AccessToken, nil
}
