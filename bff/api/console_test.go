package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/yangcheng-county/elicence/bff/api"
	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/staff"
	"github.com/yangcheng-county/elicence/internal/testkit"
)

// console is a logged-in console browser: its session cookie and the
// CSRF token the login answered with.
type console struct {
	ts     *testServer
	cookie string
	csrf   string
}

// consoleLogin posts credentials and returns the answer.
func (ts *testServer) consoleLogin(username, password, otp string) *httptest.ResponseRecorder {
	ts.t.Helper()
	return ts.consoleDo(http.MethodPost, "/api/v1/console/session",
		map[string]string{"username": username, "password": password, "otp": otp}, "", "")
}

// loginConsole logs a member in and fails the test unless it succeeds.
func (ts *testServer) loginConsole(username, password, otp string) *console {
	ts.t.Helper()
	w := ts.consoleLogin(username, password, otp)
	if w.Code != http.StatusCreated {
		ts.t.Fatalf("console login %s: %d %s", username, w.Code, w.Body)
	}
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &me); err != nil || me.CSRF == "" {
		ts.t.Fatalf("console login %s: no csrf token in %s", username, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == api.ConsoleCookie {
			return &console{ts: ts, cookie: c.Value, csrf: me.CSRF}
		}
	}
	ts.t.Fatalf("console login %s: no cookie", username)
	return nil
}

// consoleDo sends one console request with the cookie and CSRF header.
func (ts *testServer) consoleDo(method, path string, body any, cookie, csrf string) *httptest.ResponseRecorder {
	ts.t.Helper()
	var rd *strings.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			ts.t.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: api.ConsoleCookie, Value: cookie})
	}
	if csrf != "" {
		req.Header.Set(api.CSRFHeader, csrf)
	}
	w := httptest.NewRecorder()
	ts.router.ServeHTTP(w, req)
	return w
}

func (c *console) do(method, path string, body any) *httptest.ResponseRecorder {
	c.ts.t.Helper()
	return c.ts.consoleDo(method, path, body, c.cookie, c.csrf)
}

// addStaff creates a member through the service and returns the password.
func (ts *testServer) addStaff(username string, role staff.Role, uscc string) (staff.Member, string) {
	ts.t.Helper()
	var dept licence.Department
	if uscc != "" {
		var err error
		if dept, err = ts.store.DepartmentByUSCC(ts.t.Context(), uscc); err != nil {
			ts.t.Fatal(err)
		}
	}
	m, pw, err := ts.deps.Console.Staff.Add(ts.t.Context(), "cli:test", username, role, dept)
	if err != nil {
		ts.t.Fatalf("add staff %s: %v", username, err)
	}
	return m, pw
}

// estateLicenceID is 张三's 不动产权证书, issued by 阳城县不动产登记中心.
func (ts *testServer) estateLicenceID() int64 {
	ts.t.Helper()
	zs, err := ts.store.HolderByIDNumber(ts.t.Context(), "111", demo.ZhangsanIDNumber)
	if err != nil {
		ts.t.Fatal(err)
	}
	ls, err := ts.store.LicencesByHolder(ts.t.Context(), zs.ID)
	if err != nil {
		ts.t.Fatal(err)
	}
	for _, l := range ls {
		if l.TypeCode == demo.TypeRealEstateTitle {
			return l.ID
		}
	}
	ts.t.Fatal("no real-estate licence of 张三")
	return 0
}

