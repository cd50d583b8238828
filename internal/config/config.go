// Package config loads the server's configuration once at start-up: a YAML
// file, then ELICENCE_* environment overrides, then validation. A bad value
// fails with a message naming its key, before anything listens.
package config

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration. Every leaf can be overridden by the
// environment variable ELICENCE_ + its YAML path upper-cased and joined by
// "_" (http.addr → ELICENCE_HTTP_ADDR, showcode.ttl → ELICENCE_SHOWCODE_TTL).
type Config struct {
	// Mode is "embedded" (SQLite, in-process Redis, fake WeChat, demo data)
	// or "production".
	Mode      string `yaml:"mode"`
	PublicURL string `yaml:"public_url"`
	DataDir   string `yaml:"data_dir"`
	// DevMode exposes developer endpoints such as /api/v1/dev/sms. Never on in production.
	DevMode bool `yaml:"dev_mode"`
	// SeedDemo loads the demo catalogue, holders and officers at start-up.
	SeedDemo bool `yaml:"seed_demo"`

	HTTP     HTTP     `yaml:"http"`
	Database Database `yaml:"database"`
	Redis    Redis    `yaml:"redis"`
	WeChat   WeChat   `yaml:"wechat"`
	ShowCode ShowCode `yaml:"showcode"`
	Session  Session  `yaml:"session"`
	Console  Console  `yaml:"console"`
	Realname Realname `yaml:"realname"`
	Verify   Verify   `yaml:"verify"`
	Audit    Audit    `yaml:"audit"`
	OpenAPI  OpenAPI  `yaml:"openapi"`
	SMS      SMS      `yaml:"sms"`
	Security Security `yaml:"security"`
	Seals    Seals    `yaml:"seals"`
	Reminder Reminder `yaml:"reminder"`
	Log      Log      `yaml:"log"`
}

// HTTP configures the listener.
type HTTP struct {
	Addr           string        `yaml:"addr"`
	TrustedProxies []string      `yaml:"trusted_proxies"`
	ReadTimeout    time.Duration `yaml:"read_timeout"`
	WriteTimeout   time.Duration `yaml:"write_timeout"`
	IdleTimeout    time.Duration `yaml:"idle_timeout"`
	ShutdownGrace  time.Duration `yaml:"shutdown_grace"`
	// DrainDelay is how long serve keeps answering after SIGTERM while
	// /readyz already says 503, so a load balancer that polls readiness
	// takes the instance out before its listener closes. Under Kubernetes
	// the preStop hook does this instead, and it stays 0.
	DrainDelay time.Duration `yaml:"drain_delay"`
	// RequestTimeout bounds everything one API request does: every
	// database, Redis, WeChat and SMS call it makes runs under this deadline.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// StaticDir holds the built H5 (miniapp/dist); empty serves no pages.
	StaticDir string `yaml:"static_dir"`
	// AdminAddr is the separate listener for /metrics and /debug/pprof/;
	// empty serves neither. It must not be reachable from the internet.
	AdminAddr string `yaml:"admin_addr"`
}

// Database selects the durable store.
type Database struct {
	Driver       string        `yaml:"driver"` // sqlite | mysql
	DSN          string        `yaml:"dsn"`    // empty for sqlite: {data_dir}/elicence.db
	MaxOpenConns int           `yaml:"max_open_conns"`
	MaxIdleConns int           `yaml:"max_idle_conns"`
	ConnMaxLife  time.Duration `yaml:"conn_max_life"`
	// AutoMigrate applies pending migrations at start-up. Embedded mode only;
	// production runs `bff migrate` as a release step.
	AutoMigrate bool `yaml:"auto_migrate"`
	// ConnectTimeout bounds the wait for the database at start-up: a server
	// that accepts connections but never answers fails start-up, not hangs it.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// QueryTimeout and ExecTimeout bound each read and each write statement
	// an API request makes, so a database that stops answering turns into a
	// 503 within about QueryTimeout rather than a request hung for the outage.
	QueryTimeout time.Duration `yaml:"query_timeout"`
	ExecTimeout  time.Duration `yaml:"exec_timeout"`
}

