package auth_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/account"
	"github.com/yangcheng-county/elicence/internal/auth"
	"github.com/yangcheng-county/elicence/internal/fault"
	"github.com/yangcheng-county/elicence/internal/redisx"
	"github.com/yangcheng-county/elicence/internal/redisx/redistest"
	"github.com/yangcheng-county/elicence/internal/testkit"
)

// fakeProvider plays WeChat: it hands out codes for openids.
type fakeProvider struct {
	mu    sync.Mutex
	users map[string]auth.Identity // code → identity
}

func (p *fakeProvider) AuthorizeURL(redirectURI, state string) (string, error) {
	return "https://wx.example/authorize?" + url.Values{"redirect_uri": {redirectURI}, "state": {state}}.Encode(), nil
}

func (p *fakeProvider) Exchange(_ context.Context, code string) (auth.Identity, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id, ok := p.users[code]
	if !ok {
		return auth.Identity{}, errors.New("fake: invalid code")
	}
	return id, nil
}

type memAccounts struct {
	account.Repository // methods not used here panic
	mu                 sync.Mutex
	ensured            map[string]bool
}

func (m *memAccounts) Ensure(_ context.Context, openid string) (account.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ensured[openid] = true
	return account.Account{OpenID: openid}, nil
}

type fixture struct {
	svc      *auth.Service
	client   *redisx.Client
	provider *fakeProvider
	accounts *memAccounts
	clock    *testkit.Clock
}

