package testkit_test

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/testkit"
)

func TestClockNowSetAdd(t *testing.T) {
	start := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	c := testkit.NewClock(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now() = %v, want %v", got, start)
	}
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now() moved on its own: %v, want %v", got, start)
	}
	c.Add(90 * time.Second)
	if want := start.Add(90 * time.Second); !c.Now().Equal(want) {
		t.Fatalf("after Add: Now() = %v, want %v", c.Now(), want)
	}
	c.Add(-time.Hour)
	if want := start.Add(90*time.Second - time.Hour); !c.Now().Equal(want) {
		t.Fatalf("after negative Add: Now() = %v, want %v", c.Now(), want)
	}
	later := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Set(later)
	if !c.Now().Equal(later) {
		t.Fatalf("after Set: Now() = %v, want %v", c.Now(), later)
	}
}

// TestClockConcurrent fails under -race if the clock is not guarded, and
// otherwise checks that no Add is lost.
func TestClockConcurrent(t *testing.T) {
	start := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	c := testkit.NewClock(start)
	const n = 50
	var wg sync.WaitGroup
	for range n {
		wg.Add(2)
		go func() { defer wg.Done(); c.Add(time.Second) }()
		go func() { defer wg.Done(); _ = c.Now() }()
	}
	wg.Wait()
	if want := start.Add(n * time.Second); !c.Now().Equal(want) {
		t.Fatalf("Now() = %v, want %v", c.Now(), want)
	}
}

func TestLogBufferCollectsConcurrentWrites(t *testing.T) {
	var b testkit.LogBuffer
	if got := b.String(); got != "" {
		t.Fatalf("zero LogBuffer String() = %q, want empty", got)
	}
	log := slog.New(slog.NewTextHandler(&b, nil))
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			log.Info("hello", "i", i)
			_ = b.String()
		}()
	}
	wg.Wait()
	out := b.String()
	if got := strings.Count(out, "\n"); got != n {
		t.Fatalf("got %d lines, want %d:\n%s", got, n, out)
	}
	for i := range n {
		if !strings.Contains(out, fmt.Sprintf(" i=%d\n", i)) {
			t.Errorf("line for i=%d missing:\n%s", i, out)
		}
	}
}
