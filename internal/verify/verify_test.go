package verify_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/fault"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/redisx"
	"github.com/yangcheng-county/elicence/internal/redisx/redistest"
	"github.com/yangcheng-county/elicence/internal/showcode"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
	"github.com/yangcheng-county/elicence/internal/verify"
)

const (
	police  = demo.OfficerPolice
	housing = demo.OfficerHousing
)

func forEachBackend(t *testing.T, fn func(t *testing.T, driver string)) {
	for _, d := range storetest.Drivers {
		t.Run(d, func(t *testing.T) { fn(t, d) })
	}
}

func (e *env) req(officer string, dept int64, code string) verify.Request {
	return verify.Request{OfficerOpenID: officer, DepartmentID: dept, Code: code, Purpose: demo.PurposeTrafficEnforcement, ClientIP: "192.0.2.10"}
}

func TestVerifyOutcomes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, envOptions{})
		ctx := context.Background()
		type want struct {
			valid  bool
			colour licence.Colour
			reason string
			status licence.Status
		}
		cases := []struct {
			name    string
			lic     licence.Licence
			scope   showcode.Scope
			useText func(showcode.Code) string
			want    want
			fields  []string
		}{
			{
				name: "张三's driving licence, 20 days left, reads green", lic: e.zsDriving, scope: showcode.ScopeBasic,
				useText: func(c showcode.Code) string { return c.Content },
				want:    want{true, licence.Green, licence.ReasonOK, licence.StatusValid},
				fields:  []string{"name", "sex", "vehicle_class", "licence_no", "valid_period"},
			},
			{
				name: "李四's suspended licence reads red", lic: e.lsDriving, scope: showcode.ScopeFull,
				useText: func(c showcode.Code) string { return c.Token },
				want:    want{false, licence.Red, licence.ReasonSuspended, licence.StatusSuspended},
				fields:  []string{"name", "sex", "nationality", "address", "birth_date", "first_issue_date", "vehicle_class", "licence_no", "valid_period", "issuing_authority", "photo"},
			},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				code := e.mint(t, tc.lic, tc.scope)
				res, err := e.verifier.Verify(ctx, e.req(police, e.police, tc.useText(code)))
				if err != nil {
					t.Fatal(err)
				}
				got := want{res.Valid, res.Colour, res.ReasonCode, res.Status}
				if got != tc.want {
					t.Fatalf("result %+v, want %+v", got, tc.want)
				}
				var keys []string
				for _, f := range res.Licence.Fields {
					keys = append(keys, f.Key)
				}
				if strings.Join(keys, ",") != strings.Join(tc.fields, ",") {
					t.Fatalf("disclosed %v, want %v", keys, tc.fields)
				}
				if res.Scope != tc.scope || res.Licence.TypeName != "机动车驾驶证" || res.Licence.Issuer != "晋城市公安局交通警察支队" {
					t.Fatalf("licence part %+v", res.Licence)
				}
				if res.Licence.ValidUntil == nil || res.VerifiedAt.IsZero() {
					t.Fatalf("valid_until or verified_at missing: %+v", res)
				}
				for _, s := range []string{demo.ZhangsanIDNumber, demo.LisiIDNumber, "张三", "李四"} {
					if strings.Contains(fmt.Sprintf("%+v", res), s) {
						t.Fatalf("result discloses %q in full: %+v", s, res)
					}
				}
				recs, err := e.store.UsageByLicence(ctx, tc.lic.ID, 10)
				if err != nil {
					t.Fatal(err)
				}
				if len(recs) != 1 || recs[0].Result != map[bool]string{true: "valid", false: "invalid"}[tc.want.valid] ||
					recs[0].ReasonCode != tc.want.reason || recs[0].OfficerOpenID != police || recs[0].DepartmentID != e.police ||
					recs[0].Scope != string(tc.scope) || recs[0].Purpose != demo.PurposeTrafficEnforcement || recs[0].ClientIP != "192.0.2.10" {
					t.Fatalf("usage records %+v", recs)
				}
			})
		}
		if want := "valid/ok,invalid/suspended"; strings.Join(e.observed, ",") != want {
			t.Fatalf("observed %v, want %s", e.observed, want)
		}
	})
}

