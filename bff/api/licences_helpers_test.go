package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/bff/api"
	"github.com/yangcheng-county/elicence/bff/wire"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/redisx"
	"github.com/yangcheng-county/elicence/internal/redisx/redistest"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
)

func forEachDriver(t *testing.T, fn func(t *testing.T, driver string)) {
	for _, d := range storetest.Drivers {
		t.Run(d, func(t *testing.T) { fn(t, d) })
	}
}

// world is a test server with the demo people logged in: 张三 and 李四
// bound to their holder records, the two demo officers, and 王五 logged in
// but unbound.
type world struct {
	*testServer
	zhangsan, lisi, wangwu, police, housing string // session cookies

	zsDriving, zsIDCard, zsRealEstate, lsDriving, lsIDCard licence.Licence
	policeDept, housingDept                                int64
}

func newWorld(t *testing.T, opts testServerOpts) *world {
	t.Helper()
	ts := newTestServer(t, opts)
	w := &world{testServer: ts}
	w.zhangsan = ts.login(demo.CitizenZhangsan)
	ts.bind(w.zhangsan, demo.ZhangsanName, demo.ZhangsanIDNumber, demo.ZhangsanPhone)
	w.lisi = ts.login(demo.CitizenLisi)
	ts.bind(w.lisi, demo.LisiName, demo.LisiIDNumber, demo.LisiPhone)
	w.wangwu = ts.login(demo.CitizenWangwu)
	w.police = ts.login(demo.OfficerPolice)
	w.housing = ts.login(demo.OfficerHousing)

	ctx := context.Background()
	for _, x := range []struct {
		idn      string
		typeCode string
		into     *licence.Licence
	}{
		{demo.ZhangsanIDNumber, demo.TypeDrivingLicence, &w.zsDriving},
		{demo.ZhangsanIDNumber, demo.TypeResidentID, &w.zsIDCard},
		{demo.ZhangsanIDNumber, demo.TypeRealEstateTitle, &w.zsRealEstate},
		{demo.LisiIDNumber, demo.TypeDrivingLicence, &w.lsDriving},
		{demo.LisiIDNumber, demo.TypeResidentID, &w.lsIDCard},
	} {
		h, err := ts.store.HolderByIDNumber(ctx, store.IDTypeResident, x.idn)
		if err != nil {
			t.Fatal(err)
		}
		ls, err := ts.store.LicencesByHolder(ctx, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			if l.TypeCode == x.typeCode {
				*x.into = l
			}
		}
		if x.into.ID == 0 {
			t.Fatalf("no %s licence for %s", x.typeCode, x.idn)
		}
	}
	for _, d := range []struct {
		uscc string
		into *int64
	}{{demo.USCCTrafficBrigade, &w.policeDept}, {demo.USCCRealEstateCentre, &w.housingDept}} {
		dept, err := ts.store.DepartmentByUSCC(ctx, d.uscc)
		if err != nil {
			t.Fatal(err)
		}
		*d.into = dept.ID
	}
	return w
}

func licencePath(l licence.Licence, suffix string) string {
	return "/api/v1/licences/" + strconv.FormatInt(l.ID, 10) + suffix
}

// mint asks for a show code as the licence's holder and fails the test
// unless one comes back.
func (w *world) mint(cookie string, l licence.Licence, scope string) api.ShowCodeResponse {
	w.t.Helper()
	var body any = map[string]string{"scope": scope}
	if scope == "" {
		body = map[string]string{}
	}
	rec := w.do(http.MethodPost, licencePath(l, "/show-codes"), body, cookie)
	if rec.Code != http.StatusOK {
		w.t.Fatalf("mint: %d %s", rec.Code, rec.Body)
	}
	var resp api.ShowCodeResponse
	decodeJSON(w.t, rec, &resp)
	return resp
}

// verifyAs submits a scan as the officer with the given session cookie.
func (w *world) verifyAs(cookie, code, purpose string) *httptest.ResponseRecorder {
	w.t.Helper()
	return w.do(http.MethodPost, "/api/v1/verifications", map[string]string{"code": code, "purpose": purpose}, cookie)
}

// doFrom is do with a chosen client address, for the per-IP limits.
func (w *world) doFrom(ip, method, path string, body any, cookie string) *httptest.ResponseRecorder {
	w.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		w.t.Fatal(err)
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(b))
	req.RemoteAddr = net.JoinHostPort(ip, "40000")
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: cookie})
	rec := httptest.NewRecorder()
	w.router.ServeHTTP(rec, req)
	return rec
}

// verifyOver gives the router the verifier, and the show codes it reads,
// of the same service composed over another Redis and store, so a test can
// fail one dependency of verification alone while logins keep working.
func (w *world) verifyOver(rc *redisx.Client, st *store.Store) {
	w.t.Helper()
	opened := w.opened
	opened.Redis, opened.Store = rc, st
	svc, err := wire.Compose(w.cfg, w.log, opened)
	if err != nil {
		w.t.Fatal(err)
	}
	w.deps.ShowCodes, w.deps.Verifier = svc.Deps.ShowCodes, svc.Deps.Verifier
	if w.engine, err = api.NewRouter(w.deps); err != nil {
		w.t.Fatal(err)
	}
	w.router = specChecked(w.t.Errorf, w.engine)
}

func decodeJSON(t *testing.T, rec *httptest.ResponseRecorder, into any) {
	t.Helper()
	if err := json.Unmarshal(rec.Body.Bytes(), into); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
}

// jsonKeys lists the top-level keys of a JSON object, sorted, so a test can
// pin a response's exact shape.
func jsonKeys(t *testing.T, raw []byte) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, ",")
}

// privateRedis starts a redis-server of the test's own on a free loopback
// port, with no persistence, and returns a client and a function that kills
// the server. It fails the test when redis-server is not installed: the
// fail-closed path must not go untested silently.
func privateRedis(t *testing.T) (*redisx.Client, func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is needed to test a Redis outage: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	kill := func() {
		if !killed {
			killed = true
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(kill)
	cfg := redistest.Config(fmt.Sprintf("127.0.0.1:%d", port))
	cfg.DialTimeout, cfg.ReadTimeout, cfg.WriteTimeout = 500*time.Millisecond, 500*time.Millisecond, 500*time.Millisecond
	var rc *redisx.Client
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		rc, err = redisx.Open(ctx, cfg)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("private redis-server on port %d did not come up: %v", port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() { _ = rc.Close() })
	return rc, kill
}