// Redis selects the short-lived state store.
type Redis struct {
	Addr         string        `yaml:"addr"` // "embedded" or host:port
	Password     string        `yaml:"password"`
	DB           int           `yaml:"db"`
	KeyPrefix    string        `yaml:"key_prefix"`
	DialTimeout  time.Duration `yaml:"dial_timeout"`
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	PoolSize     int           `yaml:"pool_size"`
}

// WeChat configures the public account.
type WeChat struct {
	// Fake mounts the in-process fake WeChat at /fakewx/ and sends every
	// WeChat API call of this process to {public_url}/fakewx.
	Fake           bool          `yaml:"fake"`
	AppID          string        `yaml:"app_id"`
	AppSecret      string        `yaml:"app_secret"`
	Token          string        `yaml:"token"`
	EncodingAESKey string        `yaml:"encoding_aes_key"`
	HTTPTimeout    time.Duration `yaml:"http_timeout"`
	// ExpiryTemplateID is the template message used for expiry reminders.
	ExpiryTemplateID string `yaml:"expiry_template_id"`
	// ExpiryKeywords maps template keywords (e.g. thing1) to message fields:
	// licence_name, holder_name, expiry_date, days_left, issuer.
	ExpiryKeywords map[string]string `yaml:"expiry_keywords"`
}

// ShowCode configures show codes (亮证码).
type ShowCode struct {
	TTL time.Duration `yaml:"ttl"`
	// MintsPerHolder bounds the codes one holder may mint per MintWindow:
	// far above what a person showing licences needs, far below a script's.
	MintsPerHolder int           `yaml:"mints_per_holder"`
	MintWindow     time.Duration `yaml:"mint_window"`
}

// Session configures login sessions.
type Session struct {
	Idle     time.Duration `yaml:"idle"`
	Absolute time.Duration `yaml:"absolute"`
}

// Console configures the staff's administration console
// (docs/CONSOLE.md): its sessions, apart from the citizens', and the
// lockout after failed logins.
type Console struct {
	SessionIdle     time.Duration `yaml:"session_idle"`
	SessionAbsolute time.Duration `yaml:"session_absolute"`
	// MaxFailures failed logins of one username within Lockout lock it
	// for the rest of that window.
	MaxFailures int           `yaml:"max_failures"`
	Lockout     time.Duration `yaml:"lockout"`
}

// Realname configures real-name binding.
type Realname struct {
	CodeTTL        time.Duration `yaml:"code_ttl"`
	MaxFailures    int           `yaml:"max_failures"`
	FailureWindow  time.Duration `yaml:"failure_window"`
	ResendInterval time.Duration `yaml:"resend_interval"`
	// FailuresPerIP bounds failed tries from one client address per
	// FailureWindow (higher than MaxFailures: a county office shares one).
	FailuresPerIP int `yaml:"failures_per_ip"`
	// Daily caps on confirmation texts (per calendar day in
	// reminder.time_zone): to one ID number's phone, asked for by one
	// account, asked for from one client address. They stop anyone who
	// knows a name and ID number from texting the holder's phone every
	// resend interval forever.
	SMSPerIDNumberDaily int `yaml:"sms_per_id_number_daily"`
	SMSPerAccountDaily  int `yaml:"sms_per_account_daily"`
	SMSPerIPDaily       int `yaml:"sms_per_ip_daily"`
}

// Verify configures verification rate limits.
type Verify struct {
	// FailuresPerOfficer and FailuresPerIP bound failed attempts within FailureWindow.
	FailuresPerOfficer int           `yaml:"failures_per_officer"`
	FailuresPerIP      int           `yaml:"failures_per_ip"`
	FailureWindow      time.Duration `yaml:"failure_window"`
}