func TestVerifyRefusalLeavesCodeUsable(t *testing.T) {
	forEachBackend(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, envOptions{})
		ctx := context.Background()
		code := e.mint(t, e.zsDriving, showcode.ScopeBasic)

		_, err := e.verifier.Verify(ctx, e.req(housing, e.housing, code.Content))
		if !errors.Is(err, verify.ErrNotInUsageList) {
			t.Fatalf("housing officer: err = %v, want ErrNotInUsageList", err)
		}
		res, err := e.verifier.Verify(ctx, e.req(police, e.police, code.Content))
		if err != nil || !res.Valid || res.Replay {
			t.Fatalf("police after refusal: %+v, %v; want a fresh valid result", res, err)
		}
		recs, err := e.store.UsageByLicence(ctx, e.zsDriving.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 || recs[0].Result != "valid" || recs[1].Result != "refused" || recs[1].ReasonCode != verify.ReasonNotInUsageList || recs[1].DepartmentID != e.housing {
			t.Fatalf("usage records %+v; want valid then refused", recs)
		}
	})
}

// TestVerifyPurposeNotInUsageList: the traffic brigade may verify a
// driving licence, but only for the purposes its usage list gives for it.
// Another purpose is refused with its own reason, recorded, counted as a
// failure, and leaves the code usable.
func TestVerifyPurposeNotInUsageList(t *testing.T) {
	forEachBackend(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, envOptions{})
		ctx := context.Background()
		code := e.mint(t, e.zsDriving, showcode.ScopeBasic)

		req := e.req(police, e.police, code.Content)
		req.Purpose = "查看一下"
		if _, err := e.verifier.Verify(ctx, req); !errors.Is(err, verify.ErrPurposeNotInUsageList) {
			t.Fatalf("free-text purpose: err = %v, want ErrPurposeNotInUsageList", err)
		}
		res, err := e.verifier.Verify(ctx, e.req(police, e.police, code.Content))
		if err != nil || !res.Valid || res.Replay {
			t.Fatalf("listed purpose after the refusal: %+v, %v; want a fresh valid result", res, err)
		}
		recs, err := e.store.UsageByLicence(ctx, e.zsDriving.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 || recs[1].Result != verify.ResultRefused || recs[1].ReasonCode != verify.ReasonPurposeNotInUsageList ||
			recs[1].Purpose != "查看一下" || recs[0].Result != verify.ResultValid {
			t.Fatalf("usage records %+v; want refused then valid", recs)
		}
	})
}

func TestVerifyReplay(t *testing.T) {
	forEachBackend(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, envOptions{})
		ctx := context.Background()
		code := e.mint(t, e.zsIDCard, showcode.ScopeBasic)
		first, err := e.verifier.Verify(ctx, e.req(police, e.police, code.Token))
		if err != nil {
			t.Fatal(err)
		}
		again, err := e.verifier.Verify(ctx, e.req(police, e.police, code.Content))
		if err != nil {
			t.Fatalf("same officer again: %v", err)
		}
		if !again.Replay || again.Valid != first.Valid || again.Colour != first.Colour || again.ReasonCode != first.ReasonCode ||
			fmt.Sprint(again.Licence) != fmt.Sprint(first.Licence) || again.Holder != first.Holder {
			t.Fatalf("replay differs:\nfirst %+v\nagain %+v", first, again)
		}
		// The housing officer may verify ID cards, but the code is spent.
		if _, err := e.verifier.Verify(ctx, e.req(housing, e.housing, code.Token)); !errors.Is(err, showcode.ErrInvalid) {
			t.Fatalf("other officer: err = %v, want showcode.ErrInvalid", err)
		}
	})
}

