package redisx

import (
	"context"
	"errors"
	"time"
)

// Nonces remembers the WeChat event pushes already handled
// ({prefix}wx:nonce:<timestamp>:<nonce>) for wechat.EventHandler, across
// every instance.
type Nonces struct{ c *Client }

// NewNonces returns the nonce memory on c.
func NewNonces(c *Client) (*Nonces, error) {
	if c == nil {
		return nil, errors.New("redisx: NewNonces with nil client")
	}
	return &Nonces{c: c}, nil
}

// Claim implements wechat.NonceStore with SET NX: one caller wins.
func (n *Nonces) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := n.c.rdb.SetNX(ctx, n.c.Key("wx", "nonce", key), 1, ttl).Result()
	if err != nil {
		return false, unavailable(err)
	}
	return ok, nil
}

// Release implements wechat.NonceStore.
func (n *Nonces) Release(ctx context.Context, key string) error {
	return unavailable(n.c.rdb.Del(ctx, n.c.Key("wx", "nonce", key)).Err())
}
