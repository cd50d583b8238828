package redisx_test

import (
	"errors"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/fault"
	"github.com/yangcheng-county/elicence/internal/openapi"
	"github.com/yangcheng-county/elicence/internal/redisx"
	"github.com/yangcheng-county/elicence/internal/redisx/redistest"
)

func newIdempotency(t *testing.T, c *redisx.Client) *openapi.Idempotency {
	t.Helper()
	st, err := redisx.NewIdempotency(c)
	if err != nil {
		t.Fatal(err)
	}
	idem, err := openapi.NewIdempotency(st, c.Key)
	if err != nil {
		t.Fatal(err)
	}
	return idem
}

// A request that dies mid-way holds its key only for PendingTTL: then a
// retry runs, and the dead request can no longer finish over it.
func TestIdempotencyPendingExpires(t *testing.T) {
	c, mini := redistest.Mini(t)
	idem := newIdempotency(t, c)
	ctx := t.Context()
	replay, dead, err := idem.Begin(ctx, "app_1", "k", "fp")
	if err != nil || replay != nil {
		t.Fatalf("first: %v %v", replay, err)
	}
	if _, _, err := idem.Begin(ctx, "app_1", "k", "fp"); !errors.Is(err, openapi.ErrIdempotencyInProgress) {
		t.Fatalf("while pending: %v", err)
	}
	mini.FastForward(openapi.PendingTTL + time.Second)
	replay, retry, err := idem.Begin(ctx, "app_1", "k", "fp")
	if err != nil || replay != nil {
		t.Fatalf("after the pending marker expired: %v %v", replay, err)
	}
	if err := idem.Finish(ctx, dead, openapi.Response{Status: 500}); err == nil {
		t.Error("the dead request finished over the retry's reservation")
	}
	if err := idem.Release(ctx, dead); err != nil {
		t.Fatal(err)
	}
	if err := idem.Finish(ctx, retry, openapi.Response{Status: 201, ContentType: "application/json", Body: []byte(`{"id":1}`)}); err != nil {
		t.Fatal(err)
	}
	replay, _, err = idem.Begin(ctx, "app_1", "k", "fp")
	if err != nil || replay == nil || replay.Status != 201 || string(replay.Body) != `{"id":1}` {
		t.Fatalf("replay: %+v %v", replay, err)
	}
	mini.FastForward(openapi.KeyTTL + time.Second)
	if replay, _, err = idem.Begin(ctx, "app_1", "k", "other"); err != nil || replay != nil {
		t.Fatalf("after a day the key is free: %+v %v", replay, err)
	}
}

// Nonces are single use per app, remembered for the TTL asked, and a
// Redis that does not answer is an error, never a fresh nonce.
func TestNonces(t *testing.T) {
	c, mini := redistest.Mini(t)
	n, err := redisx.NewNonces(c)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for i, want := range []bool{true, false} {
		if fresh, err := n.Claim(ctx, "app_1", "nonce0123456789ab", time.Minute); err != nil || fresh != want {
			t.Fatalf("claim %d: %v %v", i, fresh, err)
		}
	}
	if fresh, _ := n.Claim(ctx, "app_2", "nonce0123456789ab", time.Minute); !fresh {
		t.Error("another app's nonce collided")
	}
	mini.FastForward(time.Minute + time.Second)
	if fresh, _ := n.Claim(ctx, "app_1", "nonce0123456789ab", time.Minute); !fresh {
		t.Error("nonce remembered past its TTL")
	}
	mini.Close()
	if fresh, err := n.Claim(ctx, "app_1", "another0123456789", time.Minute); fresh || !errors.Is(err, fault.ErrUnavailable) {
		t.Errorf("Redis down: %v %v", fresh, err)
	}
}
