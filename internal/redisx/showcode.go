package redisx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yangcheng-county/elicence/internal/showcode"
)

// ShowCodeStore keeps show codes in Redis under {prefix}sc:<sha256 hex> with
// the code's TTL. A consumed code leaves {prefix}scu:<sha256 hex> behind for
// the rest of its life, holding the consuming officer, the time and the
// record, so that officer can re-submit and get the same answer while
// nobody else can. {prefix}sce:<sha256 hex> remembers that a code existed
// until showcode.Remember after its expiry, and {prefix}scs:<sha256 hex of
// the short code> points a short code at its code for as long.
type ShowCodeStore struct {
	c *Client
}

// NewShowCodeStore returns the store on c.
func NewShowCodeStore(c *Client) (*ShowCodeStore, error) {
	if c == nil {
		return nil, errors.New("redisx: NewShowCodeStore with nil client")
	}
	return &ShowCodeStore{c: c}, nil
}

var _ showcode.Store = (*ShowCodeStore)(nil)

// showCodeValue is the JSON kept under a code's key.
type showCodeValue struct {
	LicenceID int64  `json:"licence_id"`
	HolderID  int64  `json:"holder_id"`
	Scope     string `json:"scope"`
	Exp       int64  `json:"exp"` // unix milliseconds
}

// Save stores rec for ttl. SET NX: a 128-bit token never collides, and if
// it somehow did the first holder's code must not be overwritten.
func (s *ShowCodeStore) Save(ctx context.Context, hash string, rec showcode.Record, ttl time.Duration) error {
	v, err := json.Marshal(showCodeValue{LicenceID: rec.LicenceID, HolderID: rec.HolderID, Scope: string(rec.Scope), Exp: rec.ExpiresAt.UnixMilli()})
	if err != nil {
		return fmt.Errorf("redisx: encode show code: %w", err)
	}
	var set *redis.BoolCmd
	_, err = s.c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		set = p.SetNX(ctx, s.c.Key("sc", hash), v, ttl)
		p.Set(ctx, s.c.Key("sce", hash), rec.ExpiresAt.UnixMilli(), ttl+showcode.Remember)
		return nil
	})
	if err != nil {
		return unavailable(err)
	}
	if !set.Val() {
		return errors.New("redisx: show code hash already in use")
	}
	return nil
}

// Load returns the live record under hash, or showcode.ErrInvalid.
func (s *ShowCodeStore) Load(ctx context.Context, hash string) (showcode.Record, error) {
	v, err := s.c.rdb.Get(ctx, s.c.Key("sc", hash)).Result()
	if errors.Is(err, redis.Nil) {
		return showcode.Record{}, showcode.ErrInvalid
	}
	if err != nil {
		return showcode.Record{}, unavailable(err)
	}
	return decodeShowCode(v)
}

// LoadCounted reads the failure counters under counterKeys and the live
// record under hash in one round trip (a pipeline of MGET and GET), so a
// verification checks its limits and finds its code at the cost of one.
// An empty hash reads the counters only. The counts are returned with
// showcode.ErrInvalid too, so the caller can apply its limits first.
func (s *ShowCodeStore) LoadCounted(ctx context.Context, hash string, counterKeys []string) (showcode.Record, []int, error) {
	pipe := s.c.rdb.Pipeline()
	mget := pipe.MGet(ctx, counterKeys...)
	var get *redis.StringCmd
	if hash != "" {
		get = pipe.Get(ctx, s.c.Key("sc", hash))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return showcode.Record{}, nil, unavailable(err)
	}
	n, err := counts(counterKeys, mget.Val())
	if err != nil {
		return showcode.Record{}, nil, err
	}
	if get == nil || errors.Is(get.Err(), redis.Nil) {
		return showcode.Record{}, n, showcode.ErrInvalid
	}
	if get.Err() != nil {
		return showcode.Record{}, nil, unavailable(get.Err())
	}
	rec, err := decodeShowCode(get.Val())
	return rec, n, err
}

// consumeScript takes a code in one step, so two officers scanning the same
// code at once cannot both win. KEYS[1] is the code, KEYS[2] the used-by
// marker, ARGV[1] the officer, ARGV[2] the time in unix milliseconds.
//   - live code: delete it, remember officer + time + record for its
//     remaining life (at least a second) and return {"fresh", record, time};
//   - consumed by this officer: return {"replay", record, first time};
//   - otherwise: nil.
var consumeScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 1000 then ttl = 1000 end
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], ARGV[1] .. '\n' .. ARGV[2] .. '\n' .. v, 'PX', ttl)
  return {'fresh', v, ARGV[2]}
end
local u = redis.call('GET', KEYS[2])
if u then
  local s1 = string.find(u, '\n', 1, true)
  if s1 and string.sub(u, 1, s1 - 1) == ARGV[1] then
    local s2 = string.find(u, '\n', s1 + 1, true)
    if s2 then
      return {'replay', string.sub(u, s2 + 1), string.sub(u, s1 + 1, s2 - 1)}
    end
  end
end
return false
`)

// Consume atomically takes the code under hash for officer; see
// showcode.Store.
func (s *ShowCodeStore) Consume(ctx context.Context, hash, officer string, at time.Time) (showcode.Record, bool, error) {
	if officer == "" || strings.Contains(officer, "\n") {
		return showcode.Record{}, false, showcode.ErrInvalid
	}
	keys := []string{s.c.Key("sc", hash), s.c.Key("scu", hash)}
	res, err := consumeScript.Run(ctx, s.c.rdb, keys, officer, at.UnixMilli()).StringSlice()
	if errors.Is(err, redis.Nil) {
		return showcode.Record{}, false, showcode.ErrInvalid
	}
	if err != nil {
		return showcode.Record{}, false, unavailable(err)
	}
	if len(res) != 3 {
		return showcode.Record{}, false, fmt.Errorf("redisx: consume show code: unexpected reply of %d items", len(res))
	}
	rec, err := decodeShowCode(res[1])
	if err != nil {
		return showcode.Record{}, false, err
	}
	ms, err := strconv.ParseInt(res[2], 10, 64)
	if err != nil {
		return showcode.Record{}, false, fmt.Errorf("redisx: consume show code: bad time %q", res[2])
	}
	rec.ConsumedAt = time.UnixMilli(ms)
	return rec, res[0] == "replay", nil
}

func decodeShowCode(v string) (showcode.Record, error) {
	var sv showCodeValue
	if err := json.Unmarshal([]byte(v), &sv); err != nil {
		return showcode.Record{}, fmt.Errorf("redisx: decode show code: %w", err)
	}
	return showcode.Record{
		LicenceID: sv.LicenceID,
		HolderID:  sv.HolderID,
		Scope:     showcode.Scope(sv.Scope),
		ExpiresAt: time.UnixMilli(sv.Exp),
	}, nil
}