func TestVerifyExpiredCodeReadsAsUnknown(t *testing.T) {
	rc, mini := redistest.Mini(t)
	e := newEnv(t, store.DriverSQLite, envOptions{redis: rc})
	ctx := context.Background()
	code := e.mint(t, e.zsDriving, showcode.ScopeBasic)
	mini.FastForward(61 * time.Second)
	_, errExpired := e.verifier.Verify(ctx, e.req(police, e.police, code.Token))
	_, errUnknown := e.verifier.Verify(ctx, e.req(police, e.police, "AAAAAAAAAAAAAAAAAAAAAA"))
	if !errors.Is(errExpired, showcode.ErrInvalid) || !errors.Is(errUnknown, showcode.ErrInvalid) {
		t.Fatalf("expired: %v, unknown: %v; want showcode.ErrInvalid for both", errExpired, errUnknown)
	}
	if verify.ReasonOf(errUnknown) != showcode.ReasonUsed {
		t.Fatalf("unknown code reads %q, want used", verify.ReasonOf(errUnknown))
	}
	recs, err := e.store.UsageByLicence(ctx, e.zsDriving.ID, 10)
	if err != nil || len(recs) != 0 {
		t.Fatalf("an expired code left usage records %+v (%v)", recs, err)
	}
}

func TestVerifyConcurrentOfficers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, envOptions{})
		ctx := context.Background()
		const n = 50
		officers := make([]string, n)
		for i := range officers {
			officers[i] = fmt.Sprintf("race-officer-%02d", i)
			if err := e.store.AddOfficer(ctx, officers[i], e.police); err != nil {
				t.Fatal(err)
			}
		}
		code := e.mint(t, e.zsDriving, showcode.ScopeBasic)
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			ok, bad int
			other   []error
		)
		start := make(chan struct{})
		for _, o := range officers {
			wg.Add(1)
			go func(o string) {
				defer wg.Done()
				<-start
				r := e.req(o, e.police, code.Content)
				r.ClientIP = "192.0.2." + o[len(o)-2:]
				_, err := e.verifier.Verify(ctx, r)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, showcode.ErrInvalid):
					bad++
				default:
					other = append(other, err)
				}
			}(o)
		}
		close(start)
		wg.Wait()
		if ok != 1 || bad != n-1 || len(other) > 0 {
			t.Fatalf("ok=%d invalid=%d other=%v; want exactly one success", ok, bad, other)
		}
		recs, err := e.store.UsageByLicence(ctx, e.zsDriving.ID, 100)
		if err != nil || len(recs) != 1 {
			t.Fatalf("usage records %d (%v), want 1", len(recs), err)
		}
	})
}

