package verify_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // the floor's bare driver
	"github.com/redis/go-redis/v9"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/redisx"
	"github.com/yangcheng-county/elicence/internal/showcode"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/verify"
)

// floorConsume has the same semantics and cost as the service's consume
// script (one round trip: read, delete, mark used); the floor must not pay
// for more round trips than the service does.
var floorConsume = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 1000 then ttl = 1000 end
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], ARGV[1] .. '\n' .. v, 'PX', ttl)
  return {'fresh', v}
end
return false
`)

// BenchmarkVerify runs one successful verification per operation against
// the real MariaDB and Redis, beside a floor that makes the same calls with
// the bare drivers: two counter GETs, the code GET, the consume script,
// SELECTs of the licence, its type, the usage list, the holder and the
// issuer, and the INSERT of the usage record. "paired" interleaves the two
// and reports both and their ratio (x-floor): run one after the other, the
// two would each meet whatever else the machine and the database server
// were doing at the time. "floor" and "service" run each alone, for their
// allocation figures.
func BenchmarkVerify(b *testing.B) {
	e := newEnv(b, store.DriverMySQL, envOptions{limits: verify.Limits{PerOfficer: 1 << 30, PerIP: 1 << 30, Window: time.Hour}})
	ctx := context.Background()
	codes, err := redisx.NewShowCodeStore(e.redis)
	if err != nil {
		b.Fatal(err)
	}
	lic := e.zsDriving
	// prepare stores n live codes for the licence, outside the timer.
	prepare := func(b *testing.B, n int) []string {
		b.Helper()
		tokens := make([]string, n)
		for i := range tokens {
			var raw [16]byte
			if _, err := rand.Read(raw[:]); err != nil {
				b.Fatal(err)
			}
			tokens[i] = base64.RawURLEncoding.EncodeToString(raw[:])
			rec := showcode.Record{LicenceID: lic.ID, HolderID: lic.HolderID, Scope: showcode.ScopeBasic, ExpiresAt: time.Now().Add(10 * time.Minute)}
			if err := codes.Save(ctx, showcode.Hash(tokens[i]), rec, 10*time.Minute); err != nil {
				b.Fatal(err)
			}
		}
		return tokens
	}

	db, err := sql.Open("mysql", e.dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rdb := e.redis.Redis()
	officerKey := e.redis.Key("rl", "verify", "officer", police)
	ipKey := e.redis.Key("rl", "verify", "ip", "192.0.2.10")

	floorOnce := func(token string) error {
		for _, k := range []string{officerKey, ipKey} {
			if err := rdb.Get(ctx, k).Err(); err != nil && !errors.Is(err, redis.Nil) {
				return err
			}
		}
		hash := showcode.Hash(token)
		v, err := rdb.Get(ctx, e.redis.Key("sc", hash)).Bytes()
		if err != nil {
			return err
		}
		var rec struct {
			LicenceID int64 `json:"licence_id"`
		}
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		var (
			typeCode         string
			holderID, issuer int64
		)
		lrow := make([]any, 17)
		for i := range lrow {
			lrow[i] = new(any)
		}
		lrow[4], lrow[5], lrow[6] = &typeCode, &holderID, &issuer
		if err := db.QueryRowContext(ctx, `SELECT id, identifier, number_enc, number_idx, type_code, holder_id, issuer_id, issued_on, valid_from, valid_until,
			status, annotations, version, face_enc, seal, created_at, updated_at FROM licences WHERE id = ?`, rec.LicenceID).Scan(lrow...); err != nil {
			return err
		}
		queries := []struct {
			q    string
			args []any
			cols int
		}{
			{`SELECT code, name, holder_kind, fields, validity_years, reminder_stages, created_at FROM licence_types WHERE code = ?`, []any{typeCode}, 7},
			{`SELECT department_id, type_code, purposes FROM usage_lists WHERE department_id = ? AND type_code = ? LIMIT 1`, []any{e.police, typeCode}, 3},
			{`SELECT id, kind, name, id_type, id_number_enc, id_number_idx, phone_enc, created_at FROM holders WHERE id = ?`, []any{holderID}, 8},
			{`SELECT id, name, uscc, kind, area_code, created_at FROM departments WHERE id = ?`, []any{issuer}, 6},
		}
		for _, q := range queries {
			dest := make([]any, q.cols)
			for i := range dest {
				dest[i] = new(any)
			}
			if err := db.QueryRowContext(ctx, q.q, q.args...).Scan(dest...); err != nil {
				return err
			}
		}
		if err := floorConsume.Run(ctx, rdb, []string{e.redis.Key("sc", hash), e.redis.Key("scu", hash)}, police).Err(); err != nil {
			return err
		}
		_, err = db.ExecContext(ctx, `INSERT INTO usage_records (licence_id, officer_openid, department_id, purpose, scope, result, reason_code, client_ip, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, rec.LicenceID, police, e.police, demo.PurposeTrafficEnforcement, "basic", "valid", "ok", "192.0.2.10", time.Now().UTC())
		return err
	}

	service := func(token string) error {
		res, err := e.verifier.Verify(ctx, e.req(police, e.police, token))
		if err == nil && !res.Valid {
			err = errors.New("verification did not read valid")
		}
		return err
	}

	// paired alternates floor and service operation by operation and times
	// each, so that load from elsewhere on the machine hits both alike.
	// Its ns/op is one floor plus one service operation.
	b.Run("paired", func(b *testing.B) {
		tokens := prepare(b, 2*b.N)
		var floorT, serviceT time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			if err := floorOnce(tokens[2*i]); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if err := service(tokens[2*i+1]); err != nil {
				b.Fatal(err)
			}
			floorT += t1.Sub(t0)
			serviceT += time.Since(t1)
		}
		b.ReportMetric(float64(floorT.Nanoseconds())/float64(b.N), "floor-ns/op")
		b.ReportMetric(float64(serviceT.Nanoseconds())/float64(b.N), "service-ns/op")
		b.ReportMetric(float64(serviceT)/float64(floorT), "x-floor")
	})

	b.Run("floor", func(b *testing.B) {
		tokens := prepare(b, b.N)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := floorOnce(tokens[i]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("service", func(b *testing.B) {
		tokens := prepare(b, b.N)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := service(tokens[i]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
