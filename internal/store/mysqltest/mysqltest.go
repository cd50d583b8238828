// Package mysqltest gives a test a MariaDB database of its own on the shared
// test server, dropped when the test ends. It imports nothing of this module,
// so the store package's own tests can use it too (they cannot import
// storetest, which imports store); other tests want storetest.
package mysqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
)

// DSNEnv names the variable holding the DSN of the test server; the
// database it names is only used to connect.
const DSNEnv = "ELICENCE_TEST_MYSQL_DSN"

// adminDSN is $ELICENCE_TEST_MYSQL_DSN or the local MariaDB of a developer
// machine and CI.
func adminDSN() string {
	if dsn := os.Getenv(DSNEnv); dsn != "" {
		return dsn
	}
	return "root@tcp(127.0.0.1:3306)/test?parseTime=true&loc=UTC&multiStatements=true"
}

// DSN creates elic_test_<random> on the test server and returns its DSN
// (the server's, with multiStatements off as in production). The database is
// dropped when the test ends; cleanups run last first, so a store opened on
// it afterwards is closed by then. An unreachable server fails the test
// rather than skipping it: the MySQL path must not go untested silently.
func DSN(t testing.TB) string {
	t.Helper()
	admin := adminDSN()
	cfg, err := mysqldriver.ParseDSN(admin)
	if err != nil {
		t.Fatalf("mysqltest: %s is not a valid DSN: %v", DSNEnv, err)
	}
	db, err := sql.Open("mysql", admin)
	if err != nil {
		t.Fatalf("mysqltest: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("mysqltest: MariaDB/MySQL at %s is unreachable (set %s): %v", cfg.Addr, DSNEnv, err)
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := "elic_test_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatalf("mysqltest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Errorf("mysqltest: drop database %s: %v", name, err)
		}
	})
	cfg.DBName = name
	cfg.MultiStatements = false
	return cfg.FormatDSN()
}
