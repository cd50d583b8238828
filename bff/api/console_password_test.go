package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/pquerna/otp/totp"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/staff"
)

// loginWithNew posts a login that replaces a one-time password.
func (ts *testServer) loginWithNew(username, password, otp, newPassword string) *httptest.ResponseRecorder {
	ts.t.Helper()
	return ts.consoleDo(http.MethodPost, "/api/v1/console/session",
		map[string]string{"username": username, "password": password, "otp": otp, "new_password": newPassword}, "", "")
}

// A one-time password opens nothing: the member must set their own first,
// and only then does a session open; the one-time password is spent.
func TestConsoleOneTimePasswordMustBeReplaced(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	_, once := ts.addStaffOneTime("estate-clerk-4", staff.RoleClerk, demo.USCCRealEstateCentre)

	w := ts.consoleLogin("estate-clerk-4", once, "")
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != http.StatusAccepted || body["password_change_required"] != true {
		t.Fatalf("login with the one-time password: %d %s", w.Code, w.Body)
	}
	if len(w.Result().Cookies()) != 0 {
		t.Fatalf("a session cookie before the password change: %v", w.Result().Cookies())
	}

	// Nothing else of the console answers without a session: every route
	// but the login is refused.
	for _, r := range ts.engine.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/console/") || r.Path == "/api/v1/console/session" && r.Method == http.MethodPost {
			continue
		}
		path := ginParam.ReplaceAllString(r.Path, "1")
		if w := ts.consoleDo(r.Method, path, nil, "", ""); w.Code != http.StatusUnauthorized {
			t.Errorf("%s %s before the password change: %d %s", r.Method, path, w.Code, w.Body)
		}
	}

	// The new password's rules; a refusal changes nothing.
	for name, c := range map[string]struct {
		password, next string
		status         int
		code           string
	}{
		"wrong one-time password": {"WRONGWRONGWRONGWRONGWRONG2", "a long enough password", http.StatusUnauthorized, "login_failed"},
		"too short":               {once, "short pass", http.StatusUnprocessableEntity, "weak_password"},
		"the one-time again":      {once, once, http.StatusUnprocessableEntity, "weak_password"},
	} {
		w := ts.loginWithNew("estate-clerk-4", c.password, "", c.next)
		if w.Code != c.status || errorCode(w) != c.code || len(w.Result().Cookies()) != 0 {
			t.Errorf("%s: %d %s", name, w.Code, w.Body)
		}
	}
	if w := ts.consoleLogin("estate-clerk-4", once, ""); w.Code != http.StatusAccepted {
		t.Fatalf("one-time password after refused changes: %d %s", w.Code, w.Body)
	}

	// The change opens the session, audited with it.
	const own = "阳城县不动产登记中心 clerk 4"
	w = ts.loginWithNew("estate-clerk-4", once, "", own)
	if w.Code != http.StatusCreated || len(w.Result().Cookies()) == 0 {
		t.Fatalf("login with the new password set: %d %s", w.Code, w.Body)
	}
	entries, err := ts.store.AuditByObjects(t.Context(), []string{"staff:estate-clerk-4"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	if !strings.Contains(strings.Join(actions, " "), "staff.login staff.password_change staff.add") {
		t.Fatalf("audit of the member, newest first: %v", actions)
	}

	// The one-time password is spent; the new one logs in, and asks for no
	// further change.
	if w := ts.consoleLogin("estate-clerk-4", once, ""); w.Code != http.StatusUnauthorized || errorCode(w) != "login_failed" {
		t.Fatalf("one-time password after the change: %d %s", w.Code, w.Body)
	}
	me := ts.loginConsole("estate-clerk-4", own, "")
	if w := me.do(http.MethodGet, "/api/v1/console/me", nil); w.Code != http.StatusOK {
		t.Fatalf("me with the new password: %d %s", w.Code, w.Body)
	}
	if w := ts.loginWithNew("estate-clerk-4", own, "", "yet another password"); w.Code != http.StatusConflict || errorCode(w) != "no_password_change" {
		t.Fatalf("a change that is not due: %d %s", w.Code, w.Body)
	}
}

// Where a second factor is required, a new member sets the password
// first, then enrols: the change is made with the login that proves the
// code, and no code is spent on the password step.
func TestConsoleOneTimePasswordThenTOTPEnrolment(t *testing.T) {
	ts := newTestServer(t, testServerOpts{Config: withoutDemo})
	_, once := ts.addStaffOneTime("estate-clerk-5", staff.RoleClerk, demo.USCCRealEstateCentre)
	if w := ts.consoleLogin("estate-clerk-5", once, ""); w.Code != http.StatusAccepted || !strings.Contains(w.Body.String(), "password_change_required") {
		t.Fatalf("one-time password: %d %s", w.Code, w.Body)
	}
	const own = "estate clerk five's own"
	w := ts.loginWithNew("estate-clerk-5", once, "", own)
	var enrol struct {
		E struct {
			URI string `json:"otpauth_uri"`
		} `json:"totp_enrolment"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &enrol); err != nil || w.Code != http.StatusAccepted || enrol.E.URI == "" {
		t.Fatalf("new password without a code: %d %s", w.Code, w.Body)
	}
	// Not changed yet: the enrolment has not been proved.
	if w := ts.consoleLogin("estate-clerk-5", once, ""); w.Code != http.StatusAccepted || !strings.Contains(w.Body.String(), "password_change_required") {
		t.Fatalf("one-time password before the enrolment: %d %s", w.Code, w.Body)
	}
	u, err := url.Parse(enrol.E.URI)
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCode(u.Query().Get("secret"), ts.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if w := ts.loginWithNew("estate-clerk-5", once, code, own); w.Code != http.StatusCreated {
		t.Fatalf("new password with the enrolment code: %d %s", w.Code, w.Body)
	}
	if w := ts.consoleLogin("estate-clerk-5", once, code); w.Code != http.StatusUnauthorized {
		t.Fatalf("one-time password after the change: %d %s", w.Code, w.Body)
	}
}
