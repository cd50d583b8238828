package wechat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/cache"
)

// MinCacheTTL is the expiry given to entries the SDK stores with a TTL of
// zero, a negative TTL or less than a second. The SDK computes TTLs as
// "expires_in minus a margin", which goes ≤ 0 for short-lived tokens, and
// go-redis v9 treats 0 as "never expire": a token cached forever would be
// used long after WeChat dropped it.
const MinCacheTTL = time.Second

// RedisCache is the SDK's cache.Cache on go-redis v9 (the SDK bundles a
// go-redis v8 implementation). Access tokens and jsapi tickets live here so
// that every instance shares one token instead of fetching its own.
type RedisCache struct {
	rdb    redis.UniversalClient
	prefix string
}

var _ cache.ContextCache = (*RedisCache)(nil)

// NewRedisCache returns a cache whose keys all start with prefix.
func NewRedisCache(rdb redis.UniversalClient, prefix string) (*RedisCache, error) {
	if rdb == nil {
		return nil, errors.New("wechat: redis client is nil")
	}
	if prefix == "" {
		return nil, errors.New("wechat: cache key prefix is empty")
	}
	return &RedisCache{rdb: rdb, prefix: prefix}, nil
}

// Get implements cache.Cache.
func (c *RedisCache) Get(key string) interface{} {
	return c.GetContext(context.Background(), key)
}

// GetContext returns the stored string, or an untyped nil on a miss. The SDK
// tests the result with `!= nil` and then asserts string, so a typed nil or a
// []byte would panic or pass as a hit. A Redis failure also reads as a miss:
// the SDK then fetches from WeChat and its Set reports the failure.
func (c *RedisCache) GetContext(ctx context.Context, key string) interface{} {
	v, err := c.rdb.Get(ctx, c.prefix+key).Result()
	if err != nil {
		return nil
	}
	return v
}

// Set implements cache.Cache.
func (c *RedisCache) Set(key string, val interface{}, timeout time.Duration) error {
	return c.SetContext(context.Background(), key, val, timeout)
}

// SetContext stores a string (or []byte) value; see MinCacheTTL for timeouts.
func (c *RedisCache) SetContext(ctx context.Context, key string, val interface{}, timeout time.Duration) error {
	var s string
	switch v := val.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("wechat: cache set %q: unsupported value type %T", key, val)
	}
	if timeout < MinCacheTTL {
		timeout = MinCacheTTL
	}
	if err := c.rdb.Set(ctx, c.prefix+key, s, timeout).Err(); err != nil {
		return fmt.Errorf("wechat: cache set %q: %w", key, err)
	}
	return nil
}

// IsExist implements cache.Cache.
func (c *RedisCache) IsExist(key string) bool {
	return c.IsExistContext(context.Background(), key)
}

// IsExistContext reports whether key is stored; a Redis failure reads as absent.
func (c *RedisCache) IsExistContext(ctx context.Context, key string) bool {
	n, err := c.rdb.Exists(ctx, c.prefix+key).Result()
	return err == nil && n > 0
}

// Delete implements cache.Cache.
func (c *RedisCache) Delete(key string) error {
	return c.DeleteContext(context.Background(), key)
}

// DeleteContext removes key; deleting a missing key is not an error.
func (c *RedisCache) DeleteContext(ctx context.Context, key string) error {
	if err := c.rdb.Del(ctx, c.prefix+key).Err(); err != nil {
		return fmt.Errorf("wechat: cache delete %q: %w", key, err)
	}
	return nil
}
