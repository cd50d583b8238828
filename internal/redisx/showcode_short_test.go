package redisx_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/redisx/redistest"
	"github.com/yangcheng-county/elicence/internal/showcode"
)

func TestShowcodeStoreShortCodesAndExpiry(t *testing.T) {
	ctx := context.Background()
	c := redistest.Open(t)
	s := newShowCodeStore(t, c)
	hash, short := showcode.Hash("q83vEjRWeJq83vEjRWeJqw"), showcode.Hash("12345678")
	exp := time.UnixMilli(time.Now().Add(time.Minute).UnixMilli())
	if got, err := s.Expiry(ctx, hash); err != nil || !got.IsZero() {
		t.Fatalf("expiry of an unknown hash: %s, %v", got, err)
	}
	if err := s.Save(ctx, hash, showcode.Record{LicenceID: 1, HolderID: 2, Scope: showcode.ScopeBasic, ExpiresAt: exp}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Expiry(ctx, hash); err != nil || !got.Equal(exp) {
		t.Fatalf("expiry = %s, %v; want %s", got, err, exp)
	}
	// The expiry outlives the code by showcode.Remember.
	if ttl := c.Redis().PTTL(ctx, c.Key("sce", hash)).Val(); ttl <= time.Minute || ttl > time.Minute+showcode.Remember {
		t.Fatalf("remembered for %s", ttl)
	}
	if _, err := s.ResolveShort(ctx, short); !errors.Is(err, showcode.ErrInvalid) {
		t.Fatalf("unknown short code: %v", err)
	}
	if err := s.SaveShort(ctx, short, hash, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveShort(ctx, short, showcode.Hash("other"), time.Minute); !errors.Is(err, showcode.ErrShortCodeTaken) {
		t.Fatalf("second SaveShort of a held short code: %v, want ErrShortCodeTaken", err)
	}
	if got, err := s.ResolveShort(ctx, short); err != nil || got != hash {
		t.Fatalf("ResolveShort = %q, %v; want %q", got, err, hash)
	}
	at := time.UnixMilli(time.Now().UnixMilli())
	rec, replay, err := s.Consume(ctx, hash, "officer-a", at)
	if err != nil || replay || !rec.ConsumedAt.Equal(at) {
		t.Fatalf("consume: %+v replay=%v err=%v", rec, replay, err)
	}
	rec, replay, err = s.Consume(ctx, hash, "officer-a", at.Add(time.Second))
	if err != nil || !replay || !rec.ConsumedAt.Equal(at) {
		t.Fatalf("replay keeps the first time: %+v replay=%v err=%v", rec, replay, err)
	}
}