// Audit configures the audit log.
type Audit struct {
	// ChainInterval is how often a serving instance appends the usage
	// records of verifications to the audit chain: the usual delay before
	// a verification is under the chain's protection (docs/SECURITY.md).
	ChainInterval time.Duration `yaml:"chain_interval"`
	// CheckpointDir is where signed checkpoints of the chain's head are
	// exported (docs/SECURITY.md, "Audit checkpoints"): in production a
	// path on storage the database's administrators cannot write. Empty
	// in embedded mode: {data_dir}/checkpoints.
	CheckpointDir string `yaml:"checkpoint_dir"`
	// CheckpointEvery and CheckpointInterval: a checkpoint is made once
	// the chain has grown by CheckpointEvery entries or CheckpointInterval
	// has passed since the last one, whichever comes first.
	CheckpointEvery    int           `yaml:"checkpoint_every"`
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
}

// OpenAPI configures the Open API for department systems (/openapi/v1).
type OpenAPI struct {
	// RateLimit bounds each app's requests within RateWindow (429 beyond).
	RateLimit  int           `yaml:"rate_limit"`
	RateWindow time.Duration `yaml:"rate_window"`
}

// SMS selects the gateway for confirmation codes.
type SMS struct {
	Driver     string        `yaml:"driver"` // dev | http
	GatewayURL string        `yaml:"gateway_url"`
	Token      string        `yaml:"token"`
	Timeout    time.Duration `yaml:"timeout"`
}

// Security holds the keys protecting personal data at rest, hex-encoded,
// from the environment in production: the SM4 data key (16 bytes) and the
// HMAC-SM3 index key (32 bytes). The previous pair is the one a rotation is
// retiring; the legacy pair (AES-256 and HMAC-SHA256, 32 bytes each) is the
// one used before SM4. Both stay configured until `bff keys rotate` has
// finished (docs/OPERATIONS.md). In embedded mode an empty current pair is
// generated once and kept in {data_dir}/keys.gm.
type Security struct {
	DataKey          string `yaml:"data_key"`
	IndexKey         string `yaml:"index_key"`
	PreviousDataKey  string `yaml:"previous_data_key"`
	PreviousIndexKey string `yaml:"previous_index_key"`
	LegacyDataKey    string `yaml:"legacy_data_key"`
	LegacyIndexKey   string `yaml:"legacy_index_key"`
}

// Seals configures the electronic seals' keys and certificates
// (docs/SEALS.md). Embedded mode keeps the keys in {data_dir}/seals and
// runs a local CA ({data_dir}/seal-ca.pem); production names the key
// directory and the CA whose certificates seals may be bound to.
type Seals struct {
	// KeyDir holds the seals' private keys, one PEM file each, readable by
	// the service only.
	KeyDir string `yaml:"key_dir"`
	// CACertFile is the PEM certificate of the CA that issues seal
	// certificates (the provincial CA).
	CACertFile string `yaml:"ca_cert_file"`
	// CertYears is how long the local CA's seal certificates last.
	CertYears int `yaml:"cert_years"`
}

