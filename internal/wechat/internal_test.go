package wechat

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	offconfig "github.com/silenceper/wechat/v2/officialaccount/config"
	oacontext "github.com/silenceper/wechat/v2/officialaccount/context"
	"github.com/silenceper/wechat/v2/officialaccount/oauth"
)

func TestRewriteURL(t *testing.T) {
	const base = "http://127.0.0.1:8080/fakewx"
	for _, tc := range []struct{ in, want string }{
		{"https://api.weixin.qq.com/cgi-bin/stable_token", base + "/cgi-bin/stable_token"},
		{"https://api.weixin.qq.com/sns/oauth2/access_token?appid=a", base + "/sns/oauth2/access_token?appid=a"},
		{"https://open.weixin.qq.com/connect/oauth2/authorize?appid=a#wechat_redirect", base + "/connect/oauth2/authorize?appid=a#wechat_redirect"},
		{"https://api.weixin.qq.com.evil.example/cgi-bin/token", "https://api.weixin.qq.com.evil.example/cgi-bin/token"},
		{"https://qyapi.weixin.qq.com/cgi-bin/gettoken", "https://qyapi.weixin.qq.com/cgi-bin/gettoken"},
	} {
		if got := rewriteURL(base, tc.in); got != tc.want {
			t.Errorf("rewriteURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedact(t *testing.T) {
	in := `Get "https://api.weixin.qq.com/sns/oauth2/access_token?appid=wx1&secret=S3CR3T&code=C0DE&grant_type=authorization_code": EOF; ` +
		`http post error : uri=https://x/cgi-bin/message/template/send?access_token=T0KEN , statusCode=500; errcode=40001`
	out := redact(in)
	for _, secret := range []string{"S3CR3T", "C0DE", "T0KEN"} {
		if strings.Contains(out, secret) {
			t.Errorf("redact left %q in %q", secret, out)
		}
	}
	for _, keep := range []string{"appid=wx1", "statusCode=500", "errcode=40001", "grant_type=authorization_code"} {
		if !strings.Contains(out, keep) {
			t.Errorf("redact dropped %q: %q", keep, out)
		}
	}
}

func TestTransportErrorKeepsCauseWithoutURL(t *testing.T) {
	cause := errors.New("connection refused")
	err := transport("send template", &url.Error{Op: "Post", URL: "https://api.weixin.qq.com/x?access_token=T0KEN", Err: cause})
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, cause) {
		t.Fatalf("err %v does not unwrap to ErrUnavailable and its cause", err)
	}
	if strings.Contains(err.Error(), "T0KEN") {
		t.Fatalf("err %q leaks the token", err)
	}
	plain := transport("get ticket", fmt.Errorf("http get error : uri=https://x?access_token=T0KEN , statusCode=500"))
	if !errors.Is(plain, ErrUnavailable) || strings.Contains(plain.Error(), "T0KEN") {
		t.Fatalf("plain transport error %q", plain)
	}
}

func TestAuthorizeURLRealWeChat(t *testing.T) {
	c := &Client{oauth: oauth.NewOauth(&oacontext.Context{Config: &offconfig.Config{AppID: "wx123"}})}
	got, err := c.AuthorizeURL("https://elicence.example.gov.cn/api/v1/auth/wechat/callback", "abc")
	if err != nil {
		t.Fatal(err)
	}
	want := "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx123&redirect_uri=" +
		url.QueryEscape("https://elicence.example.gov.cn/api/v1/auth/wechat/callback") +
		"&response_type=code&scope=snsapi_base&state=abc#wechat_redirect"
	if got != want {
		t.Fatalf("AuthorizeURL = %q\nwant %q", got, want)
	}
}
