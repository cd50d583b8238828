package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/yangcheng-county/elicence/internal/store/mysqltest"
)

// TestServeRefusesBadConfig: a bad value stops the server before it listens,
// with a message naming the key.
func TestServeRefusesBadConfig(t *testing.T) {
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ env, key string }{
		{"ELICENCE_SHOWCODE_TTL=soon", "showcode.ttl"},
		{"ELICENCE_DATABASE_DRIVER=oracle", "database.driver"},
		{"ELICENCE_REDIS_ADDR=nowhere", "redis.addr"},
	}
	for _, tc := range cases {
		cmd := exec.Command(bin, "serve")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "ELICENCE_DATA_DIR="+t.TempDir(), tc.env)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.key) {
			t.Errorf("%s: want a failure naming %s, got %v: %s", tc.env, tc.key, err, out)
		}
	}
	out, err := exec.Command(bin, "frobnicate").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "usage:") {
		t.Errorf("unknown command: %v %s", err, out)
	}
}

// TestOfficerAddAndReminders runs the operator commands against a running
// embedded server: bind a new officer and remove them again, and send the
// expiry reminder that 张三's binding makes due through the fake WeChat of
// the running server.
func TestOfficerAddAndReminders(t *testing.T) {
	s := startServer(t, "ELICENCE_REMINDER_QUIET_HOURS=")

	const openid = "o-new-officer-0001"
	out := s.run(t, "officer", "add", "--openid", openid, "--department", "111405220120804312")
	if !strings.Contains(out, "officer bound to") {
		t.Fatalf("officer add: %s", out)
	}
	officer := s.login(t, openid)
	var me struct {
		Roles []string `json:"roles"`
	}
	if code := officer.call("GET", "/api/v1/me", nil, &me); code != 200 || !contains(me.Roles, "officer") {
		t.Fatalf("new officer: %d %+v", code, me)
	}
	// Removed while logged in: the running server refuses the very next
	// officer request of the same session.
	if out := s.run(t, "officer", "remove", "--openid", openid); !strings.Contains(out, "officer removed from") {
		t.Fatalf("officer remove: %s", out)
	}
	if code := officer.call("GET", "/api/v1/officer/context", nil, nil); code != 403 {
		t.Fatalf("removed officer's context: %d", code)
	}

	zhang := s.login(t, "demo-citizen-zhangsan")
	bindRealname(t, zhang, "张三", "140522198503120016")
	out = s.run(t, "remind", "--once")
	if !strings.Contains(out, " 1 sent,") {
		t.Fatalf("remind --once: %s", out)
	}
	var msgs struct {
		Items []struct {
			ToUser string `json:"touser"`
			URL    string `json:"url"`
		} `json:"items"`
	}
	resp, err := http.Get(s.url + "/fakewx/_messages")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&msgs); err != nil {
		t.Fatal(err)
	}
	if len(msgs.Items) != 1 || msgs.Items[0].ToUser != "demo-citizen-zhangsan" || !strings.HasPrefix(msgs.Items[0].URL, s.url+"/licences/") {
		t.Fatalf("template messages: %+v", msgs.Items)
	}
	if out := s.run(t, "remind", "--once"); !strings.Contains(out, " 0 sent,") {
		t.Fatalf("second remind --once sent again: %s", out)
	}
	if out := s.run(t, "remind", "--status"); !strings.Contains(out, "sent") {
		t.Fatalf("remind --status: %s", out)
	}
}