// Reminder configures expiry reminders and status notices.
type Reminder struct {
	Enabled      bool          `yaml:"enabled"`
	TimeZone     string        `yaml:"time_zone"`
	DailyAt      string        `yaml:"daily_at"`    // HH:MM
	QuietHours   string        `yaml:"quiet_hours"` // "21:00-08:00", empty for none
	Stages       []int         `yaml:"stages"`      // default days before expiry
	MaxAttempts  int           `yaml:"max_attempts"`
	BatchSize    int           `yaml:"batch_size"`
	Lease        time.Duration `yaml:"lease"`
	RetryBase    time.Duration `yaml:"retry_base"`
	PollInterval time.Duration `yaml:"poll_interval"`
	// ChangeTemplateID is the template message telling a holder that a
	// licence was suspended, revoked, cancelled, withdrawn or renewed.
	ChangeTemplateID string `yaml:"change_template_id"`
	// ChangeKeywords maps its keywords to notice fields: licence_name,
	// holder_name, issuer, expiry_date, change, status, change_date.
	ChangeKeywords map[string]string `yaml:"change_keywords"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug | info | warn | error
	Format string `yaml:"format"` // json | text
}

// LookupEnv reads one environment variable; os.LookupEnv in production,
// a map in tests.
type LookupEnv func(name string) (string, bool)

// Load reads the YAML file at path, applies environment overrides through
// lookupEnv, fills derived defaults and validates the result.
func Load(path string, lookupEnv LookupEnv) (Config, error) {
	return load(path, lookupEnv, nil)
}

// LoadDatabase is Load for commands that only touch the database (`bff
// migrate`): only the keys they use are validated, so an operator running a
// migration need not hold the WeChat or SMS secrets.
func LoadDatabase(path string, lookupEnv LookupEnv) (Config, error) {
	return load(path, lookupEnv, []string{"mode", "data_dir", "database.", "security.", "log."})
}

func load(path string, lookupEnv LookupEnv, only []string) (Config, error) {
	var c Config
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: read %s: %w", path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("config: parse %s: %w", path, err)
	}
	if err := applyEnv(reflect.ValueOf(&c).Elem(), "ELICENCE", lookupEnv); err != nil {
		return Config{}, err
	}
	c.derive()
	if err := c.Validate(); err != nil {
		if only == nil {
			return Config{}, err
		}
		if err := keep(err, only); err != nil {
			return Config{}, err
		}
	}
	return c, nil
}

// keep drops the field errors whose key starts with none of prefixes.
func keep(err error, prefixes []string) error {
	var kept []error
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *FieldError
		if !errors.As(e, &fe) {
			kept = append(kept, e)
			continue
		}
		for _, p := range prefixes {
			if fe.Key == p || strings.HasSuffix(p, ".") && strings.HasPrefix(fe.Key, p) {
				kept = append(kept, e)
				break
			}
		}
	}
	return errors.Join(kept...)
}

// Warnings lists settings that are allowed but that an operator should see
// at start-up: embedded mode mixed with production parts is useful for
// tests and never a production set-up.
func (c Config) Warnings() []string {
	var w []string
	if c.Mode != "embedded" {
		return nil
	}
	if c.Database.Driver == "mysql" {
		w = append(w, "embedded mode is using a MySQL database: this is NOT a production set-up (demo data, dev endpoints and the fake WeChat may write to it); use mode: production")
	}
	if !c.EmbeddedRedis() {
		w = append(w, "embedded mode is using an external Redis ("+c.Redis.Addr+"): this is NOT a production set-up; use mode: production")
	}
	return w
}

// UnknownEnv returns the ELICENCE_* names in environ (os.Environ form) that
// match no configuration key, so a misspelt override is reported instead of
// silently ignored.
func UnknownEnv(environ []string) []string {
	known := map[string]bool{}
	envNames(reflect.TypeOf(Config{}), "ELICENCE", known)
	var unknown []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "ELICENCE_") && !known[name] && !notConfig(name) {
			unknown = append(unknown, name)
		}
	}
	return unknown
}

// notConfig reports ELICENCE_* names read outside the configuration (by
// the test suites, benchmarks and the H5 build), which are not misspellings.
func notConfig(name string) bool {
	return name == "ELICENCE_BFF_BIN" || name == "ELICENCE_DEV_BFF" ||
		strings.Contains(name, "_TEST_") || strings.Contains(name, "_BENCH_")
}

func envNames(t reflect.Type, prefix string, out map[string]bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		if f.Type.Kind() == reflect.Struct && f.Type != durationType {
			envNames(f.Type, name, out)
			continue
		}
		out[name] = true
	}
}

