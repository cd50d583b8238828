// Package redistest gives tests a Redis client of their own: on the shared
// real Redis under a random key prefix (deleted at cleanup), or on a private
// miniredis whose clock a test can move.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/redisx"
)

// AddrEnv names the variable holding the test Redis address.
const AddrEnv = "ELICENCE_TEST_REDIS_ADDR"

// Addr is the real Redis tests use: $ELICENCE_TEST_REDIS_ADDR or 127.0.0.1:6379.
func Addr() string {
	if a := os.Getenv(AddrEnv); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// Config is a redis configuration for addr with a fresh random key prefix.
func Config(addr string) config.Redis {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return config.Redis{
		Addr:         addr,
		KeyPrefix:    "elictest:" + hex.EncodeToString(b[:]) + ":",
		DialTimeout:  2 * time.Second,
		ReadTimeout:  2 * time.Second,
		WriteTimeout: 2 * time.Second,
		PoolSize:     10,
	}
}

// Open connects to the real test Redis under a random key prefix and deletes
// every key under that prefix when the test ends. It fails the test when
// Redis is unreachable: a silently skipped test proves nothing.
func Open(t testing.TB) *redisx.Client {
	t.Helper()
	cfg := Config(Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := redisx.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("redistest: Redis at %s (set %s) is unreachable: %v", cfg.Addr, AddrEnv, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rdb := c.Redis()
		iter := rdb.Scan(ctx, 0, cfg.KeyPrefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		_ = c.Close()
	})
	return c
}

// Mini starts a private miniredis and connects to it, for tests that move
// Redis's clock with FastForward.
func Mini(t testing.TB) (*redisx.Client, *miniredis.Miniredis) {
	t.Helper()
	m := miniredis.RunT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := redisx.Open(ctx, Config(m.Addr()))
	if err != nil {
		t.Fatalf("redistest: miniredis: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, m
}
