package redisx_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/fault"
	"github.com/yangcheng-county/elicence/internal/redisx"
	"github.com/yangcheng-county/elicence/internal/redisx/redistest"
	"github.com/yangcheng-county/elicence/internal/showcode"
)

func newShowCodeStore(t *testing.T, c *redisx.Client) *redisx.ShowCodeStore {
	t.Helper()
	s, err := redisx.NewShowCodeStore(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestShowcodeStoreSemantics(t *testing.T) {
	ctx := context.Background()
	c := redistest.Open(t)
	s := newShowCodeStore(t, c)
	exp := time.UnixMilli(time.Now().Add(time.Minute).UnixMilli())
	rec := showcode.Record{LicenceID: 12, HolderID: 3, Scope: showcode.ScopeFull, ExpiresAt: exp}
	hash := showcode.Hash("q83vEjRWeJq83vEjRWeJqw")
	if err := s.Save(ctx, hash, rec, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, hash, rec, time.Minute); err == nil {
		t.Fatal("Save overwrote a live code")
	}
	if ttl := c.Redis().PTTL(ctx, c.Key("sc", hash)).Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("code key TTL = %s, want (0, 1m]", ttl)
	}

	steps := []struct {
		name       string
		op         string
		officer    string
		wantErr    error
		wantReplay bool
	}{
		{"load live", "load", "", nil, false},
		{"load again", "load", "", nil, false},
		{"fresh consume", "consume", "officer-a", nil, false},
		{"load after consume", "load", "", showcode.ErrInvalid, false},
		{"same officer replays", "consume", "officer-a", nil, true},
		{"other officer refused", "consume", "officer-b", showcode.ErrInvalid, false},
		{"officer with newline refused", "consume", "officer-a\n", showcode.ErrInvalid, false},
		{"same officer still replays", "consume", "officer-a", nil, true},
	}
	for _, st := range steps {
		var (
			got    showcode.Record
			replay bool
			err    error
		)
		if st.op == "load" {
			got, err = s.Load(ctx, hash)
		} else {
			got, replay, err = s.Consume(ctx, hash, st.officer, time.Now())
		}
		if !errors.Is(err, st.wantErr) {
			t.Fatalf("%s: err = %v, want %v", st.name, err, st.wantErr)
		}
		if err != nil {
			continue
		}
		if got.LicenceID != rec.LicenceID || got.HolderID != rec.HolderID || got.Scope != rec.Scope || !got.ExpiresAt.Equal(rec.ExpiresAt) {
			t.Fatalf("%s: record = %+v, want %+v", st.name, got, rec)
		}
		if replay != st.wantReplay {
			t.Fatalf("%s: replay = %v, want %v", st.name, replay, st.wantReplay)
		}
	}
	// The used marker lives no longer than the code would have.
	if ttl := c.Redis().PTTL(ctx, c.Key("scu", hash)).Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("used marker TTL = %s, want (0, 1m]", ttl)
	}
	// Nothing under the prefix holds the raw token.
	keys := c.Redis().Keys(ctx, c.Key("*")).Val()
	for _, k := range keys {
		if strings.Contains(k, "q83vEjRWeJq83vEjRWeJqw") {
			t.Fatalf("key %q holds the raw token", k)
		}
	}
}

func TestShowcodeStoreExpiry(t *testing.T) {
	ctx := context.Background()
	c, m := redistest.Mini(t)
	s := newShowCodeStore(t, c)
	used := showcode.Hash("used")
	live := showcode.Hash("live")
	rec := showcode.Record{LicenceID: 1, HolderID: 2, Scope: showcode.ScopeBasic}
	for _, h := range []string{used, live} {
		if err := s.Save(ctx, h, rec, 60*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Consume(ctx, used, "officer-a", time.Now()); err != nil {
		t.Fatal(err)
	}
	m.FastForward(61 * time.Second)
	if _, err := s.Load(ctx, live); !errors.Is(err, showcode.ErrInvalid) {
		t.Fatalf("load expired: %v, want ErrInvalid", err)
	}
	if _, _, err := s.Consume(ctx, live, "officer-a", time.Now()); !errors.Is(err, showcode.ErrInvalid) {
		t.Fatalf("consume expired: %v, want ErrInvalid", err)
	}
	if _, _, err := s.Consume(ctx, used, "officer-a", time.Now()); !errors.Is(err, showcode.ErrInvalid) {
		t.Fatalf("replay after expiry: %v, want ErrInvalid", err)
	}
}

func TestShowcodeStoreConcurrentConsume(t *testing.T) {
	ctx := context.Background()
	c := redistest.Open(t)
	s := newShowCodeStore(t, c)
	hash := showcode.Hash("contested")
	if err := s.Save(ctx, hash, showcode.Record{LicenceID: 1, HolderID: 1, Scope: showcode.ScopeBasic}, time.Minute); err != nil {
		t.Fatal(err)
	}
	const n = 50
	var (
		wg               sync.WaitGroup
		mu               sync.Mutex
		fresh, rejected  int
		unexpectedErrors []error
	)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			_, replay, err := s.Consume(ctx, hash, fmt.Sprintf("officer-%d", i), time.Now())
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && !replay:
				fresh++
			case errors.Is(err, showcode.ErrInvalid):
				rejected++
			default:
				unexpectedErrors = append(unexpectedErrors, fmt.Errorf("replay=%v err=%v", replay, err))
			}
		}(i)
	}
	close(start)
	wg.Wait()
	if fresh != 1 || rejected != n-1 || len(unexpectedErrors) > 0 {
		t.Fatalf("fresh=%d rejected=%d unexpected=%v; want exactly one fresh consume", fresh, rejected, unexpectedErrors)
	}
}

func TestShowcodeStoreUnavailable(t *testing.T) {
	ctx := context.Background()
	c, m := redistest.Mini(t)
	s := newShowCodeStore(t, c)
	m.Close()
	hash := showcode.Hash("x")
	if err := s.Save(ctx, hash, showcode.Record{}, time.Minute); !errors.Is(err, fault.ErrUnavailable) {
		t.Fatalf("save with Redis down: %v, want fault.ErrUnavailable", err)
	}
	if _, err := s.Load(ctx, hash); !errors.Is(err, fault.ErrUnavailable) {
		t.Fatalf("load with Redis down: %v, want fault.ErrUnavailable", err)
	}
	if _, _, err := s.Consume(ctx, hash, "officer", time.Now()); !errors.Is(err, fault.ErrUnavailable) {
		t.Fatalf("consume with Redis down: %v, want fault.ErrUnavailable", err)
	}
}
