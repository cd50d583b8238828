// Package wechat connects the platform to the county's WeChat public account:
// web OAuth login (snsapi_base), JS-SDK signatures, template messages and the
// event push endpoint. It adapts github.com/silenceper/wechat/v2's
// officialaccount package, stores access tokens and jsapi tickets in Redis,
// and turns WeChat's errcodes into typed errors.
//
// The SDK sends every request through package globals (util.DefaultHTTPClient
// and util.SetURIModifier). New installs them once per process, so one
// process talks to exactly one WeChat: the real one, or the fake of package
// fakewx when Options.APIBase is set.
package wechat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/credential"
	"github.com/silenceper/wechat/v2/officialaccount"
	offconfig "github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/oauth"
	"github.com/silenceper/wechat/v2/util"
	"github.com/sirupsen/logrus"
)

const (
	realAPIHost  = "https://api.weixin.qq.com"
	realOpenHost = "https://open.weixin.qq.com"

	// DefaultHTTPTimeout bounds each WeChat API call when Options leaves it 0.
	DefaultHTTPTimeout = 5 * time.Second

	// cacheNamespace is appended to Options.KeyPrefix for the SDK's keys.
	cacheNamespace = "wx:"

	snsTokenURL     = realAPIHost + "/sns/oauth2/access_token?appid=%s&secret=%s&code=%s&grant_type=authorization_code"
	ticketURL       = realAPIHost + "/cgi-bin/ticket/getticket?access_token=%s&type=jsapi"
	templateSendURL = realAPIHost + "/cgi-bin/message/template/send?access_token=%s"
)

// Options configure the adapter. AppSecret, Token and EncodingAESKey are
// secrets and come from the environment.
type Options struct {
	AppID          string
	AppSecret      string
	Token          string // server URL token, for NewEventHandler
	EncodingAESKey string // set when the account uses safe mode pushes
	// APIBase is "" for the real WeChat, else the base URL of a fake, e.g.
	// "http://127.0.0.1:8080/fakewx": api.weixin.qq.com and open.weixin.qq.com
	// URLs are rewritten to it.
	APIBase     string
	HTTPTimeout time.Duration // per API call; 0 means DefaultHTTPTimeout
	KeyPrefix   string        // Redis key prefix, e.g. "elic:"; "wx:" is added
}

// OAuthUser is the result of exchanging an OAuth code.
type OAuthUser struct {
	OpenID       string
	SnapshotUser bool // snapshot-page virtual account; see ErrSnapshotUser
}

// JSConfig carries the values a page passes to wx.config.
type JSConfig struct {
	AppID     string
	Timestamp int64
	NonceStr  string
	Signature string
}

// TemplateMessage is one template message. Data maps keyword names
// ("thing1", "time2", …) to plain values: since 2023-05 WeChat ignores colours,
// drops first/remark and cuts values after 20 characters.
type TemplateMessage struct {
	ToUser     string
	TemplateID string
	URL        string
	Data       map[string]string
	// ClientMsgID makes a resend idempotent: WeChat delivers only one message
	// per (openid, client_msg_id) within its dedup window. Reuse it on retries.
	ClientMsgID string
}

// Client calls WeChat for one public account. It is safe for concurrent use.
type Client struct {
	appID     string
	appSecret string
	apiBase   string
	oauth     *oauth.Oauth
	cache     *RedisCache
	tokens    *tokenSource
	ticketKey string
	ticketMu  sync.Mutex
	now       func() time.Time
}

