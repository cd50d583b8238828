package redisx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yangcheng-county/elicence/internal/audit"
)

// AuditChecks keeps the console's audit chain checks for every instance:
// {prefix}auditcheck:<id> → the check as JSON, and {prefix}auditcheck:running
// → the id of the check under way, set only if absent, so one runs at a time.
type AuditChecks struct{ c *Client }

var _ audit.CheckStore = (*AuditChecks)(nil)

// NewAuditChecks returns the chain-check store on c.
func NewAuditChecks(c *Client) (*AuditChecks, error) {
	if c == nil {
		return nil, errors.New("redisx: NewAuditChecks needs a client")
	}
	return &AuditChecks{c: c}, nil
}

func (s *AuditChecks) key(id string) string { return s.c.Key("auditcheck", id) }
func (s *AuditChecks) runningKey() string   { return s.c.Key("auditcheck", "running") }

// Start implements audit.CheckStore. A running mark whose check has gone
// (its instance died and the record expired first) is taken over.
func (s *AuditChecks) Start(ctx context.Context, c audit.Check, ttl time.Duration) (audit.Check, bool, error) {
	for range 2 {
		ok, err := s.c.rdb.SetNX(ctx, s.runningKey(), c.ID, ttl).Result()
		if err != nil {
			return audit.Check{}, false, unavailable(err)
		}
		if ok {
			return c, true, s.put(ctx, c, ttl)
		}
		id, err := s.c.rdb.Get(ctx, s.runningKey()).Result()
		if errors.Is(err, redis.Nil) {
			continue // ended meanwhile
		}
		if err != nil {
			return audit.Check{}, false, unavailable(err)
		}
		cur, found, err := s.Get(ctx, id)
		if err != nil || found {
			return cur, false, err
		}
		if err := s.c.rdb.Del(ctx, s.runningKey()).Err(); err != nil {
			return audit.Check{}, false, unavailable(err)
		}
	}
	return audit.Check{}, false, errors.New("redisx: audit check: the running mark keeps changing")
}

// Save implements audit.CheckStore.
func (s *AuditChecks) Save(ctx context.Context, c audit.Check, ttl time.Duration) error {
	if err := s.put(ctx, c, ttl); err != nil {
		return err
	}
	return unavailable(ifRunning.Run(ctx, s.c.rdb, []string{s.runningKey()}, c.ID, ttl.Milliseconds()).Err())
}

// Finish implements audit.CheckStore.
func (s *AuditChecks) Finish(ctx context.Context, c audit.Check, ttl time.Duration) error {
	if err := s.put(ctx, c, ttl); err != nil {
		return err
	}
	return unavailable(ifRunning.Run(ctx, s.c.rdb, []string{s.runningKey()}, c.ID, 0).Err())
}

// ifRunning renews (ARGV[2] ms) or, with 0, clears the running mark, but
// only while it still names this check (ARGV[1]): a check whose mark
// expired and was taken over must not end or prolong the next one's.
var ifRunning = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '0' then return redis.call('DEL', KEYS[1]) end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
`)

// Get implements audit.CheckStore.
func (s *AuditChecks) Get(ctx context.Context, id string) (audit.Check, bool, error) {
	return getJSON[audit.Check](ctx, s.c, s.key(id), "audit check")
}

func (s *AuditChecks) put(ctx context.Context, c audit.Check, ttl time.Duration) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("redisx: encode audit check: %w", err)
	}
	return unavailable(s.c.rdb.Set(ctx, s.key(c.ID), b, ttl).Err())
}