// derive fills values that follow from others.
func (c *Config) derive() {
	if c.PublicURL == "" {
		host := c.HTTP.Addr
		if h, p, err := net.SplitHostPort(host); err == nil && (h == "" || h == "0.0.0.0" || h == "::") {
			host = net.JoinHostPort("127.0.0.1", p)
		}
		c.PublicURL = "http://" + host
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.Database.Driver == "sqlite" && c.Database.DSN == "" {
		c.Database.DSN = strings.TrimRight(c.DataDir, "/") + "/elicence.db"
	}
	if c.Mode == "embedded" && c.Seals.KeyDir == "" && c.DataDir != "" {
		c.Seals.KeyDir = strings.TrimRight(c.DataDir, "/") + "/seals"
	}
	if c.Seals.CertYears == 0 {
		c.Seals.CertYears = 3
	}
	if c.Mode == "embedded" && c.Audit.CheckpointDir == "" && c.DataDir != "" {
		c.Audit.CheckpointDir = strings.TrimRight(c.DataDir, "/") + "/checkpoints"
	}
}

// Embedded reports whether Redis runs in-process.
func (c Config) EmbeddedRedis() bool { return c.Redis.Addr == "embedded" }

// WeChatAPIBase is where this process sends WeChat API calls: the fake
// mounted by `serve` in fake mode, the real WeChat ("") otherwise.
func (c Config) WeChatAPIBase() string {
	if c.WeChat.Fake {
		return c.PublicURL + "/fakewx"
	}
	return ""
}

// FieldError is one bad value, named by its YAML path.
type FieldError struct {
	Key string
	Msg string
}

func (e *FieldError) Error() string { return "config: " + e.Key + ": " + e.Msg }

// Validate checks every value and names the key of each bad one.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, &FieldError{Key: key, Msg: fmt.Sprintf(format, a...)})
	}
	if c.Mode != "embedded" && c.Mode != "production" {
		bad("mode", "must be embedded or production, got %q", c.Mode)
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		bad("http.addr", "must be host:port, got %q", c.HTTP.Addr)
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("public_url", "must be an absolute http(s) URL, got %q", c.PublicURL)
	}
	for key, d := range map[string]time.Duration{
		"http.read_timeout": c.HTTP.ReadTimeout, "http.write_timeout": c.HTTP.WriteTimeout,
		"http.idle_timeout": c.HTTP.IdleTimeout, "http.shutdown_grace": c.HTTP.ShutdownGrace,
		"redis.dial_timeout": c.Redis.DialTimeout, "redis.read_timeout": c.Redis.ReadTimeout,
		"redis.write_timeout": c.Redis.WriteTimeout, "wechat.http_timeout": c.WeChat.HTTPTimeout,
		"session.idle": c.Session.Idle, "session.absolute": c.Session.Absolute,
		"console.session_idle": c.Console.SessionIdle, "console.session_absolute": c.Console.SessionAbsolute, "console.lockout": c.Console.Lockout,
		"realname.code_ttl": c.Realname.CodeTTL, "realname.failure_window": c.Realname.FailureWindow,
		"verify.failure_window": c.Verify.FailureWindow, "sms.timeout": c.SMS.Timeout,
		"openapi.rate_window":  c.OpenAPI.RateWindow,
		"http.request_timeout": c.HTTP.RequestTimeout, "database.connect_timeout": c.Database.ConnectTimeout,
		"database.query_timeout": c.Database.QueryTimeout, "database.exec_timeout": c.Database.ExecTimeout,
		"showcode.mint_window": c.ShowCode.MintWindow,
	} {
		if d <= 0 {
			bad(key, "must be a positive duration, got %s", d)
		}
	}
	if c.HTTP.DrainDelay < 0 || c.HTTP.DrainDelay > time.Minute {
		bad("http.drain_delay", "must be between 0s and 1m, got %s", c.HTTP.DrainDelay)
	}
	if c.Audit.ChainInterval < 100*time.Millisecond || c.Audit.ChainInterval > time.Hour {
		bad("audit.chain_interval", "must be between 100ms and 1h, got %s", c.Audit.ChainInterval)
	}
	if c.Audit.CheckpointDir == "" {
		bad("audit.checkpoint_dir", "is required in production: a path the database's administrators cannot write")
	}
	if c.Audit.CheckpointEvery < 1 {
		bad("audit.checkpoint_every", "must be at least 1, got %d", c.Audit.CheckpointEvery)
	}
	if c.Audit.CheckpointInterval < time.Second || c.Audit.CheckpointInterval > 24*time.Hour {
		bad("audit.checkpoint_interval", "must be between 1s and 24h, got %s", c.Audit.CheckpointInterval)
	}
	if c.ShowCode.TTL < 10*time.Second || c.ShowCode.TTL > 10*time.Minute {
		bad("showcode.ttl", "must be between 10s and 10m, got %s", c.ShowCode.TTL)
	}
	if c.Session.Absolute < c.Session.Idle {
		bad("session.absolute", "must not be shorter than session.idle")
	}
	if c.Console.SessionAbsolute < c.Console.SessionIdle || c.Console.SessionAbsolute > 24*time.Hour {
		bad("console.session_absolute", "must be between console.session_idle and 24h, got %s", c.Console.SessionAbsolute)
	}
	if c.Console.MaxFailures < 1 {
		bad("console.max_failures", "must be at least 1, got %d", c.Console.MaxFailures)
	}
	switch c.Database.Driver {
	case "sqlite":
		if c.DataDir == "" {
			bad("data_dir", "is required for the sqlite driver")
		}
	case "mysql":
		if c.Database.DSN == "" {
			bad("database.dsn", "is required for the mysql driver")
		} else if !strings.Contains(c.Database.DSN, "parseTime=true") {
			bad("database.dsn", "must contain parseTime=true")
		}
	default:
		bad("database.driver", "must be sqlite or mysql, got %q", c.Database.Driver)
	}
	if c.Mode == "production" {
		if c.Seals.KeyDir == "" {
			bad("seals.key_dir", "is required in production (the directory of the seals' private keys)")
		}
		if c.Seals.CACertFile == "" {
			bad("seals.ca_cert_file", "is required in production (the PEM certificate of the CA issuing seal certificates)")
		}
	}
	if c.Seals.CertYears < 1 || c.Seals.CertYears > 10 {
		bad("seals.cert_years", "must be 1 to 10, got %d", c.Seals.CertYears)
	}
	if c.Redis.Addr == "" {
		bad("redis.addr", "is required: embedded or host:port")
	} else if c.Redis.Addr != "embedded" {
		if _, _, err := net.SplitHostPort(c.Redis.Addr); err != nil {
			bad("redis.addr", "must be embedded or host:port, got %q", c.Redis.Addr)
		}
	}
	for key, n := range map[string]int{
		"realname.max_failures": c.Realname.MaxFailures, "realname.failures_per_ip": c.Realname.FailuresPerIP,
		"realname.sms_per_id_number_daily": c.Realname.SMSPerIDNumberDaily,
		"realname.sms_per_account_daily":   c.Realname.SMSPerAccountDaily,
		"realname.sms_per_ip_daily":        c.Realname.SMSPerIPDaily,
		"showcode.mints_per_holder":        c.ShowCode.MintsPerHolder,
	} {
		if n < 1 {
			bad(key, "must be at least 1, got %d", n)
		}
	}
	if c.HTTP.AdminAddr != "" {
		if _, _, err := net.SplitHostPort(c.HTTP.AdminAddr); err != nil {
			bad("http.admin_addr", "must be host:port or empty, got %q", c.HTTP.AdminAddr)
		} else if c.HTTP.AdminAddr == c.HTTP.Addr {
			bad("http.admin_addr", "must differ from http.addr: /metrics and pprof stay off the public port")
		}
	}
	if c.Verify.FailuresPerOfficer < 1 {
		bad("verify.failures_per_officer", "must be at least 1")
	}
	if c.Verify.FailuresPerIP < 1 {
		bad("verify.failures_per_ip", "must be at least 1")
	}
	if c.OpenAPI.RateLimit < 1 {
		bad("openapi.rate_limit", "must be at least 1")
	}
	switch c.SMS.Driver {
	case "dev":
		if !c.DevMode {
			bad("sms.driver", "dev needs dev_mode: true (codes would be readable over HTTP)")
		}
	case "http":
		if _, err := url.ParseRequestURI(c.SMS.GatewayURL); err != nil {
			bad("sms.gateway_url", "must be an absolute URL for the http driver")
		}
	default:
		bad("sms.driver", "must be dev or http, got %q", c.SMS.Driver)
	}
	if !c.WeChat.Fake {
		if c.WeChat.AppID == "" {
			bad("wechat.app_id", "is required unless wechat.fake is true")
		}
		if c.WeChat.AppSecret == "" {
			bad("wechat.app_secret", "is required unless wechat.fake is true (set ELICENCE_WECHAT_APP_SECRET)")
		}
		if c.WeChat.Token == "" {
			bad("wechat.token", "is required unless wechat.fake is true (set ELICENCE_WECHAT_TOKEN)")
		}
	}
	c.Security.validate(c.Mode, bad)
	if c.Mode == "production" {
		if c.DevMode {
			bad("dev_mode", "must be false in production")
		}
		if c.WeChat.Fake {
			bad("wechat.fake", "must be false in production")
		}
		if c.Redis.Addr == "embedded" {
			bad("redis.addr", "must be host:port in production")
		}
		if c.SeedDemo {
			bad("seed_demo", "must be false in production (it creates demo holders and officers)")
		}
		if u, err := url.Parse(c.PublicURL); err == nil && u.Scheme != "https" {
			bad("public_url", "must be https in production (session cookies are Secure only over https), got %q", c.PublicURL)
		}
	}
	if _, err := time.LoadLocation(c.Reminder.TimeZone); err != nil || c.Reminder.TimeZone == "" {
		bad("reminder.time_zone", "unknown time zone %q", c.Reminder.TimeZone)
	}
	if _, err := ParseClock(c.Reminder.DailyAt); err != nil {
		bad("reminder.daily_at", "%v", err)
	}
	if c.Reminder.QuietHours != "" {
		if _, _, err := ParseQuietHours(c.Reminder.QuietHours); err != nil {
			bad("reminder.quiet_hours", "%v", err)
		}
	}
	for _, s := range c.Reminder.Stages {
		if s < 1 || s > 366 {
			bad("reminder.stages", "each stage must be 1..366 days, got %d", s)
		}
	}
	if c.Reminder.MaxAttempts < 1 {
		bad("reminder.max_attempts", "must be at least 1")
	}
	if c.Reminder.BatchSize < 1 {
		bad("reminder.batch_size", "must be at least 1")
	}
	for key, d := range map[string]time.Duration{"reminder.lease": c.Reminder.Lease, "reminder.retry_base": c.Reminder.RetryBase, "reminder.poll_interval": c.Reminder.PollInterval} {
		if d <= 0 {
			bad(key, "must be a positive duration, got %s", d)
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "json", "text":
	default:
		bad("log.format", "must be json or text, got %q", c.Log.Format)
	}
	return errors.Join(errs...)
}