func TestVerifyRateLimits(t *testing.T) {
	e := newEnv(t, store.DriverSQLite, envOptions{limits: verify.Limits{PerOfficer: 3, PerIP: 5, Window: time.Minute}})
	ctx := context.Background()
	garbage := "not a code"

	// Per officer: three failures, then even a good code is refused.
	for i := 0; i < 3; i++ {
		if _, err := e.verifier.Verify(ctx, e.req(police, e.police, garbage)); !errors.Is(err, showcode.ErrInvalid) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	good := e.mint(t, e.zsDriving, showcode.ScopeBasic)
	if _, err := e.verifier.Verify(ctx, e.req(police, e.police, good.Token)); !errors.Is(err, verify.ErrRateLimited) {
		t.Fatalf("after 3 failures: %v, want ErrRateLimited", err)
	}

	// Per IP: officers from one address share five failures (two left
	// after the police officer's three).
	for i := 0; i < 2; i++ {
		if _, err := e.verifier.Verify(ctx, e.req(housing, e.housing, garbage)); !errors.Is(err, showcode.ErrInvalid) {
			t.Fatalf("housing failure %d: %v", i+1, err)
		}
	}
	if _, err := e.verifier.Verify(ctx, e.req(housing, e.housing, good.Token)); !errors.Is(err, verify.ErrRateLimited) {
		t.Fatalf("after 5 failures from one IP: %v, want ErrRateLimited", err)
	}
	// The same officer from another address is not held back by that IP.
	r := e.req(housing, e.housing, e.mint(t, e.zsRealEstate, showcode.ScopeBasic).Token)
	r.ClientIP = "198.51.100.7"
	r.Purpose = demo.PurposeRealEstateRegister
	if res, err := e.verifier.Verify(ctx, r); err != nil || !res.Valid {
		t.Fatalf("housing officer from another IP: %+v, %v", res, err)
	}
	// Refusals count as failures too.
	e2 := newEnv(t, store.DriverSQLite, envOptions{limits: verify.Limits{PerOfficer: 2, PerIP: 100, Window: time.Minute}})
	c := e2.mint(t, e2.zsDriving, showcode.ScopeBasic)
	for i := 0; i < 2; i++ {
		if _, err := e2.verifier.Verify(ctx, e2.req(housing, e2.housing, c.Token)); !errors.Is(err, verify.ErrNotInUsageList) {
			t.Fatalf("refusal %d: %v", i+1, err)
		}
	}
	if _, err := e2.verifier.Verify(ctx, e2.req(housing, e2.housing, c.Token)); !errors.Is(err, verify.ErrRateLimited) {
		t.Fatalf("after 2 refusals: %v, want ErrRateLimited", err)
	}
}

func TestVerifyBadRequests(t *testing.T) {
	e := newEnv(t, store.DriverSQLite, envOptions{})
	ctx := context.Background()
	code := e.mint(t, e.zsDriving, showcode.ScopeBasic)
	cases := []struct {
		name string
		req  verify.Request
		want error
	}{
		{"no officer", verify.Request{DepartmentID: e.police, Code: code.Token, Purpose: "x"}, verify.ErrNotOfficer},
		{"no department", verify.Request{OfficerOpenID: police, Code: code.Token, Purpose: "x"}, verify.ErrNotOfficer},
		{"empty purpose", verify.Request{OfficerOpenID: police, DepartmentID: e.police, Code: code.Token}, verify.ErrBadPurpose},
		{"long purpose", verify.Request{OfficerOpenID: police, DepartmentID: e.police, Code: code.Token, Purpose: strings.Repeat("查", 51)}, verify.ErrBadPurpose},
		{"foreign QR", verify.Request{OfficerOpenID: police, DepartmentID: e.police, Code: "https://example.com/pay?id=1", Purpose: "x"}, showcode.ErrInvalid},
	}
	for _, tc := range cases {
		if _, err := e.verifier.Verify(ctx, tc.req); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	// None of the above spent the code.
	if res, err := e.verifier.Verify(ctx, e.req(police, e.police, code.Token)); err != nil || !res.Valid {
		t.Fatalf("code after bad requests: %+v, %v", res, err)
	}
}

func TestVerifyFailsClosed(t *testing.T) {
	ctx := context.Background()
	t.Run("redis down", func(t *testing.T) {
		rc, mini := redistest.Mini(t)
		e := newEnv(t, store.DriverSQLite, envOptions{redis: rc})
		code := e.mint(t, e.zsDriving, showcode.ScopeBasic)
		mini.Close()
		res, err := e.verifier.Verify(ctx, e.req(police, e.police, code.Token))
		if !errors.Is(err, fault.ErrUnavailable) || res.Valid {
			t.Fatalf("Redis down: %+v, %v; want fault.ErrUnavailable", res, err)
		}
	})
	forEachBackend(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, envOptions{})
		code := e.mint(t, e.zsDriving, showcode.ScopeBasic)
		if err := e.store.Close(); err != nil {
			t.Fatal(err)
		}
		res, err := e.verifier.Verify(ctx, e.req(police, e.police, code.Token))
		if !errors.Is(err, fault.ErrUnavailable) || res.Valid {
			t.Fatalf("database down: %+v, %v; want fault.ErrUnavailable", res, err)
		}
		// The code survived: nothing was consumed before the failure.
		if _, err := e.codes.Peek(ctx, code.Token); err != nil {
			t.Fatalf("code after database failure: %v", err)
		}
	})
}

