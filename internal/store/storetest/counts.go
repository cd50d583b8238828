package storetest

import (
	"database/sql"
	"testing"

	_ "github.com/glebarez/go-sqlite" // the "sqlite" database/sql driver
	_ "github.com/go-sql-driver/mysql"

	"github.com/yangcheng-county/elicence/internal/store"
)

// Counts returns the number of rows in each table of the database at dsn,
// read over a connection of its own: tests outside the store use it to
// prove that a refused change wrote nothing.
func Counts(t testing.TB, driver, dsn string, tables ...string) map[string]int64 {
	t.Helper()
	if driver == store.DriverSQLite {
		dsn += "?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("storetest: counts: %v", err)
	}
	defer db.Close()
	out := make(map[string]int64, len(tables))
	for _, tb := range tables {
		var n int64
		// Table names come from the test itself, never from input.
		if err := db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+tb).Scan(&n); err != nil {
			t.Fatalf("storetest: count %s: %v", tb, err)
		}
		out[tb] = n
	}
	return out
}
