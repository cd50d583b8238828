package verify_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/showcode"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/verify"
)

// TestVerifyReplayWritesNoSecondRecord: the same officer opening the same
// code again gets the first time back and the holder sees one usage record.
func TestVerifyReplayWritesNoSecondRecord(t *testing.T) {
	e := newEnv(t, store.DriverSQLite, envOptions{})
	ctx := context.Background()
	code := e.mint(t, e.zsIDCard, showcode.ScopeBasic)
	first, err := e.verifier.Verify(ctx, e.req(police, e.police, code.Token))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // the next open is a visibly later second
	again, err := e.verifier.Verify(ctx, e.req(police, e.police, code.ShortCode))
	if err != nil || !again.Replay {
		t.Fatalf("reopen: replay=%v err=%v", again.Replay, err)
	}
	if !again.VerifiedAt.Equal(first.VerifiedAt.Truncate(time.Millisecond)) && !again.VerifiedAt.Equal(first.VerifiedAt) {
		t.Fatalf("reopen verified at %s, want the first time %s", again.VerifiedAt, first.VerifiedAt)
	}
	recs, err := e.store.UsageByLicence(ctx, e.zsIDCard.ID, 10)
	if err != nil || len(recs) != 1 {
		t.Fatalf("usage records %+v (%v); want exactly one", recs, err)
	}
}

func TestVerifyShortCode(t *testing.T) {
	e := newEnv(t, store.DriverSQLite, envOptions{})
	ctx := context.Background()
	code := e.mint(t, e.zsDriving, showcode.ScopeBasic)
	typed := code.ShortCode[:4] + " " + code.ShortCode[4:]
	res, err := e.verifier.Verify(ctx, e.req(police, e.police, typed))
	if err != nil || !res.Valid || res.Licence.TypeCode != demo.TypeDrivingLicence {
		t.Fatalf("typed short code: %+v, %v", res, err)
	}
	// Single use: the same code, typed or scanned, is spent for anyone else.
	other := verify.Request{OfficerOpenID: "demo-officer-police-2", DepartmentID: e.police, Code: code.ShortCode, Purpose: demo.PurposeTrafficEnforcement, ClientIP: "192.0.2.11"}
	if _, err := e.verifier.Verify(ctx, other); verify.ReasonOf(err) != showcode.ReasonUsed {
		t.Fatalf("second officer, short code: %v; want used", err)
	}
	other.Code = code.Token
	if _, err := e.verifier.Verify(ctx, other); verify.ReasonOf(err) != showcode.ReasonUsed {
		t.Fatalf("second officer, token: %v; want used", err)
	}
}

// TestVerifyShortCodeLimit: typed guesses stop at the short-code limit
// while scanned codes still work, and the limit is per officer.
func TestVerifyShortCodeLimit(t *testing.T) {
	e := newEnv(t, store.DriverSQLite, envOptions{limits: verify.Limits{PerOfficer: 100, PerIP: 100, Window: 10 * time.Minute, ShortPerOfficer: 3, ShortPerIP: 50}})
	ctx := context.Background()
	code := e.mint(t, e.zsDriving, showcode.ScopeBasic)
	guess := func(i int) string {
		g := fmt.Sprintf("%08d", i)
		if g == code.ShortCode {
			g = fmt.Sprintf("%08d", i+1000)
		}
		return g
	}
	for i := range 3 {
		if _, err := e.verifier.Verify(ctx, e.req(police, e.police, guess(i))); !errors.Is(err, showcode.ErrInvalid) {
			t.Fatalf("guess %d: %v, want invalid", i, err)
		}
	}
	if _, err := e.verifier.Verify(ctx, e.req(police, e.police, code.ShortCode)); !errors.Is(err, verify.ErrRateLimited) {
		t.Fatalf("right code after the limit: %v, want rate limited", err)
	}
	if res, err := e.verifier.Verify(ctx, e.req(police, e.police, code.Token)); err != nil || !res.Valid {
		t.Fatalf("scanned code after typed guesses: %+v, %v", res, err)
	}
}
