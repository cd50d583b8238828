package fakewx

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Event types WeChat pushes that the platform handles.
const (
	EventSubscribe             = "subscribe"
	EventUnsubscribe           = "unsubscribe"
	EventTemplateSendJobFinish = "TEMPLATESENDJOBFINISH"
)

// accountID is the fake public account's original id (ToUserName).
const accountID = "gh_fake0000000"

// Event is one pushed event. JSON form for POST /fakewx/_push:
// {"event":"subscribe","openid":"…"} or
// {"event":"TEMPLATESENDJOBFINISH","openid":"…","msgid":1,"status":"failed:user block"}.
type Event struct {
	Event  string `json:"event"`
	OpenID string `json:"openid"`
	MsgID  int64  `json:"msgid,omitempty"`
	Status string `json:"status,omitempty"`
}

type pusher struct {
	url    string
	token  string
	client *http.Client
}

// cdata marshals as <![CDATA[…]]> like WeChat's pushes.
type cdata string

func (c cdata) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(struct {
		S string `xml:",cdata"`
	}{string(c)}, start)
}

type eventXML struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   cdata    `xml:"ToUserName"`
	FromUserName cdata    `xml:"FromUserName"`
	CreateTime   int64    `xml:"CreateTime"`
	MsgType      cdata    `xml:"MsgType"`
	Event        cdata    `xml:"Event"`
	MsgID        int64    `xml:"MsgID,omitempty"`
	Status       cdata    `xml:"Status,omitempty"`
}

// EventXML renders e as WeChat's plaintext push body.
func EventXML(e Event, at time.Time) []byte {
	x := eventXML{
		ToUserName: accountID, FromUserName: cdata(e.OpenID), CreateTime: at.Unix(),
		MsgType: "event", Event: cdata(e.Event), MsgID: e.MsgID, Status: cdata(e.Status),
	}
	b, err := xml.Marshal(x)
	if err != nil {
		panic(fmt.Sprintf("fakewx: marshal event: %v", err))
	}
	return b
}

// SignedQuery returns the query WeChat adds to a push or URL check:
// signature = sha1 of token, timestamp and nonce sorted and joined.
func SignedQuery(token string, at time.Time, nonce string) url.Values {
	ts := strconv.FormatInt(at.Unix(), 10)
	parts := []string{token, ts, nonce}
	sort.Strings(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	return url.Values{"signature": {hex.EncodeToString(sum[:])}, "timestamp": {ts}, "nonce": {nonce}}
}

// NewEventRequest builds a signed plaintext push of e to eventURL, as WeChat
// sends it. Tests use it to drive an event handler.
func NewEventRequest(ctx context.Context, eventURL, token string, e Event, at time.Time) (*http.Request, error) {
	u, err := url.Parse(eventURL)
	if err != nil {
		return nil, fmt.Errorf("fakewx: event url: %w", err)
	}
	q := u.Query()
	for k, v := range SignedQuery(token, at, randomString("", 8)) {
		q[k] = v
	}
	q.Set("openid", e.OpenID)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(EventXML(e, at)))
	if err != nil {
		return nil, fmt.Errorf("fakewx: event request: %w", err)
	}
	req.Header.Set("Content-Type", "text/xml")
	return req, nil
}

// PushEvent sends e to the event URL given with WithEventPush and expects
// WeChat's "success" (or empty) answer.
func (s *Server) PushEvent(ctx context.Context, e Event) error {
	if s.push == nil {
		return errors.New("fakewx: event push not configured")
	}
	if !openidRE.MatchString(e.OpenID) || e.Event == "" {
		return errors.New("fakewx: event needs event and openid")
	}
	req, err := NewEventRequest(ctx, s.push.url, s.push.token, e, s.now())
	if err != nil {
		return err
	}
	resp, err := s.push.client.Do(req)
	if err != nil {
		return fmt.Errorf("fakewx: push event: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fakewx: push event: server answered %d", resp.StatusCode)
	}
	if b := string(body); b != "" && b != "success" {
		return fmt.Errorf("fakewx: push event: unexpected answer %q", b)
	}
	return nil
}

// pushAsync pushes e in the background when pushes are configured; WeChat
// reports template results some time after the send call returned.
func (s *Server) pushAsync(e Event) {
	if s.push == nil {
		return
	}
	s.pushInFlight.Add(1)
	go func() {
		defer s.pushInFlight.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.PushEvent(ctx, e)
	}()
}
