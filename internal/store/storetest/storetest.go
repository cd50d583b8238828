// Package storetest gives tests a store of their own on either driver: a
// fresh SQLite file or a fresh MariaDB database, opened with fixed test keys,
// migrated and, when asked, seeded with the demo data, and closed when the
// test ends. Tests of the store package itself use mysqltest instead, as
// they cannot import a package that imports store.
package storetest

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/catalogue"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/secure"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/store/mysqltest"
)

// Drivers are the databases the integration suites run on: the same tests
// on both, so neither storage path goes untested.
var Drivers = []string{store.DriverSQLite, store.DriverMySQL}

// DSN returns a fresh, empty database of driver for this test: a file in
// t.TempDir for SQLite, a database of its own on the test MariaDB
// (mysqltest.DSN) for MySQL. Both go away when the test ends.
func DSN(t testing.TB, driver string) string {
	t.Helper()
	switch driver {
	case store.DriverSQLite:
		return filepath.Join(t.TempDir(), "elicence.db")
	case store.DriverMySQL:
		return mysqltest.DSN(t)
	}
	t.Fatalf("storetest: unknown driver %q", driver)
	return ""
}

// Sealer returns a sealer with fixed test keys. They are fixed so that a
// second connection pool, or a child process that has no testing.T, reads
// what the test sealed.
func Sealer() *secure.Sealer {
	s, err := secure.NewSealer(bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 32))
	if err != nil {
		panic("storetest: sealer: " + err.Error())
	}
	return s
}

// Open opens the database at dsn with the test Sealer and closes it when the
// test ends. opts come after the sealer, so a test may replace it or add a
// logger. Like store.Open it does not migrate: it is for another connection
// pool on a database the test has set up, as another instance would open.
func Open(t testing.TB, driver, dsn string, opts ...store.Option) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), driver, dsn, append([]store.Option{store.WithSealer(Sealer())}, opts...)...)
	if err != nil {
		t.Fatalf("storetest: open %s: %v", driver, err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// Migrated is Open followed by the versioned migrations, as `bff migrate`
// would run them: an empty schema for a test to fill.
func Migrated(t testing.TB, driver, dsn string, opts ...store.Option) *store.Store {
	t.Helper()
	st := Open(t, driver, dsn, opts...)
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatalf("storetest: migrate %s: %v", driver, err)
	}
	return st
}

// Seeded is Migrated plus the demo catalogue and the demo people and
// licences (demo.Seed), with validity dates counted from now.
func Seeded(t testing.TB, driver, dsn string, now time.Time, opts ...store.Option) *store.Store {
	t.Helper()
	st := Migrated(t, driver, dsn, opts...)
	if err := demo.Seed(t.Context(), store.TxAs[demo.Repository](st), now); err != nil {
		t.Fatalf("storetest: seed demo %s: %v", driver, err)
	}
	return st
}

// SeedCatalogue applies the demo catalogue alone to st.
func SeedCatalogue(t testing.TB, st *store.Store) {
	t.Helper()
	if err := demo.ApplyCatalogue(t.Context(), store.TxAs[catalogue.Repository](st)); err != nil {
		t.Fatalf("storetest: demo catalogue: %v", err)
	}
}
