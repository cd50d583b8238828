package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"

	"github.com/yangcheng-county/elicence/internal/secure"
)

const defaultTestMySQLDSN = "root@tcp(127.0.0.1:3306)/test?parseTime=true&loc=UTC&multiStatements=true"

func testSealer(t *testing.T) *secure.Sealer {
	t.Helper()
	s, err := secure.NewSealer(bytes.Repeat([]byte{0x11}, 32), bytes.Repeat([]byte{0x22}, 32))
	if err != nil {
		t.Fatalf("sealer: %v", err)
	}
	return s
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// backend opens fresh, empty databases of one driver.
type backend struct {
	name string
	// dsn returns the DSN of a new empty database, dropped at cleanup.
	dsn func(t *testing.T) string
}

func backends() []backend {
	return []backend{
		{name: DriverSQLite, dsn: func(t *testing.T) string {
			return filepath.Join(t.TempDir(), "data", "elicence.db")
		}},
		{name: DriverMySQL, dsn: freshMySQLDatabase},
	}
}

// freshMySQLDatabase creates elic_test_<random> on the server named by
// ELICENCE_TEST_MYSQL_DSN and drops it when the test ends. An unreachable
// server fails the test: the MySQL path must not go untested silently.
func freshMySQLDatabase(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("ELICENCE_TEST_MYSQL_DSN")
	if admin == "" {
		admin = defaultTestMySQLDSN
	}
	cfg, err := mysqldriver.ParseDSN(admin)
	if err != nil {
		t.Fatalf("ELICENCE_TEST_MYSQL_DSN is not a valid DSN: %v", err)
	}
	db, err := sql.Open("mysql", admin)
	if err != nil {
		t.Fatalf("MariaDB/MySQL test server: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("MariaDB/MySQL test server unreachable at %s (set ELICENCE_TEST_MYSQL_DSN): %v", cfg.Addr, err)
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := "elic_test_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	cfg.DBName = name
	cfg.MultiStatements = false
	return cfg.FormatDSN()
}

func openStore(t *testing.T, driver, dsn string, migrate bool) *Store {
	t.Helper()
	ctx := testCtx(t)
	s, err := Open(ctx, driver, dsn, WithSealer(testSealer(t)))
	if err != nil {
		t.Fatalf("open %s: %v", driver, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if migrate {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrate %s: %v", driver, err)
		}
	}
	return s
}

// forEachBackend runs fn against a freshly migrated database of every
// driver: the same repository tests, whatever the storage underneath.
func forEachBackend(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Helper()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			fn(t, openStore(t, b.name, b.dsn(t), true))
		})
	}
}

// seeded returns fn wrapped to run on a store holding the demo data.
func seeded(now time.Time, fn func(t *testing.T, s *Store)) func(t *testing.T, s *Store) {
	return func(t *testing.T, s *Store) {
		t.Helper()
		if err := s.SeedDemo(testCtx(t), now); err != nil {
			t.Fatalf("SeedDemo: %v", err)
		}
		fn(t, s)
	}
}

func count(t *testing.T, s *Store, table string) int64 {
	t.Helper()
	var n int64
	if err := s.db.WithContext(testCtx(t)).Table(table).Count(&n).Error; err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

var allTables = []string{
	"departments", "licence_types", "holders", "licences", "accounts", "officers",
	"usage_lists", "usage_records", "audit_events", "audit_head", "schema_migrations",
}

func tableCounts(t *testing.T, s *Store) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, tb := range allTables {
		out[tb] = count(t, s, tb)
	}
	return out
}

// demoNow is a fixed seeding instant: 2025-06-30 23:30 UTC is already
// 1 July in Asia/Shanghai, which catches day arithmetic done in UTC.
var demoNow = time.Date(2025, 6, 30, 23, 30, 0, 0, time.UTC)

func shanghaiDate(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, DateLocation())
}
