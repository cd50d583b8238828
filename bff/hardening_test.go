package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"

	"github.com/yangcheng-county/elicence/internal/redisx/redistest"
	"github.com/yangcheng-county/elicence/internal/store/mysqltest"
)

// stallProxy forwards TCP to target until paused; paused, it keeps every
// connection open and forwards nothing, like a database server that has
// stopped answering (the case no error handling sees: no reset, no reply).
type stallProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cond   *sync.Cond
	paused bool
	conns  []net.Conn
}

func newStallProxy(t *testing.T, target string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{ln: ln, target: target}
	p.cond = sync.NewCond(&p.mu)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *stallProxy) addr() string { return p.ln.Addr().String() }

func (p *stallProxy) setPaused(v bool) {
	p.mu.Lock()
	p.paused = v
	p.mu.Unlock()
	p.cond.Broadcast()
}

// waitRunning blocks while the proxy is paused.
func (p *stallProxy) waitRunning() {
	p.mu.Lock()
	for p.paused {
		p.cond.Wait()
	}
	p.mu.Unlock()
}

func (p *stallProxy) track(c net.Conn) {
	p.mu.Lock()
	p.conns = append(p.conns, c)
	p.mu.Unlock()
}

func (p *stallProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.track(c)
		go func() {
			p.waitRunning()
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				return
			}
			p.track(up)
			go p.pipe(up, c)
			p.pipe(c, up)
		}()
	}
}

// pipe copies src to dst, holding each chunk while the proxy is paused.
func (p *stallProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.waitRunning()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *stallProxy) close() {
	p.ln.Close()
	p.setPaused(false)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// TestHungDependency: with the database or Redis hung (connection open, no
// reply), a logged-in route, a verification and /readyz answer 503 within
// 2 s instead of hanging for the outage, and everything recovers by itself
// when the dependency answers again.
func TestHungDependency(t *testing.T) {
	cases := []struct {
		name string
		// env starts the server with the dependency behind a stall proxy.
		env func(t *testing.T) (*stallProxy, []string)
		// warning is the start-up line embedded mode prints for this set-up.
		warning string
	}{
		{"database", func(t *testing.T) (*stallProxy, []string) {
			cfg, err := mysqldriver.ParseDSN(mysqltest.DSN(t))
			if err != nil {
				t.Fatal(err)
			}
			proxy := newStallProxy(t, cfg.Addr)
			cfg.Addr = proxy.addr()
			return proxy, []string{"ELICENCE_DATABASE_DRIVER=mysql", "ELICENCE_DATABASE_DSN=" + cfg.FormatDSN(),
				"ELICENCE_DATABASE_QUERY_TIMEOUT=500ms"}
		}, "embedded mode is using a MySQL database"},
		{"redis", func(t *testing.T) (*stallProxy, []string) {
			proxy := newStallProxy(t, redistest.Addr())
			return proxy, []string{"ELICENCE_REDIS_ADDR=" + proxy.addr(),
				"ELICENCE_REDIS_KEY_PREFIX=" + redistest.Open(t).Key(""),
				"ELICENCE_REDIS_READ_TIMEOUT=500ms", "ELICENCE_REDIS_WRITE_TIMEOUT=500ms"}
		}, "embedded mode is using an external Redis"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			proxy, env := tc.env(t)
			s := startServer(t, env...)
			if !strings.Contains(s.logs.String(), tc.warning) {
				t.Errorf("embedded mode started without the warning %q:\n%s", tc.warning, s.logs.String())
			}
			checkHangAndRecovery(t, s, proxy)
		})
	}
}

