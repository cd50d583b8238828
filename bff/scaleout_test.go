package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/yangcheng-county/elicence/internal/redisx/redistest"
	"github.com/yangcheng-county/elicence/internal/store/mysqltest"
)

// Two `bff serve` processes built from this tree on one MariaDB and one real
// Redis: what production behind a load balancer (or Kubernetes with N
// replicas) relies on. Each process mounts its own fake WeChat at its own
// public URL, so a user logs in on an instance through that instance's fake;
// sessions, show codes and limits are shared through Redis, licences, usage
// records and the reminder outbox through the database.

// sharedStores is the environment that points an instance at the test's own
// MariaDB database and Redis key prefix, with the same field keys: what
// every replica of one deployment shares.
func sharedStores(t *testing.T) []string {
	return storesEnv(t, mysqltest.DSN(t), redistest.Addr())
}

// storesEnv is sharedStores for a given database and Redis address (the load
// harness puts fault-injecting proxies in between).
func storesEnv(t *testing.T, dsn, redisAddr string) []string {
	t.Helper()
	prefix := redistest.Open(t).Key("") // deleted with the test
	key := func(n int) string {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	}
	return []string{
		"ELICENCE_DATABASE_DRIVER=mysql", "ELICENCE_DATABASE_DSN=" + dsn,
		"ELICENCE_REDIS_ADDR=" + redisAddr, "ELICENCE_REDIS_KEY_PREFIX=" + prefix,
		"ELICENCE_SECURITY_DATA_KEY=" + key(16), "ELICENCE_SECURITY_INDEX_KEY=" + key(32),
	}
}

// startPair starts instance A, then B (one after the other, so the schema
// migration and demo seeding of embedded mode run once at a time) on shared
// stores. Each fake WeChat gets its own AppID: the two fakes are two
// separate WeChats whose access tokens must not be mixed in the shared
// token cache; production has one WeChat and one AppID.
func startPair(t *testing.T, extraEnv ...string) (a, b *server) {
	t.Helper()
	return startPairOn(t, append(sharedStores(t), extraEnv...))
}

// startPairOn is startPair with the stores' environment given.
func startPairOn(t *testing.T, env []string) (a, b *server) {
	t.Helper()
	a = startServer(t, append(slices.Clip(env), "ELICENCE_WECHAT_APP_ID=wxdemoinstancea0")...)
	b = startServer(t, append(slices.Clip(env), "ELICENCE_WECHAT_APP_ID=wxdemoinstanceb0")...)
	return a, b
}

// on returns the same browser (cookie jar, so the same session) talking to
// another instance. The session lives in Redis, so either instance knows it.
func (u *user) on(s *server) *user {
	return &user{t: u.t, s: s, client: u.client}
}

// drivingLicence returns the id of the citizen's driving licence.
func drivingLicence(t *testing.T, u *user) string {
	t.Helper()
	var list struct {
		Items []struct {
			ID       string `json:"id"`
			TypeName string `json:"type_name"`
		} `json:"items"`
	}
	if code := u.call("GET", "/api/v1/licences", nil, &list); code != 200 {
		t.Fatalf("licences: %d", code)
	}
	for _, it := range list.Items {
		if it.TypeName == "机动车驾驶证" {
			return it.ID
		}
	}
	t.Fatalf("no driving licence in %+v", list.Items)
	return ""
}

// mint asks for a show code and returns the content an officer scans.
func mint(t *testing.T, u *user, licenceID string) string {
	t.Helper()
	var show map[string]string
	if code := u.call("POST", "/api/v1/licences/"+licenceID+"/show-codes", map[string]string{"scope": "basic"}, &show); code != 200 {
		t.Fatalf("mint on %s: %d %v", u.s.url, code, show)
	}
	return show["content"]
}

type verification struct {
	Result string `json:"result"`
	Error  struct {
		Code string `json:"code"`
	} `json:"error"`
}

// TestTwoInstancesShareState: a show code minted on A verifies on B, and the
// citizen sees the usage record on either.
func TestTwoInstancesShareState(t *testing.T) {
	a, b := startPair(t)
	zhang := a.login(t, "demo-citizen-zhangsan")
	bindRealname(t, zhang, "张三", "140522198503120016")
	licence := drivingLicence(t, zhang.on(b))

	police := b.login(t, "demo-officer-police")
	var res verification
	if code := police.call("POST", "/api/v1/verifications", map[string]string{"code": mint(t, zhang, licence), "purpose": "道路交通执法检查"}, &res); code != 200 || res.Result != "valid" {
		t.Fatalf("minted on A, verified on B: %d %+v", code, res)
	}
	var usage struct {
		Items []struct{ Result string } `json:"items"`
	}
	if code := zhang.on(b).call("GET", "/api/v1/licences/"+licence+"/usage", nil, &usage); code != 200 || len(usage.Items) != 1 || usage.Items[0].Result != "valid" {
		t.Fatalf("usage on B: %d %+v", code, usage)
	}
}

