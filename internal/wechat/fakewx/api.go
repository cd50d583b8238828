package fakewx

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

func (s *Server) checkCreds(appid, secret string) int {
	if appid == "" || (s.appID != "" && appid != s.appID) {
		return 40013
	}
	if secret == "" || (s.secret != "" && secret != s.secret) {
		return 40125
	}
	return 0
}

// checkTokenLocked is WeChat's access_token check: missing 41001, unknown
// (never issued, replaced, or dropped by ExpireTokens) 40001, past expiry 42001.
func (s *Server) checkTokenLocked(tok string) int {
	if tok == "" {
		return 41001
	}
	exp, ok := s.tokens[tok]
	if !ok {
		return 40001
	}
	if !s.now().Before(exp) {
		return 42001
	}
	return 0
}

func (s *Server) newTokenLocked(now time.Time) string {
	tok := randomString("FAKE_AT_", 16)
	s.tokens[tok] = now.Add(tokenLifetime)
	return tok
}

func secondsLeft(now, exp time.Time) int64 {
	return int64(exp.Sub(now) / time.Second)
}

// plainToken is GET /cgi-bin/token: every call issues a new token, and the
// previous one stays valid for five more minutes.
func (s *Server) plainToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("grant_type") != "client_credential" {
		writeErr(w, 40002, "")
		return
	}
	if code := s.checkCreds(q.Get("appid"), q.Get("secret")); code != 0 {
		writeErr(w, code, "")
		return
	}
	s.mu.Lock()
	now := s.now()
	if exp, ok := s.tokens[s.plain]; ok && exp.After(now.Add(tokenReplaced)) {
		s.tokens[s.plain] = now.Add(tokenReplaced)
	}
	s.plain = s.newTokenLocked(now)
	tok := s.plain
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "expires_in": int64(tokenLifetime / time.Second)})
}

// stableToken is POST /cgi-bin/stable_token: the same token until five
// minutes before it expires; force_refresh replaces it and kills the old one.
func (s *Server) stableToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeErr(w, 43002, "")
		return
	}
	var req struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		writeErr(w, 47001, "")
		return
	}
	if req.GrantType != "client_credential" {
		writeErr(w, 40002, "")
		return
	}
	if code := s.checkCreds(req.AppID, req.Secret); code != 0 {
		writeErr(w, code, "")
		return
	}
	s.mu.Lock()
	now := s.now()
	exp, ok := s.tokens[s.stable]
	if req.ForceRefresh || !ok || exp.Sub(now) <= stableRenewal {
		if req.ForceRefresh {
			delete(s.tokens, s.stable)
		}
		s.stable = s.newTokenLocked(now)
		exp = s.tokens[s.stable]
	}
	tok := s.stable
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "expires_in": secondsLeft(now, exp)})
}

// snsAccessToken is GET /sns/oauth2/access_token: a code works once, within
// five minutes.
func (s *Server) snsAccessToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if code := s.checkCreds(q.Get("appid"), q.Get("secret")); code != 0 {
		writeErr(w, code, "")
		return
	}
	if q.Get("grant_type") != "authorization_code" {
		writeErr(w, 40002, "")
		return
	}
	code := q.Get("code")
	if code == "" {
		writeErr(w, 41008, "")
		return
	}
	s.mu.Lock()
	now := s.now()
	c, ok := s.codes[code]
	switch {
	case !ok || !now.Before(c.exp):
		s.mu.Unlock()
		writeErr(w, 40029, "")
		return
	case c.used:
		s.mu.Unlock()
		writeErr(w, 40163, "")
		return
	}
	c.used = true
	tok := randomString("FAKE_SNS_", 16)
	s.userTokens[tok] = userToken{openid: c.openid, scope: c.scope, exp: now.Add(tokenLifetime)}
	s.mu.Unlock()

	res := map[string]any{
		"access_token":  tok,
		"expires_in":    int64(tokenLifetime / time.Second),
		"refresh_token": randomString("FAKE_RT_", 16),
		"openid":        c.openid,
		"scope":         c.scope,
	}
	if c.snapshot {
		res["is_snapshotuser"] = 1
	}
	writeJSON(w, http.StatusOK, res)
}

// snsUserInfo is GET /sns/userinfo, which needs an snsapi_userinfo grant.
func (s *Server) snsUserInfo(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	tok, openid := q.Get("access_token"), q.Get("openid")
	if tok == "" {
		writeErr(w, 41001, "")
		return
	}
	s.mu.Lock()
	ut, ok := s.userTokens[tok]
	now := s.now()
	s.mu.Unlock()
	switch {
	case !ok:
		writeErr(w, 40001, "")
	case !now.Before(ut.exp):
		writeErr(w, 42001, "")
	case openid != ut.openid:
		writeErr(w, 40003, "")
	case ut.scope != "snsapi_userinfo":
		writeErr(w, 48001, "")
	default:
		nick := s.byID[openid].Label
		if nick == "" {
			nick = openid
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"openid": openid, "nickname": nick, "sex": 0,
			"province": "山西", "city": "晋城", "country": "中国",
			"headimgurl": "", "privilege": []string{},
		})
	}
}

