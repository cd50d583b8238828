// Package redisx connects to Redis (or starts an in-process one in embedded
// mode) and holds the Redis implementations of the domain stores that keep
// short-lived state: sessions, OAuth states, real-name challenges, counters.
// Every key goes through Client.Key so that one configurable prefix isolates
// deployments and tests sharing a server.
package redisx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/fault"
)

// Client is a connected Redis with the deployment's key prefix. In embedded
// mode it also owns the in-process server, which Close stops.
type Client struct {
	rdb      redis.UniversalClient
	prefix   string
	embedded *miniredis.Miniredis
	stopTick func()
}

// Open connects to cfg.Addr, or, when cfg.Addr is "embedded", starts
// miniredis on a loopback port and connects to that, so embedded mode talks
// real RESP over TCP exactly like production. Timeouts are explicit: a
// stalled Redis must turn into an error (and a 503), not a hung request.
// Open pings before returning so a wrong address fails at start-up.
func Open(ctx context.Context, cfg config.Redis) (*Client, error) {
	c := &Client{prefix: cfg.KeyPrefix}
	addr := cfg.Addr
	if addr == "embedded" {
		m := miniredis.NewMiniRedis()
		if err := m.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("redisx: start embedded redis: %w", err)
		}
		c.embedded = m
		c.stopTick = keepTime(m, time.Second)
		addr = m.Addr()
	}
	c.rdb = redis.NewClient(&redis.Options{
		Addr:         addr,
		Password:     cfg.Password,
		DB:           cfg.DB,
		DialTimeout:  cfg.DialTimeout,
		ReadTimeout:  cfg.ReadTimeout,
		WriteTimeout: cfg.WriteTimeout,
		PoolSize:     cfg.PoolSize,
		// Fail fast rather than queue behind or keep redialling a dead
		// server: callers answer 503 and the client retries, not us.
		PoolTimeout:   cfg.DialTimeout + cfg.ReadTimeout,
		MaxRetries:    1,
		DialerRetries: 1,
		// No client-side identity call: miniredis and older servers refuse it.
		DisableIdentity: true,
		// A request's deadline bounds its Redis calls too (besides the
		// per-call read and write timeouts above).
		ContextTimeoutEnabled: true,
	})
	if err := c.Ping(ctx); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redisx: open %s: %w", describe(cfg.Addr), err)
	}
	return c, nil
}

// describe names the server without leaking a password embedded in a URL.
func describe(addr string) string {
	if addr == "embedded" {
		return "embedded redis"
	}
	return addr
}

// Redis is the underlying go-redis client, for adapters in other packages
// (the WeChat token cache, show codes).
func (c *Client) Redis() redis.UniversalClient { return c.rdb }

// Ping checks that Redis answers; /readyz uses it.
func (c *Client) Ping(ctx context.Context) error {
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		return fault.Unavailable("redis", err)
	}
	return nil
}

// Key joins parts with ":" after the configured prefix:
// Key("sess", h) → "elic:sess:<h>".
func (c *Client) Key(parts ...string) string {
	return c.prefix + strings.Join(parts, ":")
}

// Close closes the connection pool and stops the embedded server, if any.
func (c *Client) Close() error {
	var err error
	if c.rdb != nil {
		err = c.rdb.Close()
	}
	if c.stopTick != nil {
		c.stopTick()
	}
	if c.embedded != nil {
		c.embedded.Close()
	}
	return err
}

// keepTime makes the in-process Redis expire keys. miniredis keeps TTLs but
// only counts them down when told that time has passed, so without this
// lockouts, counters and codes would live until restart and memory would
// grow; every tick it is told how much time passed. It returns the stop
// function.
func keepTime(m *miniredis.Miniredis, every time.Duration) func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				m.SetTime(now)
				m.FastForward(now.Sub(last))
				last = now
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

// unavailable wraps a Redis error as a dependency failure; redis.Nil is not
// one and callers handle it before calling this.
func unavailable(err error) error {
	if err == nil || errors.Is(err, redis.Nil) {
		return err
	}
	return fault.Unavailable("redis", err)
}

// getJSON reads the JSON value under key into a T; found is false when the
// key does not exist. A Redis failure is wrapped as unavailable; a value
// that does not decode is a bug, reported as such.
func getJSON[T any](ctx context.Context, c *Client, key, what string) (v T, found bool, err error) {
	b, err := c.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return v, false, nil
	}
	if err != nil {
		return v, false, unavailable(err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, false, fmt.Errorf("redisx: decode %s: %w", what, err)
	}
	return v, true, nil
}
