package redisx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/yangcheng-county/elicence/internal/realname"
)

// Realname stores real-name challenges ({prefix}realname:ch:<sha256 of id>),
// failure counters ({prefix}rl:realname:<key>) and the resend throttle
// ({prefix}rl:realname:send:<openid or id:<keyed hash>>) for internal/realname.
type Realname struct {
	c        *Client
	counters *Counter
}

var _ realname.Store = (*Realname)(nil)

// NewRealname returns the real-name store on c.
func NewRealname(c *Client) (*Realname, error) {
	if c == nil {
		return nil, errors.New("redisx: NewRealname with nil client")
	}
	return &Realname{c: c, counters: NewCounter(c)}, nil
}

func (r *Realname) challengeKey(h string) string { return r.c.Key("realname", "ch", h) }
func (r *Realname) counterKey(k string) string   { return r.c.Key("rl", "realname", k) }

// PutChallenge implements realname.Store.
func (r *Realname) PutChallenge(ctx context.Context, idHash string, ch realname.Challenge, ttl time.Duration) error {
	b, err := json.Marshal(ch)
	if err != nil {
		return fmt.Errorf("redisx: encode challenge: %w", err)
	}
	return unavailable(r.c.rdb.Set(ctx, r.challengeKey(idHash), b, ttl).Err())
}

// GetChallenge implements realname.Store.
func (r *Realname) GetChallenge(ctx context.Context, idHash string) (realname.Challenge, bool, error) {
	return getJSON[realname.Challenge](ctx, r.c, r.challengeKey(idHash), "challenge")
}

// TakeChallenge implements realname.Store: DEL answers 1 to exactly one caller.
func (r *Realname) TakeChallenge(ctx context.Context, idHash string) (bool, error) {
	n, err := r.c.rdb.Del(ctx, r.challengeKey(idHash)).Result()
	if err != nil {
		return false, unavailable(err)
	}
	return n == 1, nil
}

// Failures implements realname.Store.
func (r *Realname) Failures(ctx context.Context, key string) (int, error) {
	return r.counters.Count(ctx, r.counterKey(key))
}

// AddFailure implements realname.Store.
func (r *Realname) AddFailure(ctx context.Context, key string, window time.Duration) (int, error) {
	return r.counters.Add(ctx, r.counterKey(key), window)
}

// AllowSend implements realname.Store with SET NX: the first caller in an
// interval wins.
func (r *Realname) AllowSend(ctx context.Context, key string, interval time.Duration) (bool, error) {
	if interval <= 0 {
		return true, nil
	}
	ok, err := r.c.rdb.SetNX(ctx, r.counterKey("send:"+key), 1, interval).Result()
	if err != nil {
		return false, unavailable(err)
	}
	return ok, nil
}
