package redisx_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yangcheng-county/elicence/internal/auth"
	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/fault"
	"github.com/yangcheng-county/elicence/internal/realname"
	"github.com/yangcheng-county/elicence/internal/redisx"
	"github.com/yangcheng-county/elicence/internal/redisx/redistest"
)

func TestOpenEmbedded(t *testing.T) {
	ctx := context.Background()
	c, err := redisx.Open(ctx, config.Redis{Addr: "embedded", KeyPrefix: "elic:", DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Redis().Set(ctx, c.Key("x"), "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got := c.Redis().Get(ctx, "elic:x").Val(); got != "1" {
		t.Fatalf("embedded round trip: got %q", got)
	}
	addr := c.Redis().(*redis.Client).Options().Addr
	if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
		t.Fatalf("embedded redis listens on %s, want loopback", addr)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// Close stops the embedded server too.
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatalf("embedded redis still listening on %s after Close", addr)
	}
}

func TestOpenUnreachableIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens here now
	cfg := redistest.Config(addr)
	cfg.DialTimeout = 200 * time.Millisecond
	_, err = redisx.Open(context.Background(), cfg)
	if !errors.Is(err, fault.ErrUnavailable) {
		t.Fatalf("Open(%s) = %v, want fault.ErrUnavailable", addr, err)
	}
}

func TestKey(t *testing.T) {
	c, _ := redistest.Mini(t)
	tests := []struct {
		parts []string
		want  string
	}{
		{[]string{"sess", "ab"}, "sess:ab"},
		{[]string{"rl", "realname", "acct:x"}, "rl:realname:acct:x"},
		{[]string{"single"}, "single"},
	}
	prefix := c.Key()
	if prefix == "" {
		t.Fatal("test client has no prefix")
	}
	for _, tt := range tests {
		if got := c.Key(tt.parts...); got != prefix+tt.want {
			t.Errorf("Key(%q) = %q, want %q", tt.parts, got, prefix+tt.want)
		}
	}
}

func TestCounter(t *testing.T) {
	ctx := context.Background()
	c := redistest.Open(t)
	k := redisx.NewCounter(c)
	key := c.Key("rl", "test")
	if n, err := k.Count(ctx, key); err != nil || n != 0 {
		t.Fatalf("Count on empty key = %d, %v", n, err)
	}
	for i := 1; i <= 3; i++ {
		n, err := k.Add(ctx, key, time.Hour)
		if err != nil || n != i {
			t.Fatalf("Add #%d = %d, %v", i, n, err)
		}
	}
	if n, _ := k.Count(ctx, key); n != 3 {
		t.Fatalf("Count = %d, want 3", n)
	}
	ttl := c.Redis().TTL(ctx, key).Val()
	if ttl <= 0 || ttl > time.Hour {
		t.Fatalf("TTL = %s, want within the 1h window", ttl)
	}
	if err := k.Reset(ctx, key); err != nil {
		t.Fatal(err)
	}
	if n, _ := k.Count(ctx, key); n != 0 {
		t.Fatalf("Count after Reset = %d", n)
	}
}

func TestCounterWindowStartsAtFirstFailure(t *testing.T) {
	ctx := context.Background()
	c, m := redistest.Mini(t)
	k := redisx.NewCounter(c)
	key := c.Key("rl", "w")
	k.Add(ctx, key, time.Hour)
	m.FastForward(40 * time.Minute)
	k.Add(ctx, key, time.Hour) // must not push the window out
	m.FastForward(21 * time.Minute)
	if n, err := k.Count(ctx, key); err != nil || n != 0 {
		t.Fatalf("Count after the window = %d, %v; want 0", n, err)
	}
}

// docs/OPERATIONS.md promises Redis ≥ 6.2. EXPIRE's NX/XX/GT/LT flags
// arrived in 7.0: on 6.2 the whole MULTI is refused, so every failure count
// (real-name codes, verifications) would answer 503. The counter must not
// send them.
func TestCounterAvoidsRedis7OnlyExpireFlags(t *testing.T) {
	ctx := context.Background()
	c := redistest.Open(t)
	var seen []string
	c.Redis().AddHook(argsHook{record: func(cmd redis.Cmder) {
		if name := cmd.Name(); (name == "expire" || name == "pexpire") && len(cmd.Args()) > 3 {
			seen = append(seen, fmt.Sprint(cmd.Args()...))
		}
	}})
	k := redisx.NewCounter(c)
	key := c.Key("rl", "compat")
	for i := 1; i <= 2; i++ {
		if n, err := k.Add(ctx, key, time.Hour); err != nil || n != i {
			t.Fatalf("Add #%d = %d, %v", i, n, err)
		}
	}
	if len(seen) > 0 {
		t.Errorf("counter sent Redis 7-only commands: %v", seen)
	}
	if ttl := c.Redis().TTL(ctx, key).Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("TTL = %s, want within the 1h window", ttl)
	}
}

// argsHook passes every command, alone or in a pipeline, to record.
type argsHook struct{ record func(redis.Cmder) }

func (h argsHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h argsHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.record(cmd)
		return next(ctx, cmd)
	}
}
func (h argsHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			h.record(cmd)
		}
		return next(ctx, cmds)
	}
}

