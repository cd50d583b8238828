package sms_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/fault"
	"github.com/yangcheng-county/elicence/internal/sms"
)

func TestDevOutboxNewestFirstAndBounded(t *testing.T) {
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	o := sms.NewDevOutbox(3, func() time.Time { at = at.Add(time.Second); return at })
	if got := o.List(); len(got) != 0 {
		t.Fatalf("empty outbox lists %d", len(got))
	}
	for i := 1; i <= 5; i++ {
		if err := o.Send(context.Background(), fmt.Sprintf("1380000000%d", i), fmt.Sprintf("验证码00000%d,5分钟内有效", i)); err != nil {
			t.Fatal(err)
		}
	}
	got := o.List()
	want := []string{"000005", "000004", "000003"}
	if len(got) != len(want) {
		t.Fatalf("List has %d messages, want %d (bounded)", len(got), len(want))
	}
	for i, m := range got {
		if m.Code != want[i] {
			t.Errorf("List()[%d].Code = %q, want %q", i, m.Code, want[i])
		}
		if i > 0 && !m.SentAt.Before(got[i-1].SentAt) {
			t.Errorf("List not newest first at %d", i)
		}
	}
	if got[0].Phone != "13800000005" {
		t.Errorf("phone = %q", got[0].Phone)
	}
}

func TestDevOutboxCode(t *testing.T) {
	tests := []struct{ text, code string }{
		{"【阳城县政务服务】验证码123456,5分钟内有效", "123456"},
		{"code 012345", "012345"},
		{"5分钟 then 987654", "987654"}, // a lone digit is not the code
		{"no digits", ""},
		{"12345678901 is too long", ""},
		{"2025", "2025"},
	}
	for _, tt := range tests {
		o := sms.NewDevOutbox(1, nil)
		o.Send(context.Background(), "1", tt.text)
		if got := o.List()[0].Code; got != tt.code {
			t.Errorf("code of %q = %q, want %q", tt.text, got, tt.code)
		}
	}
}

func TestHTTPGateway(t *testing.T) {
	var got struct {
		Phone, Text string
		Auth, CT    string
	}
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Auth = r.Header.Get("Authorization")
		got.CT = r.Header.Get("Content-Type")
		var body struct{ Phone, Text string }
		json.NewDecoder(r.Body).Decode(&body)
		got.Phone, got.Text = body.Phone, body.Text
		w.WriteHeader(status)
	}))
	defer srv.Close()
	g, err := sms.NewHTTPGateway(srv.URL+"/send", "tok", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Send(context.Background(), "13800000001", "验证码123456"); err != nil {
		t.Fatal(err)
	}
	if got.Phone != "13800000001" || got.Text != "验证码123456" || got.Auth != "Bearer tok" || got.CT != "application/json" {
		t.Fatalf("gateway received %+v", got)
	}
	for _, st := range []int{http.StatusBadRequest, http.StatusBadGateway, http.StatusFound} {
		status = st
		if err := g.Send(context.Background(), "1", "x"); !errors.Is(err, fault.ErrUnavailable) {
			t.Errorf("status %d: %v, want unavailable", st, err)
		}
	}
}

func TestHTTPGatewayTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	g, err := sms.NewHTTPGateway(srv.URL, "", 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Send(context.Background(), "1", "x"); !errors.Is(err, fault.ErrUnavailable) {
		t.Fatalf("stalled gateway: %v, want unavailable", err)
	}
}

func TestNewHTTPGatewayRejects(t *testing.T) {
	for _, u := range []string{"", "gateway", "ftp://x/y", "/relative"} {
		if _, err := sms.NewHTTPGateway(u, "", time.Second); err == nil {
			t.Errorf("NewHTTPGateway(%q) accepted", u)
		}
	}
	if _, err := sms.NewHTTPGateway("https://sms.example/send", "", 0); err == nil {
		t.Error("zero timeout accepted")
	}
}

// A gateway that answers with a redirect has not sent the message. Following
// it would turn the POST into a GET (dropping phone and text) and could read
// a 200 from, say, a login page as success: the citizen never gets a code and
// nobody learns why.
func TestHTTPGatewayRedirectIsAFailure(t *testing.T) {
	var gets int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/send" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		gets++
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	g, err := sms.NewHTTPGateway(srv.URL+"/send", "tok", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Send(context.Background(), "13800000001", "验证码123456"); !errors.Is(err, fault.ErrUnavailable) {
		t.Errorf("Send through a redirect = %v, want unavailable", err)
	}
	if gets != 0 {
		t.Errorf("the redirect was followed %d times", gets)
	}
}
