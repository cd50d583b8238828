// Package fakewx is an in-process stand-in for the WeChat endpoints the
// platform uses, so that embedded mode and the tests run the real SDK over
// real HTTP without a WeChat account. It answers as WeChat does, errcodes
// included, records the template messages it receives, and lets tests make
// the next calls of an endpoint fail ("faults").
//
// WeChat endpoints (paths below MountPath):
//
//	GET  /connect/oauth2/authorize   demo-user picker; &fake_openid=ID redirects
//	                                 at once to redirect_uri?code=…&state=…
//	GET  /cgi-bin/token              POST /cgi-bin/stable_token (force_refresh)
//	GET  /sns/oauth2/access_token    single-use code → openid, is_snapshotuser
//	GET  /sns/userinfo               GET /cgi-bin/ticket/getticket?type=jsapi
//	POST /cgi-bin/message/template/send
//
// Control endpoints, for tests and demos:
//
//	GET  /_messages       {"items":[…]} template messages, newest first
//	GET  /_stats          counters (Stats)
//	GET  /_faults         pending faults;  POST /_faults  inject one (Fault)
//	POST /_faults/reset   drop pending faults
//	POST /_tokens/expire  invalidate all access tokens (next call: 40001)
//	POST /_reset          forget all state
//	POST /_push           push an event to the platform (WithEventPush)
//
// It is a development tool: it must only be mounted when fake mode is on.
package fakewx

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// MountPath is where the fake lives on the platform's server; its API base
// URL (wechat.Options.APIBase) is the public URL followed by MountPath.
const MountPath = "/fakewx"

const (
	tokenLifetime   = 2 * time.Hour
	codeLifetime    = 5 * time.Minute
	stableRenewal   = 5 * time.Minute // stable_token renews this long before expiry
	tokenReplaced   = 5 * time.Minute // an old /cgi-bin/token stays valid this long
	maxFaultDelay   = time.Minute
	maxTemplateRune = 20
	// dedupWindow is how long WeChat drops a repeated (touser,
	// client_msg_id): "10分钟有效，超过10分钟不保证效果".
	dedupWindow = 10 * time.Minute
)

// DemoUser is a WeChat user the authorize page offers.
type DemoUser struct {
	OpenID string
	Label  string
	// Snapshot marks a snapshot-page virtual account: the code exchange says
	// is_snapshotuser=1 and the platform must refuse it.
	Snapshot bool
}

// Value is one template keyword value as WeChat stores it.
type Value struct {
	Value string `json:"value"`
}

// Message is a template message the fake accepted.
type Message struct {
	ToUser      string           `json:"touser"`
	TemplateID  string           `json:"template_id"`
	URL         string           `json:"url"`
	Data        map[string]Value `json:"data"`
	ClientMsgID string           `json:"client_msg_id"`
	MsgID       int64            `json:"msgid"`
	At          time.Time        `json:"at"`
}

// Stats counts what the fake saw, for "sent exactly once" checks.
type Stats struct {
	// Messages is the number of recorded template messages.
	Messages int `json:"messages"`
	// SendsAccepted counts template sends answered errcode 0, duplicates
	// (same touser and client_msg_id) included.
	SendsAccepted int `json:"sends_accepted"`
	// ByClientMsgID counts accepted sends per client_msg_id.
	ByClientMsgID map[string]int `json:"by_client_msg_id"`
	// Calls counts requests per endpoint path (e.g. "/cgi-bin/stable_token"),
	// faulted ones included.
	Calls map[string]int `json:"calls"`
}

// Option configures a Server.
type Option func(*Server)

// WithCredentials makes the fake check appid and secret like WeChat does;
// without it any appid and secret are accepted.
func WithCredentials(appID, secret string) Option {
	return func(s *Server) { s.appID, s.secret = appID, secret }
}

// WithClock replaces time.Now, so tests can age codes and tokens.
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.now = now }
}

// WithEventPush makes the fake push events to the platform's server URL the
// way WeChat does: TEMPLATESENDJOBFINISH (status success) after each recorded
// template message, and whatever POST /fakewx/_push or PushEvent asks for.
func WithEventPush(eventURL, token string, client *http.Client) Option {
	return func(s *Server) {
		if client == nil {
			client = &http.Client{Timeout: 5 * time.Second}
		}
		s.push = &pusher{url: eventURL, token: token, client: client}
	}
}

