//go:build load

package main

// The load and fault harness behind `make load` (not part of `make test`):
// an open-model load of show-code mints and verifications against two
// `bff serve` processes that share MariaDB and Redis through fault-injecting
// TCP proxies, scenario after scenario, then the invariants. All traffic
// stays on 127.0.0.1; every scenario is bounded in time and rate.
//
//	make load                          # the default rates
//	ELICENCE_LOAD_RATE=60 make load    # requests per second in the fault scenarios

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	mysqldriver "github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/yangcheng-county/elicence/internal/redisx/redistest"
	"github.com/yangcheng-county/elicence/internal/store/mysqltest"
)

// faultProxy is a toxiproxy in this process between the servers and a store.
type faultProxy struct{ *toxiproxy.Proxy }

func newFaultProxy(t *testing.T, api *toxiproxy.ApiServer, name, upstream string) faultProxy {
	t.Helper()
	p := toxiproxy.NewProxy(api, name, "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return faultProxy{p}
}

// toxic adds a toxic (see toxiproxy's toxics) and returns its removal.
func (p faultProxy) toxic(t *testing.T, name, kind string, attrs map[string]any) func() {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "type": kind, "stream": "downstream", "attributes": attrs})
	if _, err := p.Toxics.AddToxicJson(strings.NewReader(string(body))); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := p.Toxics.RemoveToxic(context.Background(), name); err != nil {
			t.Error(err)
		}
	}
}

// loadRun is the state of one harness run: who is logged in, which codes
// were minted and what every verification answered.
type loadRun struct {
	t       *testing.T
	servers []*server
	// Cookie headers; sessions live in Redis, so each is valid on both
	// instances. second is another officer of the same department: the code
	// is spent for them (the first officer re-submitting gets the same answer
	// again by design, so only another officer's replay tests a spent code).
	citizen, police, second string
	licence                 string

	mu       sync.Mutex
	fresh    []int    // minted codes not yet verified
	used     []int    // codes verified once, offered again as replays
	codes    []string // index → scanned content
	valid    map[int]int
	replayOK int // replays answered "valid": must stay 0
	seq      int
}

// targeter alternates between the two instances; a tick verifies a fresh
// code when there is one, otherwise mints, and every fifth tick has another
// officer replay a code the first one has spent. It never blocks: vegeta starts the latency clock before it.
func (r *loadRun) targeter() vegeta.Targeter {
	return func(tgt *vegeta.Target) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.seq++
		s := r.servers[r.seq%2]
		hdr := http.Header{"Content-Type": {"application/json"}}
		switch {
		case r.seq%5 == 0 && len(r.used) > 0:
			k := r.used[r.seq%len(r.used)]
			*tgt = r.verifyTarget(s, k, "replay", r.second, hdr)
		case len(r.fresh) > 0:
			k := r.fresh[0]
			r.fresh = r.fresh[1:]
			*tgt = r.verifyTarget(s, k, "first", r.police, hdr)
		default:
			hdr.Set("Cookie", r.citizen)
			*tgt = vegeta.Target{Method: "POST", URL: s.url + "/api/v1/licences/" + r.licence + "/show-codes?op=mint",
				Body: []byte(`{"scope":"basic"}`), Header: hdr}
		}
		return nil
	}
}

func (r *loadRun) verifyTarget(s *server, k int, kind, cookie string, hdr http.Header) vegeta.Target {
	hdr.Set("Cookie", cookie)
	body, _ := json.Marshal(map[string]string{"code": r.codes[k], "purpose": "道路交通执法检查"})
	return vegeta.Target{Method: "POST", URL: fmt.Sprintf("%s/api/v1/verifications?op=%s&k=%d", s.url, kind, k), Body: body, Header: hdr}
}

// outcome is one scenario's figures.
type outcome struct {
	name              string
	rate              int
	requests, success int
	p50, p99          time.Duration
	errors            map[string]int
}

// attack runs one open-model scenario and records every answer.
func (r *loadRun) attack(name string, rate int, d time.Duration, during func()) outcome {
	atk := vegeta.NewAttacker(vegeta.Timeout(5*time.Second), vegeta.KeepAlive(true), vegeta.MaxWorkers(256), vegeta.MaxBody(64<<10))
	out := outcome{name: name, rate: rate, errors: map[string]int{}}
	var m vegeta.Metrics
	done := make(chan struct{})
	if during != nil {
		go func() { defer close(done); during() }()
	} else {
		close(done)
	}
	for res := range atk.Attack(r.targeter(), vegeta.Rate{Freq: rate, Per: time.Second}, d, name) {
		m.Add(res)
		out.requests++
		if kind := r.record(res); kind != "" {
			out.errors[kind]++
		} else {
			out.success++
		}
	}
	<-done
	m.Close()
	out.p50, out.p99 = m.Latencies.P50, m.Latencies.P99
	return out
}

