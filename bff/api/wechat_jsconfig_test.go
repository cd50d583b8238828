package api_test

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/yangcheng-county/elicence/internal/demo"
)

func TestJSConfig(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	cookie := ts.login(demo.OfficerPolice)
	page := ts.publicURL + "/officer/scan?x=1"

	w := ts.do(http.MethodGet, "/api/v1/wechat/js-config?url="+url.QueryEscape(page+"#/step2"), nil, cookie)
	var got struct {
		AppID     string `json:"app_id"`
		Timestamp int64  `json:"timestamp"`
		NonceStr  string `json:"nonce_str"`
		Signature string `json:"signature"`
	}
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &got) != nil {
		t.Fatalf("js-config: %d %s", w.Code, w.Body)
	}
	if got.AppID != testAppID || got.Timestamp == 0 || got.NonceStr == "" {
		t.Fatalf("js-config = %+v", got)
	}
	// WeChat's algorithm, over the URL without its fragment.
	sum := sha1.Sum([]byte(fmt.Sprintf("jsapi_ticket=%s&noncestr=%s&timestamp=%d&url=%s", ts.fake.JSAPITicket(), got.NonceStr, got.Timestamp, page)))
	if want := hex.EncodeToString(sum[:]); got.Signature != want {
		t.Fatalf("signature %s, want %s", got.Signature, want)
	}

	for _, bad := range []string{
		"", "https://evil.example/officer", "http://elic.test/", "https://elic.test.evil.example/",
		"https://user@elic.test/", "/relative", "javascript:alert(1)",
	} {
		w := ts.do(http.MethodGet, "/api/v1/wechat/js-config?url="+url.QueryEscape(bad), nil, cookie)
		if w.Code != http.StatusBadRequest {
			t.Errorf("url %q: %d %s, want 400", bad, w.Code, w.Body)
		}
	}
	if w := ts.do(http.MethodGet, "/api/v1/wechat/js-config?url="+url.QueryEscape(page), nil, ""); w.Code != http.StatusUnauthorized {
		t.Errorf("anonymous js-config: %d", w.Code)
	}
}
