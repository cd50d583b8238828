package redisx

import (
	"context"
	"errors"
	"time"
)

// EventNonces remembers the WeChat event pushes already handled
// ({prefix}wx:nonce:<timestamp>:<nonce>) for wechat.EventHandler, across
// every instance.
type EventNonces struct{ c *Client }

// NewEventNonces returns the event nonce memory on c.
func NewEventNonces(c *Client) (*EventNonces, error) {
	if c == nil {
		return nil, errors.New("redisx: NewEventNonces with nil client")
	}
	return &EventNonces{c: c}, nil
}

// Claim implements wechat.NonceStore with SET NX: one caller wins.
func (n *EventNonces) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := n.c.rdb.SetNX(ctx, n.c.Key("wx", "nonce", key), 1, ttl).Result()
	if err != nil {
		return false, unavailable(err)
	}
	return ok, nil
}

// Release implements wechat.NonceStore.
func (n *EventNonces) Release(ctx context.Context, key string) error {
	return unavailable(n.c.rdb.Del(ctx, n.c.Key("wx", "nonce", key)).Err())
}
