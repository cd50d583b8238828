package redisx

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yangcheng-county/elicence/internal/showcode"
)

// SaveShort points a short code's hash at a code's hash for ttl; SET NX so
// a short code held by another code is never taken over.
func (s *ShowCodeStore) SaveShort(ctx context.Context, shortHash, hash string, ttl time.Duration) error {
	ok, err := s.c.rdb.SetNX(ctx, s.c.Key("scs", shortHash), hash, ttl).Result()
	if err != nil {
		return unavailable(err)
	}
	if !ok {
		return showcode.ErrShortCodeTaken
	}
	return nil
}

// ResolveShort returns the code hash behind a short code's hash, or
// showcode.ErrInvalid.
func (s *ShowCodeStore) ResolveShort(ctx context.Context, shortHash string) (string, error) {
	h, err := s.c.rdb.Get(ctx, s.c.Key("scs", shortHash)).Result()
	if errors.Is(err, redis.Nil) {
		return "", showcode.ErrInvalid
	}
	if err != nil {
		return "", unavailable(err)
	}
	return h, nil
}

// Expiry reads the remembered expiry of the code under hash; zero when
// it is not remembered.
func (s *ShowCodeStore) Expiry(ctx context.Context, hash string) (time.Time, error) {
	ms, err := s.c.rdb.Get(ctx, s.c.Key("sce", hash)).Int64()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, unavailable(err)
	}
	return time.UnixMilli(ms), nil
}
