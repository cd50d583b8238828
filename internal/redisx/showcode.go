package redisx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yangcheng-county/elicence/internal/showcode"
)

// ShowCodeStore keeps show codes in Redis under {prefix}sc:<sha256 hex> with
// the code's TTL. A consumed code leaves {prefix}scu:<sha256 hex> behind for
// the rest of its life, holding the consuming officer and the record, so
// that officer can re-submit and get the same answer while nobody else can.
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
	ok, err := s.c.rdb.SetNX(ctx, s.c.Key("sc", hash), v, ttl).Result()
	if err != nil {
		return unavailable(err)
	}
	if !ok {
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

// consumeScript takes a code in one step, so two officers scanning the same
// code at once cannot both win. KEYS[1] is the code, KEYS[2] the used-by
// marker, ARGV[1] the officer.
//   - live code: delete it, remember officer + record for its remaining
//     life (at least a second) and return {"fresh", record};
//   - consumed by this officer: return {"replay", record};
//   - otherwise: nil.
var consumeScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 1000 then ttl = 1000 end
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], ARGV[1] .. '\n' .. v, 'PX', ttl)
  return {'fresh', v}
end
local u = redis.call('GET', KEYS[2])
if u then
  local sep = string.find(u, '\n', 1, true)
  if sep and string.sub(u, 1, sep - 1) == ARGV[1] then
    return {'replay', string.sub(u, sep + 1)}
  end
end
return false
`)

// Consume atomically takes the code under hash for officer; see
// showcode.Store.
func (s *ShowCodeStore) Consume(ctx context.Context, hash, officer string) (showcode.Record, bool, error) {
	if officer == "" || strings.Contains(officer, "\n") {
		return showcode.Record{}, false, showcode.ErrInvalid
	}
	res, err := consumeScript.Run(ctx, s.c.rdb, []string{s.c.Key("sc", hash), s.c.Key("scu", hash)}, officer).StringSlice()
	if errors.Is(err, redis.Nil) {
		return showcode.Record{}, false, showcode.ErrInvalid
	}
	if err != nil {
		return showcode.Record{}, false, unavailable(err)
	}
	if len(res) != 2 {
		return showcode.Record{}, false, fmt.Errorf("redisx: consume show code: unexpected reply of %d items", len(res))
	}
	rec, err := decodeShowCode(res[1])
	if err != nil {
		return showcode.Record{}, false, err
	}
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