// record files one answer and returns its error kind ("" for success).
func (r *loadRun) record(res *vegeta.Result) string {
	u, _ := url.Parse(res.URL)
	op := u.Query().Get("op")
	if res.Code == 0 { // no answer; vegeta also sets Error for 4xx and 5xx
		return op + ": " + transportKind(res.Error)
	}
	var body struct {
		Content string `json:"content"`
		Result  string `json:"result"`
		Error   struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(res.Body, &body)
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case op == "mint" && res.Code == 200:
		r.codes = append(r.codes, body.Content)
		r.fresh = append(r.fresh, len(r.codes)-1)
		return ""
	case (op == "first" || op == "replay") && res.Code == 200:
		k, _ := strconv.Atoi(u.Query().Get("k"))
		if op == "first" {
			// Replayed only once the first officer has spent it.
			r.used = append(r.used, k)
		}
		if body.Result == "valid" {
			r.valid[k]++
			if op == "replay" {
				r.replayOK++
			}
		}
		return ""
	case op == "replay" && res.Code == 404 && body.Error.Code == "show_code_invalid":
		return "" // the right answer to a replay
	}
	return fmt.Sprintf("%s: %d %s", op, res.Code, body.Error.Code)
}

func transportKind(e string) string {
	switch {
	case strings.Contains(e, "connection refused"):
		return "connection refused"
	case strings.Contains(e, "Client.Timeout") || strings.Contains(e, "deadline exceeded"):
		return "timeout (5 s)"
	case strings.Contains(e, "server closed idle connection"):
		return "kept-alive connection closed before the request was read"
	case strings.Contains(e, "EOF") || strings.Contains(e, "reset"):
		return "connection dropped"
	}
	if i := strings.LastIndex(e, ": "); i >= 0 {
		e = e[i+2:]
	}
	return e
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func TestLoad(t *testing.T) {
	api := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	dsn := mysqltest.DSN(t)
	dbCfg, err := mysqldriver.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	mysqlProxy := newFaultProxy(t, api, "mysql", dbCfg.Addr)
	redisProxy := newFaultProxy(t, api, "redis", redistest.Addr())
	proxied := *dbCfg
	proxied.Addr = mysqlProxy.Listen
	a, b := startPairOn(t, append(storesEnv(t, proxied.FormatDSN(), redisProxy.Listen),
		// One citizen and one officer stand for many: lift the per-account
		// abuse limits that would otherwise (rightly) stop them.
		"ELICENCE_VERIFY_FAILURES_PER_OFFICER=1000000", "ELICENCE_VERIFY_FAILURES_PER_IP=1000000",
		"ELICENCE_REMINDER_QUIET_HOURS=", "ELICENCE_LOG_LEVEL=warn"))

	zhang := a.login(t, "demo-citizen-zhangsan")
	bindRealname(t, zhang, "张三", "140522198503120016")
	police := b.login(t, "demo-officer-police")
	addOfficers(t, a, []string{"o-load-second-officer"})
	second := a.login(t, "o-load-second-officer")
	r := &loadRun{t: t, servers: []*server{a, b}, licence: drivingLicence(t, zhang), valid: map[int]int{}}
	r.citizen, r.police, r.second = cookieHeader(zhang, a), cookieHeader(police, b), cookieHeader(second, a)
	loadBefore := loadAverage()

	var outcomes []outcome
	// Capacity: rising steady rates; the report names the highest whose p99
	// stays within 100 ms with no errors.
	for _, rate := range []int{10, 25, 50, 100} {
		outcomes = append(outcomes, r.attack("steady", rate, 6*time.Second, nil))
	}
	rate := envInt("ELICENCE_LOAD_RATE", 40)
	remindDone := make(chan []string, 1)
	outcomes = append(outcomes, r.attack("steady + 4× remind --once", rate, 15*time.Second, func() {
		remindDone <- remindEverywhere(t, []*server{a, b}, 4)
	}))
	outcomes = append(outcomes, r.attack("DB latency +200 ms", rate, 15*time.Second, func() {
		time.Sleep(2 * time.Second)
		defer mysqlProxy.toxic(t, "latency", "latency", map[string]any{"latency": 200})()
		time.Sleep(11 * time.Second)
	}))
	outcomes = append(outcomes, r.attack("DB hang 8 s, then recovery", rate, 20*time.Second, func() {
		time.Sleep(2 * time.Second)
		defer mysqlProxy.toxic(t, "hang", "timeout", map[string]any{"timeout": 0})()
		time.Sleep(8 * time.Second)
	}))
	outcomes = append(outcomes, r.attack("Redis down 8 s, then recovery", rate, 20*time.Second, func() {
		time.Sleep(2 * time.Second)
		redisProxy.Stop()
		time.Sleep(8 * time.Second)
		if err := redisProxy.Start(); err != nil {
			t.Error(err)
		}
	}))
	// A's fake WeChat keeps its messages in memory and restarts with A.
	sentBeforeRestart := len(fakeMessages(t, a))
	outcomes = append(outcomes, r.attack("instance A SIGTERM + restart", rate, 20*time.Second, func() {
		time.Sleep(3 * time.Second)
		a.signal(syscall.SIGTERM)
		if err := a.wait(30 * time.Second); err != nil {
			t.Errorf("A after SIGTERM: %v", err)
		}
		a.restart(t)
	}))

	// Invariants.
	outs := <-remindDone
	outs = append(outs, remindEverywhere(t, []*server{a, b}, 1)...) // after the faults
	reminders := sentBeforeRestart + len(fakeMessages(t, a)) + len(fakeMessages(t, b))
	r.mu.Lock()
	clientValid, doubles := 0, 0
	for _, n := range r.valid {
		clientValid++
		if n > 1 {
			doubles++
		}
	}
	minted := len(r.codes)
	r.mu.Unlock()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var recorded int
	if err := db.QueryRow("SELECT COUNT(*) FROM usage_records WHERE result = 'valid'").Scan(&recorded); err != nil {
		t.Fatal(err)
	}

	report := fmt.Sprintf("machine load average before/after: %s / %s (2 cores shared)\n\n", loadBefore, loadAverage())
	report += formatReport(outcomes)
	report += fmt.Sprintf("\ncodes minted %d; answered valid %d; valid twice %d; replays answered valid %d; "+
		"usage records (valid) %d; reminder messages %d\n", minted, clientValid, doubles, r.replayOK, recorded, reminders)
	fmt.Println(report)
	if path := os.Getenv("ELICENCE_LOAD_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(report), 0o644); err != nil {
			t.Error(err)
		}
	}
	if doubles > 0 || r.replayOK > 0 {
		t.Errorf("false valid: %d codes valid twice, %d replays valid", doubles, r.replayOK)
	}
	// A valid answer the client saw must have its record; a record may exist
	// for an answer the client gave up on (timeout), never more than one per code.
	if recorded < clientValid || recorded > minted {
		t.Errorf("usage records %d for %d valid answers and %d codes", recorded, clientValid, minted)
	}
	if reminders != 1 {
		t.Errorf("%d reminder messages, want exactly 1:\n%s", reminders, strings.Join(outs, "\n"))
	}
}