func TestConsoleLogin(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	w := ts.consoleLogin(demo.StaffEstateClerk, demo.DemoStaffPassword, "")
	if w.Code != http.StatusCreated {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	var cookie *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == api.ConsoleCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != api.ConsoleCookiePath {
		t.Fatalf("console cookie = %+v; want HttpOnly, Secure, SameSite=Strict, Path=%s", cookie, api.ConsoleCookiePath)
	}
	if sessionFrom(w) != nil {
		t.Fatal("a console login set the citizens' session cookie")
	}
	var me struct {
		Username    string `json:"username"`
		Role        string `json:"role"`
		Department  struct{ USCC string }
		Permissions []string `json:"permissions"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &me); err != nil {
		t.Fatal(err)
	}
	if me.Username != demo.StaffEstateClerk || me.Role != "clerk" || me.Department.USCC != demo.USCCRealEstateCentre ||
		strings.Join(me.Permissions, ",") != "licences.read,licences.write,licences.import,stats.read,audit.read" {
		t.Fatalf("me = %+v", me)
	}
	c := &console{ts: ts, cookie: cookie.Value}
	if w := c.do(http.MethodGet, "/api/v1/console/me", nil); w.Code != http.StatusOK {
		t.Fatalf("me: %d %s", w.Code, w.Body)
	}
	// The console cookie is no citizen's session, and a citizen's session
	// is no console session.
	if w := ts.do(http.MethodGet, "/api/v1/me", nil, cookie.Value); w.Code != http.StatusUnauthorized {
		t.Fatalf("the console cookie as a WeChat session: %d", w.Code)
	}
	citizen := ts.login(demo.CitizenZhangsan)
	if w := ts.consoleDo(http.MethodGet, "/api/v1/console/me", nil, citizen, ""); w.Code != http.StatusUnauthorized {
		t.Fatalf("a WeChat session as a console cookie: %d", w.Code)
	}

	for name, creds := range map[string][2]string{
		"wrong password": {demo.StaffEstateClerk, "not-the-password"},
		"unknown user":   {"nobody-here", demo.DemoStaffPassword},
		"empty":          {"", ""},
	} {
		w := ts.consoleLogin(creds[0], creds[1], "")
		if w.Code != http.StatusUnauthorized || errorCode(w) != "login_failed" || len(w.Result().Cookies()) != 0 {
			t.Errorf("%s: %d %s, cookies %v", name, w.Code, w.Body, w.Result().Cookies())
		}
	}
	// Logout ends the session server-side: the old cookie is dead.
	if w := c.do(http.MethodDelete, "/api/v1/console/session", nil); w.Code != http.StatusForbidden {
		t.Fatalf("logout without the CSRF token: %d", w.Code)
	}
	c.csrf = me2CSRF(t, ts, c.cookie)
	if w := c.do(http.MethodDelete, "/api/v1/console/session", nil); w.Code != http.StatusNoContent {
		t.Fatalf("logout: %d %s", w.Code, w.Body)
	}
	if w := c.do(http.MethodGet, "/api/v1/console/me", nil); w.Code != http.StatusUnauthorized {
		t.Fatalf("me after logout: %d", w.Code)
	}
	ts.assertNoSecrets(demo.DemoStaffPassword, cookie.Value)
}

// me2CSRF reads the CSRF token from /me, as a reloaded page does.
func me2CSRF(t *testing.T, ts *testServer, cookie string) string {
	t.Helper()
	w := ts.consoleDo(http.MethodGet, "/api/v1/console/me", nil, cookie, "")
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &me) != nil || me.CSRF == "" {
		t.Fatalf("me: %d %s", w.Code, w.Body)
	}
	return me.CSRF
}

func TestConsoleLockout(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	maxFailures := ts.cfg.Console.MaxFailures
	for i := range maxFailures {
		if w := ts.consoleLogin(demo.StaffEstateClerk, "wrong", ""); w.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d %s", i+1, w.Code, w.Body)
		}
	}
	// Locked: even the right password is refused until the window ends.
	w := ts.consoleLogin(demo.StaffEstateClerk, demo.DemoStaffPassword, "")
	if w.Code != http.StatusTooManyRequests || errorCode(w) != "account_locked" {
		t.Fatalf("after %d failures: %d %s", maxFailures, w.Code, w.Body)
	}
	// Another member is not locked by it.
	ts.loginConsole(demo.StaffAdmin, demo.DemoStaffPassword, "")
	entries, err := ts.store.AuditByObjects(t.Context(), []string{"staff:" + demo.StaffEstateClerk}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 || entries[0].Action != "staff.lock" {
		t.Fatalf("audit of the locked member: %+v", entries)
	}
}

// withoutDemo is an embedded server that seeds no demo data: the console
// requires a second factor there, as in production.
func withoutDemo(c *config.Config) { c.SeedDemo = false }

func TestConsoleTOTPEnrolmentAndRequired(t *testing.T) {
	ts := newTestServer(t, testServerOpts{Config: withoutDemo})
	_, pw := ts.addStaff("estate-clerk-2", staff.RoleClerk, demo.USCCRealEstateCentre)

	// Right password, nothing enrolled: the secret to enrol, no session.
	w := ts.consoleLogin("estate-clerk-2", pw, "")
	if w.Code != http.StatusAccepted || len(w.Result().Cookies()) != 0 {
		t.Fatalf("first login: %d %s", w.Code, w.Body)
	}
	var enrol struct {
		E struct {
			URI string `json:"otpauth_uri"`
			QR  string `json:"qr_png"`
		} `json:"totp_enrolment"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &enrol); err != nil || !strings.HasPrefix(enrol.E.URI, "otpauth://totp/") {
		t.Fatalf("enrolment body %s", w.Body)
	}
	if got := testkit.DecodeQRDataURI(t, enrol.E.QR); got != enrol.E.URI {
		t.Fatalf("QR reads %q, want the URI %q", got, enrol.E.URI)
	}
	u, err := url.Parse(enrol.E.URI)
	if err != nil {
		t.Fatal(err)
	}
	secret := u.Query().Get("secret")
	var code string
	// The same secret until it is confirmed; a wrong code is a failure.
	if w := ts.consoleLogin("estate-clerk-2", pw, ""); !strings.Contains(w.Body.String(), secret) {
		t.Fatalf("second enrolment shows another secret: %s", w.Body)
	}
	if w := ts.consoleLogin("estate-clerk-2", pw, "000000"); w.Code != http.StatusUnauthorized {
		t.Fatalf("wrong enrolment code: %d %s", w.Code, w.Body)
	}
	code, err = totp.GenerateCode(secret, ts.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	ts.loginConsole("estate-clerk-2", pw, code)

	// Enrolled: the code is required, and a used code is not taken again.
	for name, otp := range map[string]string{"no code": "", "used code": code, "wrong code": "123456"} {
		if w := ts.consoleLogin("estate-clerk-2", pw, otp); w.Code != http.StatusUnauthorized || errorCode(w) != "login_failed" {
			t.Errorf("%s: %d %s", name, w.Code, w.Body)
		}
	}
	ts.clock.Add(30 * time.Second)
	next, _ := totp.GenerateCode(secret, ts.clock.Now())
	ts.loginConsole("estate-clerk-2", pw, next)

	// Outside the demo the demo staff, who have no second factor, enrol too.
	if w := ts.consoleLogin(demo.StaffEstateClerk, demo.DemoStaffPassword, ""); w.Code != http.StatusAccepted {
		t.Fatalf("demo staff where TOTP is required: %d %s", w.Code, w.Body)
	}
}

// TestConsoleProductionRequiresTOTP: production requires the second
// factor whatever seed_demo says (the configuration refuses seed_demo
// there anyway).
func TestConsoleProductionRequiresTOTP(t *testing.T) {
	ts := newTestServer(t, testServerOpts{Config: func(c *config.Config) { c.Mode = "production" }})
	if !ts.cfg.SeedDemo {
		t.Fatal("the test configuration should seed the demo, or this proves nothing")
	}
	if w := ts.consoleLogin(demo.StaffEstateClerk, demo.DemoStaffPassword, ""); w.Code != http.StatusAccepted {
		t.Fatalf("demo staff in production mode without a code: %d %s", w.Code, w.Body)
	}
}

func TestConsoleDemoModeNeedsNoTOTP(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	_, pw := ts.addStaff("estate-clerk-3", staff.RoleClerk, demo.USCCRealEstateCentre)
	ts.loginConsole("estate-clerk-3", pw, "")
}

func TestConsoleDisabledStaffLoggedOutAtOnce(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	clerk := ts.loginConsole(demo.StaffEstateClerk, demo.DemoStaffPassword, "")
	second := ts.loginConsole(demo.StaffEstateClerk, demo.DemoStaffPassword, "")
	admin := ts.loginConsole(demo.StaffAdmin, demo.DemoStaffPassword, "")
	m, _, err := ts.store.StaffByUsername(t.Context(), demo.StaffEstateClerk)
	if err != nil {
		t.Fatal(err)
	}
	if w := admin.do(http.MethodPost, "/api/v1/console/staff/"+strconv.FormatInt(m.ID, 10)+"/disable", nil); w.Code != http.StatusNoContent {
		t.Fatalf("disable: %d %s", w.Code, w.Body)
	}
	for _, c := range []*console{clerk, second} {
		if w := c.do(http.MethodGet, "/api/v1/console/me", nil); w.Code != http.StatusUnauthorized {
			t.Fatalf("a disabled member's session still answers: %d", w.Code)
		}
	}
	// The sessions are gone from Redis, not only refused.
	n, err := ts.redis.Redis().Exists(t.Context(), ts.redis.Key("staffsess", "by", strconv.FormatInt(m.ID, 10))).Result()
	if err != nil || n != 0 {
		t.Fatalf("session index of the disabled member: %d, %v", n, err)
	}
	if w := ts.consoleLogin(demo.StaffEstateClerk, demo.DemoStaffPassword, ""); w.Code != http.StatusUnauthorized {
		t.Fatalf("login of a disabled member: %d", w.Code)
	}
	if w := admin.do(http.MethodPost, "/api/v1/console/staff/"+strconv.FormatInt(m.ID, 10)+"/disable", nil); w.Code != http.StatusConflict {
		t.Fatalf("second disable: %d", w.Code)
	}
}

// TestConsoleDisabledMarkAloneEndsSessions: a member disabled where the
// sessions could not be revoked (another Redis: `bff staff disable`
// against an embedded server) is still refused on the next request.
func TestConsoleDisabledMarkAloneEndsSessions(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	clerk := ts.loginConsole(demo.StaffEstateClerk, demo.DemoStaffPassword, "")
	m, _, _ := ts.store.StaffByUsername(t.Context(), demo.StaffEstateClerk)
	if err := staff.Disable(t.Context(), ts.store, nil, "cli:test", m.ID, ts.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if w := clerk.do(http.MethodGet, "/api/v1/console/me", nil); w.Code != http.StatusUnauthorized {
		t.Fatalf("disabled member: %d", w.Code)
	}
}

func TestConsoleCSRFRefused(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	clerk := ts.loginConsole(demo.StaffEstateClerk, demo.DemoStaffPassword, "")
	id := ts.estateLicenceID()
	path := "/api/v1/console/licences/" + strconv.FormatInt(id, 10) + "/events"
	body := map[string]string{"action": "suspend", "reason": "查封登记"}
	for name, token := range map[string]string{"no token": "", "wrong token": strings.Repeat("A", 22)} {
		w := ts.consoleDo(http.MethodPost, path, body, clerk.cookie, token)
		if w.Code != http.StatusForbidden || errorCode(w) != "csrf_failed" {
			t.Fatalf("%s: %d %s", name, w.Code, w.Body)
		}
	}
	if l, _ := ts.store.Licence(t.Context(), id); l.Status != licence.StatusValid {
		t.Fatalf("a refused request changed the licence: %s", l.Status)
	}
	if w := clerk.do(http.MethodPost, path, body); w.Code != http.StatusOK {
		t.Fatalf("with the token: %d %s", w.Code, w.Body)
	}
}

func TestConsoleSessionTimeouts(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	idleTimeout, absolute := ts.cfg.Console.SessionIdle, ts.cfg.Console.SessionAbsolute
	idle := ts.loginConsole(demo.StaffEstateClerk, demo.DemoStaffPassword, "")
	ts.clock.Add(idleTimeout - time.Minute)
	if w := idle.do(http.MethodGet, "/api/v1/console/me", nil); w.Code != http.StatusOK {
		t.Fatalf("within the idle timeout: %d", w.Code)
	}
	ts.clock.Add(idleTimeout + time.Second)
	if w := idle.do(http.MethodGet, "/api/v1/console/me", nil); w.Code != http.StatusUnauthorized {
		t.Fatalf("after the idle timeout: %d", w.Code)
	}

	busy := ts.loginConsole(demo.StaffEstateClerk, demo.DemoStaffPassword, "")
	for elapsed := time.Duration(0); elapsed < absolute-20*time.Minute; elapsed += 20 * time.Minute {
		ts.clock.Add(20 * time.Minute)
		if w := busy.do(http.MethodGet, "/api/v1/console/me", nil); w.Code != http.StatusOK {
			t.Fatalf("a busy session at %s: %d", elapsed, w.Code)
		}
	}
	ts.clock.Add(40 * time.Minute)
	if w := busy.do(http.MethodGet, "/api/v1/console/me", nil); w.Code != http.StatusUnauthorized {
		t.Fatalf("after the absolute timeout: %d", w.Code)
	}
}
