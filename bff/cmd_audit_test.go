package main

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"

	"github.com/yangcheng-county/elicence/internal/store/mysqltest"
)

// intact is the line `bff audit verify` prints for a chain that verifies.
var intact = regexp.MustCompile(`(?m)^audit chain intact: [0-9]+ entries$`)

// waiting is the line counting usage records not chained yet.
var waiting = regexp.MustCompile(`(?m)^not chained yet: ([0-9]+) usage records$`)

// TestAuditVerifyCommand: `bff audit verify` reports an intact chain with
// its length and the usage records not chained yet, which a server stopped
// cleanly leaves none of; then exit 1 naming the first entry that an edit,
// a deletion or a reordering broke, or whose chained usage record was
// edited.
func TestAuditVerifyCommand(t *testing.T) {
	dsn := mysqltest.DSN(t)
	// Chained only at start and at the stop: the record waits in between.
	s := startServer(t, "ELICENCE_DATABASE_DRIVER=mysql", "ELICENCE_DATABASE_DSN="+dsn, "ELICENCE_AUDIT_CHAIN_INTERVAL=1h")
	zhang := s.login(t, "demo-citizen-zhangsan")
	bindRealname(t, zhang, "张三", "140522198503120016")
	police := s.login(t, "demo-officer-police")
	var res verification
	if code := police.call("POST", "/api/v1/verifications", map[string]string{"code": mint(t, zhang, drivingLicence(t, zhang)), "purpose": "道路交通执法检查"}, &res); code != 200 || res.Result != "valid" {
		t.Fatalf("verification: %d %+v", code, res)
	}

	out := s.run(t, "audit", "verify")
	if !intact.MatchString(out) || strings.Contains(out, "audit chain intact: 0 ") || !waiting.MatchString(out) || waiting.FindStringSubmatch(out)[1] != "1" {
		t.Fatalf("audit verify on an intact chain: %s", out)
	}
	// A clean stop chains what waits after the last request has ended.
	s.signal(os.Interrupt)
	if err := s.wait(30 * time.Second); err != nil {
		t.Fatalf("server stop: %v", err)
	}
	if out := s.run(t, "audit", "verify"); !intact.MatchString(out) || waiting.FindStringSubmatch(out)[1] != "0" {
		t.Fatalf("audit verify after a clean stop: %s", out)
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
	var usageEntry int
	if err := db.QueryRow("SELECT audit_id FROM usage_records").Scan(&usageEntry); err != nil || usageEntry < 1 {
		t.Fatalf("the verification's entry: %d, %v", usageEntry, err)
	}
	// A record written but not chained yet is counted, and the chain is
	// intact without it.
	if _, err := db.Exec(`INSERT INTO usage_records (licence_id, officer_openid, department_id, purpose, scope, result, reason_code, client_ip, at, audit_id)
SELECT licence_id, officer_openid, department_id, purpose, scope, result, reason_code, client_ip, at, NULL FROM usage_records`); err != nil {
		t.Fatal(err)
	}
	if out := s.run(t, "audit", "verify"); !intact.MatchString(out) || waiting.FindStringSubmatch(out)[1] != "1" {
		t.Fatalf("audit verify with a record waiting: %s", out)
	}
	for _, tc := range []struct {
		name, tamper, restore, want string
	}{
		{"edited usage record", fmt.Sprintf("UPDATE usage_records SET purpose = '事故处理' WHERE audit_id = %d", usageEntry),
			fmt.Sprintf("UPDATE usage_records SET purpose = '道路交通执法检查' WHERE audit_id = %d", usageEntry), fmt.Sprintf("entry %d:", usageEntry)},
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
