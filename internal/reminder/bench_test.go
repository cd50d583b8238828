package reminder_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/reminder"
	"github.com/yangcheng-county/elicence/internal/store"
)

// BenchmarkReminders measures the sweep over a large licence table beside
// a floor (one INSERT … SELECT producing the same rows), and dispatch
// throughput against the fake WeChat over HTTP with 1 and 3 dispatchers.
// It runs only with -bench (never in make test):
//
//	go test ./internal/reminder/ -run '^$' -bench Reminders -benchtime 3x -timeout 60m
//
// ELICENCE_REMINDER_BENCH_LICENCES sets the table size (default 1,000,000)
// and ELICENCE_REMINDER_BENCH_DISPATCH the rows per dispatch run (5,000).
func BenchmarkReminders(b *testing.B) {
	n := benchEnv(b, "ELICENCE_REMINDER_BENCH_LICENCES", 1_000_000)
	perRun := benchEnv(b, "ELICENCE_REMINDER_BENCH_DISPATCH", 5_000)
	f := newFixture(b, store.DriverMySQL)
	start := time.Now()
	seedBench(b, f, n)
	b.Logf("seeded %d licences, holders and accounts in %s", n, time.Since(start).Round(time.Millisecond))
	svc, _ := f.service(nil, func(o *reminder.Options) { o.BatchSize = 100 })
	ctx := context.Background()

	truncate := func() {
		f.exec("DELETE FROM reminders")
		f.exec("DELETE FROM reminder_sweeps")
	}
	var rows int64
	b.Run("sweep", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			truncate()
			b.StartTimer()
			res, err := svc.Sweep(ctx)
			if err != nil {
				b.Fatal(err)
			}
			rows = res.Pending + res.Skipped
		}
		b.ReportMetric(float64(rows), "rows")
	})
	b.Run("floor", func(b *testing.B) {
		q, args := floorSQL(f.clock.Now())
		var got int64
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			truncate()
			b.StartTimer()
			res, err := f.raw.ExecContext(ctx, q, args...)
			if err != nil {
				b.Fatal(err)
			}
			got, _ = res.RowsAffected()
		}
		if got != rows {
			b.Fatalf("floor inserted %d rows, the sweep %d: not the same selection", got, rows)
		}
		b.ReportMetric(float64(got), "rows")
	})

	// Dispatch: keep perRun pending rows of the last sweep.
	truncate()
	if _, err := svc.Sweep(ctx); err != nil {
		b.Fatal(err)
	}
	var cut int64
	if err := f.raw.QueryRowContext(ctx, "SELECT id FROM reminders WHERE state = 'pending' ORDER BY id LIMIT 1 OFFSET ?", perRun-1).Scan(&cut); err != nil {
		b.Fatalf("fewer than %d pending rows: %v", perRun, err)
	}
	f.exec("UPDATE reminders SET state = 'cancelled' WHERE state = 'pending' AND id > ?", cut)
	f.exec("UPDATE reminders SET state = 'parked' WHERE state = 'pending'")
	for _, dispatchers := range []int{1, 3} {
		b.Run(fmt.Sprintf("dispatch-%d", dispatchers), func(b *testing.B) {
			var svcs []*reminder.Service
			for i := 0; i < dispatchers; i++ {
				s, _ := f.service(f.open(), func(o *reminder.Options) { o.BatchSize = 100; o.Worker = fmt.Sprintf("bench-%d", i) })
				svcs = append(svcs, s)
			}
			var elapsed time.Duration
			retried := 0
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				f.exec("UPDATE reminders SET state = 'pending', attempts = 0, msgid = NULL, lease_until = NULL, next_attempt_at = created_at WHERE state IN ('parked', 'sent')")
				fake.Reset()
				b.StartTimer()
				t0 := time.Now()
				// A send that timed out on the loaded machine is retried
				// after its backoff: move the clock on and drain again.
				for try := 0; try < 5 && (try == 0 || fake.Stats().SendsAccepted < perRun); try++ {
					if try > 0 {
						retried++
						f.clock.Add(time.Hour)
					}
					var wg sync.WaitGroup
					for _, s := range svcs {
						wg.Add(1)
						go func() {
							defer wg.Done()
							var sum reminder.Summary
							if err := s.Drain(ctx, &sum); err != nil {
								b.Error(err)
							}
						}()
					}
					wg.Wait()
				}
				elapsed += time.Since(t0)
				b.StopTimer()
				if st := fake.Stats(); st.SendsAccepted != perRun {
					b.Fatalf("fake accepted %d sends, want %d", st.SendsAccepted, perRun)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(perRun*b.N)/elapsed.Seconds(), "msgs/s")
			b.ReportMetric(float64(retried), "retry-passes")
		})
	}
}

