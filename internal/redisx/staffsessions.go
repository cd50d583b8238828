package redisx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yangcheng-county/elicence/internal/staff"
)

// StaffSessions stores console sessions for internal/staff, apart from
// the WeChat sessions: {prefix}staffsess:<sha256 of id> → JSON record, and
// {prefix}staffsess:by:<staff id> → the set of that member's session
// hashes, so disabling a member revokes every session at once.
type StaffSessions struct {
	c *Client
	// indexTTL outlives every session of the index (a session lives at
	// most the absolute timeout), so a member's index goes away by itself
	// some time after their last session.
	indexTTL time.Duration
}

var _ staff.Sessions = (*StaffSessions)(nil)

// NewStaffSessions returns the console session store on c; absolute is the
// sessions' absolute timeout.
func NewStaffSessions(c *Client, absolute time.Duration) (*StaffSessions, error) {
	if c == nil || absolute <= 0 {
		return nil, errors.New("redisx: NewStaffSessions needs a client and the absolute timeout")
	}
	return &StaffSessions{c: c, indexTTL: absolute + time.Hour}, nil
}

func (s *StaffSessions) key(h string) string { return s.c.Key("staffsess", h) }
func (s *StaffSessions) indexKey(staffID int64) string {
	return s.c.Key("staffsess", "by", strconv.FormatInt(staffID, 10))
}

// Put implements staff.Sessions: the record and its index entry in one
// transaction.
func (s *StaffSessions) Put(ctx context.Context, idHash string, r staff.SessionRecord, ttl time.Duration) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("redisx: encode staff session: %w", err)
	}
	_, err = s.c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, s.key(idHash), b, ttl)
		p.SAdd(ctx, s.indexKey(r.StaffID), idHash)
		p.Expire(ctx, s.indexKey(r.StaffID), s.indexTTL)
		return nil
	})
	return unavailable(err)
}

// Touch implements staff.Sessions with SET XX: a session revoked
// meanwhile stays revoked.
func (s *StaffSessions) Touch(ctx context.Context, idHash string, r staff.SessionRecord, ttl time.Duration) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("redisx: encode staff session: %w", err)
	}
	err = s.c.rdb.SetXX(ctx, s.key(idHash), b, ttl).Err()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	return unavailable(err)
}

// Get implements staff.Sessions.
func (s *StaffSessions) Get(ctx context.Context, idHash string) (staff.SessionRecord, bool, error) {
	return getJSON[staff.SessionRecord](ctx, s.c, s.key(idHash), "staff session")
}

// Delete implements staff.Sessions.
func (s *StaffSessions) Delete(ctx context.Context, staffID int64, idHash string) error {
	_, err := s.c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.key(idHash))
		p.SRem(ctx, s.indexKey(staffID), idHash)
		return nil
	})
	return unavailable(err)
}

// DeleteAll implements staff.Sessions. A session opened between reading
// the index and deleting it is not missed for long: the member's next
// request reads the disabled mark (staff.Service.Resolve).
func (s *StaffSessions) DeleteAll(ctx context.Context, staffID int64) error {
	hashes, err := s.c.rdb.SMembers(ctx, s.indexKey(staffID)).Result()
	if err != nil {
		return unavailable(err)
	}
	keys := []string{s.indexKey(staffID)}
	for _, h := range hashes {
		keys = append(keys, s.key(h))
	}
	return unavailable(s.c.rdb.Del(ctx, keys...).Err())
}