// ParseClock parses "HH:MM" into minutes after midnight.
func ParseClock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("want HH:MM, got %q", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// ParseQuietHours parses "21:00-08:00" into start and end minutes after
// midnight; the window may wrap past midnight.
func ParseQuietHours(s string) (start, end int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("want HH:MM-HH:MM, got %q", s)
	}
	if start, err = ParseClock(strings.TrimSpace(a)); err != nil {
		return 0, 0, err
	}
	if end, err = ParseClock(strings.TrimSpace(b)); err != nil {
		return 0, 0, err
	}
	if start == end {
		return 0, 0, fmt.Errorf("empty window %q", s)
	}
	return start, end, nil
}

// applyEnv walks the struct and overrides each leaf from prefix_FIELD.
func applyEnv(v reflect.Value, prefix string, lookupEnv LookupEnv) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct {
			if err := applyEnv(fv, name, lookupEnv); err != nil {
				return err
			}
			continue
		}
		raw, set := lookupEnv(name)
		// An empty variable clears a string (ELICENCE_REMINDER_QUIET_HOURS=""
		// turns quiet hours off) and is ignored for other kinds.
		if !set || (raw == "" && fv.Kind() != reflect.String) {
			continue
		}
		key := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, "ELICENCE_"), "_", "."))
		if err := setValue(fv, raw); err != nil {
			return fmt.Errorf("config: %s (from %s): %w", key, name, err)
		}
	}
	return nil
}