// Server is the fake; it implements http.Handler and is safe for concurrent use.
type Server struct {
	base   *url.URL // nil: any redirect_uri accepted
	appID  string
	secret string
	users  []DemoUser
	byID   map[string]DemoUser
	now    func() time.Time
	push   *pusher

	mu           sync.Mutex
	codes        map[string]*authCode
	tokens       map[string]time.Time // API access token → expiry
	stable       string               // current stable_token answer
	plain        string               // latest /cgi-bin/token answer
	userTokens   map[string]userToken
	ticket       string
	ticketExp    time.Time
	messages     []Message
	dedup        map[string]sent // touser + "\x00" + client_msg_id → first send
	byCID        map[string]int
	accepted     int
	calls        map[string]int
	faults       map[string][]*Fault
	nextMsgID    int64
	pushInFlight sync.WaitGroup
}

// sent is a message a repeated client_msg_id is answered with while its
// dedup window lasts.
type sent struct {
	msgID int64
	at    time.Time
}

type authCode struct {
	openid   string
	scope    string
	snapshot bool
	exp      time.Time
	used     bool
}

type userToken struct {
	openid string
	scope  string
	exp    time.Time
}

var openidRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// New returns a fake whose authorize page offers users. baseURL is the
// platform's public URL (e.g. "http://127.0.0.1:8080"): like WeChat's
// authorised-domain check, redirect_uri must be on its scheme and host. An
// empty baseURL accepts any redirect_uri (tests whose URL is not known yet).
func New(baseURL string, users []DemoUser, opts ...Option) (*Server, error) {
	s := &Server{byID: make(map[string]DemoUser), now: time.Now}
	if baseURL != "" {
		u, err := url.Parse(strings.TrimRight(baseURL, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("fakewx: base URL %q is not an absolute http(s) URL", baseURL)
		}
		s.base = u
	}
	for _, u := range users {
		if !openidRE.MatchString(u.OpenID) {
			return nil, fmt.Errorf("fakewx: demo user openid %q is not [A-Za-z0-9_-]{1,64}", u.OpenID)
		}
		if _, dup := s.byID[u.OpenID]; dup {
			return nil, fmt.Errorf("fakewx: demo user %q listed twice", u.OpenID)
		}
		s.byID[u.OpenID] = u
	}
	s.users = slices.Clone(users)
	for _, o := range opts {
		o(s)
	}
	s.resetLocked()
	return s, nil
}

// APIBase is the value for wechat.Options.APIBase when the fake is mounted
// at MountPath of baseURL; "" when New got no baseURL.
func (s *Server) APIBase() string {
	if s.base == nil {
		return ""
	}
	return s.base.String() + MountPath
}

func (s *Server) resetLocked() {
	s.codes = make(map[string]*authCode)
	s.tokens = make(map[string]time.Time)
	s.stable, s.plain = "", ""
	s.userTokens = make(map[string]userToken)
	s.ticket, s.ticketExp = "", time.Time{}
	s.messages = nil
	s.dedup = make(map[string]sent)
	s.byCID = make(map[string]int)
	s.accepted = 0
	s.calls = make(map[string]int)
	s.faults = make(map[string][]*Fault)
	s.nextMsgID = 3_000_000_000
}

// Reset forgets everything but the configuration: codes, tokens, tickets,
// messages, counters and faults.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
}

// ExpireTokens invalidates every API access token, so the next call with one
// gets errcode 40001 (as after a token was replaced elsewhere).
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = make(map[string]time.Time)
	s.stable, s.plain = "", ""
}

// Messages returns the recorded template messages, newest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.messages))
	for i := len(s.messages) - 1; i >= 0; i-- {
		m := s.messages[i]
		m.Data = cloneMap(m.Data)
		out = append(out, m)
	}
	return out
}

// SendCount is the number of accepted sends with clientMsgID.
func (s *Server) SendCount(clientMsgID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byCID[clientMsgID]
}

// Calls is the number of requests to an endpoint path such as
// "/cgi-bin/stable_token".
func (s *Server) Calls(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[strings.TrimPrefix(path, MountPath)]
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{
		Messages:      len(s.messages),
		SendsAccepted: s.accepted,
		ByClientMsgID: cloneMap(s.byCID),
		Calls:         cloneMap(s.calls),
	}
}

