package showcode_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image/png"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/showcode"
	"github.com/yangcheng-county/elicence/internal/testkit"
)

// memStore is an in-memory Store with the same semantics as the Redis one,
// so the service's rules can be tested without a network.
type memStore struct {
	mu    sync.Mutex
	now   func() time.Time
	codes map[string]memEntry
	used  map[string]memEntry
	known map[string]time.Time // hash → until when it is remembered
	short map[string]memShort
}

type memShort struct {
	hash string
	exp  time.Time
}

type memEntry struct {
	rec     showcode.Record
	officer string
	at      time.Time
	exp     time.Time
}

func newMemStore(now func() time.Time) *memStore {
	return &memStore{now: now, codes: map[string]memEntry{}, used: map[string]memEntry{}, known: map[string]time.Time{}, short: map[string]memShort{}}
}

func (m *memStore) Save(_ context.Context, hash string, rec showcode.Record, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.codes[hash] = memEntry{rec: rec, exp: m.now().Add(ttl)}
	m.known[hash] = m.now().Add(ttl + showcode.Remember)
	return nil
}

func (m *memStore) SaveShort(_ context.Context, shortHash, hash string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.short[shortHash]; ok && m.now().Before(e.exp) {
		return showcode.ErrShortCodeTaken
	}
	m.short[shortHash] = memShort{hash: hash, exp: m.now().Add(ttl)}
	return nil
}

func (m *memStore) ResolveShort(_ context.Context, shortHash string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.short[shortHash]; ok && m.now().Before(e.exp) {
		return e.hash, nil
	}
	return "", showcode.ErrInvalid
}

func (m *memStore) Expiry(_ context.Context, hash string) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k, ok := m.known[hash]; ok && m.now().Before(k) {
		return k.Add(-showcode.Remember), nil
	}
	return time.Time{}, nil
}

func (m *memStore) Load(_ context.Context, hash string) (showcode.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.codes[hash]
	if !ok || !m.now().Before(e.exp) {
		return showcode.Record{}, showcode.ErrInvalid
	}
	return e.rec, nil
}

// LoadCounted is Load with zero counters: the in-memory store counts nothing.
func (m *memStore) LoadCounted(ctx context.Context, hash string, keys []string) (showcode.Record, []int, error) {
	counts := make([]int, len(keys))
	if hash == "" {
		return showcode.Record{}, counts, showcode.ErrInvalid
	}
	rec, err := m.Load(ctx, hash)
	return rec, counts, err
}

func (m *memStore) Consume(_ context.Context, hash, officer string, at time.Time) (showcode.Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.codes[hash]; ok && m.now().Before(e.exp) {
		delete(m.codes, hash)
		m.used[hash] = memEntry{rec: e.rec, officer: officer, at: at, exp: e.exp}
		e.rec.ConsumedAt = at
		return e.rec, false, nil
	}
	if u, ok := m.used[hash]; ok && m.now().Before(u.exp) && u.officer == officer {
		u.rec.ConsumedAt = u.at
		return u.rec, true, nil
	}
	return showcode.Record{}, false, showcode.ErrInvalid
}

const publicURL = "https://elicence.yangcheng.gov.cn"