var durationType = reflect.TypeOf(time.Duration(0))

func setValue(fv reflect.Value, raw string) error {
	switch {
	case fv.Type() == durationType:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("want a Go duration like 60s, got %q", raw)
		}
		fv.SetInt(int64(d))
	case fv.Kind() == reflect.String:
		fv.SetString(raw)
	case fv.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", raw)
		}
		fv.SetBool(b)
	case fv.Kind() == reflect.Int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("want an integer, got %q", raw)
		}
		fv.SetInt(int64(n))
	case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String:
		parts := splitList(raw)
		fv.Set(reflect.ValueOf(parts))
	case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.Int:
		var ns []int
		for _, p := range splitList(raw) {
			n, err := strconv.Atoi(p)
			if err != nil {
				return fmt.Errorf("want comma-separated integers, got %q", raw)
			}
			ns = append(ns, n)
		}
		fv.Set(reflect.ValueOf(ns))
	case fv.Kind() == reflect.Map && fv.Type().Elem().Kind() == reflect.String:
		m := map[string]string{}
		for _, p := range splitList(raw) {
			k, val, ok := strings.Cut(p, "=")
			if !ok {
				return fmt.Errorf("want key=value pairs separated by commas, got %q", raw)
			}
			m[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
		fv.Set(reflect.ValueOf(m))
	default:
		return fmt.Errorf("unsupported type %s", fv.Type())
	}
	return nil
}