func newFixture(t *testing.T, c *redisx.Client) *fixture {
	t.Helper()
	store, err := redisx.NewSessions(c)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{
		client: c,
		provider: &fakeProvider{users: map[string]auth.Identity{
			"code-alice": {OpenID: "alice"},
			"code-snap":  {OpenID: "snap", Snapshot: true},
			"code-empty": {},
		}},
		accounts: &memAccounts{ensured: map[string]bool{}},
		clock:    testkit.NewClock(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)),
	}
	f.svc, err = auth.NewService(store, f.provider, f.accounts, auth.Options{
		RedirectURI: "https://elic.example/api/v1/auth/wechat/callback",
		Idle:        30 * time.Minute, Absolute: 12 * time.Hour, Now: f.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// begin starts a login and returns the state WeChat would echo back.
func (f *fixture) begin(t *testing.T, next string) string {
	t.Helper()
	u, state, err := f.svc.BeginLogin(context.Background(), next)
	if err != nil {
		t.Fatal(err)
	}
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	if got := pu.Query().Get("state"); got != state {
		t.Fatalf("BeginLogin returned state %q, the URL carries %q", state, got)
	}
	if got := pu.Query().Get("redirect_uri"); got != "https://elic.example/api/v1/auth/wechat/callback" {
		t.Fatalf("redirect_uri = %q", got)
	}
	return pu.Query().Get("state")
}

func (f *fixture) login(t *testing.T) string {
	t.Helper()
	id, _, err := f.svc.CompleteLogin(context.Background(), "code-alice", f.begin(t, "/"))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestSanitiseNext(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/licences/12", "/licences/12"},
		{"/licences?tab=usage#top", "/licences?tab=usage#top"},
		{"/", "/"},
		{"", "/"},
		{"//evil.example/x", "/"},
		{"/\\evil.example", "/"},
		{"/a\\b", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"licences", "/"},
		{"/a\r\nSet-Cookie: x=1", "/"},
		{"/a\x00b", "/"},
		{"/" + strings.Repeat("a", 3000), "/"},
		{"/证照", "/证照"},
	}
	for _, tt := range tests {
		if got := auth.SanitiseNext(tt.in); got != tt.want {
			t.Errorf("SanitiseNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNewServiceRejectsBadDeps(t *testing.T) {
	c, _ := redistest.Mini(t)
	store, _ := redisx.NewSessions(c)
	p := &fakeProvider{}
	acc := &memAccounts{}
	ok := auth.Options{RedirectURI: "https://x/cb", Idle: time.Minute, Absolute: time.Hour}
	tests := []struct {
		name  string
		store auth.Store
		prov  auth.Provider
		acc   account.Repository
		opts  auth.Options
	}{
		{"nil store", nil, p, acc, ok},
		{"nil provider", store, nil, acc, ok},
		{"nil accounts", store, p, nil, ok},
		{"no redirect", store, p, acc, auth.Options{Idle: time.Minute, Absolute: time.Hour}},
		{"absolute < idle", store, p, acc, auth.Options{RedirectURI: "x", Idle: time.Hour, Absolute: time.Minute}},
	}
	for _, tt := range tests {
		if _, err := auth.NewService(tt.store, tt.prov, tt.acc, tt.opts); err == nil {
			t.Errorf("%s: NewService accepted it", tt.name)
		}
	}
}

func TestLogin(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, redistest.Open(t))

	state := f.begin(t, "/licences/3")
	if len(state) != 22 {
		t.Fatalf("state %q is not 128 bits base64url", state)
	}
	id, next, err := f.svc.CompleteLogin(ctx, "code-alice", state)
	if err != nil {
		t.Fatal(err)
	}
	if next != "/licences/3" {
		t.Errorf("next = %q", next)
	}
	if !f.accounts.ensured["alice"] {
		t.Error("account not ensured on login")
	}
	s, err := f.svc.Resolve(ctx, id)
	if err != nil || s.OpenID != "alice" {
		t.Fatalf("Resolve = %+v, %v", s, err)
	}
	if s.IDHash != auth.Hash(id) || s.IDHash == id {
		t.Errorf("IDHash = %q, want the SHA-256 of the id", s.IDHash)
	}

	// The state is single use: a replayed callback fails.
	if _, _, err := f.svc.CompleteLogin(ctx, "code-alice", state); !errors.Is(err, auth.ErrStateInvalid) {
		t.Errorf("replayed state: %v, want ErrStateInvalid", err)
	}
	// An open redirect attempt is neutralised when the state is stored.
	if _, next, err := f.svc.CompleteLogin(ctx, "code-alice", f.begin(t, "//evil.example/")); err != nil || next != "/" {
		t.Errorf("evil next: %q, %v; want /", next, err)
	}

	tests := []struct {
		name  string
		code  string
		state string
		want  error
	}{
		{"forged state", "code-alice", "AAAAAAAAAAAAAAAAAAAAAA", auth.ErrStateInvalid},
		{"snapshot user", "code-snap", f.begin(t, "/"), auth.ErrSnapshotUser},
		{"missing code", "", f.begin(t, "/"), auth.ErrCodeMissing},
		{"missing state", "code-alice", "", auth.ErrCodeMissing},
	}
	for _, tt := range tests {
		_, _, err := f.svc.CompleteLogin(ctx, tt.code, tt.state)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if f.accounts.ensured["snap"] {
		t.Error("snapshot user got an account")
	}
	if _, _, err := f.svc.CompleteLogin(ctx, "code-empty", f.begin(t, "/")); err == nil {
		t.Error("empty openid accepted")
	}
	if _, _, err := f.svc.CompleteLogin(ctx, "code-bogus", f.begin(t, "/")); err == nil {
		t.Error("code rejected by WeChat accepted")
	}
}

func TestSessionStoredHashed(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, redistest.Open(t))
	id := f.login(t)
	rdb := f.client.Redis()
	keys, err := rdb.Keys(ctx, f.client.Key("*")).Result()
	if err != nil {
		t.Fatal(err)
	}
	want := f.client.Key("sess", auth.Hash(id))
	found := false
	for _, k := range keys {
		if strings.Contains(k, id) {
			t.Errorf("raw session id appears in Redis key %q", k)
		}
		if v := rdb.Get(ctx, k).Val(); strings.Contains(v, id) {
			t.Errorf("raw session id appears in the value of %q", k)
		}
		found = found || k == want
	}
	if !found {
		t.Fatalf("no key %q among %q", want, keys)
	}
	if _, err := f.svc.Resolve(ctx, auth.Hash(id)); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("the stored hash works as a cookie: %v", err)
	}
}

func TestSessionTimeouts(t *testing.T) {
	ctx := context.Background()
	type step struct {
		advance time.Duration
		alive   bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"fresh", []step{{0, true}}},
		{"idle just under 30m", []step{{29*time.Minute + 59*time.Second, true}}},
		{"idle 30m", []step{{30 * time.Minute, false}}},
		{"activity slides the idle timeout", []step{{29 * time.Minute, true}, {29 * time.Minute, true}, {29 * time.Minute, true}}},
		{"idle after activity", []step{{20 * time.Minute, true}, {31 * time.Minute, false}}},
		{"absolute 12h despite activity", append(repeat(step{25 * time.Minute, true}, 28), step{20 * time.Minute, false})},
		{"dead stays dead", []step{{31 * time.Minute, false}, {0, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, redistest.Open(t))
			id := f.login(t)
			for i, s := range tt.steps {
				f.clock.Add(s.advance)
				_, err := f.svc.Resolve(ctx, id)
				if s.alive && err != nil || !s.alive && !errors.Is(err, auth.ErrNoSession) {
					t.Fatalf("step %d (+%s): Resolve = %v, want alive=%v", i, s.advance, err, s.alive)
				}
			}
		})
	}
}

func repeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// TestSessionRedisExpiry checks the Redis TTL on its own: even if the
// application clock were wrong, Redis drops an idle session.
func TestSessionRedisExpiry(t *testing.T) {
	ctx := context.Background()
	c, m := redistest.Mini(t)
	f := newFixture(t, c)
	id := f.login(t)
	ttl := m.TTL(c.Key("sess", auth.Hash(id)))
	if ttl <= 0 || ttl > 30*time.Minute {
		t.Fatalf("session TTL = %s, want ≤ idle timeout", ttl)
	}
	m.FastForward(29 * time.Minute)
	f.clock.Add(29 * time.Minute)
	if _, err := f.svc.Resolve(ctx, id); err != nil {
		t.Fatal(err)
	}
	// The touch renewed the TTL.
	m.FastForward(29 * time.Minute)
	if _, err := f.svc.Resolve(ctx, id); err != nil {
		t.Fatalf("session expired in Redis despite activity: %v", err)
	}
	m.FastForward(31 * time.Minute)
	if _, err := f.svc.Resolve(ctx, id); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("Resolve after idle TTL = %v, want ErrNoSession", err)
	}
	// The OAuth state has a 10 minute TTL.
	state := f.begin(t, "/")
	m.FastForward(auth.StateTTL)
	if _, _, err := f.svc.CompleteLogin(ctx, "code-alice", state); !errors.Is(err, auth.ErrStateInvalid) {
		t.Fatalf("expired state: %v, want ErrStateInvalid", err)
	}
}

func TestLogout(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, redistest.Open(t))
	id := f.login(t)
	other := f.login(t)
	if err := f.svc.Logout(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Resolve(ctx, id); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("Resolve after logout = %v", err)
	}
	if n := f.client.Redis().Exists(ctx, f.client.Key("sess", auth.Hash(id))).Val(); n != 0 {
		t.Fatal("session key still in Redis after logout")
	}
	if _, err := f.svc.Resolve(ctx, other); err != nil {
		t.Fatalf("logout killed another session: %v", err)
	}
	if err := f.svc.Logout(ctx, id); err != nil {
		t.Fatalf("second logout: %v", err)
	}
}