func TestVerifyHistoryAndContext(t *testing.T) {
	forEachBackend(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, envOptions{})
		ctx := context.Background()
		if _, err := e.verifier.Verify(ctx, e.req(housing, e.housing, e.mint(t, e.zsDriving, showcode.ScopeBasic).Token)); !errors.Is(err, verify.ErrNotInUsageList) {
			t.Fatal(err)
		}
		if _, err := e.verifier.Verify(ctx, e.req(police, e.police, e.mint(t, e.zsDriving, showcode.ScopeBasic).Token)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.verifier.Verify(ctx, e.req(police, e.police, e.mint(t, e.lsDriving, showcode.ScopeBasic).Token)); err != nil {
			t.Fatal(err)
		}

		usage, err := e.verifier.LicenceUsage(ctx, e.zhangsan, e.zsDriving.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(usage) != 2 || usage[0].Department != "阳城县公安局交通管理大队" || usage[0].Colour != licence.Green ||
			usage[1].Department != "阳城县不动产登记中心" || usage[1].Result != "refused" || usage[1].Colour != "" {
			t.Fatalf("张三's usage %+v", usage)
		}
		if _, err := e.verifier.LicenceUsage(ctx, e.lisi, e.zsDriving.ID); !errors.Is(err, licence.ErrNotFound) {
			t.Fatalf("李四 reading 张三's usage: %v, want licence.ErrNotFound", err)
		}

		hist, err := e.verifier.History(ctx, police)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 2 || hist[0].HolderNameMasked != "李*" || hist[0].Colour != licence.Red || hist[0].ReasonCode != "suspended" ||
			hist[1].HolderNameMasked != "张*" || hist[1].LicenceType != "机动车驾驶证" || hist[1].Colour != licence.Green {
			t.Fatalf("police history %+v", hist)
		}

		oc, err := e.verifier.Context(ctx, e.police)
		if err != nil {
			t.Fatal(err)
		}
		if oc.Department.Name != "阳城县公安局交通管理大队" || len(oc.Types) != 2 ||
			strings.Join(oc.Purposes, ",") != "道路交通执法检查,交通事故处理,身份核验" && strings.Join(oc.Purposes, ",") != "道路交通执法检查,身份核验,交通事故处理" {
			t.Fatalf("officer context %+v", oc)
		}
	})
}

// TestVerifyMasksUnmarkedIDNumber: an officer verifying a full-scope code
// never reads a full ID number, even when the catalogue forgot to mark the
// field sensitive.
func TestVerifyMasksUnmarkedIDNumber(t *testing.T) {
	forEachBackend(t, func(t *testing.T, driver string) {
		e := newEnv(t, driver, envOptions{})
		ctx := context.Background()
		typ, err := storetest.UnmarkedIDs{Store: e.store}.Type(ctx, demo.TypeResidentID)
		if err != nil {
			t.Fatal(err)
		}
		unmarked := 0
		for _, f := range typ.Fields {
			if f.Type == licence.FieldTypeIDNumber && !f.Sensitive {
				unmarked++
			}
		}
		if unmarked == 0 {
			t.Fatal("the resident ID type has no id_number field to unmark")
		}
		v, err := verify.NewService(e.codes, storetest.UnmarkedIDs{Store: e.store}, e.store, redisx.NewCounter(e.redis), verify.Options{
			PublicURL: "http://127.0.0.1:8080",
			Limits:    verify.Limits{PerOfficer: 20, PerIP: 60, Window: 10 * time.Minute},
			Key:       e.redis.Key,
		})
		if err != nil {
			t.Fatal(err)
		}
		res, err := v.Verify(ctx, e.req(police, e.police, e.mint(t, e.zsIDCard, showcode.ScopeFull).Token))
		if err != nil {
			t.Fatal(err)
		}
		var id *verify.Field
		for i, f := range res.Licence.Fields {
			if f.Key == "id_number" {
				id = &res.Licence.Fields[i]
			}
		}
		if id == nil || id.Value != "1405**********0016" || !id.Masked {
			t.Fatalf("id_number disclosed as %+v, want 1405**********0016 masked", id)
		}
		if s := fmt.Sprintf("%+v", res); strings.Contains(s, demo.ZhangsanIDNumber) {
			t.Fatalf("result discloses the full ID number: %s", s)
		}
	})
}
