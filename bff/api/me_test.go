package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/ident"
)

type meBody struct {
	OpenIDHint       string   `json:"openid_hint"`
	RealnameVerified bool     `json:"realname_verified"`
	Roles            []string `json:"roles"`
	NameMasked       *string  `json:"name_masked"`
}

func (ts *testServer) me(cookie string) meBody {
	ts.t.Helper()
	w := ts.do(http.MethodGet, "/api/v1/me", nil, cookie)
	var b meBody
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &b) != nil {
		ts.t.Fatalf("/me: %d %s", w.Code, w.Body)
	}
	return b
}

func strptr(s string) *string { return &s }

// validIDNotOnRecord is a checksum-valid resident ID number with no holder.
func validIDNotOnRecord(t *testing.T, n int) string {
	t.Helper()
	first17 := fmt.Sprintf("1405221992020200%d", n%10)
	c, err := ident.ResidentIDCheckChar(first17)
	if err != nil {
		t.Fatal(err)
	}
	return first17 + string(c)
}

func TestMeRoles(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	zhang := ts.login(demo.CitizenZhangsan)
	ts.bind(zhang, demo.ZhangsanName, demo.ZhangsanIDNumber, demo.ZhangsanPhone)

	tests := []struct {
		name   string
		cookie string
		want   meBody
	}{
		{"unbound citizen", ts.login(demo.CitizenWangwu),
			meBody{OpenIDHint: "demo…ngwu", Roles: []string{}}},
		{"bound citizen", zhang,
			meBody{OpenIDHint: "demo…gsan", RealnameVerified: true, Roles: []string{"holder"}, NameMasked: strptr("张*")}},
		{"police officer", ts.login(demo.OfficerPolice),
			meBody{OpenIDHint: "demo…lice", Roles: []string{"officer"}}},
		{"housing officer", ts.login(demo.OfficerHousing),
			meBody{OpenIDHint: "demo…sing", Roles: []string{"officer"}}},
	}
	for _, tt := range tests {
		if got := ts.me(tt.cookie); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: /me = %+v, want %+v", tt.name, got, tt.want)
		}
	}

	// An officer who also binds a real name has both roles; roles are read
	// fresh on every request, not fixed at login.
	police := ts.login(demo.OfficerPolice)
	ts.clock.Add(2 * time.Minute) // past the resend interval of earlier tests
	ts.bind(police, demo.LisiName, demo.LisiIDNumber, demo.LisiPhone)
	if got := ts.me(police).Roles; !reflect.DeepEqual(got, []string{"holder", "officer"}) {
		t.Errorf("officer+holder roles = %q", got)
	}
}

func TestMeRequiresLogin(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/me"},
		{http.MethodPost, "/api/v1/me/realname"},
		{http.MethodPost, "/api/v1/me/realname/confirm"},
		{http.MethodGet, "/api/v1/wechat/js-config?url=https%3A%2F%2Felic.test%2F"},
	} {
		w := ts.do(r.method, r.path, map[string]string{}, "AAAAAAAAAAAAAAAAAAAAAA")
		if w.Code != http.StatusUnauthorized || errorCode(w) != "not_logged_in" {
			t.Errorf("%s %s without a session: %d %s", r.method, r.path, w.Code, w.Body)
		}
	}
}
