package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) LookupEnv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadDefaultIsEmbedded(t *testing.T) {
	c, err := Load("../../configs/default.yaml", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Database.Driver != "sqlite" || !c.EmbeddedRedis() || !c.WeChat.Fake {
		t.Fatalf("default config is not embedded: %+v", c)
	}
	if c.PublicURL != "http://127.0.0.1:8080" {
		t.Fatalf("public_url derived as %q", c.PublicURL)
	}
	if c.Database.DSN != "./data/elicence.db" {
		t.Fatalf("sqlite dsn %q", c.Database.DSN)
	}
	if c.WeChatAPIBase() != "http://127.0.0.1:8080/fakewx" {
		t.Fatalf("api base %q", c.WeChatAPIBase())
	}
}

func TestFixedEnvOverrides(t *testing.T) {
	c, err := Load("../../configs/default.yaml", env(map[string]string{
		"ELICENCE_HTTP_ADDR":              "0.0.0.0:9090",
		"ELICENCE_DATA_DIR":               "/tmp/x",
		"ELICENCE_SHOWCODE_TTL":           "90s",
		"ELICENCE_DATABASE_DRIVER":        "mysql",
		"ELICENCE_DATABASE_DSN":           "root@tcp(127.0.0.1:3306)/test?parseTime=true",
		"ELICENCE_REDIS_ADDR":             "127.0.0.1:6379",
		"ELICENCE_WECHAT_FAKE":            "true",
		"ELICENCE_REMINDER_QUIET_HOURS":   "",
		"ELICENCE_REMINDER_STAGES":        "60, 15",
		"ELICENCE_WECHAT_EXPIRY_KEYWORDS": "thing1=licence_name,time2=expiry_date",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != "0.0.0.0:9090" || c.PublicURL != "http://127.0.0.1:9090" {
		t.Errorf("addr %q public %q", c.HTTP.Addr, c.PublicURL)
	}
	if c.ShowCode.TTL != 90*time.Second || c.DataDir != "/tmp/x" || c.Database.Driver != "mysql" || c.Redis.Addr != "127.0.0.1:6379" {
		t.Errorf("overrides not applied: %+v", c)
	}
	if c.Reminder.QuietHours != "" {
		t.Errorf("empty quiet hours should clear, got %q", c.Reminder.QuietHours)
	}
	if len(c.Reminder.Stages) != 2 || c.Reminder.Stages[1] != 15 {
		t.Errorf("stages %v", c.Reminder.Stages)
	}
	if c.WeChat.ExpiryKeywords["time2"] != "expiry_date" || len(c.WeChat.ExpiryKeywords) != 2 {
		t.Errorf("keywords %v", c.WeChat.ExpiryKeywords)
	}
}

func TestBadValuesNameTheirKey(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"ELICENCE_SHOWCODE_TTL": "soon"}, "showcode.ttl"},
		{map[string]string{"ELICENCE_SHOWCODE_TTL": "1s"}, "showcode.ttl"},
		{map[string]string{"ELICENCE_AUDIT_CHAIN_INTERVAL": "0s"}, "audit.chain_interval"},
		{map[string]string{"ELICENCE_AUDIT_CHAIN_INTERVAL": "2h"}, "audit.chain_interval"},
		{map[string]string{"ELICENCE_AUDIT_CHECKPOINT_EVERY": "0"}, "audit.checkpoint_every"},
		{map[string]string{"ELICENCE_AUDIT_CHECKPOINT_INTERVAL": "0s"}, "audit.checkpoint_interval"},
		{map[string]string{"ELICENCE_AUDIT_CHECKPOINT_INTERVAL": "48h"}, "audit.checkpoint_interval"},
		{map[string]string{"ELICENCE_DATABASE_DRIVER": "oracle"}, "database.driver"},
		{map[string]string{"ELICENCE_DATABASE_DRIVER": "mysql"}, "database.dsn"},
		{map[string]string{"ELICENCE_REDIS_ADDR": "nohost"}, "redis.addr"},
		{map[string]string{"ELICENCE_HTTP_ADDR": "8080"}, "http.addr"},
		{map[string]string{"ELICENCE_HTTP_DRAIN_DELAY": "-1s"}, "http.drain_delay"},
		{map[string]string{"ELICENCE_HTTP_DRAIN_DELAY": "5m"}, "http.drain_delay"},
		{map[string]string{"ELICENCE_PUBLIC_URL": "ftp://x"}, "public_url"},
		{map[string]string{"ELICENCE_WECHAT_FAKE": "maybe"}, "wechat.fake"},
		{map[string]string{"ELICENCE_WECHAT_FAKE": "false"}, "wechat.app_secret"},
		{map[string]string{"ELICENCE_REMINDER_QUIET_HOURS": "late"}, "reminder.quiet_hours"},
		{map[string]string{"ELICENCE_SECURITY_DATA_KEY": "abcd"}, "security.data_key"},
		{map[string]string{"ELICENCE_SECURITY_DATA_KEY": strings.Repeat("ab", 32)}, "move this one to security.legacy_data_key"},
		{map[string]string{"ELICENCE_SECURITY_INDEX_KEY": strings.Repeat("ab", 16)}, "security.index_key"},
		{map[string]string{"ELICENCE_SECURITY_PREVIOUS_DATA_KEY": strings.Repeat("ab", 32)}, "security.previous_data_key"},
		{map[string]string{"ELICENCE_SECURITY_LEGACY_DATA_KEY": strings.Repeat("ab", 32)}, "go together"},
		{map[string]string{"ELICENCE_SECURITY_LEGACY_INDEX_KEY": strings.Repeat("ab", 16), "ELICENCE_SECURITY_LEGACY_DATA_KEY": strings.Repeat("ab", 32)}, "security.legacy_index_key"},
		{map[string]string{"ELICENCE_SECURITY_INDEX_KEY": strings.Repeat("ab", 32), "ELICENCE_SECURITY_PREVIOUS_INDEX_KEY": strings.Repeat("AB", 32)}, "must differ from security.index_key"},
		{map[string]string{"ELICENCE_MODE": "production"}, "dev_mode"},
		{map[string]string{"ELICENCE_SMS_DRIVER": "pigeon"}, "sms.driver"},
	}
	for _, tc := range cases {
		_, err := Load("../../configs/default.yaml", env(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: want error naming %s, got %v", tc.env, tc.want, err)
		}
	}
}

func TestMissingFileAndUnknownKey(t *testing.T) {
	if _, err := Load("nope.yaml", env(nil)); err == nil {
		t.Fatal("missing file accepted")
	}
	p := t.TempDir() + "/c.yaml"
	if err := os.WriteFile(p, []byte("mode: embedded\nshowcode:\n  tll: 60s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p, env(nil)); err == nil || !strings.Contains(err.Error(), "tll") {
		t.Fatalf("unknown key not reported: %v", err)
	}
}

func TestProductionExampleNeedsSecrets(t *testing.T) {
	_, err := Load("../../configs/production.example.yaml", env(nil))
	for _, key := range []string{"database.dsn", "wechat.app_secret", "wechat.token", "security.data_key"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("production without secrets: want %s named, got %v", key, err)
		}
	}
	_, err = Load("../../configs/production.example.yaml", env(map[string]string{
		"ELICENCE_DATABASE_DSN": "u:p@tcp(db:3306)/e?parseTime=true", "ELICENCE_WECHAT_APP_SECRET": "s",
		"ELICENCE_WECHAT_TOKEN": "t", "ELICENCE_SECURITY_DATA_KEY": strings.Repeat("ab", 16), "ELICENCE_SECURITY_INDEX_KEY": strings.Repeat("cd", 32),
	}))
	if err != nil {
		t.Fatalf("production with secrets: %v", err)
	}
}

// TestProductionNamesSealSettings: production has no data directory to
// default the seals' keys, their CA or the audit checkpoints' export to.
func TestProductionNamesSealSettings(t *testing.T) {
	p := t.TempDir() + "/c.yaml"
	raw, err := os.ReadFile("../../configs/production.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	raw = []byte(strings.NewReplacer("key_dir: /var/lib/elicence/seals", `key_dir: ""`,
		"ca_cert_file: /etc/elicence/seal-ca.pem", `ca_cert_file: ""`,
		"checkpoint_dir: /srv/elicence-checkpoints", `checkpoint_dir: ""`).Replace(string(raw)))
	if err := os.WriteFile(p, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(p, env(nil))
	for _, key := range []string{"seals.key_dir", "seals.ca_cert_file", "audit.checkpoint_dir"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("production without seal settings: want %s named, got %v", key, err)
		}
	}
}

func TestQuietHours(t *testing.T) {
	s, e, err := ParseQuietHours("21:00-08:00")
	if err != nil || s != 21*60 || e != 8*60 {
		t.Fatalf("got %d %d %v", s, e, err)
	}
	for _, bad := range []string{"21:00", "25:00-08:00", "08:00-08:00", ""} {
		if _, _, err := ParseQuietHours(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Embedded mode mixed with production parts is allowed (tests use it) but
// said out loud.
func TestEmbeddedWithProductionPartsWarns(t *testing.T) {
	c, err := Load("../../configs/default.yaml", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Fatalf("plain embedded mode warns: %v", w)
	}
	c, err = Load("../../configs/default.yaml", env(map[string]string{
		"ELICENCE_DATABASE_DRIVER": "mysql", "ELICENCE_DATABASE_DSN": "root@tcp(127.0.0.1:3306)/test?parseTime=true",
		"ELICENCE_REDIS_ADDR": "127.0.0.1:6379",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if w := c.Warnings(); len(w) != 2 || !strings.Contains(w[0], "NOT a production set-up") || !strings.Contains(w[1], "Redis") {
		t.Fatalf("warnings %q", w)
	}
}

func TestUnknownEnv(t *testing.T) {
	got := UnknownEnv([]string{"ELICENCE_HTTP_ADDR=x", "ELICENCE_HTTP_ADRR=y", "ELICENCE_DATABASE_QUERY_TIMEOUT=1s",
		"ELICENCE_TEST_MYSQL_DSN=z", "PATH=/bin", "ELICENCE_SHOWCODE=1"})
	if strings.Join(got, ",") != "ELICENCE_HTTP_ADRR,ELICENCE_SHOWCODE" {
		t.Fatalf("unknown %v", got)
	}
}

// LoadDatabase validates only what a migration uses: a production
// migration needs no WeChat or SMS secrets, but still a good DSN.
func TestLoadDatabaseChecksOnlyItsKeys(t *testing.T) {
	keys := map[string]string{
		"ELICENCE_DATABASE_DSN":       "u:p@tcp(db:3306)/elicence?parseTime=true",
		"ELICENCE_SECURITY_DATA_KEY":  strings.Repeat("ab", 16),
		"ELICENCE_SECURITY_INDEX_KEY": strings.Repeat("cd", 32),
	}
	if _, err := Load("../../configs/production.example.yaml", env(keys)); err == nil || !strings.Contains(err.Error(), "wechat.app_secret") {
		t.Fatalf("serve's Load without WeChat secrets: %v", err)
	}
	if _, err := LoadDatabase("../../configs/production.example.yaml", env(keys)); err != nil {
		t.Fatalf("migrate's Load: %v", err)
	}
	keys["ELICENCE_DATABASE_DSN"] = "u:p@tcp(db:3306)/elicence"
	if _, err := LoadDatabase("../../configs/production.example.yaml", env(keys)); err == nil || !strings.Contains(err.Error(), "database.dsn") {
		t.Fatalf("migrate's Load with a bad DSN: %v", err)
	}
}
