package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/store"
)

type startBody struct {
	ChallengeID string `json:"challenge_id"`
	PhoneHint   string `json:"phone_hint"`
}

func (ts *testServer) startRealname(cookie, name, id string) (*httptest.ResponseRecorder, startBody) {
	ts.t.Helper()
	w := ts.do(http.MethodPost, "/api/v1/me/realname", map[string]string{"name": name, "id_number": id}, cookie)
	var b startBody
	_ = json.Unmarshal(w.Body.Bytes(), &b)
	return w, b
}

func (ts *testServer) confirmRealname(cookie, challenge, code string) *httptest.ResponseRecorder {
	ts.t.Helper()
	return ts.do(http.MethodPost, "/api/v1/me/realname/confirm", map[string]string{"challenge_id": challenge, "code": code}, cookie)
}

func wrong(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func testRealnameBindsZhangsan(t *testing.T, ts *testServer) {
	cookie := ts.login(demo.CitizenZhangsan)
	w, start := ts.startRealname(cookie, demo.ZhangsanName, demo.ZhangsanIDNumber)
	if w.Code != http.StatusOK || start.ChallengeID == "" || start.PhoneHint != "138****0001" {
		t.Fatalf("start: %d %s", w.Code, w.Body)
	}
	code := ts.lastSMSCode(demo.ZhangsanPhone)
	if len(code) != 6 {
		t.Fatalf("dev SMS code %q", code)
	}
	w = ts.confirmRealname(cookie, start.ChallengeID, code)
	if w.Code != http.StatusOK || w.Body.String() != `{"realname_verified":true}` {
		t.Fatalf("confirm: %d %s", w.Code, w.Body)
	}
	if me := ts.me(cookie); !me.RealnameVerified || me.NameMasked == nil || *me.NameMasked != "张*" {
		t.Fatalf("/me after binding = %+v", me)
	}
	// The code is single use.
	if w := ts.confirmRealname(cookie, start.ChallengeID, code); w.Code != http.StatusUnprocessableEntity || errorCode(w) != "realname_code_invalid" {
		t.Errorf("reused code: %d %s", w.Code, w.Body)
	}
	ts.assertNoSecrets(cookie, code, demo.ZhangsanIDNumber, demo.ZhangsanPhone, start.ChallengeID)
}

func TestRealnameZhangsanBinds(t *testing.T) {
	testRealnameBindsZhangsan(t, newTestServer(t, testServerOpts{}))
}

func TestRealnameZhangsanBindsMariaDB(t *testing.T) {
	testRealnameBindsZhangsan(t, newTestServer(t, testServerOpts{Driver: store.DriverMySQL}))
}

func TestRealnameStartRefusals(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	tests := []struct {
		name       string
		openid     string
		body       map[string]string
		wantStatus int
		wantCode   string
	}{
		{"王五 has no holder record", demo.CitizenWangwu,
			map[string]string{"name": "王五", "id_number": validIDNotOnRecord(t, 1)}, http.StatusUnprocessableEntity, "realname_no_match"},
		{"王五 with 张三's number", demo.CitizenWangwu,
			map[string]string{"name": "王五", "id_number": demo.ZhangsanIDNumber}, http.StatusUnprocessableEntity, "realname_no_match"},
		{"bad check digit", demo.CitizenLisi,
			map[string]string{"name": "李四", "id_number": "140522199007080022"}, http.StatusBadRequest, "invalid_id_number"},
		{"missing name", demo.CitizenLisi,
			map[string]string{"id_number": demo.LisiIDNumber}, http.StatusBadRequest, "validation_failed"},
		{"missing number", demo.CitizenLisi,
			map[string]string{"name": "李四"}, http.StatusBadRequest, "validation_failed"},
	}
	for _, tt := range tests {
		w := ts.do(http.MethodPost, "/api/v1/me/realname", tt.body, ts.login(tt.openid))
		if w.Code != tt.wantStatus || errorCode(w) != tt.wantCode {
			t.Errorf("%s: %d %s, want %d %s", tt.name, w.Code, w.Body, tt.wantStatus, tt.wantCode)
		}
	}
	if n := len(ts.outbox.List()); n != 0 {
		t.Errorf("%d SMS sent on refusals", n)
	}
}

func TestRealnameWrongCodesLockOut(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	cookie := ts.login(demo.CitizenZhangsan)
	w, start := ts.startRealname(cookie, demo.ZhangsanName, demo.ZhangsanIDNumber)
	if w.Code != http.StatusOK {
		t.Fatalf("start: %d %s", w.Code, w.Body)
	}
	code := ts.lastSMSCode(demo.ZhangsanPhone)
	for i := 1; i <= 5; i++ {
		wantStatus, wantCode := http.StatusUnprocessableEntity, "realname_code_invalid"
		if i == 5 {
			wantStatus, wantCode = http.StatusTooManyRequests, "realname_too_many_attempts"
		}
		w := ts.confirmRealname(cookie, start.ChallengeID, wrong(code))
		if w.Code != wantStatus || errorCode(w) != wantCode {
			t.Fatalf("wrong code #%d: %d %s, want %d %s", i, w.Code, w.Body, wantStatus, wantCode)
		}
	}
	w = ts.confirmRealname(cookie, start.ChallengeID, code)
	if w.Code != http.StatusTooManyRequests || errorCode(w) != "realname_too_many_attempts" {
		t.Fatalf("right code after 5 failures: %d %s", w.Code, w.Body)
	}
	if ts.me(cookie).RealnameVerified {
		t.Fatal("bound despite the lock-out")
	}
	ts.assertNoSecrets(cookie, code, demo.ZhangsanIDNumber, demo.ZhangsanPhone)
}

func TestRealnameIDNumberLimitAcrossAccounts(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	lisi, wangwu := ts.login(demo.CitizenLisi), ts.login(demo.CitizenWangwu)
	// Two accounts guess the name behind 张三's number: 5 failures in all.
	for i, cookie := range []string{lisi, wangwu, lisi, wangwu, lisi} {
		want := "realname_no_match"
		if i == 4 {
			want = "realname_too_many_attempts"
		}
		if w, _ := ts.startRealname(cookie, "李四", demo.ZhangsanIDNumber); errorCode(w) != want {
			t.Fatalf("guess %d: %d %s, want %s", i+1, w.Code, w.Body, want)
		}
	}
	// 张三 himself, from a fresh account with the right name, is refused for the hour…
	zhang := ts.login(demo.CitizenZhangsan)
	if w, _ := ts.startRealname(zhang, demo.ZhangsanName, demo.ZhangsanIDNumber); w.Code != http.StatusTooManyRequests {
		t.Fatalf("right name after the number's limit: %d %s", w.Code, w.Body)
	}
	// …while wangwu's account (2 failures) may still bind another number.
	if w, _ := ts.startRealname(wangwu, demo.LisiName, demo.LisiIDNumber); w.Code != http.StatusOK {
		t.Fatalf("other number: %d %s", w.Code, w.Body)
	}
	if n := len(ts.outbox.List()); n != 1 {
		t.Fatalf("%d SMS sent, want only the last one", n)
	}
}

func TestRealnameCodeExpires(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	cookie := ts.login(demo.CitizenZhangsan)
	_, start := ts.startRealname(cookie, demo.ZhangsanName, demo.ZhangsanIDNumber)
	code := ts.lastSMSCode(demo.ZhangsanPhone)
	ts.clock.Add(5 * time.Minute)
	if w := ts.confirmRealname(cookie, start.ChallengeID, code); w.Code != http.StatusUnprocessableEntity || errorCode(w) != "realname_code_invalid" {
		t.Fatalf("code after 5 minutes: %d %s", w.Code, w.Body)
	}
	if ts.me(cookie).RealnameVerified {
		t.Fatal("bound with an expired code")
	}
}

func TestRealnameChallengeOfAnotherAccount(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	zhang, thief := ts.login(demo.CitizenZhangsan), ts.login(demo.CitizenWangwu)
	_, start := ts.startRealname(zhang, demo.ZhangsanName, demo.ZhangsanIDNumber)
	code := ts.lastSMSCode(demo.ZhangsanPhone)
	if w := ts.confirmRealname(thief, start.ChallengeID, code); w.Code != http.StatusUnprocessableEntity || errorCode(w) != "realname_code_invalid" {
		t.Fatalf("another account's challenge: %d %s", w.Code, w.Body)
	}
	if ts.me(thief).RealnameVerified {
		t.Fatal("thief bound to 张三")
	}
	if w := ts.confirmRealname(zhang, start.ChallengeID, code); w.Code != http.StatusOK {
		t.Fatalf("owner confirm: %d %s", w.Code, w.Body)
	}
}

func TestRealnameResendThrottle(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	cookie := ts.login(demo.CitizenZhangsan)
	if w, _ := ts.startRealname(cookie, demo.ZhangsanName, demo.ZhangsanIDNumber); w.Code != http.StatusOK {
		t.Fatalf("first start: %d %s", w.Code, w.Body)
	}
	if w, _ := ts.startRealname(cookie, demo.ZhangsanName, demo.ZhangsanIDNumber); w.Code != http.StatusTooManyRequests || errorCode(w) != "rate_limited" {
		t.Fatalf("immediate resend: %d %s", w.Code, w.Body)
	}
}

// Someone who knows 张三's name and ID number must not be able to turn the
// binding flow into an SMS cannon aimed at his phone by switching WeChat
// accounts: the resend throttle holds per ID number as well as per account.
func TestRealnameResendThrottlePerIDNumber(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	a, b := ts.login(demo.CitizenWangwu), ts.login(demo.CitizenLisi)
	if w, _ := ts.startRealname(a, demo.ZhangsanName, demo.ZhangsanIDNumber); w.Code != http.StatusOK {
		t.Fatalf("first start: %d %s", w.Code, w.Body)
	}
	if w, _ := ts.startRealname(b, demo.ZhangsanName, demo.ZhangsanIDNumber); w.Code != http.StatusTooManyRequests || errorCode(w) != "rate_limited" {
		t.Fatalf("same number from another account at once: %d %s", w.Code, w.Body)
	}
	if n := len(ts.outbox.List()); n != 1 {
		t.Fatalf("%d SMS sent to one phone within the resend interval, want 1", n)
	}
	// The other account is not held back for a different number.
	if w, _ := ts.startRealname(b, demo.LisiName, demo.LisiIDNumber); w.Code != http.StatusOK {
		t.Fatalf("other number: %d %s", w.Code, w.Body)
	}
}
