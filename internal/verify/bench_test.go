package verify_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // the floor's bare driver
	"github.com/redis/go-redis/v9"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/licence"
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
// the bare drivers: the counters and the code read in one pipeline, the
// one joined SELECT of the licence with its type, issuer, holder and
// usage-list entry, the consume script, and the INSERT of the usage record. "paired" interleaves
// the two and reports both and their ratio (x-floor): run one after the
// other, the two would each meet whatever else the machine and the
// database server were doing at the time. "floor" and "service" run each
// alone, for their allocation figures; "parallel" runs the service from 8
// goroutines at once, for its rate. "chain" is the work moved off the
// request: appending the waiting usage records to the audit chain, in the
// chainer's batches, per record.
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
		// The counters and the code in one round trip, as the service reads
		// them.
		hash := showcode.Hash(token)
		pipe := rdb.Pipeline()
		pipe.MGet(ctx, officerKey, ipKey)
		get := pipe.Get(ctx, e.redis.Key("sc", hash))
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
		v, err := get.Bytes()
		if err != nil {
			return err
		}
		var rec struct {
			LicenceID int64 `json:"licence_id"`
		}
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		// The service's one read: licence, type, issuer, holder and the
		// department's usage-list entry, joined.
		rows, err := db.QueryContext(ctx, `SELECT l.*, t.name, t.holder_kind, t.fields, t.validity_years, t.reminder_stages,
  d.name, d.uscc, d.kind, d.area_code, h.kind, h.name, h.id_type, h.id_number_enc, h.phone_enc, u.purposes
FROM licences l JOIN licence_types t ON t.code = l.type_code JOIN departments d ON d.id = l.issuer_id
JOIN holders h ON h.id = l.holder_id LEFT JOIN usage_lists u ON u.department_id = ? AND u.type_code = l.type_code
WHERE l.id = ?`, e.police, rec.LicenceID)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		dest := make([]any, len(cols))
		for i := range dest {
			dest[i] = new(any)
		}
		if !rows.Next() {
			return errors.Join(errors.New("floor: licence not found"), rows.Err())
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if err := floorConsume.Run(ctx, rdb, []string{e.redis.Key("sc", hash), e.redis.Key("scu", hash)}, police).Err(); err != nil {
			return err
		}
		// The service's one write: the usage record, autocommitted; its
		// audit entry is chained later, off the request.
		_, err = db.ExecContext(ctx, `INSERT INTO usage_records (licence_id, officer_openid, department_id, purpose, scope, result, reason_code, client_ip, at, audit_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`, rec.LicenceID, police, e.police, demo.PurposeTrafficEnforcement, "basic", "valid", "ok", "192.0.2.10", time.Now().UTC())
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
	// parallel runs verifications from 8 goroutines at once, as officers
	// across a county would: what the rate is when nothing but the
	// database serialises them.
	b.Run("parallel", func(b *testing.B) {
		tokens := prepare(b, b.N)
		var next atomic.Int64
		b.SetParallelism(4)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := service(tokens[next.Add(1)-1]); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
	})
	b.Run("chain", func(b *testing.B) {
		chainer, err := audit.NewChainer(e.store, time.Hour, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		// What the runs above left waiting is chained outside the timer.
		if _, err := chainer.Drain(ctx); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < b.N; i++ {
			if err := e.store.RecordUsage(ctx, licence.UsageRecord{LicenceID: lic.ID, OfficerOpenID: police, DepartmentID: e.police,
				Purpose: demo.PurposeTrafficEnforcement, Scope: "basic", Result: "valid", ReasonCode: "ok", ClientIP: "192.0.2.10"}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		n, err := chainer.Drain(ctx)
		if err != nil || n != b.N {
			b.Fatalf("chained %d of %d: %v", n, b.N, err)
		}
	})
}
