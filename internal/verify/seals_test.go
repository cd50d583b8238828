package verify_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/fault"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/redisx"
	"github.com/yangcheng-county/elicence/internal/seal"
	"github.com/yangcheng-county/elicence/internal/showcode"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
	"github.com/yangcheng-county/elicence/internal/verify"
)

type settableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *settableClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *settableClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// TestVerifyChecksTheSeal: every scan checks the issuer's seal on the
// version. A flipped byte in the stored signature, or a change to what was
// signed, is red with signature_invalid, never valid; a seal reported lost
// after signing leaves the licence valid but amber; one lost before the
// signing time makes it red.
func TestVerifyChecksTheSeal(t *testing.T) {
	forEachBackend(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, envOptions{})
		ctx := context.Background()
		// The seals were made and the demo licences signed two hours ago.
		clock := &settableClock{t: time.Now().Add(-2 * time.Hour)}
		sl := storetest.SealDemo(t, e.store, clock.Now)
		clock.Set(time.Now())
		v, err := verify.NewService(e.codes, e.store, e.store, redisx.NewCounter(e.redis), verify.Options{
			PublicURL: "http://127.0.0.1:8080", Limits: verify.Limits{PerOfficer: 50, PerIP: 50, Window: time.Minute},
			Key: e.redis.Key, Seals: sl.Signing,
		})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := sql.Open(driver, e.dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := raw.ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		scan := func(l licence.Licence, officer string, dept int64, purpose string) verify.Result {
			t.Helper()
			code := e.mint(t, l, showcode.ScopeBasic)
			res, err := v.Verify(ctx, verify.Request{OfficerOpenID: officer, DepartmentID: dept, Code: code.Content, Purpose: purpose, ClientIP: "192.0.2.10"})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		police := func(l licence.Licence) verify.Result {
			return scan(l, demo.OfficerPolice, e.police, demo.PurposeTrafficEnforcement)
		}
		housing := func(l licence.Licence) verify.Result {
			return scan(l, demo.OfficerHousing, e.housing, demo.PurposeRealEstateRegister)
		}
		red := func(name string, res verify.Result, reason string) {
			t.Helper()
			if res.Valid || res.Colour != licence.Red || res.ReasonCode != reason {
				t.Errorf("%s: valid=%v %s %s, want red %s", name, res.Valid, res.Colour, res.ReasonCode, reason)
			}
		}

		if res := police(e.zsDriving); !res.Valid || res.Colour != licence.Green || res.Seal != (verify.SealMark{Name: "晋城市公安局交通警察支队", Verified: true}) {
			t.Fatalf("signed licence: %+v", res)
		}

		// One flipped byte in the stored signature.
		var sigB64 string
		if err := raw.QueryRowContext(ctx, "SELECT signature FROM licences WHERE id = ?", e.zsRealEstate.ID).Scan(&sigB64); err != nil {
			t.Fatal(err)
		}
		sig, err := base64.StdEncoding.DecodeString(sigB64)
		if err != nil {
			t.Fatal(err)
		}
		sig[len(sig)/2] ^= 0x01
		exec("UPDATE licences SET signature = ? WHERE id = ?", base64.StdEncoding.EncodeToString(sig), e.zsRealEstate.ID)
		res := housing(e.zsRealEstate)
		red("flipped signature", res, seal.ReasonSignatureInvalid)
		if res.Seal.Verified {
			t.Error("flipped signature: the seal reads verified")
		}
		// The signature back, but what it signed changed: a long-term
		// title given an end date.
		exec("UPDATE licences SET signature = ?, valid_until = ? WHERE id = ?", sigB64, "2099-12-31", e.zsRealEstate.ID)
		red("changed document", housing(e.zsRealEstate), seal.ReasonSignatureInvalid)
		exec("UPDATE licences SET valid_until = NULL WHERE id = ?", e.zsRealEstate.ID)
		if res := housing(e.zsRealEstate); !res.Valid {
			t.Fatalf("restored licence: %+v", res)
		}

		seals, err := sl.Registry.Seals(ctx)
		if err != nil {
			t.Fatal(err)
		}
		byDept := map[string]int64{}
		for _, s := range seals {
			byDept[s.Department] = s.ID
		}
		// Lost now, after the signing: still valid, amber, says so.
		if _, err := sl.Registry.Transition(ctx, "staff:test", byDept["晋城市公安局交通警察支队"], seal.Request{Action: seal.ActionReportLost}); err != nil {
			t.Fatal(err)
		}
		if res := police(e.zsDriving); !res.Valid || res.Colour != licence.Amber || res.ReasonCode != seal.ReasonSealSinceLost {
			t.Errorf("seal lost after signing: %+v", res)
		}
		// Lost three hours ago, before the signing: red.
		lostAt := time.Now().Add(-3 * time.Hour)
		if _, err := sl.Registry.Transition(ctx, "staff:test", byDept["阳城县公安局"], seal.Request{Action: seal.ActionReportLost, LostAt: &lostAt}); err != nil {
			t.Fatal(err)
		}
		red("seal lost before signing", police(e.zsIDCard), seal.ReasonSealLost)
	})
}

// unreadableSeals is a seal check whose database does not answer.
type unreadableSeals struct{}

func (unreadableSeals) Check(context.Context, licence.View) (seal.Verdict, error) {
	return seal.Verdict{}, errors.New("seal state: connection refused")
}

// TestSealCheckFailsClosed: a seal check that cannot run fails the
// verification as unavailable, never valid, and leaves the code usable.
func TestSealCheckFailsClosed(t *testing.T) {
	e := newEnv(t, store.DriverSQLite, envOptions{})
	ctx := context.Background()
	opts := func(s verify.SealCheck) verify.Options {
		return verify.Options{PublicURL: "http://127.0.0.1:8080", Limits: verify.Limits{PerOfficer: 50, PerIP: 50, Window: time.Minute},
			Key: e.redis.Key, Seals: s}
	}
	broken, err := verify.NewService(e.codes, e.store, e.store, redisx.NewCounter(e.redis), opts(unreadableSeals{}))
	if err != nil {
		t.Fatal(err)
	}
	working, err := verify.NewService(e.codes, e.store, e.store, redisx.NewCounter(e.redis), opts(storetest.SealDemo(t, e.store, nil).Signing))
	if err != nil {
		t.Fatal(err)
	}
	code := e.mint(t, e.zsDriving, showcode.ScopeBasic)
	req := verify.Request{OfficerOpenID: demo.OfficerPolice, DepartmentID: e.police, Code: code.Content, Purpose: demo.PurposeTrafficEnforcement, ClientIP: "192.0.2.10"}
	if res, err := broken.Verify(ctx, req); !errors.Is(err, fault.ErrUnavailable) || res.Valid {
		t.Fatalf("seal check down: %+v, %v", res, err)
	}
	if res, err := working.Verify(ctx, req); err != nil || !res.Valid || res.Replay {
		t.Fatalf("the same code afterwards: %+v, %v", res, err)
	}
}
