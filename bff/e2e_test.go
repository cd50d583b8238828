package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/testkit"
)

// server is `bff serve` running as a real process in embedded mode.
type server struct {
	url  string
	bin  string
	env  []string
	logs *testkit.LogBuffer
	// proc is the running process; exited closes when it has ended, after
	// which exitErr holds what Wait returned. restart replaces all three.
	proc    *exec.Cmd
	exited  chan struct{}
	exitErr error
}

// buildBinary compiles the server once per test run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "elicence-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "bff")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
})

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServer runs `bff serve` from the repository root (so the default
// configuration and the built H5 are found) with a fresh data directory.
func startServer(t *testing.T, extraEnv ...string) *server {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	s := &server{url: base, bin: bin, logs: &testkit.LogBuffer{}}
	s.env = append(os.Environ(),
		"ELICENCE_HTTP_ADDR=127.0.0.1:"+fmt.Sprint(port),
		"ELICENCE_PUBLIC_URL="+base,
		"ELICENCE_DATA_DIR="+t.TempDir(),
		"ELICENCE_WECHAT_FAKE=true",
	)
	s.env = append(s.env, extraEnv...)
	s.launch(t)
	t.Cleanup(func() {
		s.signal(os.Interrupt)
		s.wait(10 * time.Second)
		if t.Failed() {
			t.Logf("server log:\n%s", s.logs.String())
		}
	})
	s.waitReady(t)
	return s
}

// launch starts the process; the same settings (port, data, stores) each time.
func (s *server) launch(t *testing.T) {
	t.Helper()
	cmd := exec.Command(s.bin, "serve")
	cmd.Dir = ".."
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	s.proc, s.exited = cmd, exited
	go func() {
		s.exitErr = cmd.Wait()
		close(exited)
	}()
}

// signal sends sig to the running process, if it still runs.
func (s *server) signal(sig os.Signal) {
	select {
	case <-s.exited:
	default:
		_ = s.proc.Process.Signal(sig)
	}
}

// wait waits up to d for the process to end, killing it after that, and
// returns its exit error (nil for a clean exit).
func (s *server) wait(d time.Duration) error {
	select {
	case <-s.exited:
	case <-time.After(d):
		_ = s.proc.Process.Kill()
		<-s.exited
	}
	return s.exitErr
}

// restart starts the process again after it has ended, and waits until it
// is ready. Only the load-tagged tests (make load) call it.
//
//nolint:unused // used by sigterm_test.go, which builds with the load tag
func (s *server) restart(t *testing.T) {
	t.Helper()
	<-s.exited
	s.launch(t)
	s.waitReady(t)
}

// waitReady polls /readyz until the process answers 200.
func (s *server) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-s.exited:
			t.Fatalf("server exited before it was ready (%v):\n%s", s.exitErr, s.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready after 60s:\n%s", s.logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// run executes another subcommand of the binary with the server's settings.
func (s *server) run(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = ".."
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bff %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// user is one browser: a cookie jar logged in as a demo WeChat account.
type user struct {
	t      *testing.T
	s      *server
	client *http.Client
}

// login goes through the real OAuth redirects, picking openid on the fake
// WeChat's authorize page.
func (s *server) login(t *testing.T, openid string) *user {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	noFollow := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := noFollow.Get(s.url + "/api/v1/auth/wechat/login?next=/licences")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	authorize := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(authorize, s.url+"/fakewx/connect/oauth2/authorize?") {
		t.Fatalf("login: %d to %q", resp.StatusCode, authorize)
	}
	// WeChat's authorize URL ends in #wechat_redirect: the pick goes before it.
	page, _, _ := strings.Cut(authorize, "#")
	resp, err = noFollow.Get(page + "&fake_openid=" + url.QueryEscape(openid))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	callback := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(callback, s.url+"/api/v1/auth/wechat/callback?") {
		t.Fatalf("authorize: %d to %q", resp.StatusCode, callback)
	}
	resp, err = noFollow.Get(callback)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/licences" {
		t.Fatalf("callback: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return &user{t: t, s: s, client: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// call sends a JSON request and decodes the JSON answer into out.
func (u *user) call(method, path string, body any, out any) int {
	u.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u.s.url+path, r)
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := u.client.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			u.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

type errorBody struct {
	Error struct {
		Code string `json:"code"`
	} `json:"error"`
	ReasonCode string `json:"reason_code"`
}

// TestEndToEnd walks the whole product as its users do, against the real
// binary: a citizen logs in through the fake WeChat, binds his real name with
// the SMS code, shows his driving licence, an officer scans the QR and
// verifies it, and the citizen sees the usage record.
func TestEndToEnd(t *testing.T) {
	s := startServer(t)

	zhang := s.login(t, "demo-citizen-zhangsan")
	var me struct {
		RealnameVerified bool     `json:"realname_verified"`
		Roles            []string `json:"roles"`
	}
	if code := zhang.call("GET", "/api/v1/me", nil, &me); code != 200 || me.RealnameVerified {
		t.Fatalf("me before binding: %d %+v", code, me)
	}
	var ch struct {
		ChallengeID string `json:"challenge_id"`
		PhoneHint   string `json:"phone_hint"`
	}
	if code := zhang.call("POST", "/api/v1/me/realname", map[string]string{"name": "张三", "id_number": "140522198503120016"}, &ch); code != 200 {
		t.Fatalf("realname start: %d", code)
	}
	if ch.PhoneHint != "138****0001" {
		t.Errorf("phone hint %q", ch.PhoneHint)
	}
	var sms struct {
		Items []struct{ Phone, Code string } `json:"items"`
	}
	if code := zhang.call("GET", "/api/v1/dev/sms", nil, &sms); code != 200 || len(sms.Items) == 0 {
		t.Fatalf("dev sms: %d %+v", code, sms)
	}
	if code := zhang.call("POST", "/api/v1/me/realname/confirm", map[string]string{"challenge_id": ch.ChallengeID, "code": sms.Items[0].Code}, nil); code != 200 {
		t.Fatalf("realname confirm: %d", code)
	}

	var list struct {
		Items []struct {
			ID       string `json:"id"`
			TypeName string `json:"type_name"`
			Status   string `json:"status"`
		} `json:"items"`
	}
	if code := zhang.call("GET", "/api/v1/licences", nil, &list); code != 200 || len(list.Items) != 3 {
		t.Fatalf("licences: %d %+v", code, list)
	}
	var drivingID string
	for _, it := range list.Items {
		if it.TypeName == "机动车驾驶证" {
			drivingID = it.ID
		}
	}
	if drivingID == "" {
		t.Fatalf("no driving licence in %+v", list)
	}

	var show struct {
		Token, Content, QRPNG, ExpiresAt string
	}
	var rawShow map[string]string
	if code := zhang.call("POST", "/api/v1/licences/"+drivingID+"/show-codes", map[string]string{"scope": "basic"}, &rawShow); code != 200 {
		t.Fatalf("show code: %d %v", code, rawShow)
	}
	show.Token, show.Content, show.QRPNG, show.ExpiresAt = rawShow["token"], rawShow["content"], rawShow["qr_png"], rawShow["expires_at"]
	if show.Content != s.url+"/v/"+show.Token {
		t.Fatalf("content %q for token %q", show.Content, show.Token)
	}
	scanned := testkit.DecodeQRDataURI(t, show.QRPNG)
	if scanned != show.Content {
		t.Fatalf("QR decodes to %q, want %q", scanned, show.Content)
	}

	police := s.login(t, "demo-officer-police")
	var res struct {
		Result     string `json:"result"`
		Colour     string `json:"colour"`
		ReasonCode string `json:"reason_code"`
		Licence    struct {
			TypeName string `json:"type_name"`
		} `json:"licence"`
		Holder struct {
			Name     string `json:"name"`
			IDNumber string `json:"id_number"`
		} `json:"holder"`
	}
	if code := police.call("POST", "/api/v1/verifications", map[string]string{"code": scanned, "purpose": "道路交通执法检查"}, &res); code != 200 {
		t.Fatalf("verify: %d", code)
	}
	if res.Result != "valid" || res.Colour != "green" || res.Licence.TypeName != "机动车驾驶证" {
		t.Fatalf("verification %+v", res)
	}
	if res.Holder.Name != "张*" || strings.Contains(res.Holder.IDNumber, "19850312") {
		t.Fatalf("holder not masked: %+v", res.Holder)
	}

	housing := s.login(t, "demo-officer-housing")
	var eb errorBody
	if code := housing.call("POST", "/api/v1/verifications", map[string]string{"code": scanned, "purpose": "不动产登记"}, &eb); code != 404 || eb.Error.Code != "show_code_invalid" {
		t.Fatalf("second officer on a used code: %d %+v", code, eb)
	}

	var usage struct {
		Items []struct {
			Department string `json:"department"`
			Result     string `json:"result"`
		} `json:"items"`
	}
	if code := zhang.call("GET", "/api/v1/licences/"+drivingID+"/usage", nil, &usage); code != 200 || len(usage.Items) == 0 {
		t.Fatalf("usage: %d %+v", code, usage)
	}
	if usage.Items[0].Department != "阳城县公安局交通管理大队" || usage.Items[0].Result != "valid" {
		t.Fatalf("usage record %+v", usage.Items)
	}

	for _, secret := range []string{show.Token, "140522198503120016", "13800000001"} {
		if strings.Contains(s.logs.String(), secret) {
			t.Fatalf("server log contains a secret %q", secret)
		}
	}
}