// getTicket is GET /cgi-bin/ticket/getticket?type=jsapi.
func (s *Server) getTicket(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	if code := s.checkTokenLocked(q.Get("access_token")); code != 0 {
		s.mu.Unlock()
		writeErr(w, code, "")
		return
	}
	if q.Get("type") != "jsapi" {
		s.mu.Unlock()
		writeErr(w, 40097, "type must be jsapi")
		return
	}
	now := s.now()
	if s.ticket == "" || !now.Before(s.ticketExp) {
		s.ticket = randomString("FAKE_TICKET_", 16)
		s.ticketExp = now.Add(tokenLifetime)
	}
	ticket, exp := s.ticket, s.ticketExp
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "ticket": ticket, "expires_in": secondsLeft(now, exp)})
}

type sendRequest struct {
	ToUser      string                     `json:"touser"`
	TemplateID  string                     `json:"template_id"`
	URL         string                     `json:"url"`
	Color       string                     `json:"color"`
	Data        map[string]json.RawMessage `json:"data"`
	ClientMsgID string                     `json:"client_msg_id"`
}

// templateSend is POST /cgi-bin/message/template/send. Besides WeChat's own
// checks it refuses what WeChat has silently dropped or cut since 2023-05
// (first/remark, colours, values over 20 characters, emoji) with 47003, so
// tests catch messages that would reach citizens mangled.
func (s *Server) templateSend(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeErr(w, 43002, "")
		return
	}
	s.mu.Lock()
	code := s.checkTokenLocked(r.URL.Query().Get("access_token"))
	s.mu.Unlock()
	if code != 0 {
		writeErr(w, code, "")
		return
	}
	var req sendRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		writeErr(w, 47001, "")
		return
	}
	if req.ToUser == "" || !openidRE.MatchString(req.ToUser) || s.byID[req.ToUser].Snapshot {
		writeErr(w, 40003, "")
		return
	}
	if req.TemplateID == "" {
		writeErr(w, 40037, "")
		return
	}
	data, code, detail := checkTemplate(req)
	if code != 0 {
		writeErr(w, code, detail)
		return
	}

	s.mu.Lock()
	now := s.now()
	s.accepted++
	key := req.ToUser + "\x00" + req.ClientMsgID
	if req.ClientMsgID != "" {
		s.byCID[req.ClientMsgID]++
		// WeChat drops a repeat only within its dedup window; later, the
		// same client_msg_id reaches the user again.
		if first, dup := s.dedup[key]; dup && now.Sub(first.at) < dedupWindow {
			s.mu.Unlock()
			writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "msgid": first.msgID})
			return
		}
	}
	s.nextMsgID++
	id := s.nextMsgID
	if req.ClientMsgID != "" {
		s.dedup[key] = sent{msgID: id, at: now}
	}
	s.messages = append(s.messages, Message{
		ToUser: req.ToUser, TemplateID: req.TemplateID, URL: req.URL, Data: data,
		ClientMsgID: req.ClientMsgID, MsgID: id, At: now.UTC(),
	})
	s.mu.Unlock()

	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "msgid": id})
	s.pushAsync(Event{Event: EventTemplateSendJobFinish, OpenID: req.ToUser, MsgID: id, Status: "success"})
}

func checkTemplate(req sendRequest) (map[string]Value, int, string) {
	if req.Color != "" {
		return nil, 47003, "color is not supported"
	}
	if req.URL != "" {
		if u, err := url.Parse(req.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, 47003, "url must be an absolute http(s) URL"
		}
	}
	if len(req.Data) == 0 {
		return nil, 47003, "data is empty"
	}
	data := make(map[string]Value, len(req.Data))
	for key, raw := range req.Data {
		if key == "first" || key == "remark" {
			return nil, 47003, fmt.Sprintf("data.%s is no longer supported", key)
		}
		var item map[string]json.RawMessage
		if err := json.Unmarshal(raw, &item); err != nil {
			return nil, 47001, fmt.Sprintf("data.%s must be an object", key)
		}
		for k := range item {
			if k != "value" {
				return nil, 47003, fmt.Sprintf("data.%s.%s is not supported", key, k)
			}
		}
		var v string
		if err := json.Unmarshal(item["value"], &v); err != nil {
			return nil, 47001, fmt.Sprintf("data.%s.value must be a string", key)
		}
		if n := utf8.RuneCountInString(v); n > maxTemplateRune {
			return nil, 47003, fmt.Sprintf("data.%s.value has %d characters, at most %d", key, n, maxTemplateRune)
		}
		if strings.ContainsFunc(v, isEmoji) {
			return nil, 47003, fmt.Sprintf("data.%s.value contains emoji", key)
		}
		data[key] = Value{Value: v}
	}
	return data, 0, ""
}

// isEmoji covers the emoji blocks and the emoji-presentation characters
// scattered through older symbol blocks; it is a test aid, not a full UTS #51.
func isEmoji(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF, r >= 0x2600 && r <= 0x27BF,
		r >= 0x231A && r <= 0x231B, r >= 0x23E9 && r <= 0x23F3, r >= 0x23F8 && r <= 0x23FA,
		r >= 0x2B1B && r <= 0x2B1C, r == 0x2B50, r == 0x2B55,
		r == 0xFE0F, r == 0x200D:
		return true
	}
	return false
}
