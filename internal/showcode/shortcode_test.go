package showcode_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/showcode"
)

func TestShowcodeShortCodeIsTheSameSingleUseCode(t *testing.T) {
	svc, _, clk := newService(t)
	ctx := context.Background()
	code, err := svc.Mint(ctx, 7, 42, showcode.ScopeBasic)
	if err != nil {
		t.Fatal(err)
	}
	if !showcode.IsShortCode(code.ShortCode) {
		t.Fatalf("short code %q is not 8 digits", code.ShortCode)
	}
	if rec, err := svc.Peek(ctx, code.ShortCode); err != nil || rec.LicenceID != 42 {
		t.Fatalf("peek by short code: %+v, %v", rec, err)
	}
	first, replay, err := svc.Consume(ctx, code.ShortCode, "police-1", clk.Now())
	if err != nil || replay {
		t.Fatalf("consume by short code: replay=%v err=%v", replay, err)
	}
	clk.Add(5 * time.Second)
	// The token is the same code: spent, replayable only by the same officer.
	again, replay, err := svc.Consume(ctx, code.Token, "police-1", clk.Now())
	if err != nil || !replay || !again.ConsumedAt.Equal(first.ConsumedAt) {
		t.Fatalf("same officer by token: replay=%v consumed at %s (first %s) err=%v", replay, again.ConsumedAt, first.ConsumedAt, err)
	}
	for _, c := range []string{code.Token, code.ShortCode} {
		if _, _, err := svc.Consume(ctx, c, "police-2", clk.Now()); !errors.Is(err, showcode.ErrInvalid) {
			t.Fatalf("another officer with %q: err = %v, want ErrInvalid", c, err)
		}
	}
}

// TestShowcodeShortCodeCollision pins that a short code held by a live
// code is never handed to a second one.
func TestShowcodeShortCodeCollision(t *testing.T) {
	_, st, clk := newService(t)
	ctx := context.Background()
	short := []byte{0, 0, 0, 42} // draws 00000042
	other := []byte{0, 0, 0, 43}
	tokA, tokB := bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 16)
	src := bytes.NewReader(append(append(append(append(tokA, short...), tokB...), short...), other...))
	svc, err := showcode.NewService(st, showcode.Options{PublicURL: publicURL, TTL: time.Minute, Now: clk.Now, Rand: src})
	if err != nil {
		t.Fatal(err)
	}
	a, err := svc.Mint(ctx, 7, 1, showcode.ScopeBasic)
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.Mint(ctx, 7, 2, showcode.ScopeBasic)
	if err != nil {
		t.Fatal(err)
	}
	if a.ShortCode != "00000042" || b.ShortCode != "00000043" {
		t.Fatalf("short codes %q, %q; want 00000042 then 00000043", a.ShortCode, b.ShortCode)
	}
	if rec, err := svc.Peek(ctx, a.ShortCode); err != nil || rec.LicenceID != 1 {
		t.Fatalf("first short code now points at %+v (%v)", rec, err)
	}
}

func TestShowcodeReason(t *testing.T) {
	svc, _, clk := newService(t)
	ctx := context.Background()
	used, _ := svc.Mint(ctx, 7, 1, showcode.ScopeBasic)
	expiring, _ := svc.Mint(ctx, 7, 2, showcode.ScopeBasic)
	if _, _, err := svc.Consume(ctx, used.Token, "police-1", clk.Now()); err != nil {
		t.Fatal(err)
	}
	check := func(when, code string, want showcode.Reason) {
		t.Helper()
		if got, err := svc.Reason(ctx, code); err != nil || got != want {
			t.Fatalf("%s: Reason(%q) = %q, %v; want %q", when, code, got, err, want)
		}
	}
	check("spent", used.Token, showcode.ReasonUsed)
	check("spent, by short code", used.ShortCode, showcode.ReasonUsed)
	check("never minted", "AAAAAAAAAAAAAAAAAAAAAA", showcode.ReasonUsed)
	check("malformed", "hello", showcode.ReasonUsed)
	clk.Add(61 * time.Second)
	check("expired", expiring.Token, showcode.ReasonExpired)
	check("expired, by short code", expiring.ShortCode, showcode.ReasonExpired)
	check("spent, then expired", used.Token, showcode.ReasonExpired)
	clk.Add(showcode.Remember)
	check("forgotten", expiring.Token, showcode.ReasonUsed)
}

func TestShowcodeParseShortCode(t *testing.T) {
	cases := map[string]string{
		"12345678": "12345678", " 1234 5678 ": "12345678", "1234-5678": "12345678", "1234\u30005678": "12345678",
		"1234567": "", "123456789": "", "1234567a": "", "１２３４５６７８": "",
	}
	for in, want := range cases {
		got, err := showcode.ParseScanned(in, publicURL)
		if want == "" && !errors.Is(err, showcode.ErrInvalid) || want != "" && (err != nil || got != want) {
			t.Errorf("ParseScanned(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
