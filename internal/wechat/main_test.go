package wechat_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/yangcheng-county/elicence/internal/wechat"
	"github.com/yangcheng-county/elicence/internal/wechat/fakewx"
)

// The SDK's HTTP settings are process-wide, so the whole test binary talks to
// one fake on one httptest server; each test starts with fake.Reset() and its
// own Redis key prefix, and tests do not run in parallel.
var (
	fake    *fakewx.Server
	baseURL string // the httptest server, standing in for the platform
)

const (
	appID       = "wxfake00000000001"
	appSecret   = "fake-app-secret-0123456789abcdef"
	httpTimeout = time.Second
)

var demoUsers = []fakewx.DemoUser{
	{OpenID: "demo-citizen-zhangsan", Label: "张三"},
	{OpenID: "demo-officer-police", Label: "交警大队 核验员"},
	{OpenID: "demo-snapshot", Label: "快照页用户", Snapshot: true},
}

func TestMain(m *testing.M) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	f, err := fakewx.New(srv.URL, demoUsers, fakewx.WithCredentials(appID, appSecret))
	if err != nil {
		panic(err)
	}
	mux.Handle(fakewx.MountPath+"/", f)
	fake, baseURL = f, srv.URL
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

type backend struct {
	name string
	open func(t *testing.T) (redis.UniversalClient, string)
}

// backends are the Redis implementations the adapter is tested against.
var backends = []backend{
	{"redis", realRedis},
	{"miniredis", miniRedis},
}

// realRedis connects to the shared test Redis and returns a key prefix of
// its own, deleted at cleanup. It fails the test when Redis is unreachable.
func realRedis(t *testing.T) (redis.UniversalClient, string) {
	t.Helper()
	addr := os.Getenv("ELICENCE_TEST_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second})
	ctx := context.Background()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		t.Fatalf("Redis at %s is unreachable (set ELICENCE_TEST_REDIS_ADDR): %v", addr, err)
	}
	prefix := "elic_test_wx_" + randHex(t, 6) + ":"
	t.Cleanup(func() {
		iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		_ = rdb.Close()
	})
	return rdb, prefix
}

func miniRedis(t *testing.T) (redis.UniversalClient, string) {
	t.Helper()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb, "elic_test_wx:"
}

func randHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func options(prefix string) wechat.Options {
	return wechat.Options{
		AppID:       appID,
		AppSecret:   appSecret,
		Token:       "evtoken123",
		APIBase:     fake.APIBase(),
		HTTPTimeout: httpTimeout,
		KeyPrefix:   prefix,
	}
}

// setup resets the fake and returns a client on real Redis with a fresh prefix.
func setup(t *testing.T) (*wechat.Client, redis.UniversalClient, string) {
	t.Helper()
	fake.Reset()
	rdb, prefix := realRedis(t)
	c, err := wechat.New(options(prefix), rdb)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, rdb, prefix
}

// authorize follows the authorize URL as a browser would after picking
// openid on the fake's page, and returns the callback's query.
func authorize(t *testing.T, c *wechat.Client, openid string, extra url.Values) url.Values {
	t.Helper()
	callback := baseURL + "/api/v1/auth/wechat/callback"
	raw, err := c.AuthorizeURL(callback, "st4te_Abc-1")
	if err != nil {
		t.Fatalf("AuthorizeURL: %v", err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("fake_openid", openid)
	for k, v := range extra {
		q[k] = v
	}
	u.RawQuery, u.Fragment = q.Encode(), ""
	resp := noRedirectGet(t, u.String())
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != callback {
		t.Fatalf("redirected to %q, want %q", got, callback)
	}
	return loc.Query()
}

func noRedirectGet(t *testing.T, u string) *http.Response {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

func wantAPIError(t *testing.T, err error, code int) {
	t.Helper()
	var apiErr *wechat.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *APIError %d", err, code)
	}
	if apiErr.Code != code {
		t.Fatalf("errcode = %d, want %d (%v)", apiErr.Code, code, err)
	}
}

// cachedToken reads the access token the adapter stored under prefix.
func cachedToken(t *testing.T, rdb redis.UniversalClient, prefix string) string {
	t.Helper()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, prefix+"*stable_access_token*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("cached token keys = %v, %v; want one", keys, err)
	}
	tok, err := rdb.Get(ctx, keys[0]).Result()
	if err != nil || !strings.HasPrefix(tok, "FAKE_AT_") {
		t.Fatalf("cached token = %q, %v", tok, err)
	}
	return tok
}
