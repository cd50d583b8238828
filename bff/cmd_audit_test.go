package main

import (
	"database/sql"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	mysqldriver "github.com/go-sql-driver/mysql"

	"github.com/yangcheng-county/elicence/internal/store/mysqltest"
)

// intact is the line `bff audit verify` prints for a chain that verifies.
var intact = regexp.MustCompile(`(?m)^audit chain intact: [0-9]+ entries$`)

// TestAuditVerifyCommand: `bff audit verify` reports an intact chain with
// its length, then exit 1 naming the first entry that an edit, a deletion
// or a reordering broke.
func TestAuditVerifyCommand(t *testing.T) {
	dsn := mysqltest.DSN(t)
	s := startServer(t, "ELICENCE_DATABASE_DRIVER=mysql", "ELICENCE_DATABASE_DSN="+dsn)
	zhang := s.login(t, "demo-citizen-zhangsan")
	bindRealname(t, zhang, "张三", "140522198503120016")

	out := s.run(t, "audit", "verify")
	if !intact.MatchString(out) || strings.Contains(out, "audit chain intact: 0 ") {
		t.Fatalf("audit verify on an intact chain: %s", out)
	}

	cfg, err := mysqldriver.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MultiStatements = true
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM audit_events").Scan(&n); err != nil || n < 2 {
		t.Fatalf("audit entries: %d, %v", n, err)
	}
	for _, tc := range []struct {
		name, tamper, restore, want string
	}{
		{"edited detail", "UPDATE audit_events SET detail = CONCAT(detail, ' ') WHERE id = 2",
			"UPDATE audit_events SET detail = SUBSTRING(detail, 1, CHAR_LENGTH(detail) - 1) WHERE id = 2", "entry 2:"},
		{"deleted entry", "CREATE TABLE saved AS SELECT * FROM audit_events WHERE id = 1; DELETE FROM audit_events WHERE id = 1",
			"INSERT INTO audit_events SELECT * FROM saved; DROP TABLE saved", "entry 1:"},
		{"edited actor of the last", "UPDATE audit_events SET actor = 'system:nobody' WHERE id = (SELECT m FROM (SELECT MAX(id) m FROM audit_events) x)",
			"", "entry "},
	} {
		if _, err := db.Exec(tc.tamper); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		cmd := exec.Command(s.bin, "audit", "verify")
		cmd.Dir, cmd.Env = "..", s.env
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "audit chain broken at "+tc.want) {
			t.Fatalf("%s: want exit 1 naming %q, got %v: %s", tc.name, tc.want, err, out)
		}
		if tc.restore != "" {
			if _, err := db.Exec(tc.restore); err != nil {
				t.Fatalf("%s: restore: %v", tc.name, err)
			}
			if out := s.run(t, "audit", "verify"); !intact.MatchString(out) {
				t.Fatalf("%s: restored chain: %s", tc.name, out)
			}
		}
	}
}