func newService(t *testing.T) (*showcode.Service, *memStore, *testkit.Clock) {
	t.Helper()
	clk := testkit.NewClock(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	st := newMemStore(clk.Now)
	svc, err := showcode.NewService(st, showcode.Options{PublicURL: publicURL + "/", TTL: 60 * time.Second, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return svc, st, clk
}

func TestShowcodeNewServiceRejectsBadDeps(t *testing.T) {
	cases := []struct {
		name  string
		store showcode.Store
		opts  showcode.Options
	}{
		{"nil store", nil, showcode.Options{PublicURL: publicURL}},
		{"no public url", newMemStore(time.Now), showcode.Options{}},
		{"negative ttl", newMemStore(time.Now), showcode.Options{PublicURL: publicURL, TTL: -time.Second}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := showcode.NewService(tc.store, tc.opts); err == nil {
				t.Fatal("NewService accepted a bad dependency")
			}
		})
	}
}

func TestShowcodeMint(t *testing.T) {
	svc, st, clk := newService(t)
	ctx := context.Background()
	code, err := svc.Mint(ctx, 7, 42, showcode.ScopeFull)
	if err != nil {
		t.Fatal(err)
	}
	if len(code.Token) != showcode.TokenLen {
		t.Fatalf("token %q has length %d, want %d", code.Token, len(code.Token), showcode.TokenLen)
	}
	raw, err := base64.RawURLEncoding.DecodeString(code.Token)
	if err != nil || len(raw) != 16 {
		t.Fatalf("token is not 16 bytes of base64url: %v (%d bytes)", err, len(raw))
	}
	if want := publicURL + "/v/" + code.Token; code.Content != want {
		t.Fatalf("content = %q, want %q", code.Content, want)
	}
	if want := clk.Now().Add(60 * time.Second); !code.ExpiresAt.Equal(want) {
		t.Fatalf("expires_at = %s, want %s", code.ExpiresAt, want)
	}
	if _, ok := st.codes[code.Token]; ok {
		t.Fatal("the store holds the raw token; it must hold only its hash")
	}
	if _, ok := st.codes[showcode.Hash(code.Token)]; !ok {
		t.Fatal("the store does not hold the token's hash")
	}
	if got := testkit.DecodeQRDataURI(t, code.QRPNG); got != code.Content {
		t.Fatalf("QR decodes to %q, want %q", got, code.Content)
	}

	other, err := svc.Mint(ctx, 7, 42, showcode.ScopeFull)
	if err != nil {
		t.Fatal(err)
	}
	if other.Token == code.Token {
		t.Fatal("two mints returned the same token")
	}
	if _, err := svc.Mint(ctx, 7, 42, showcode.Scope("everything")); !errors.Is(err, showcode.ErrBadScope) {
		t.Fatalf("bad scope: err = %v, want ErrBadScope", err)
	}
}

func TestShowcodePeekConsume(t *testing.T) {
	svc, _, clk := newService(t)
	ctx := context.Background()
	code, err := svc.Mint(ctx, 7, 42, showcode.ScopeBasic)
	if err != nil {
		t.Fatal(err)
	}
	want := showcode.Record{LicenceID: 42, HolderID: 7, Scope: showcode.ScopeBasic}

	steps := []struct {
		name       string
		advance    time.Duration
		op         string // peek | consume
		token      string
		officer    string
		wantErr    error
		wantReplay bool
	}{
		{name: "peek live", op: "peek", token: code.Token},
		{name: "peek twice does not consume", op: "peek", token: code.Token},
		{name: "peek unknown", op: "peek", token: strings.Repeat("A", 22), wantErr: showcode.ErrInvalid},
		{name: "peek malformed", op: "peek", token: "not-a-token", wantErr: showcode.ErrInvalid},
		{name: "fresh consume", op: "consume", token: code.Token, officer: "police-1"},
		{name: "peek after consume", op: "peek", token: code.Token, wantErr: showcode.ErrInvalid},
		{name: "same officer replays", op: "consume", token: code.Token, officer: "police-1", wantReplay: true},
		{name: "other officer refused", op: "consume", token: code.Token, officer: "police-2", wantErr: showcode.ErrInvalid},
		{name: "empty officer refused", op: "consume", token: code.Token, officer: "", wantErr: showcode.ErrInvalid},
		{name: "replay ends with the code's life", advance: 61 * time.Second, op: "consume", token: code.Token, officer: "police-1", wantErr: showcode.ErrInvalid},
	}
	for _, s := range steps {
		clk.Add(s.advance)
		var (
			rec    showcode.Record
			replay bool
			err    error
		)
		if s.op == "peek" {
			rec, err = svc.Peek(ctx, s.token)
		} else {
			rec, replay, err = svc.Consume(ctx, s.token, s.officer, clk.Now())
		}
		if !errors.Is(err, s.wantErr) {
			t.Fatalf("%s: err = %v, want %v", s.name, err, s.wantErr)
		}
		if err != nil {
			continue
		}
		rec.ExpiresAt = time.Time{}
		if s.op == "consume" && !rec.ConsumedAt.Equal(clk.Now()) && !s.wantReplay {
			t.Fatalf("%s: consumed at %s, want %s", s.name, rec.ConsumedAt, clk.Now())
		}
		rec.ConsumedAt = time.Time{}
		if rec != want {
			t.Fatalf("%s: record = %+v, want %+v", s.name, rec, want)
		}
		if replay != s.wantReplay {
			t.Fatalf("%s: replay = %v, want %v", s.name, replay, s.wantReplay)
		}
	}
}

func TestShowcodeExpiredReadsAsUnknown(t *testing.T) {
	svc, _, clk := newService(t)
	ctx := context.Background()
	code, err := svc.Mint(ctx, 1, 2, showcode.ScopeBasic)
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(60 * time.Second)
	if _, err := svc.Peek(ctx, code.Token); !errors.Is(err, showcode.ErrInvalid) {
		t.Fatalf("peek expired: %v, want ErrInvalid", err)
	}
	if _, _, err := svc.Consume(ctx, code.Token, "police-1", clk.Now()); !errors.Is(err, showcode.ErrInvalid) {
		t.Fatalf("consume expired: %v, want ErrInvalid", err)
	}
}

func TestShowcodeParseScope(t *testing.T) {
	cases := []struct {
		in      string
		want    showcode.Scope
		wantErr error
	}{
		{"", showcode.ScopeBasic, nil},
		{"basic", showcode.ScopeBasic, nil},
		{"full", showcode.ScopeFull, nil},
		{"FULL", "", showcode.ErrBadScope},
		{"all", "", showcode.ErrBadScope},
	}
	for _, tc := range cases {
		got, err := showcode.ParseScope(tc.in)
		if got != tc.want || !errors.Is(err, tc.wantErr) {
			t.Errorf("ParseScope(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestShowcodeParseScanned(t *testing.T) {
	const tok = "q83vEjRWeJq83vEjRWeJqw" // 16 bytes, canonical
	cases := []struct {
		name   string
		text   string
		public string
		want   string // "" means ErrInvalid
	}{
		{"bare token", tok, publicURL, tok},
		{"bare token with spaces", "  " + tok + "\n", publicURL, tok},
		{"full content", publicURL + "/v/" + tok, publicURL, tok},
		{"public url with trailing slash", publicURL + "/v/" + tok, publicURL + "/", tok},
		{"http variant of the host", "http://elicence.yangcheng.gov.cn/v/" + tok, publicURL, tok},
		{"other host, exact path", "http://127.0.0.1:8080/v/" + tok, publicURL, tok},
		{"public url with a path prefix", "https://gov.cn/elic/v/" + tok, "https://gov.cn/elic", tok},
		{"other host under the public path", "https://other.cn/elic/v/" + tok, "https://gov.cn/elic", tok},
		{"empty", "", publicURL, ""},
		{"garbage", "hello world", publicURL, ""},
		{"token too short", tok[:21], publicURL, ""},
		{"token too long", tok + "A", publicURL, ""},
		{"non-canonical last char", tok[:21] + "x", publicURL, ""},
		{"padded token", tok + "==", publicURL, ""},
		{"std base64 alphabet", "q83vEjRWeJq83vEjRWeJ+w", publicURL, ""},
		{"content with query", publicURL + "/v/" + tok + "?x=1", publicURL, ""},
		{"content with fragment", publicURL + "/v/" + tok + "#a", publicURL, ""},
		{"other host with query", "http://evil.example/v/" + tok + "?a", publicURL, ""},
		{"other host, other path", "http://evil.example/x/v/" + tok, publicURL, ""},
		{"other host, trailing slash", "http://evil.example/v/" + tok + "/", publicURL, ""},
		{"user info", "http://u:p@evil.example/v/" + tok, publicURL, ""},
		{"ftp scheme", "ftp://evil.example/v/" + tok, publicURL, ""},
		{"javascript", "javascript:alert(1)//v/" + tok, publicURL, ""},
		{"path only", "/v/" + tok, publicURL, ""},
		{"huge", strings.Repeat("a", 100000), publicURL, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := showcode.ParseScanned(tc.text, tc.public)
			if tc.want == "" {
				if !errors.Is(err, showcode.ErrInvalid) {
					t.Fatalf("ParseScanned(%q) = %q, %v; want ErrInvalid", tc.text, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseScanned(%q) = %q, %v; want %q", tc.text, got, err, tc.want)
			}
		})
	}
}

func TestShowcodeQRRoundTrip(t *testing.T) {
	r := showcode.NewRenderer(showcode.DefaultQRSize)
	contents := []string{
		publicURL + "/v/q83vEjRWeJq83vEjRWeJqw",
		"http://127.0.0.1:8080/v/AAAAAAAAAAAAAAAAAAAAAA",
		"https://a-much-longer-public-host.example.gov.cn/with/a/deep/path/prefix/v/_-_-_-_-_-_-_-_-_-_-_w",
	}
	for _, content := range contents {
		t.Run(content, func(t *testing.T) {
			// Render twice: the second image comes from the pool and must not
			// keep anything of the first.
			for i := 0; i < 2; i++ {
				b, err := r.PNG(content)
				if err != nil {
					t.Fatal(err)
				}
				img, err := png.Decode(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				if w := img.Bounds().Dx(); w > showcode.DefaultQRSize || w < 100 {
					t.Fatalf("image is %d px wide, want ≤ %d and readable", w, showcode.DefaultQRSize)
				}
				if got := testkit.DecodeQR(t, b); got != content {
					t.Fatalf("decoded %q, want %q", got, content)
				}
			}
		})
	}
}

// TestShowcodeConsumeRefusesExpiredWhileStoreLags pins that the service's
// clock, not only the store's TTL, ends a code: a store whose expiry lags
// (Redis counts the TTL from when it received the code; another instance's
// clock runs ahead) must not let a code past ExpiresAt be consumed, nor
// replayed from the marker that consuming it left behind.
func TestShowcodeConsumeRefusesExpiredWhileStoreLags(t *testing.T) {
	clk := testkit.NewClock(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	storeClk := testkit.NewClock(clk.Now())
	svc, err := showcode.NewService(newMemStore(storeClk.Now), showcode.Options{PublicURL: publicURL, TTL: 60 * time.Second, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	code, err := svc.Mint(ctx, 7, 42, showcode.ScopeBasic)
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(60 * time.Second) // the store's clock stays behind
	for i := 1; i <= 2; i++ {
		if rec, replay, err := svc.Consume(ctx, code.Token, "police-1", clk.Now()); !errors.Is(err, showcode.ErrInvalid) {
			t.Fatalf("consume %d of an expired code: %+v replay=%v err=%v, want ErrInvalid", i, rec, replay, err)
		}
	}
}