// TestOfficersRaceAcrossInstances: 50 officers, half logged in on A and half
// on B, scan the same show code at once. Exactly one gets "valid"; every other
// one is told the code is used up, and exactly one usage record is written.
func TestOfficersRaceAcrossInstances(t *testing.T) {
	// Every officer here comes from 127.0.0.1: keep the per-IP failure limit
	// (a different rule, tested elsewhere) out of this test's way.
	a, b := startPair(t, "ELICENCE_VERIFY_FAILURES_PER_IP=1000")
	const officers = 50
	openids := make([]string, officers)
	for i := range openids {
		openids[i] = fmt.Sprintf("o-race-officer-%02d", i)
	}
	addOfficers(t, a, openids)
	users := make([]*user, officers)
	for i, id := range openids {
		users[i] = []*server{a, b}[i%2].login(t, id)
	}

	zhang := a.login(t, "demo-citizen-zhangsan")
	bindRealname(t, zhang, "张三", "140522198503120016")
	licence := drivingLicence(t, zhang)
	code := mint(t, zhang, licence)

	var (
		start      = make(chan struct{})
		wg         sync.WaitGroup
		valid      atomic.Int32
		mu         sync.Mutex
		unexpected []string
	)
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var res verification
			status := u.call("POST", "/api/v1/verifications", map[string]string{"code": code, "purpose": "道路交通执法检查"}, &res)
			switch {
			case status == 200 && res.Result == "valid":
				valid.Add(1)
			case status == 404 && res.Error.Code == "show_code_invalid":
			default:
				mu.Lock()
				unexpected = append(unexpected, fmt.Sprintf("officer %d on %s: %d %+v", i, u.s.url, status, res))
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	if valid.Load() != 1 || len(unexpected) > 0 {
		t.Fatalf("%d valid answers, want exactly 1; unexpected: %v", valid.Load(), unexpected)
	}
	var usage struct {
		Items []struct{ Result string } `json:"items"`
	}
	if status := zhang.on(b).call("GET", "/api/v1/licences/"+licence+"/usage", nil, &usage); status != 200 || len(usage.Items) != 1 {
		t.Fatalf("usage records after the race: %d %+v", status, usage)
	}
}

// addOfficers binds each openid to the traffic police with `bff officer add`,
// a few processes at a time.
func addOfficers(t *testing.T, s *server, openids []string) {
	t.Helper()
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	errs := make([]error, len(openids))
	for i, id := range openids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			cmd := exec.Command(s.bin, "officer", "add", "--openid", id, "--department", "111405220120804312")
			cmd.Dir, cmd.Env = "..", s.env
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("officer add %s: %w\n%s", id, err, out)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// TestRemindersSentOnceAcrossInstances: both instances run their reminder
// scheduler and `bff remind --once` runs four times at once, twice with each
// instance's settings; the citizen still gets exactly one template message,
// because every sender takes a row through its lease in the shared outbox.
func TestRemindersSentOnceAcrossInstances(t *testing.T) {
	a, b := startPair(t, "ELICENCE_REMINDER_QUIET_HOURS=")
	zhang := a.login(t, "demo-citizen-zhangsan")
	bindRealname(t, zhang, "张三", "140522198503120016")

	outs := remindEverywhere(t, []*server{a, b}, 4)
	sent := 0
	for _, s := range []*server{a, b} {
		for _, m := range fakeMessages(t, s) {
			if m.ToUser != "demo-citizen-zhangsan" {
				t.Errorf("message to %q", m.ToUser)
			}
			sent++
		}
	}
	if sent != 1 {
		t.Fatalf("%d template messages across both instances, want 1; remind said:\n%s", sent, strings.Join(outs, "\n"))
	}
}

// remindEverywhere runs `bff remind --once` n times at once, alternating
// between the instances' settings, and returns what each run printed.
func remindEverywhere(t *testing.T, servers []*server, n int) []string {
	t.Helper()
	var wg sync.WaitGroup
	outs := make([]string, n)
	errs := make([]error, n)
	for i := range outs {
		s := servers[i%len(servers)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(s.bin, "remind", "--once")
			cmd.Dir, cmd.Env = "..", s.env
			out, err := cmd.CombinedOutput()
			outs[i], errs[i] = string(out), err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Errorf("remind --once: %v\n%s", err, strings.Join(outs, "\n"))
	}
	return outs
}

type fakeMessage struct {
	ToUser string `json:"touser"`
}

// fakeMessages lists the template messages an instance's fake WeChat received.
func fakeMessages(t *testing.T, s *server) []fakeMessage {
	t.Helper()
	resp, err := http.Get(s.url + "/fakewx/_messages")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var msgs struct {
		Items []fakeMessage `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&msgs); err != nil {
		t.Fatal(err)
	}
	return msgs.Items
}

// TestBlankTemplateTurnsRemindersOff: a county whose template id is not yet
// filled in still gets a running service, with a warning; `remind` says why
// it cannot send instead of sending with an empty template.
func TestBlankTemplateTurnsRemindersOff(t *testing.T) {
	s := startServer(t, "ELICENCE_WECHAT_EXPIRY_TEMPLATE_ID=")
	if !strings.Contains(s.logs.String(), "expiry reminders are off") {
		t.Fatalf("no warning in the start-up log:\n%s", s.logs.String())
	}
	zhang := s.login(t, "demo-citizen-zhangsan")
	if code := zhang.call("GET", "/api/v1/me", nil, nil); code != 200 {
		t.Fatalf("me: %d", code)
	}
	cmd := exec.Command(s.bin, "remind", "--once")
	cmd.Dir, cmd.Env = "..", s.env
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "wechat.expiry_template_id is empty") {
		t.Fatalf("remind --once without a template: %v %s", err, out)
	}
}