// TestServeOnMySQLNeedsMigrate: on MySQL, serve refuses a schema that
// `bff migrate` has not brought up to date, then serves once it has.
func TestServeOnMySQLNeedsMigrate(t *testing.T) {
	dsn := mysqltest.DSN(t)
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "ELICENCE_DATABASE_DRIVER=mysql", "ELICENCE_DATABASE_DSN="+dsn,
		"ELICENCE_DATABASE_AUTO_MIGRATE=false", "ELICENCE_DATA_DIR="+t.TempDir())
	cmd := exec.Command(bin, "serve")
	cmd.Dir, cmd.Env = "..", env
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "bff migrate") {
		t.Fatalf("serve on an empty database: %v %s", err, out)
	}
	cmd = exec.Command(bin, "migrate")
	cmd.Dir, cmd.Env = "..", env
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "schema at version") {
		t.Fatalf("migrate: %v %s", err, out)
	}
	s := startServer(t, "ELICENCE_DATABASE_DRIVER=mysql", "ELICENCE_DATABASE_DSN="+dsn, "ELICENCE_DATABASE_AUTO_MIGRATE=false")
	zhang := s.login(t, "demo-citizen-zhangsan")
	bindRealname(t, zhang, "张三", "140522198503120016")
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if code := zhang.call("GET", "/api/v1/licences", nil, &list); code != 200 || len(list.Items) != 3 {
		t.Fatalf("licences on MySQL: %d %d", code, len(list.Items))
	}
}

func bindRealname(t *testing.T, u *user, name, id string) {
	t.Helper()
	var ch struct {
		ChallengeID string `json:"challenge_id"`
	}
	if code := u.call("POST", "/api/v1/me/realname", map[string]string{"name": name, "id_number": id}, &ch); code != 200 {
		t.Fatalf("realname start: %d", code)
	}
	var sms struct {
		Items []struct{ Phone, Code string } `json:"items"`
	}
	if code := u.call("GET", "/api/v1/dev/sms", nil, &sms); code != 200 || len(sms.Items) == 0 {
		t.Fatalf("dev sms: %d", code)
	}
	if code := u.call("POST", "/api/v1/me/realname/confirm", map[string]string{"challenge_id": ch.ChallengeID, "code": sms.Items[0].Code}, nil); code != 200 {
		t.Fatalf("realname confirm: %d", code)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// TestCommandHelpAndMigrateStatus: every command answers --help on stdout
// with exit 0; migrate --status reports without changing anything, and
// migrate does not ask for settings it does not use.
func TestCommandHelpAndMigrateStatus(t *testing.T) {
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"serve", "--help"}, {"migrate", "-h"}, {"remind", "--help"}, {"officer", "add", "--help"}, {"healthcheck", "--help"}} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = ".."
		out, err := cmd.Output()
		if err != nil || !strings.Contains(string(out), "-config") {
			t.Errorf("bff %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	data := t.TempDir()
	migrate := func(env []string, args ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"migrate"}, args...)...)
		cmd.Dir = ".."
		cmd.Env = append(append(os.Environ(), "ELICENCE_DATA_DIR="+data), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := migrate(nil, "--status")
	if err != nil || !strings.Contains(out, "schema at version 0 of") || !strings.Contains(out, "pending") {
		t.Fatalf("migrate --status on a new database: %v\n%s", err, out)
	}
	// A misspelt override is reported, not silently ignored.
	out, err = migrate([]string{"ELICENCE_DATABSE_DSN=x"})
	if err != nil || !strings.Contains(out, "ELICENCE_DATABSE_DSN") || !strings.Contains(out, "unknown environment variable") {
		t.Fatalf("migrate with a misspelt variable: %v\n%s", err, out)
	}
	out, err = migrate(nil, "--status")
	if err != nil || strings.Contains(out, "pending") {
		t.Fatalf("migrate --status after migrate: %v\n%s", err, out)
	}
	// Production migrate needs the database and the keys, not the WeChat
	// or SMS secrets that serve needs.
	out, _ = migrate([]string{"ELICENCE_DATABASE_DSN=u:p@tcp(127.0.0.1:1)/elicence?parseTime=true",
		"ELICENCE_SECURITY_DATA_KEY=" + strings.Repeat("ab", 16), "ELICENCE_SECURITY_INDEX_KEY=" + strings.Repeat("cd", 32)},
		"-config", "configs/production.example.yaml")
	if strings.Contains(out, "wechat.") || strings.Contains(out, "sms.") || strings.Contains(out, "config:") {
		t.Fatalf("production migrate asked for settings it does not use:\n%s", out)
	}
}