func TestMalformedSessionIDs(t *testing.T) {
	f := newFixture(t, redistest.Open(t))
	for _, id := range []string{"", "short", strings.Repeat("A", 23), "!!!!!!!!!!!!!!!!!!!!!!", "AAAAAAAAAAAAAAAAAAAAAA"} {
		if _, err := f.svc.Resolve(context.Background(), id); !errors.Is(err, auth.ErrNoSession) {
			t.Errorf("Resolve(%q) = %v, want ErrNoSession", id, err)
		}
	}
}

func TestRedisDownIsUnavailable(t *testing.T) {
	ctx := context.Background()
	c, m := redistest.Mini(t)
	f := newFixture(t, c)
	id := f.login(t)
	state := f.begin(t, "/")
	m.Close()
	if _, err := f.svc.Resolve(ctx, id); !errors.Is(err, fault.ErrUnavailable) {
		t.Errorf("Resolve: %v, want unavailable", err)
	}
	if _, _, err := f.svc.BeginLogin(ctx, "/"); !errors.Is(err, fault.ErrUnavailable) {
		t.Errorf("BeginLogin: %v, want unavailable", err)
	}
	if _, _, err := f.svc.CompleteLogin(ctx, "code-alice", state); !errors.Is(err, fault.ErrUnavailable) {
		t.Errorf("CompleteLogin: %v, want unavailable", err)
	}
	if err := f.svc.Logout(ctx, id); !errors.Is(err, fault.ErrUnavailable) {
		t.Errorf("Logout: %v, want unavailable", err)
	}
}

func TestSameBrowser(t *testing.T) {
	tests := []struct {
		browser, callback string
		want              bool
	}{
		{"AAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAA", true},
		{"AAAAAAAAAAAAAAAAAAAAAA", "BAAAAAAAAAAAAAAAAAAAAA", false},
		{"", "AAAAAAAAAAAAAAAAAAAAAA", false}, // no cookie: another browser's callback
		{"", "", false},
		{"AAAA", "AAAAAAAAAAAAAAAAAAAAAA", false},
	}
	for _, tt := range tests {
		if got := auth.SameBrowser(tt.browser, tt.callback); got != tt.want {
			t.Errorf("SameBrowser(%q, %q) = %v, want %v", tt.browser, tt.callback, got, tt.want)
		}
	}
}
