package stats_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"

	"github.com/yangcheng-county/elicence/internal/stats"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
)

// benchUsageRows is 1,000,000 unless ELICENCE_STATS_BENCH_ROWS says
// otherwise (a quicker look while working on the queries).
var benchUsageRows = func() int {
	if n, err := strconv.Atoi(os.Getenv("ELICENCE_STATS_BENCH_ROWS")); err == nil && n > 0 && n <= 10_000_000 {
		return n
	}
	return 1_000_000
}()

// The benchmark county: 20 departments (the first 10 issue), 100,000
// licences, 20,000 template messages sent in the month.
const (
	benchDepartments = 20
	benchIssuers     = 10
	benchLicences    = 100_000
	benchMessages    = 20_000
)

var benchJune = stats.Month{Year: 2025, Month: time.June}

// BenchmarkMonth renders the county's statistics for a month holding
// benchUsageRows verifications (stats.Service.County and the tables the
// page shows) on MariaDB, beside a floor: the bare aggregate SELECT of the
// month's verifications by department, result and purpose through
// database/sql, the least any statistics page over those rows must do.
// The data is generated once, on the server (INSERT … SELECT over a digits
// table), into a database of its own that is dropped afterwards.
//
//	go test ./internal/stats/ -run '^$' -bench Month -benchtime 5x
//
// "paired" alternates floor and report operation by operation and reports
// each one's time and their ratio (x-floor), so load from elsewhere on a
// shared machine hits both alike; "report", "floor" and "xlsx" (the
// report's workbook export) run alone.
func BenchmarkMonth(b *testing.B) {
	dsn := storetest.DSN(b, store.DriverMySQL)
	cfg, err := mysqldriver.ParseDSN(dsn)
	if err != nil {
		b.Fatal(err)
	}
	cfg.InterpolateParams = true // as configs/production.example.yaml
	dsn = cfg.FormatDSN()
	st := storetest.Migrated(b, store.DriverMySQL, dsn)
	raw, err := sql.Open("mysql", dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = raw.Close() })
	start := time.Now()
	seedMonth(b, raw, benchUsageRows)
	b.Logf("generated %d usage rows, %d licences and %d messages in %s", benchUsageRows, benchLicences, benchMessages, time.Since(start).Round(time.Second))

	svc, err := stats.NewService(st, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	report := func() stats.Report {
		r, err := svc.County(ctx, benchJune)
		if err != nil {
			b.Fatal(err)
		}
		_ = r.Tables()
		return r
	}
	from, to := benchJune.Bounds(store.DateLocation())
	floor := func() int64 {
		rows, err := raw.QueryContext(ctx, `SELECT department_id, result, purpose, COUNT(*) FROM usage_records
WHERE at >= ? AND at < ? GROUP BY department_id, result, purpose`, from.UTC(), to.UTC())
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		var (
			total, dept, n  int64
			result, purpose string
		)
		for rows.Next() {
			if err := rows.Scan(&dept, &result, &purpose, &n); err != nil {
				b.Fatal(err)
			}
			total += n
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		return total
	}
	if r, n := report(), floor(); r.County.Verifications != int64(benchUsageRows) || n != int64(benchUsageRows) {
		b.Fatalf("report counts %d verifications, floor %d, want %d", r.County.Verifications, n, benchUsageRows)
	}

	b.Run("paired", func(b *testing.B) {
		var floorT, reportT time.Duration
		for b.Loop() {
			t0 := time.Now()
			floor()
			t1 := time.Now()
			report()
			t2 := time.Now()
			floorT += t1.Sub(t0)
			reportT += t2.Sub(t1)
		}
		b.ReportMetric(floorT.Seconds()*1000/float64(b.N), "floor-ms/op")
		b.ReportMetric(reportT.Seconds()*1000/float64(b.N), "report-ms/op")
		b.ReportMetric(float64(reportT)/float64(floorT), "x-floor")
	})
	b.Run("report", func(b *testing.B) {
		for b.Loop() {
			report()
		}
	})
	b.Run("floor", func(b *testing.B) {
		for b.Loop() {
			floor()
		}
	})
	r := report()
	b.Run("xlsx", func(b *testing.B) {
		for b.Loop() {
			if err := stats.WriteXLSX(io.Discard, r.Tables()...); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// seedMonth generates the benchmark county on the server: departments, a
// licence type and a holder, benchLicences licences (a third imported
// stock, issued over the five years before the month, some in it), usage
// rows spread evenly over June 2025 in Asia/Shanghai (8 purposes, 1 in 20
// refused, 1 in 7 of the rest invalid) and sent messages, from a digits
// table cross-joined with itself. Foreign key checks are off on the
// loading connection: the generated ids are in range by construction.
func seedMonth(b *testing.B, raw *sql.DB, usageRows int) {
	ctx := context.Background()
	conn, err := raw.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string, args ...any) {
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("%.100s: %v", q, err)
		}
	}
	exec("SET SESSION foreign_key_checks = 0")
	exec("CREATE TABLE bench_digits (d TINYINT NOT NULL PRIMARY KEY)")
	exec("INSERT INTO bench_digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)")
	now := time.Now().UTC()
	var dv []string
	for i := 1; i <= benchDepartments; i++ {
		kind := "relying"
		if i <= benchIssuers {
			kind = "issuer"
		}
		dv = append(dv, fmt.Sprintf("(%d, '部门%02d', '%018d', '%s', '140522', '%s')", i, i, i, kind, now.Format(time.DateTime)))
	}
	exec("INSERT INTO departments (id, name, uscc, kind, area_code, created_at) VALUES " + strings.Join(dv, ","))
	exec("INSERT INTO licence_types (code, name, holder_kind, fields, created_at) VALUES ('11140522MB0000000X001', '营业执照', 'person', '[]', ?)", now)
	exec("INSERT INTO holders (id, kind, name, id_type, id_number_enc, id_number_idx, phone_enc, created_at) VALUES (1, 'person', '张三', '111', 'x', REPEAT('0', 64), '', ?)", now)

	// Licence n+1 was made n*1500 seconds (25 minutes) before 2025-06-30
	// 16:00 UTC, the month's end: the last 1,728 of them in June.
	exec(`INSERT INTO licences (id, identifier, number_enc, number_idx, type_code, holder_id, issuer_id, issued_on, valid_from,
  valid_until, status, annotations, version, face_enc, seal, created_at, updated_at, origin)
SELECT n + 1, CONCAT('b-', n), 'x', LPAD(n, 64, '0'), '11140522MB0000000X001', 1, 1 + n % ?,
  DATE(c + INTERVAL 8 HOUR), DATE(c + INTERVAL 8 HOUR),
  CASE WHEN n % 2 = 0 THEN NULL ELSE DATE(c + INTERVAL 8 HOUR) + INTERVAL 10 YEAR END,
  CASE WHEN n % 50 = 0 THEN 'revoked' ELSE 'valid' END, '[]', 1, 'x', '', c, c,
  CASE WHEN n % 3 = 0 THEN 'import' ELSE 'issue' END
FROM (SELECT n, TIMESTAMP('2025-06-30 16:00:00') - INTERVAL (n * 1500) SECOND AS c FROM (`+digits(benchLicences)+`) g) t`,
		benchIssuers)

	// Usage row n at n*2,592,000/rows seconds after 2025-05-31 16:00 UTC,
	// the month's start; written in ten statements to bound the undo log.
	step := (usageRows + 9) / 10
	for lo := 0; lo < usageRows; lo += step {
		exec(`INSERT INTO usage_records (licence_id, officer_openid, department_id, purpose, scope, result, reason_code, client_ip, at)
SELECT 1 + (n * 7919) % ?, CONCAT('o-', n % 500), 1 + n % ?,
  ELT(1 + n % 8, '开户', '贷款', '入学', '就业登记', '不动产登记', '社保办理', '医保报销', '婚姻登记'), 'basic',
  CASE WHEN n % 20 = 0 THEN 'refused' WHEN n % 7 = 0 THEN 'invalid' ELSE 'valid' END, 'ok', '127.0.0.1',
  TIMESTAMP('2025-05-31 16:00:00') + INTERVAL (n * 2592000 DIV ?) SECOND
FROM (`+digits(usageRows)+`) g WHERE n >= ? AND n < ?`,
			benchLicences, benchDepartments, usageRows, lo, min(lo+step, usageRows))
	}
	exec(`INSERT INTO reminders (licence_id, stage, expiry_date, licence_version, openid, state, next_attempt_at, created_at, updated_at, sent_at, kind)
SELECT n + 1, 30, '2025-07-31', 1, CONCAT('h-', n), CASE WHEN n % 10 = 0 THEN 'sent' ELSE 'delivered' END,
  s, s, s, s, CASE WHEN n % 4 = 0 THEN 'notice' ELSE 'expiry' END
FROM (SELECT n, TIMESTAMP('2025-05-31 16:00:00') + INTERVAL (n * 120) SECOND AS s FROM (` + digits(benchMessages) + `) g) t`)
	exec("DROP TABLE bench_digits")
	exec("SET SESSION foreign_key_checks = 1")
	exec("ANALYZE TABLE licences, usage_records, reminders")
}

// digits is a derived table of n from 0 to count-1: bench_digits joined
// with itself once per decimal digit of count-1.
func digits(count int) string {
	width := len(strconv.Itoa(max(count-1, 1)))
	var cols, from []string
	for i := range width {
		cols = append(cols, fmt.Sprintf("d%d.d * %d", i, pow10(i)))
		from = append(from, fmt.Sprintf("bench_digits d%d", i))
	}
	return fmt.Sprintf("SELECT %s AS n FROM %s HAVING n < %d", strings.Join(cols, " + "), strings.Join(from, ", "), count)
}

func pow10(i int) int {
	n := 1
	for range i {
		n *= 10
	}
	return n
}