// New validates opts, installs the process-wide SDK HTTP settings (once) and
// returns a client whose tokens are cached in rdb under opts.KeyPrefix.
func New(opts Options, rdb redis.UniversalClient) (*Client, error) {
	if rdb == nil {
		return nil, errors.New("wechat: redis client is nil")
	}
	if opts.AppID == "" || opts.AppSecret == "" {
		return nil, errors.New("wechat: AppID and AppSecret are required")
	}
	if opts.KeyPrefix == "" {
		return nil, errors.New("wechat: KeyPrefix is required")
	}
	base, err := normaliseAPIBase(opts.APIBase)
	if err != nil {
		return nil, err
	}
	timeout := opts.HTTPTimeout
	if timeout == 0 {
		timeout = DefaultHTTPTimeout
	}
	if timeout < 0 {
		return nil, errors.New("wechat: HTTPTimeout is negative")
	}
	if err := installGlobals(base, timeout); err != nil {
		return nil, err
	}

	c, err := NewRedisCache(rdb, opts.KeyPrefix+cacheNamespace)
	if err != nil {
		return nil, err
	}
	tokens, err := newTokenSource(opts.AppID, opts.AppSecret, c)
	if err != nil {
		return nil, err
	}
	oa := officialaccount.NewOfficialAccount(&offconfig.Config{
		AppID:          opts.AppID,
		AppSecret:      opts.AppSecret,
		Token:          opts.Token,
		EncodingAESKey: opts.EncodingAESKey,
		Cache:          c,
		UseStableAK:    true,
	})
	oa.SetAccessTokenHandle(tokens)
	return &Client{
		appID:     opts.AppID,
		appSecret: opts.AppSecret,
		apiBase:   base,
		// The SDK's getters create their object lazily without a lock; take
		// the one we need here, before any concurrent use.
		oauth:     oa.GetOauth(),
		cache:     c,
		tokens:    tokens,
		ticketKey: fmt.Sprintf("%s_jsapi_ticket_%s", credential.CacheKeyOfficialAccountPrefix, opts.AppID),
		now:       time.Now,
	}, nil
}

func normaliseAPIBase(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("wechat: APIBase %q is not an http(s) base URL", s)
	}
	return strings.TrimRight(s, "/"), nil
}

// process holds what installGlobals put into the SDK's package globals.
var process struct {
	mu        sync.Mutex
	installed bool
	apiBase   string
	timeout   time.Duration
}

// installGlobals points the SDK's shared HTTP client and URI modifier at one
// WeChat. Installing them again with other values would silently redirect
// another client's calls (real openids to a fake, or the reverse), so that is
// refused with ErrProcessConfigured.
func installGlobals(apiBase string, timeout time.Duration) error {
	process.mu.Lock()
	defer process.mu.Unlock()
	if process.installed {
		if process.apiBase != apiBase || process.timeout != timeout {
			return fmt.Errorf("%w: have APIBase %q timeout %s, asked for %q %s",
				ErrProcessConfigured, process.apiBase, process.timeout, apiBase, timeout)
		}
		return nil
	}
	quietSDKLogs()
	util.DefaultHTTPClient = newHTTPClient(timeout)
	if apiBase != "" {
		util.SetURIModifier(func(uri string) string { return rewriteURL(apiBase, uri) })
	}
	process.installed = true
	process.apiBase = apiBase
	process.timeout = timeout
	return nil
}

var quietOnce sync.Once

// quietSDKLogs caps the SDK's logrus output at warnings: at debug level its
// server logs every pushed XML body, openids included. Nothing else in the
// platform uses logrus.
func quietSDKLogs() {
	quietOnce.Do(func() {
		if logrus.IsLevelEnabled(logrus.InfoLevel) {
			logrus.SetLevel(logrus.WarnLevel)
		}
	})
}

