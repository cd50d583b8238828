package main

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/store/mysqltest"
)

// intact is the line `bff audit verify` prints for a chain that verifies.
var intact = regexp.MustCompile(`(?m)^audit chain intact: [0-9]+ entries$`)

// checkpointed is the line naming the checkpoint the chain matched.
var checkpointed = regexp.MustCompile(`(?m)^matches the checkpoint of entry [0-9]+ signed \S+ by seal [0-9]+ \(.+\)$`)

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
	checkpoints := t.TempDir()
	s := startServer(t, "ELICENCE_DATABASE_DRIVER=mysql", "ELICENCE_DATABASE_DSN="+dsn, "ELICENCE_AUDIT_CHAIN_INTERVAL=1h",
		"ELICENCE_AUDIT_CHECKPOINT_DIR="+checkpoints)
	// The server checkpoints the seeded chain when it starts.
	exported := filepath.Join(checkpoints, audit.CheckpointFileName)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(exported); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("no checkpoint exported: %v", err)
		}
	}
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
	if !checkpointed.MatchString(out) {
		t.Fatalf("audit verify names no checkpoint: %s", out)
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

// TestAuditVerifyRefusesForgedCheckpoint: a checkpoint line whose hash was
// changed after signing fails `bff audit verify`, which names it, and so
// does an export with no checkpoint at all.
func TestAuditVerifyRefusesForgedCheckpoint(t *testing.T) {
	dsn := mysqltest.DSN(t)
	checkpoints := t.TempDir()
	s := startServer(t, "ELICENCE_DATABASE_DRIVER=mysql", "ELICENCE_DATABASE_DSN="+dsn, "ELICENCE_AUDIT_CHECKPOINT_DIR="+checkpoints)
	s.signal(os.Interrupt)
	if err := s.wait(30 * time.Second); err != nil {
		t.Fatalf("server stop: %v", err)
	}
	file, err := audit.NewCheckpointFile(checkpoints)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := file.Latest()
	if err != nil {
		t.Fatalf("the server exported no checkpoint: %v", err)
	}
	if out := s.run(t, "audit", "verify"); !checkpointed.MatchString(out) {
		t.Fatalf("audit verify: %s", out)
	}
	verifyFails := func(want string) {
		t.Helper()
		cmd := exec.Command(s.bin, "audit", "verify")
		cmd.Dir, cmd.Env = "..", s.env
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), want) {
			t.Fatalf("want exit 1 with %q, got %v: %s", want, err, out)
		}
	}
	cp.Hash = strings.Repeat("0", 63) + "1"
	if err := file.Append(cp); err != nil {
		t.Fatal(err)
	}
	verifyFails(fmt.Sprintf("audit chain does not match the checkpoint of entry %d", cp.Count))
	if err := os.Remove(file.Path()); err != nil {
		t.Fatal(err)
	}
	verifyFails("no checkpoint in")
}