func TestCounterFailsClosed(t *testing.T) {
	ctx := context.Background()
	c, m := redistest.Mini(t)
	k := redisx.NewCounter(c)
	m.Close()
	if _, err := k.Count(ctx, c.Key("x")); !errors.Is(err, fault.ErrUnavailable) {
		t.Errorf("Count with Redis down = %v, want unavailable", err)
	}
	if _, err := k.Add(ctx, c.Key("x"), time.Minute); !errors.Is(err, fault.ErrUnavailable) {
		t.Errorf("Add with Redis down = %v, want unavailable", err)
	}
}

func TestSessionsStore(t *testing.T) {
	ctx := context.Background()
	c := redistest.Open(t)
	s, err := redisx.NewSessions(c)
	if err != nil {
		t.Fatal(err)
	}
	// States are single use.
	if err := s.PutState(ctx, "h1", "/wallet", time.Minute); err != nil {
		t.Fatal(err)
	}
	if next, ok, err := s.TakeState(ctx, "h1"); err != nil || !ok || next != "/wallet" {
		t.Fatalf("TakeState = %q, %v, %v", next, ok, err)
	}
	if _, ok, err := s.TakeState(ctx, "h1"); err != nil || ok {
		t.Fatalf("second TakeState = %v, %v; want not found", ok, err)
	}

	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	rec := auth.Record{OpenID: "o1", CreatedAt: now, LastSeen: now}
	if err := s.PutSession(ctx, "abc", rec, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := c.Redis().Exists(ctx, c.Key("sess", "abc")).Val(); got != 1 {
		t.Fatalf("session not stored under %s", c.Key("sess", "abc"))
	}
	got, ok, err := s.GetSession(ctx, "abc")
	if err != nil || !ok || got.OpenID != "o1" || !got.CreatedAt.Equal(now) {
		t.Fatalf("GetSession = %+v, %v, %v", got, ok, err)
	}
	if err := s.DeleteSession(ctx, "abc"); err != nil {
		t.Fatal(err)
	}
	// A touch after logout must not bring the session back.
	if err := s.TouchSession(ctx, "abc", rec, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.GetSession(ctx, "abc"); ok {
		t.Fatal("TouchSession recreated a deleted session")
	}
}

func TestRealnameStore(t *testing.T) {
	ctx := context.Background()
	c := redistest.Open(t)
	r, err := redisx.NewRealname(c)
	if err != nil {
		t.Fatal(err)
	}
	ch := realname.Challenge{OpenID: "o", HolderID: 7, IDKey: "id:x", CodeMAC: "ab", ExpiresAt: time.Now().Add(time.Minute).UTC()}
	if err := r.PutChallenge(ctx, "h", ch, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, ok, err := r.GetChallenge(ctx, "h")
	if err != nil || !ok || got.HolderID != 7 || got.OpenID != "o" {
		t.Fatalf("GetChallenge = %+v, %v, %v", got, ok, err)
	}
	if taken, err := r.TakeChallenge(ctx, "h"); err != nil || !taken {
		t.Fatalf("first TakeChallenge = %v, %v", taken, err)
	}
	if taken, err := r.TakeChallenge(ctx, "h"); err != nil || taken {
		t.Fatalf("second TakeChallenge = %v, %v; want false", taken, err)
	}
	if ok, err := r.AllowSend(ctx, "o", time.Minute); err != nil || !ok {
		t.Fatalf("first AllowSend = %v, %v", ok, err)
	}
	if ok, err := r.AllowSend(ctx, "o", time.Minute); err != nil || ok {
		t.Fatalf("second AllowSend = %v, %v; want throttled", ok, err)
	}
	if n, err := r.AddFailure(ctx, "acct:o", time.Hour); err != nil || n != 1 {
		t.Fatalf("AddFailure = %d, %v", n, err)
	}
	if n, err := r.Failures(ctx, "acct:o"); err != nil || n != 1 {
		t.Fatalf("Failures = %d, %v", n, err)
	}
	if c.Redis().Exists(ctx, c.Key("rl", "realname", "acct:o")).Val() != 1 {
		t.Fatal("failure counter not under the rl: prefix")
	}
}

// TestEmbeddedExpiresKeys: the in-process Redis counts TTLs down with the
// wall clock, so a lockout or a show code ends by itself in embedded mode
// as it does on a real server.
func TestEmbeddedExpiresKeys(t *testing.T) {
	ctx := context.Background()
	c, err := redisx.Open(ctx, config.Redis{Addr: "embedded", KeyPrefix: "elic:", DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rdb := c.Redis()
	if err := rdb.Set(ctx, c.Key("short"), "1", 1500*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, c.Key("forever"), "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	n, err := redisx.NewCounter(c).Add(ctx, c.Key("counter"), 1500*time.Millisecond)
	if err != nil || n != 1 {
		t.Fatalf("counter add: %d, %v", n, err)
	}
	guard := time.Now().Add(30 * time.Second)
	for {
		left, err := rdb.Exists(ctx, c.Key("short"), c.Key("counter")).Result()
		if err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			break
		}
		if time.Now().After(guard) {
			t.Fatal("keys with a TTL never expired in embedded redis")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if rdb.Exists(ctx, c.Key("forever")).Val() != 1 {
		t.Fatal("a key without TTL expired")
	}
}
