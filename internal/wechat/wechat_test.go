package wechat_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/wechat"
	"github.com/yangcheng-county/elicence/internal/wechat/fakewx"
)

const (
	sendPath   = "/cgi-bin/message/template/send"
	stablePath = "/cgi-bin/stable_token"
	ticketPath = "/cgi-bin/ticket/getticket"
	snsPath    = "/sns/oauth2/access_token"
)

func reminder(to, cid string) wechat.TemplateMessage {
	return wechat.TemplateMessage{
		ToUser:     to,
		TemplateID: "tpl-expiry-0001",
		URL:        baseURL + "/h5/licences/12",
		Data: map[string]string{
			"thing1": "机动车驾驶证",
			"time2":  "2025年07月01日",
			"thing3": "请在到期前办理换证",
		},
		ClientMsgID: cid,
	}
}

func TestNewValidatesOptions(t *testing.T) {
	rdb, prefix := miniRedis(t)
	good := options(prefix)
	// The first New installs the process-wide settings; later ones must match.
	if _, err := wechat.New(good, rdb); err != nil {
		t.Fatalf("New: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*wechat.Options)
		nilRDB bool
		want   error
	}{
		{name: "nil redis", nilRDB: true},
		{name: "no appid", mutate: func(o *wechat.Options) { o.AppID = "" }},
		{name: "no secret", mutate: func(o *wechat.Options) { o.AppSecret = "" }},
		{name: "no key prefix", mutate: func(o *wechat.Options) { o.KeyPrefix = "" }},
		{name: "relative api base", mutate: func(o *wechat.Options) { o.APIBase = "/fakewx" }},
		{name: "negative timeout", mutate: func(o *wechat.Options) { o.HTTPTimeout = -time.Second }},
		{name: "other api base", mutate: func(o *wechat.Options) { o.APIBase = "http://127.0.0.1:1/fakewx" }, want: wechat.ErrProcessConfigured},
		{name: "real wechat after fake", mutate: func(o *wechat.Options) { o.APIBase = "" }, want: wechat.ErrProcessConfigured},
		{name: "other timeout", mutate: func(o *wechat.Options) { o.HTTPTimeout = 3 * time.Second }, want: wechat.ErrProcessConfigured},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := good
			if tc.mutate != nil {
				tc.mutate(&o)
			}
			r := rdb
			if tc.nilRDB {
				r = nil
			}
			_, err := wechat.New(o, r)
			if err == nil {
				t.Fatal("New succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := wechat.New(good, rdb); err != nil {
		t.Fatalf("second New with the same settings: %v", err)
	}
}

func TestAuthorizeURL(t *testing.T) {
	c, _, _ := setup(t)
	callback := baseURL + "/api/v1/auth/wechat/callback?next=%2Fh5"
	raw, err := c.AuthorizeURL(callback, "abcDEF012_-")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw, fake.APIBase()+"/connect/oauth2/authorize?") {
		t.Fatalf("authorize URL %q does not point at the fake", raw)
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	for k, want := range map[string]string{
		"appid": appID, "redirect_uri": callback, "response_type": "code",
		"scope": "snsapi_base", "state": "abcDEF012_-",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}

	for _, tc := range []struct{ name, redirect, state string }{
		{"relative redirect", "/callback", "s"},
		{"empty state", callback, ""},
		{"state with space", callback, "a b"},
		{"state with ampersand", callback, "a&scope=snsapi_userinfo"},
		{"state too long", callback, strings.Repeat("a", 129)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.AuthorizeURL(tc.redirect, tc.state); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestAuthorizePickerPage(t *testing.T) {
	c, _, _ := setup(t)
	raw, err := c.AuthorizeURL(baseURL+"/cb", "s1")
	if err != nil {
		t.Fatal(err)
	}
	resp := noRedirectGet(t, raw)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{"张三", "fake_openid=demo-citizen-zhangsan", "快照页", `name="viewport"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestExchangeCode(t *testing.T) {
	c, _, _ := setup(t)
	ctx := context.Background()

	q := authorize(t, c, "demo-citizen-zhangsan", nil)
	if q.Get("state") != "st4te_Abc-1" {
		t.Fatalf("state = %q", q.Get("state"))
	}
	code := q.Get("code")
	user, err := c.ExchangeCode(ctx, code)
	if err != nil {
		t.Fatalf("ExchangeCode: %v", err)
	}
	if user.OpenID != "demo-citizen-zhangsan" || user.SnapshotUser {
		t.Fatalf("user = %+v", user)
	}

	t.Run("code is single use", func(t *testing.T) {
		_, err := c.ExchangeCode(ctx, code)
		wantAPIError(t, err, wechat.CodeCodeBeenUsed)
	})
	t.Run("unknown code", func(t *testing.T) {
		_, err := c.ExchangeCode(ctx, "no-such-code")
		wantAPIError(t, err, wechat.CodeInvalidCode)
	})
	t.Run("code with query syntax stays one parameter", func(t *testing.T) {
		_, err := c.ExchangeCode(ctx, code+"&code=other")
		wantAPIError(t, err, wechat.CodeInvalidCode)
	})
	t.Run("empty code", func(t *testing.T) {
		if _, err := c.ExchangeCode(ctx, ""); err == nil {
			t.Fatal("accepted")
		}
	})
}

func TestExchangeCodeRefusesSnapshotUsers(t *testing.T) {
	c, _, _ := setup(t)
	for _, tc := range []struct {
		name   string
		openid string
		extra  url.Values
	}{
		{"snapshot demo user", "demo-snapshot", nil},
		{"any user flagged", "someone-else", url.Values{"fake_snapshot": {"1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := authorize(t, c, tc.openid, tc.extra).Get("code")
			user, err := c.ExchangeCode(context.Background(), code)
			if !errors.Is(err, wechat.ErrSnapshotUser) {
				t.Fatalf("err = %v, want ErrSnapshotUser", err)
			}
			if !user.SnapshotUser || user.OpenID != tc.openid {
				t.Fatalf("user = %+v", user)
			}
		})
	}
}

func TestExchangeCodeTransportErrorsAreRedacted(t *testing.T) {
	c, _, _ := setup(t)
	code := authorize(t, c, "demo-citizen-zhangsan", nil).Get("code")
	if err := fake.InjectFault(fakewx.Fault{Path: snsPath, HTTPStatus: 500}); err != nil {
		t.Fatal(err)
	}
	_, err := c.ExchangeCode(context.Background(), code)
	if !errors.Is(err, wechat.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	for _, secret := range []string{appSecret, code} {
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("error %q leaks a secret", err)
		}
	}
}

func TestTokenIsCachedAndShared(t *testing.T) {
	c, rdb, prefix := setup(t)
	ctx := context.Background()
	if err := c.Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	for i := range 4 {
		if _, err := c.SendTemplate(ctx, reminder("demo-citizen-zhangsan", fmt.Sprintf("cid-%d", i))); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if _, err := c.JSConfig(ctx, "https://h5.example.gov.cn/"); err != nil {
		t.Fatal(err)
	}
	if n := fake.Calls(stablePath); n != 1 {
		t.Fatalf("stable_token calls = %d, want 1", n)
	}

	// A second instance on the same Redis prefix reuses the token.
	c2, err := wechat.New(options(prefix), rdb)
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if n := fake.Calls(stablePath); n != 1 {
		t.Fatalf("stable_token calls after second instance = %d, want 1", n)
	}
}

func TestReadyReportsTokenFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault fakewx.Fault
		code  int
	}{
		{"bad secret", fakewx.Fault{Path: stablePath, ErrCode: wechat.CodeInvalidAppSecret}, wechat.CodeInvalidAppSecret},
		{"quota", fakewx.Fault{Path: stablePath, ErrCode: wechat.CodeDailyQuotaReached}, wechat.CodeDailyQuotaReached},
		{"http 502", fakewx.Fault{Path: stablePath, HTTPStatus: 502}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, _ := setup(t)
			if err := fake.InjectFault(tc.fault); err != nil {
				t.Fatal(err)
			}
			err := c.Ready(context.Background())
			if tc.code != 0 {
				wantAPIError(t, err, tc.code)
				return
			}
			if !errors.Is(err, wechat.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
		})
	}
}

func sha1Hex(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestJSConfig(t *testing.T) {
	c, rdb, prefix := setup(t)
	ctx := context.Background()
	for _, tc := range []struct{ name, page, signed string }{
		{"plain", "https://h5.example.gov.cn/h5/licences?id=12", "https://h5.example.gov.cn/h5/licences?id=12"},
		{"fragment stripped", "https://h5.example.gov.cn/h5/#/licences/12?x=1", "https://h5.example.gov.cn/h5/"},
		{"empty fragment stripped", "http://127.0.0.1:8080/h5/show#", "http://127.0.0.1:8080/h5/show"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := c.JSConfig(ctx, tc.page)
			if err != nil {
				t.Fatal(err)
			}
			ticket := fake.JSAPITicket()
			if ticket == "" {
				t.Fatal("fake handed out no ticket")
			}
			if cfg.AppID != appID || cfg.NonceStr == "" || cfg.Timestamp == 0 {
				t.Fatalf("cfg = %+v", cfg)
			}
			want := sha1Hex(fmt.Sprintf("jsapi_ticket=%s&noncestr=%s&timestamp=%d&url=%s", ticket, cfg.NonceStr, cfg.Timestamp, tc.signed))
			if cfg.Signature != want {
				t.Fatalf("signature = %s, want %s", cfg.Signature, want)
			}
		})
	}
	for _, bad := range []string{"", "/h5/relative", "ftp://h5.example.gov.cn/"} {
		if _, err := c.JSConfig(ctx, bad); err == nil {
			t.Errorf("JSConfig(%q) succeeded", bad)
		}
	}
	if n := fake.Calls(ticketPath); n != 1 {
		t.Fatalf("getticket calls = %d, want 1 (ticket cached)", n)
	}
	keys, err := rdb.Keys(ctx, prefix+"*jsapi_ticket*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("ticket keys in Redis = %v, %v", keys, err)
	}
}

func TestJSConfigRefreshesRejectedToken(t *testing.T) {
	c, _, _ := setup(t)
	ctx := context.Background()
	if err := c.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	fake.ExpireTokens()
	if _, err := c.JSConfig(ctx, "https://h5.example.gov.cn/"); err != nil {
		t.Fatalf("JSConfig after tokens expired: %v", err)
	}
	if n := fake.Calls(ticketPath); n != 2 {
		t.Fatalf("getticket calls = %d, want 2 (one rejected, one retried)", n)
	}
}

func TestSendTemplate(t *testing.T) {
	c, _, _ := setup(t)
	ctx := context.Background()
	id, err := c.SendTemplate(ctx, reminder("demo-citizen-zhangsan", "rem-1-90-20250701"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 {
		t.Fatalf("fake recorded %d messages", len(msgs))
	}
	m := msgs[0]
	if m.MsgID != id || m.ToUser != "demo-citizen-zhangsan" || m.TemplateID != "tpl-expiry-0001" ||
		m.ClientMsgID != "rem-1-90-20250701" || m.URL != baseURL+"/h5/licences/12" {
		t.Fatalf("recorded %+v (msgid %d)", m, id)
	}
	if m.Data["thing1"].Value != "机动车驾驶证" || len(m.Data) != 3 {
		t.Fatalf("recorded data %+v", m.Data)
	}

	for _, tc := range []struct {
		name string
		msg  wechat.TemplateMessage
	}{
		{"no touser", wechat.TemplateMessage{TemplateID: "t", Data: map[string]string{"a": "b"}}},
		{"no template", wechat.TemplateMessage{ToUser: "u", Data: map[string]string{"a": "b"}}},
		{"no data", wechat.TemplateMessage{ToUser: "u", TemplateID: "t"}},
		{"relative url", wechat.TemplateMessage{ToUser: "u", TemplateID: "t", URL: "/h5", Data: map[string]string{"a": "b"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.SendTemplate(ctx, tc.msg); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestSendTemplateRejectedByFakeValidation(t *testing.T) {
	c, _, _ := setup(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		data map[string]string
		code int
	}{
		{"21 characters", map[string]string{"thing1": strings.Repeat("证", 21)}, wechat.CodeArgumentInvalid},
		{"first key", map[string]string{"first": "您好", "thing1": "驾驶证"}, wechat.CodeArgumentInvalid},
		{"remark key", map[string]string{"thing1": "驾驶证", "remark": "谢谢"}, wechat.CodeArgumentInvalid},
		{"emoji", map[string]string{"thing1": "驾驶证⏰"}, wechat.CodeArgumentInvalid},
		{"20 characters pass", map[string]string{"thing1": strings.Repeat("证", 20)}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := reminder("demo-citizen-zhangsan", "")
			msg.Data = tc.data
			_, err := c.SendTemplate(ctx, msg)
			if tc.code == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantAPIError(t, err, tc.code)
		})
	}
	if n := fake.Calls(sendPath); n != 5 {
		t.Fatalf("send calls = %d, want 5 (no retries on 47003)", n)
	}
}

func TestSendTemplateRefreshesTokenOnce(t *testing.T) {
	for _, tc := range []struct {
		name      string
		prepare   func(t *testing.T)
		wantCode  int // 0: the retry succeeds
		wantSends int
	}{
		{name: "tokens expired at WeChat", prepare: func(*testing.T) { fake.ExpireTokens() }, wantSends: 2},
		{name: "40001 once", prepare: inject(fakewx.Fault{Path: sendPath, ErrCode: 40001}), wantSends: 2},
		{name: "42001 once", prepare: inject(fakewx.Fault{Path: sendPath, ErrCode: 42001}), wantSends: 2},
		{name: "40014 once", prepare: inject(fakewx.Fault{Path: sendPath, ErrCode: 40014}), wantSends: 2},
		{name: "40001 twice surfaces", prepare: inject(fakewx.Fault{Path: sendPath, ErrCode: 40001, Count: 2}), wantCode: 40001, wantSends: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, rdb, prefix := setup(t)
			ctx := context.Background()
			if err := c.Ready(ctx); err != nil {
				t.Fatal(err)
			}
			before := cachedToken(t, rdb, prefix)
			tc.prepare(t)
			_, err := c.SendTemplate(ctx, reminder("demo-citizen-zhangsan", "cid-refresh"))
			if tc.wantCode != 0 {
				wantAPIError(t, err, tc.wantCode)
			} else if err != nil {
				t.Fatalf("send: %v", err)
			}
			if n := fake.Calls(sendPath); n != tc.wantSends {
				t.Fatalf("send calls = %d, want %d", n, tc.wantSends)
			}
			if n := fake.Calls(stablePath); n != 2 {
				t.Fatalf("stable_token calls = %d, want 2 (one refresh)", n)
			}
			if after := cachedToken(t, rdb, prefix); after == before {
				t.Fatal("cached token was not replaced")
			}
			wantMsgs := 1
			if tc.wantCode != 0 {
				wantMsgs = 0
			}
			if n := len(fake.Messages()); n != wantMsgs {
				t.Fatalf("messages = %d, want %d", n, wantMsgs)
			}
		})
	}
}

func inject(f fakewx.Fault) func(t *testing.T) {
	return func(t *testing.T) {
		t.Helper()
		if err := fake.InjectFault(f); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSendTemplateSurfacesErrcodes(t *testing.T) {
	for _, code := range []int{
		wechat.CodeSystemBusy, wechat.CodeDailyQuotaReached, wechat.CodeMinuteQuotaReached,
		wechat.CodeRequireSubscribe, wechat.CodeInvalidOpenID, wechat.CodeUserRefused,
		wechat.CodeInvalidTemplateID, wechat.CodeArgumentInvalid,
	} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			c, _, _ := setup(t)
			inject(fakewx.Fault{Path: sendPath, ErrCode: code})(t)
			_, err := c.SendTemplate(context.Background(), reminder("demo-citizen-zhangsan", "c1"))
			wantAPIError(t, err, code)
			if got, ok := wechat.Code(err); !ok || got != code {
				t.Fatalf("Code(err) = %d, %v", got, ok)
			}
			if n := fake.Calls(sendPath); n != 1 {
				t.Fatalf("send calls = %d, want 1 (no retry)", n)
			}
			if n := len(fake.Messages()); n != 0 {
				t.Fatalf("messages = %d, want 0", n)
			}
		})
	}
}

func TestSendTemplateTransportFailures(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fault    fakewx.Fault
		ctxLimit time.Duration
		deadline bool // errors.Is(err, context.DeadlineExceeded)
	}{
		{name: "http 500", fault: fakewx.Fault{Path: sendPath, HTTPStatus: 500}},
		{name: "http 503", fault: fakewx.Fault{Path: sendPath, HTTPStatus: 503}},
		// The fault answers -1 after the delay, so the late request records nothing.
		{name: "client timeout", fault: fakewx.Fault{Path: sendPath, Delay: httpTimeout + 500*time.Millisecond, ErrCode: -1}},
		{name: "context deadline", fault: fakewx.Fault{Path: sendPath, Delay: httpTimeout, ErrCode: -1}, ctxLimit: 100 * time.Millisecond, deadline: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, rdb, prefix := setup(t)
			ctx := context.Background()
			if err := c.Ready(ctx); err != nil {
				t.Fatal(err)
			}
			tok := cachedToken(t, rdb, prefix)
			inject(tc.fault)(t)
			if tc.ctxLimit > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctxLimit)
				defer cancel()
			}
			_, err := c.SendTemplate(ctx, reminder("demo-citizen-zhangsan", "c1"))
			if !errors.Is(err, wechat.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			if _, ok := wechat.Code(err); ok {
				t.Fatalf("transport failure reported as APIError: %v", err)
			}
			if tc.deadline && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want context.DeadlineExceeded", err)
			}
			if strings.Contains(err.Error(), tok) {
				t.Fatalf("error %q leaks the access token", err)
			}
		})
	}
}

func TestSendTemplateClientMsgIDDedup(t *testing.T) {
	c, _, _ := setup(t)
	ctx := context.Background()
	msg := reminder("demo-citizen-zhangsan", "rem-7-30-20250701")
	id1, err := c.SendTemplate(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := c.SendTemplate(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	if id1 != id2 {
		t.Fatalf("msgids %d, %d differ for the same client_msg_id", id1, id2)
	}
	other := reminder("demo-officer-police", "rem-7-30-20250701")
	id3, err := c.SendTemplate(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if id3 == id1 {
		t.Fatal("another user's message got the same msgid")
	}
	if n := len(fake.Messages()); n != 2 {
		t.Fatalf("messages = %d, want 2", n)
	}
	if n := fake.SendCount("rem-7-30-20250701"); n != 3 {
		t.Fatalf("SendCount = %d, want 3", n)
	}
}

// A reply lost to a timeout after WeChat already sent the message: the resend
// with the same client_msg_id must not produce a second message.
func TestResendAfterLostReplyIsDeduplicated(t *testing.T) {
	c, _, _ := setup(t)
	ctx := context.Background()
	msg := reminder("demo-citizen-zhangsan", "rem-9-7-20250701")
	inject(fakewx.Fault{Path: sendPath, Delay: httpTimeout + 500*time.Millisecond})(t)
	if _, err := c.SendTemplate(ctx, msg); !errors.Is(err, wechat.ErrUnavailable) {
		t.Fatalf("first send: err = %v, want ErrUnavailable", err)
	}
	waitFor(t, func() bool { return len(fake.Messages()) == 1 })
	id, err := c.SendTemplate(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 || msgs[0].MsgID != id {
		t.Fatalf("messages %+v, resend msgid %d", msgs, id)
	}
	if n := fake.SendCount(msg.ClientMsgID); n != 2 {
		t.Fatalf("SendCount = %d, want 2", n)
	}
}

// waitFor polls cond; it bounds waiting for work the fake finishes after a
// client gave up, and asserts nothing about timing.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFlowOnMiniredis(t *testing.T) {
	fake.Reset()
	rdb, prefix := miniRedis(t)
	c, err := wechat.New(options(prefix), rdb)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 3 {
		if _, err := c.SendTemplate(ctx, reminder("demo-citizen-zhangsan", fmt.Sprint("m", i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.JSConfig(ctx, "https://h5.example.gov.cn/#/x"); err != nil {
		t.Fatal(err)
	}
	if n := fake.Calls(stablePath); n != 1 {
		t.Fatalf("stable_token calls = %d, want 1", n)
	}
	keys, err := rdb.Keys(ctx, prefix+"*stable_access_token*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("token keys = %v, %v", keys, err)
	}
	if ttl := rdb.TTL(ctx, keys[0]).Val(); ttl <= 0 {
		t.Fatalf("token TTL = %s, want positive", ttl)
	}
}
