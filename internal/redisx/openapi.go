package redisx

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yangcheng-county/elicence/internal/openapi"
)

// Nonces remembers the Open API nonces each app has used, under
// {prefix}nonce:<app id>:<nonce>, for the TTL the authenticator asks.
type Nonces struct {
	c *Client
}

// NewNonces returns the nonce memory on c.
func NewNonces(c *Client) (*Nonces, error) {
	if c == nil {
		return nil, errors.New("redisx: NewNonces with nil client")
	}
	return &Nonces{c: c}, nil
}

var _ openapi.NonceStore = (*Nonces)(nil)

// Claim records the nonce with SET NX: of two requests carrying the same
// nonce, exactly one sees true, whichever instance serves it.
func (n *Nonces) Claim(ctx context.Context, appID, nonce string, ttl time.Duration) (bool, error) {
	ok, err := n.c.rdb.SetNX(ctx, n.c.Key("nonce", appID, nonce), 1, ttl).Result()
	if err != nil {
		return false, unavailable(err)
	}
	return ok, nil
}

// Idempotency keeps Open API idempotency records as hashes (fp, owner,
// state, status, ctype, body). Each step is one Lua script, so reserving a
// key, finishing it and releasing it are atomic against other instances.
type Idempotency struct {
	c *Client
}

// NewIdempotency returns the record store on c.
func NewIdempotency(c *Client) (*Idempotency, error) {
	if c == nil {
		return nil, errors.New("redisx: NewIdempotency with nil client")
	}
	return &Idempotency{c: c}, nil
}

var _ openapi.IdemStore = (*Idempotency)(nil)

var reserveScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
	return redis.call('HMGET', KEYS[1], 'fp', 'owner', 'state', 'status', 'ctype', 'body')
end
redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'owner', ARGV[2], 'state', 'pending')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return false`)

// Reserve stores a pending record unless one exists, which it returns.
func (s *Idempotency) Reserve(ctx context.Context, key string, rec openapi.IdemRecord, ttl time.Duration) (openapi.IdemRecord, bool, error) {
	v, err := reserveScript.Run(ctx, s.c.rdb, []string{key}, rec.Fingerprint, rec.Owner, ttl.Milliseconds()).Slice()
	if errors.Is(err, redis.Nil) {
		return openapi.IdemRecord{}, false, nil
	}
	if err != nil {
		return openapi.IdemRecord{}, false, unavailable(err)
	}
	if len(v) != 6 {
		return openapi.IdemRecord{}, false, fmt.Errorf("redisx: idempotency record %d fields", len(v))
	}
	str := func(i int) string { s, _ := v[i].(string); return s }
	prev := openapi.IdemRecord{Fingerprint: str(0), Owner: str(1), Pending: str(2) != "done"}
	if !prev.Pending {
		status, err := strconv.Atoi(str(3))
		if err != nil {
			return openapi.IdemRecord{}, false, fmt.Errorf("redisx: idempotency record status %q: %w", str(3), err)
		}
		prev.Response = openapi.Response{Status: status, ContentType: str(4), Body: []byte(str(5))}
	}
	return prev, true, nil
}

var finishScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then
	return 0
end
redis.call('HSET', KEYS[1], 'state', 'done', 'status', ARGV[2], 'ctype', ARGV[3], 'body', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`)

// errReservationLost is returned when a record's reservation expired (or
// was taken over) before its request finished.
var errReservationLost = errors.New("redisx: idempotency reservation lost")

// Finish turns the owner's pending record into a finished one.
func (s *Idempotency) Finish(ctx context.Context, key, owner string, rec openapi.IdemRecord, ttl time.Duration) error {
	n, err := finishScript.Run(ctx, s.c.rdb, []string{key}, owner, rec.Response.Status, rec.Response.ContentType, rec.Response.Body, ttl.Milliseconds()).Int()
	if err != nil {
		return unavailable(err)
	}
	if n != 1 {
		return errReservationLost
	}
	return nil
}

var releaseScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] and redis.call('HGET', KEYS[1], 'state') == 'pending' then
	return redis.call('DEL', KEYS[1])
end
return 0`)

// Release deletes the owner's record while it is still pending.
func (s *Idempotency) Release(ctx context.Context, key, owner string) error {
	return unavailable(releaseScript.Run(ctx, s.c.rdb, []string{key}, owner).Err())
}
