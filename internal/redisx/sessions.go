package redisx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yangcheng-county/elicence/internal/auth"
)

// Sessions stores OAuth states and login sessions for internal/auth:
// {prefix}oauth:<sha256 of state> → next path, {prefix}sess:<sha256 of id>
// → JSON record. Only hashes reach Redis.
type Sessions struct {
	c *Client
}

var _ auth.Store = (*Sessions)(nil)

// NewSessions returns the session store on c.
func NewSessions(c *Client) (*Sessions, error) {
	if c == nil {
		return nil, errors.New("redisx: NewSessions with nil client")
	}
	return &Sessions{c: c}, nil
}

func (s *Sessions) stateKey(h string) string   { return s.c.Key("oauth", h) }
func (s *Sessions) sessionKey(h string) string { return s.c.Key("sess", h) }

// PutState implements auth.Store.
func (s *Sessions) PutState(ctx context.Context, stateHash, next string, ttl time.Duration) error {
	return unavailable(s.c.rdb.Set(ctx, s.stateKey(stateHash), next, ttl).Err())
}

// TakeState implements auth.Store with GETDEL, so two callbacks racing
// with one state cannot both succeed.
func (s *Sessions) TakeState(ctx context.Context, stateHash string) (string, bool, error) {
	next, err := s.c.rdb.GetDel(ctx, s.stateKey(stateHash)).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, unavailable(err)
	}
	return next, true, nil
}

// PutSession implements auth.Store.
func (s *Sessions) PutSession(ctx context.Context, idHash string, r auth.Record, ttl time.Duration) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("redisx: encode session: %w", err)
	}
	return unavailable(s.c.rdb.Set(ctx, s.sessionKey(idHash), b, ttl).Err())
}

// TouchSession implements auth.Store with SET XX: a session deleted by a
// concurrent logout stays deleted.
func (s *Sessions) TouchSession(ctx context.Context, idHash string, r auth.Record, ttl time.Duration) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("redisx: encode session: %w", err)
	}
	err = s.c.rdb.SetXX(ctx, s.sessionKey(idHash), b, ttl).Err()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	return unavailable(err)
}

// GetSession implements auth.Store.
func (s *Sessions) GetSession(ctx context.Context, idHash string) (auth.Record, bool, error) {
	return getJSON[auth.Record](ctx, s.c, s.sessionKey(idHash), "session")
}

// DeleteSession implements auth.Store.
func (s *Sessions) DeleteSession(ctx context.Context, idHash string) error {
	return unavailable(s.c.rdb.Del(ctx, s.sessionKey(idHash)).Err())
}