func benchEnv(b *testing.B, name string, def int) int {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("%s=%q", name, v)
		}
		return n
	}
	return def
}

// seedBench writes n holders, licences (expiry spread over ten years) and
// accounts with multi-row INSERTs on one connection with unique and foreign
// key checks off, 2,000 rows a statement.
func seedBench(b *testing.B, f *fixture, n int) {
	ctx := context.Background()
	conn, err := f.raw.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string) {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			b.Fatalf("%.80s: %v", q, err)
		}
	}
	exec("SET SESSION foreign_key_checks = 0, unique_checks = 0")
	now := time.Now().UTC().Format("2006-01-02 15:04:05")
	today := f.day(0)
	const chunk = 2000
	var hb, lb, ab strings.Builder
	for start := 1; start <= n; start += chunk {
		hb.Reset()
		lb.Reset()
		ab.Reset()
		hb.WriteString("INSERT INTO holders (id, kind, name, id_type, id_number_enc, id_number_idx, phone_enc, created_at) VALUES ")
		lb.WriteString("INSERT INTO licences (id, identifier, number_enc, number_idx, type_code, holder_id, issuer_id, issued_on, valid_from, valid_until, status, annotations, version, face_enc, seal, created_at, updated_at) VALUES ")
		ab.WriteString("INSERT INTO accounts (openid, holder_id, subscribed, created_at) VALUES ")
		firstA := true
		for id := start; id < start+chunk && id <= n; id++ {
			if id > start {
				hb.WriteByte(',')
				lb.WriteByte(',')
			}
			fmt.Fprintf(&hb, "(%d,'person','张三','111','x','%064d','','%s')", id, id, now)
			// Expiry from a year ago to nine years ahead; 1 in 50 revoked.
			until := today.AddDate(0, 0, (id*7919)%3650-365).Format(time.DateOnly)
			status := "valid"
			if id%50 == 0 {
				status = "revoked"
			}
			fmt.Fprintf(&lb, "(%d,'b-%d','x','%064d','%s',%d,%d,'2020-01-01','2020-01-01','%s','%s','[]',1,'x','x','%s','%s')",
				id, id, id, demo.TypeDrivingLicence, id, f.issuer, until, status, now, now)
			// 9 in 10 holders follow the account with a bound WeChat account.
			if id%10 != 0 {
				if !firstA {
					ab.WriteByte(',')
				}
				firstA = false
				fmt.Fprintf(&ab, "('o-%d',%d,1,'%s')", id, id, now)
			}
		}
		exec(hb.String())
		exec(lb.String())
		exec(ab.String())
	}
	exec("SET SESSION foreign_key_checks = 1, unique_checks = 1")
	exec("ANALYZE TABLE holders, licences, accounts")
	f.nextID = int64(n) + 1
}

// floorSQL is the sweep's whole selection in one INSERT … SELECT, with the
// default stages written in: what the database needs at the least.
func floorSQL(now time.Time) (string, []any) {
	d := now.In(shanghai)
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	ds := func(n int) string { return day.AddDate(0, 0, n).Format(time.DateOnly) }
	q := `INSERT INTO reminders (licence_id, stage, expiry_date, licence_version, openid, state, attempts, next_attempt_at, created_at, updated_at, reason)
SELECT l.id, s.stage, l.valid_until, l.version, a.openid,
  CASE WHEN l.valid_until > s.split THEN 'pending' ELSE 'skipped' END, 0, ?, ?, ?,
  CASE WHEN l.valid_until > s.split THEN NULL ELSE 'nearer_stage_due' END
FROM licences l
JOIN (SELECT 7 AS stage, ? AS upto, ? AS split UNION ALL SELECT 30, ?, ? UNION ALL SELECT 90, ?, ?) s ON l.valid_until <= s.upto
JOIN accounts a ON a.holder_id = l.holder_id AND a.subscribed = 1
WHERE l.valid_until >= ? AND l.valid_until <= ? AND l.status = 'valid' AND l.type_code IN (?)
  AND NOT EXISTS (SELECT 1 FROM reminder_optouts o WHERE o.licence_id = l.id AND o.holder_id = l.holder_id)`
	t := now.UTC()
	return q, []any{t, t, t, ds(7), ds(-1), ds(30), ds(7), ds(90), ds(30), ds(0), ds(90), demo.TypeDrivingLicence}
}