func newHTTPClient(timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = timeout
	tr.ResponseHeaderTimeout = timeout
	tr.MaxIdleConnsPerHost = 16
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		// WeChat's API does not redirect; following one would carry the
		// access token in the URL to wherever it points.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// rewriteURL sends WeChat URLs to a fake at base; other URLs pass unchanged.
func rewriteURL(base, uri string) string {
	for _, host := range []string{realAPIHost, realOpenHost} {
		if rest, ok := strings.CutPrefix(uri, host); ok && (rest == "" || rest[0] == '/' || rest[0] == '?') {
			return base + rest
		}
	}
	return uri
}

// stateRE is what WeChat documents for state (a-zA-Z0-9, ≤128 bytes), plus
// '-' and '_' so base64url values pass.
var stateRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// AuthorizeURL returns the snsapi_base authorize URL the browser is sent to.
// In fake mode it points at {APIBase}/connect/oauth2/authorize.
func (c *Client) AuthorizeURL(redirectURI, state string) (string, error) {
	if err := checkHTTPURL(redirectURI); err != nil {
		return "", fmt.Errorf("wechat: authorize url: redirect uri: %w", err)
	}
	if !stateRE.MatchString(state) {
		return "", errors.New("wechat: authorize url: state must be 1-128 characters of [A-Za-z0-9_-]")
	}
	u, err := c.oauth.GetRedirectURL(redirectURI, "snsapi_base", state)
	if err != nil {
		return "", fmt.Errorf("wechat: authorize url: %w", err)
	}
	if c.apiBase != "" {
		u = rewriteURL(c.apiBase, u)
	}
	return u, nil
}

// ExchangeCode trades the code from the OAuth callback for the user's openid.
// For a snapshot-page virtual account it returns the flagged user together
// with ErrSnapshotUser, so a caller that only checks err refuses it too.
// An unknown, expired or reused code is an *APIError (40029, 40163).
//
// The call is made here rather than through the SDK's GetUserAccessToken,
// which puts the code into the URL unescaped and returns untyped errors.
func (c *Client) ExchangeCode(ctx context.Context, code string) (OAuthUser, error) {
	if code == "" || len(code) > 512 {
		return OAuthUser{}, errors.New("wechat: exchange code: code is empty or too long")
	}
	uri := fmt.Sprintf(snsTokenURL, url.QueryEscape(c.appID), url.QueryEscape(c.appSecret), url.QueryEscape(code))
	body, err := util.HTTPGetContext(ctx, uri)
	if err != nil {
		return OAuthUser{}, transport("exchange code", err)
	}
	var res oauth.ResAccessToken
	if err := json.Unmarshal(body, &res); err != nil {
		return OAuthUser{}, transport("exchange code", fmt.Errorf("decode answer: %w", err))
	}
	if res.ErrCode != 0 {
		return OAuthUser{}, apiError("exchange code", res.ErrCode, res.ErrMsg)
	}
	if res.OpenID == "" {
		return OAuthUser{}, fmt.Errorf("wechat: exchange code: %w: no openid in answer", ErrUnavailable)
	}
	user := OAuthUser{OpenID: res.OpenID, SnapshotUser: res.IsSnapShotUser == 1}
	if user.SnapshotUser {
		return user, ErrSnapshotUser
	}
	return user, nil
}

// JSConfig signs pageURL for wx.config. WeChat signs the URL without its
// #fragment, so the fragment is dropped here; the jsapi_ticket is cached in
// Redis for all instances.
func (c *Client) JSConfig(ctx context.Context, pageURL string) (JSConfig, error) {
	if i := strings.IndexByte(pageURL, '#'); i >= 0 {
		pageURL = pageURL[:i]
	}
	if err := checkHTTPURL(pageURL); err != nil {
		return JSConfig{}, fmt.Errorf("wechat: js config: page url: %w", err)
	}
	ticket, err := c.jsTicket(ctx)
	if err != nil {
		return JSConfig{}, err
	}
	nonce, err := randomHex(8)
	if err != nil {
		return JSConfig{}, fmt.Errorf("wechat: js config: %w", err)
	}
	ts := c.now().Unix()
	// The same string and hash as the SDK's js.GetConfigContext.
	sig := util.Signature(fmt.Sprintf("jsapi_ticket=%s&noncestr=%s&timestamp=%d&url=%s", ticket, nonce, ts, pageURL))
	return JSConfig{AppID: c.appID, Timestamp: ts, NonceStr: nonce, Signature: sig}, nil
}

type ticketAnswer struct {
	util.CommonError
	Ticket    string `json:"ticket"`
	ExpiresIn int64  `json:"expires_in"`
}

// jsTicket returns the cached jsapi_ticket or fetches one. It does not use the
// SDK's ticket handle because that one returns untyped errors, so a rejected
// access token could not be told apart and refreshed.
func (c *Client) jsTicket(ctx context.Context) (string, error) {
	if s, _ := c.cache.GetContext(ctx, c.ticketKey).(string); s != "" {
		return s, nil
	}
	c.ticketMu.Lock()
	defer c.ticketMu.Unlock()
	if s, _ := c.cache.GetContext(ctx, c.ticketKey).(string); s != "" {
		return s, nil
	}
	var res ticketAnswer
	err := c.withToken(ctx, func(tok string) error {
		body, err := util.HTTPGetContext(ctx, fmt.Sprintf(ticketURL, url.QueryEscape(tok)))
		if err != nil {
			return transport("get jsapi ticket", err)
		}
		res = ticketAnswer{}
		if err := json.Unmarshal(body, &res); err != nil {
			return transport("get jsapi ticket", fmt.Errorf("decode answer: %w", err))
		}
		if res.ErrCode != 0 {
			return apiError("get jsapi ticket", res.ErrCode, res.ErrMsg)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if res.Ticket == "" {
		return "", fmt.Errorf("wechat: get jsapi ticket: %w: empty ticket in answer", ErrUnavailable)
	}
	ttl := time.Duration(res.ExpiresIn)*time.Second - tokenMargin
	if err := c.cache.SetContext(ctx, c.ticketKey, res.Ticket, ttl); err != nil {
		return "", fmt.Errorf("wechat: store jsapi ticket: %w", err)
	}
	return res.Ticket, nil
}

type templateRequest struct {
	ToUser      string                   `json:"touser"`
	TemplateID  string                   `json:"template_id"`
	URL         string                   `json:"url,omitempty"`
	Data        map[string]templateValue `json:"data"`
	ClientMsgID string                   `json:"client_msg_id,omitempty"`
}

type templateValue struct {
	Value string `json:"value"`
}

type templateAnswer struct {
	util.CommonError
	MsgID int64 `json:"msgid"`
}

// SendTemplate sends one template message and returns WeChat's msgid.
// WeChat's refusals come back as *APIError; a rejected access token is
// refreshed and the send retried exactly once, with the same client_msg_id.
// Every other policy (back off on -1/45011, stop on 45009, give up on
// permanent codes) is the caller's, which knows its queue.
//
// The SDK's Template.Send takes no context, returns untyped errors and sends
// an empty miniprogram object, so the request is built here.
func (c *Client) SendTemplate(ctx context.Context, msg TemplateMessage) (int64, error) {
	if msg.ToUser == "" || msg.TemplateID == "" {
		return 0, errors.New("wechat: send template: ToUser and TemplateID are required")
	}
	if len(msg.Data) == 0 {
		return 0, errors.New("wechat: send template: Data is empty")
	}
	if msg.URL != "" {
		if err := checkHTTPURL(msg.URL); err != nil {
			return 0, fmt.Errorf("wechat: send template: url: %w", err)
		}
	}
	req := templateRequest{
		ToUser:      msg.ToUser,
		TemplateID:  msg.TemplateID,
		URL:         msg.URL,
		Data:        make(map[string]templateValue, len(msg.Data)),
		ClientMsgID: msg.ClientMsgID,
	}
	for k, v := range msg.Data {
		if !utf8.ValidString(v) {
			return 0, fmt.Errorf("wechat: send template: value of %q is not UTF-8", k)
		}
		req.Data[k] = templateValue{Value: v}
	}
	var msgID int64
	err := c.withToken(ctx, func(tok string) error {
		body, err := util.PostJSONContext(ctx, fmt.Sprintf(templateSendURL, url.QueryEscape(tok)), req)
		if err != nil {
			return transport("send template", err)
		}
		var res templateAnswer
		if err := json.Unmarshal(body, &res); err != nil {
			return transport("send template", fmt.Errorf("decode answer: %w", err))
		}
		if res.ErrCode != 0 {
			return apiError("send template", res.ErrCode, res.ErrMsg)
		}
		msgID = res.MsgID
		return nil
	})
	return msgID, err
}

// withToken runs call with the current access token and, if WeChat says that
// token is invalid, once more with a refreshed one.
func (c *Client) withToken(ctx context.Context, call func(tok string) error) error {
	tok, err := c.tokens.GetAccessTokenContext(ctx)
	if err != nil {
		return err
	}
	err = call(tok)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || !apiErr.TokenInvalid() {
		return err
	}
	if tok, err = c.tokens.refresh(ctx, tok); err != nil {
		return err
	}
	return call(tok)
}

// Ready reports whether an access token can be had (from Redis or WeChat),
// which needs Redis, the network path to WeChat and valid credentials.
func (c *Client) Ready(ctx context.Context) error {
	_, err := c.tokens.GetAccessTokenContext(ctx)
	return err
}

func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("not an absolute http(s) URL")
	}
	return nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