// loadAverage is the 1-minute load average: figures taken on a busy
// machine say so.
func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// cookieHeader is the Cookie header of a logged-in browser for s.
func cookieHeader(u *user, s *server) string {
	base, _ := url.Parse(s.url)
	var parts []string
	for _, c := range u.client.Jar.Cookies(base) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

func formatReport(outs []outcome) string {
	var sb strings.Builder
	sb.WriteString("| scenario | rate/s | requests | ok | p50 | p99 | errors by kind |\n|---|---|---|---|---|---|---|\n")
	best := 0
	for _, o := range outs {
		var kinds []string
		for k, n := range o.errors {
			kinds = append(kinds, fmt.Sprintf("%s ×%d", k, n))
		}
		sort.Strings(kinds)
		fmt.Fprintf(&sb, "| %s | %d | %d | %d | %s | %s | %s |\n", o.name, o.rate, o.requests, o.success,
			o.p50.Round(100*time.Microsecond), o.p99.Round(100*time.Microsecond), strings.Join(kinds, ", "))
		if o.name == "steady" && o.p99 <= 100*time.Millisecond && len(o.errors) == 0 && o.rate > best {
			best = o.rate
		}
	}
	fmt.Fprintf(&sb, "\nthroughput at p99 ≤ 100 ms with no errors: %d requests/s\n", best)
	return sb.String()
}