// JSAPITicket returns the jsapi_ticket currently handed out ("" before the
// first getticket call), so tests can recompute JS-SDK signatures.
func (s *Server) JSAPITicket() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ticket
}

// Close waits for event pushes in flight.
func (s *Server) Close() {
	s.pushInFlight.Wait()
}

// ServeHTTP serves the fake under MountPath (the prefix is optional, so the
// handler also works behind http.StripPrefix).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, MountPath)
	if p == "" {
		p = "/"
	}
	if s.control(w, r, p) {
		return
	}
	if !s.knownEndpoint(p) {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	s.calls[p]++
	s.mu.Unlock()
	if s.applyFault(w, r, p) {
		return
	}
	switch p {
	case "/connect/oauth2/authorize":
		s.authorize(w, r)
	case "/cgi-bin/token":
		s.plainToken(w, r)
	case "/cgi-bin/stable_token":
		s.stableToken(w, r)
	case "/sns/oauth2/access_token":
		s.snsAccessToken(w, r)
	case "/sns/userinfo":
		s.snsUserInfo(w, r)
	case "/cgi-bin/ticket/getticket":
		s.getTicket(w, r)
	case "/cgi-bin/message/template/send":
		s.templateSend(w, r)
	}
}

func (s *Server) knownEndpoint(p string) bool {
	switch p {
	case "/connect/oauth2/authorize", "/cgi-bin/token", "/cgi-bin/stable_token",
		"/sns/oauth2/access_token", "/sns/userinfo", "/cgi-bin/ticket/getticket",
		"/cgi-bin/message/template/send":
		return true
	}
	return false
}

// control serves the fake's own endpoints, which start with "/_".
func (s *Server) control(w http.ResponseWriter, r *http.Request, p string) bool {
	if !strings.HasPrefix(p, "/_") {
		return false
	}
	switch {
	case p == "/_messages" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"items": s.Messages()})
	case p == "/_stats" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Stats())
	case p == "/_faults" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"items": s.PendingFaults()})
	case p == "/_faults" && r.Method == http.MethodPost:
		var f Fault
		if err := decodeBody(w, r, &f); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return true
		}
		if err := s.InjectFault(f); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return true
		}
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	case p == "/_faults/reset" && r.Method == http.MethodPost:
		s.ResetFaults()
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	case p == "/_tokens/expire" && r.Method == http.MethodPost:
		s.ExpireTokens()
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	case p == "/_reset" && r.Method == http.MethodPost:
		s.Reset()
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	case p == "/_push" && r.Method == http.MethodPost:
		var e Event
		if err := decodeBody(w, r, &e); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return true
		}
		if err := s.PushEvent(r.Context(), e); err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
			return true
		}
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	default:
		http.NotFound(w, r)
	}
	return true
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("bad JSON body: %w", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// errMsgs are WeChat's errmsg texts for the codes the fake produces.
var errMsgs = map[int]string{
	-1:    "system error",
	10003: "redirect_uri domain mismatch",
	40001: "invalid credential, access_token is invalid or not latest",
	40002: "invalid grant_type",
	40003: "invalid openid",
	40013: "invalid appid",
	40014: "invalid access_token",
	40029: "invalid code",
	40037: "invalid template_id",
	40097: "invalid args",
	40125: "invalid appsecret",
	40163: "code been used",
	41001: "access_token missing",
	41008: "missing code",
	42001: "access_token expired",
	43002: "require POST method",
	43004: "require subscribe",
	43101: "user refuse to accept the msg",
	45009: "reach max api daily quota limit",
	45011: "api minute-quota reach limit  mustslower  retry next minute",
	47001: "data format error",
	47003: "argument invalid!",
	48001: "api unauthorized",
}

func writeErr(w http.ResponseWriter, code int, detail string) {
	msg, ok := errMsgs[code]
	if !ok {
		msg = "error"
	}
	if detail != "" {
		msg += " " + detail
	}
	writeJSON(w, http.StatusOK, map[string]any{"errcode": code, "errmsg": msg})
}

func randomString(prefix string, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("fakewx: crypto/rand failed"))
	}
	return prefix + hex.EncodeToString(b)
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