func splitList(raw string) []string {
	var out []string
	for _, p := range strings.Split(raw, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// validate checks the key settings: their lengths, that the current pair is
// there in production, that the legacy pair comes whole, and that no key
// is used twice. An AES-era key left in data_key gets a message saying
// where it belongs now.
func (s Security) validate(mode string, bad func(key, format string, a ...any)) {
	keys := []struct {
		name, value string
		size        int
		what        string
	}{
		{"security.data_key", s.DataKey, 16, "an SM4 key"},
		{"security.index_key", s.IndexKey, 32, "an HMAC-SM3 key"},
		{"security.previous_data_key", s.PreviousDataKey, 16, "an SM4 key"},
		{"security.previous_index_key", s.PreviousIndexKey, 32, "an HMAC-SM3 key"},
		{"security.legacy_data_key", s.LegacyDataKey, 32, "the AES-256 key used before SM4"},
		{"security.legacy_index_key", s.LegacyIndexKey, 32, "the HMAC-SHA256 key used before SM3"},
	}
	seen := map[string]string{}
	for i, k := range keys {
		if k.value == "" {
			if i < 2 && mode == "production" {
				bad(k.name, "is required in production (%d hex characters from the environment)", 2*k.size)
			}
			continue
		}
		b, err := hex.DecodeString(k.value)
		switch {
		case i == 0 && err == nil && len(b) == 32:
			bad(k.name, "is 32 bytes, the size of the AES-256 key used before SM4: set a new 16-byte SM4 key "+
				"(32 hex characters) and move this one to security.legacy_data_key (docs/OPERATIONS.md)")
			continue
		case err != nil || len(b) != k.size:
			bad(k.name, "must be %d hex characters (%d bytes, %s)", 2*k.size, k.size, k.what)
			continue
		}
		if other, dup := seen[strings.ToLower(k.value)]; dup {
			bad(k.name, "must differ from %s", other)
		}
		seen[strings.ToLower(k.value)] = k.name
	}
	if (s.LegacyDataKey == "") != (s.LegacyIndexKey == "") {
		bad("security.legacy_index_key", "security.legacy_data_key and security.legacy_index_key go together: rows from before SM4 need both")
	}
}