// checkHangAndRecovery: with the proxy stalled, a logged-in route, a
// verification and /readyz each answer 503 within 2 s; once it forwards
// again, the same calls succeed without a restart.
func checkHangAndRecovery(t *testing.T, s *server, proxy *stallProxy) {
	t.Helper()
	zhang := s.login(t, "demo-citizen-zhangsan")
	police := s.login(t, "demo-officer-police")
	verify := func() (int, string) {
		var e errorBody
		code := police.call(http.MethodPost, "/api/v1/verifications", map[string]string{"code": "no-such-code", "purpose": "临时检查"}, &e)
		return code, e.Error.Code
	}
	if code := zhang.call(http.MethodGet, "/api/v1/me", nil, nil); code != http.StatusOK {
		t.Fatalf("before the hang: /me %d", code)
	}
	if code, ecode := verify(); code != http.StatusNotFound || ecode != "show_code_invalid" {
		t.Fatalf("before the hang: verify %d %s", code, ecode)
	}

	proxy.setPaused(true)
	// Every answer must come within 2 s: a hung request fails the call.
	for _, u := range []*user{zhang, police} {
		u.client.Timeout = 2 * time.Second
	}
	if code := zhang.call(http.MethodGet, "/api/v1/me", nil, nil); code != http.StatusServiceUnavailable {
		t.Errorf("hung: /me answered %d, want 503", code)
	}
	if code, ecode := verify(); code != http.StatusServiceUnavailable || ecode != "dependency_unavailable" {
		t.Errorf("hung: verify answered %d %s, want 503 dependency_unavailable", code, ecode)
	}
	ready := &http.Client{Timeout: 2 * time.Second}
	resp, err := ready.Get(s.url + "/readyz")
	if err != nil {
		t.Fatalf("hung: /readyz did not answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("hung: /readyz %d, want 503", resp.StatusCode)
	}

	proxy.setPaused(false)
	for _, u := range []*user{zhang, police} {
		u.client.Timeout = 10 * time.Second
	}
	guard := time.Now().Add(30 * time.Second)
	for {
		me := zhang.call(http.MethodGet, "/api/v1/me", nil, nil)
		v, ecode := verify()
		if me == http.StatusOK && v == http.StatusNotFound && ecode == "show_code_invalid" {
			break
		}
		if time.Now().After(guard) {
			t.Fatalf("no recovery after the dependency answered again: /me %d, verify %d %s", me, v, ecode)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestServeGivesUpOnHungMySQL: a MySQL that accepts connections and never
// answers stops start-up with an error naming database.connect_timeout,
// after saying what it waits for, instead of hanging without a word.
func TestServeGivesUpOnHungMySQL(t *testing.T) {
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "ELICENCE_DATA_DIR="+t.TempDir(), "ELICENCE_HTTP_ADDR=127.0.0.1:0",
		"ELICENCE_DATABASE_DRIVER=mysql", "ELICENCE_DATABASE_DSN=root@tcp("+ln.Addr().String()+")/elicence?parseTime=true",
		"ELICENCE_DATABASE_CONNECT_TIMEOUT=1s")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("serve still waiting after a minute with connect_timeout 1s:\n%s", out)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !strings.Contains(string(out), "database.connect_timeout") ||
		!strings.Contains(string(out), "waiting for the database") {
		t.Fatalf("serve on a hung MySQL: %v\n%s", err, out)
	}
}

// TestProductionRefusesUnsafeSettings: each setting that would make a
// production deployment unsafe stops `serve` before it connects anywhere,
// with a message naming the key.
func TestProductionRefusesUnsafeSettings(t *testing.T) {
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	base := append(os.Environ(), "ELICENCE_DATA_DIR="+t.TempDir(),
		"ELICENCE_DATABASE_DSN=u:p@tcp(127.0.0.1:1)/elicence?parseTime=true", "ELICENCE_DATABASE_CONNECT_TIMEOUT=2s",
		"ELICENCE_WECHAT_APP_SECRET=secret", "ELICENCE_WECHAT_TOKEN=token123",
		"ELICENCE_SECURITY_DATA_KEY="+strings.Repeat("ab", 16), "ELICENCE_SECURITY_INDEX_KEY="+strings.Repeat("cd", 32), "ELICENCE_SMS_TOKEN=t")
	serve := func(env ...string) string {
		cmd := exec.Command(bin, "serve", "-config", "configs/production.example.yaml")
		cmd.Dir = ".."
		cmd.Env = append(append([]string(nil), base...), env...)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("production serve with %v started", env)
		}
		return string(out)
	}
	// The example itself passes validation: it fails only on the missing database.
	if out := serve(); strings.Contains(out, "config:") || !strings.Contains(out, "database") {
		t.Fatalf("production example refused by validation:\n%s", out)
	}
	for _, tc := range []struct{ env, key string }{
		{"ELICENCE_PUBLIC_URL=http://elicence.example.gov.cn", "public_url"},
		{"ELICENCE_SEED_DEMO=true", "seed_demo"},
		{"ELICENCE_DEV_MODE=true", "dev_mode"},
		{"ELICENCE_WECHAT_FAKE=true", "wechat.fake"},
		{"ELICENCE_REDIS_ADDR=embedded", "redis.addr"},
		{"ELICENCE_HTTP_ADMIN_ADDR=0.0.0.0:8080", "http.admin_addr"},
		{"ELICENCE_SECURITY_DATA_KEY=", "security.data_key"},
	} {
		if out := serve(tc.env); !strings.Contains(out, "config: "+tc.key+":") {
			t.Errorf("%s: want a refusal naming %s, got:\n%s", tc.env, tc.key, out)
		}
	}
}
