package redisx

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Counter is a fixed-window counter of failures (wrong codes, refused
// verifications). It fails closed: a Redis error is returned, never read as
// "no failures yet", so a caller cannot be let through while Redis is down.
type Counter struct {
	c *Client
}

// NewCounter returns a counter on c. Keys passed to its methods are full
// keys: build them with c.Key.
func NewCounter(c *Client) *Counter {
	if c == nil {
		panic("redisx: NewCounter with nil client")
	}
	return &Counter{c: c}
}

// Count returns the failures recorded under key in the current window.
func (k *Counter) Count(ctx context.Context, key string) (int, error) {
	v, err := k.c.rdb.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, unavailable(err)
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("redisx: counter %q holds %q: %w", key, v, err)
	}
	return n, nil
}

// addScript counts one failure and starts the window on the first: the
// expiry is set only when the key has none, so later failures do not extend
// it. EXPIRE … NX would say the same but needs Redis 7.0, and
// docs/OPERATIONS.md promises 6.2; a key that somehow lost its expiry is
// given one again rather than blocking forever.
var addScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then
	redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n`)

// Add records one failure and returns the new count. The window starts with
// the first failure and is not extended by later ones.
func (k *Counter) Add(ctx context.Context, key string, window time.Duration) (int, error) {
	n, err := addScript.Run(ctx, k.c.rdb, []string{key}, window.Milliseconds()).Int()
	if err != nil {
		return 0, unavailable(err)
	}
	return n, nil
}

// Reset forgets the failures under key.
func (k *Counter) Reset(ctx context.Context, key string) error {
	return unavailable(k.c.rdb.Del(ctx, key).Err())
}

// counts reads MGET answers as counters: a missing key is zero.
func counts(keys []string, vals []any) ([]int, error) {
	out := make([]int, len(keys))
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("redisx: counter %q holds %q: %w", keys[i], s, err)
		}
		out[i] = n
	}
	return out, nil
}
