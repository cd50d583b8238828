package store

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/catalogue"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/secure"
	"github.com/yangcheng-county/elicence/internal/store/mysqltest"
)

func testSealer(t *testing.T) *secure.Sealer {
	t.Helper()
	s, err := secure.NewSealer(bytes.Repeat([]byte{0x11}, 16), bytes.Repeat([]byte{0x22}, 32))
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
	dsn func(t testing.TB) string
}

func backends() []backend {
	return []backend{
		{name: DriverSQLite, dsn: func(t testing.TB) string {
			return filepath.Join(t.TempDir(), "data", "elicence.db")
		}},
		{name: DriverMySQL, dsn: mysqltest.DSN},
	}
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
		if err := demo.Seed(testCtx(t), TxAs[demo.Repository](s), now); err != nil {
			t.Fatalf("demo.Seed: %v", err)
		}
		fn(t, s)
	}
}

// seedCatalogue applies the demo catalogue alone.
func seedCatalogue(t *testing.T, s *Store) {
	t.Helper()
	if err := demo.ApplyCatalogue(testCtx(t), TxAs[catalogue.Repository](s)); err != nil {
		t.Fatalf("demo catalogue: %v", err)
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
	"departments", "licence_types", "licence_type_issuers", "holders", "licences", "accounts", "officers",
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
