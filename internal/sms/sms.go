// Package sms sends text messages (real-name confirmation codes) through a
// Gateway: DevOutbox keeps them in memory for the developer endpoint
// /api/v1/dev/sms, HTTPGateway posts them to the county's SMS gateway.
// Neither logs a message text or a full phone number: the text carries a
// code that is as good as the phone itself for five minutes.
package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/yangcheng-county/elicence/internal/fault"
)

// Gateway sends one text message to one phone number.
type Gateway interface {
	Send(ctx context.Context, phone, text string) error
}

// Message is one message kept by DevOutbox.
type Message struct {
	Phone string
	// Code is the first run of 4 to 8 digits in Text, kept apart so the dev
	// page (and tests) can read it without parsing the text.
	Code   string
	Text   string
	SentAt time.Time
}

// DefaultOutboxSize bounds a DevOutbox when NewDevOutbox is given 0.
const DefaultOutboxSize = 200

// DevOutbox is the development gateway: messages stay in a bounded ring in
// memory and can be listed. It must only be wired in dev mode, where the
// list is exposed over HTTP.
type DevOutbox struct {
	mu   sync.Mutex
	ring []Message
	next int // index of the slot the next message goes to
	full bool
	now  func() time.Time
}

// NewDevOutbox keeps the last size messages (DefaultOutboxSize if size <= 0).
// now is the clock; time.Now when nil.
func NewDevOutbox(size int, now func() time.Time) *DevOutbox {
	if size <= 0 {
		size = DefaultOutboxSize
	}
	if now == nil {
		now = time.Now
	}
	return &DevOutbox{ring: make([]Message, size), now: now}
}

// Send implements Gateway.
func (o *DevOutbox) Send(ctx context.Context, phone, text string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ring[o.next] = Message{Phone: phone, Code: extractCode(text), Text: text, SentAt: o.now()}
	o.next = (o.next + 1) % len(o.ring)
	if o.next == 0 {
		o.full = true
	}
	return nil
}

// List returns the kept messages, newest first.
func (o *DevOutbox) List() []Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := o.next
	if o.full {
		n = len(o.ring)
	}
	out := make([]Message, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, o.ring[(o.next-i+len(o.ring))%len(o.ring)])
	}
	return out
}

// extractCode finds the first run of 4 to 8 ASCII digits in text.
func extractCode(text string) string {
	start := -1
	for i := 0; i <= len(text); i++ {
		digit := i < len(text) && text[i] >= '0' && text[i] <= '9'
		switch {
		case digit && start < 0:
			start = i
		case !digit && start >= 0:
			if n := i - start; n >= 4 && n <= 8 {
				return text[start:i]
			}
			start = -1
		}
	}
	return ""
}

// HTTPGateway posts {"phone","text"} as JSON to a gateway URL with a bearer
// token. Any answer other than 2xx, and any transport error, is a
// dependency failure (fault.Unavailable): the caller answers 503.
type HTTPGateway struct {
	url    string
	token  string
	client *http.Client
}

// NewHTTPGateway checks the URL and builds a gateway whose requests give up
// after timeout.
func NewHTTPGateway(gatewayURL, token string, timeout time.Duration) (*HTTPGateway, error) {
	u, err := url.ParseRequestURI(gatewayURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("sms: gateway URL must be an absolute http(s) URL")
	}
	if timeout <= 0 {
		return nil, errors.New("sms: timeout must be positive")
	}
	client := &http.Client{
		Timeout: timeout,
		// A redirect is an answer, not a delivery: followed, the POST
		// would become a GET without the message and a 200 from wherever
		// it lands would read as "sent".
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &HTTPGateway{url: gatewayURL, token: token, client: client}, nil
}

// Send implements Gateway.
func (g *HTTPGateway) Send(ctx context.Context, phone, text string) error {
	body, err := json.Marshal(struct {
		Phone string `json:"phone"`
		Text  string `json:"text"`
	}{phone, text})
	if err != nil {
		return fmt.Errorf("sms: encode: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sms: build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if g.token != "" {
		req.Header.Set("Authorization", "Bearer "+g.token)
	}
	resp, err := g.client.Do(req)
	if err != nil {
		// The error from net/http quotes the URL, never the body.
		return fault.Unavailable("sms gateway", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fault.Unavailable("sms gateway", fmt.Errorf("status %d", resp.StatusCode))
	}
	return nil
}
