package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/bff/api"
	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/secure"
	"github.com/yangcheng-county/elicence/internal/showcode"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
)

const purpose = demo.PurposeTrafficEnforcement

func TestVerificationFlow(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		w := newWorld(t, testServerOpts{Driver: driver})
		code := w.mint(w.zhangsan, w.zsDriving, "basic")

		rec := w.verifyAs(w.police, code.Content, purpose)
		if rec.Code != http.StatusOK {
			t.Fatalf("verify: %d %s", rec.Code, rec.Body)
		}
		if got := jsonKeys(t, rec.Body.Bytes()); got != "colour,holder,licence,reason_code,replayed,result,seal,status,verified_at" {
			t.Fatalf("response keys %s", got)
		}
		var res api.VerificationResponse
		decodeJSON(t, rec, &res)
		until := w.zsDriving.ValidUntil.Format(api.DateFormat)
		if res.Result != "valid" || res.Colour != "green" || res.ReasonCode != "ok" || res.Status != "valid" ||
			res.Licence.TypeCode != demo.TypeDrivingLicence || res.Licence.TypeName != "机动车驾驶证" ||
			res.Licence.Issuer != "晋城市公安局交通警察支队" || res.Licence.ValidUntil == nil || *res.Licence.ValidUntil != until ||
			res.Licence.Number != "1405**********0016" || res.Holder != (api.VerifiedHolder{Name: "张*", IDNumber: "1405**********0016"}) ||
			res.VerifiedAt != w.clock.Now().UTC().Format(api.InstantFormat) {
			t.Fatalf("result %+v", res)
		}
		// The issuing seal, checked as part of the scan (docs/SEALS.md).
		if res.Seal == nil || res.Seal.Name != "晋城市公安局交通警察支队" || !res.Seal.Verified {
			t.Fatalf("seal %+v", res.Seal)
		}
		var keys []string
		for _, f := range res.Licence.Fields {
			keys = append(keys, f.Key)
			if f.Label == "" || f.Value == "" {
				t.Errorf("field %+v", f)
			}
		}
		if got := strings.Join(keys, ","); got != "name,sex,vehicle_class,licence_no,valid_period" {
			t.Fatalf("basic scope disclosed %s", got)
		}
		for _, s := range []string{demo.ZhangsanIDNumber, "张三", "凤栖路"} {
			if strings.Contains(rec.Body.String(), s) {
				t.Fatalf("verification discloses %q: %s", s, rec.Body)
			}
		}

		// The holder sees the verification in the licence's usage.
		rec = w.do(http.MethodGet, licencePath(w.zsDriving, "/usage"), nil, w.zhangsan)
		var usage struct{ Items []api.UsageItem }
		decodeJSON(t, rec, &usage)
		if rec.Code != http.StatusOK || len(usage.Items) != 1 {
			t.Fatalf("usage: %d %s", rec.Code, rec.Body)
		}
		u := usage.Items[0]
		if u.Department != "阳城县公安局交通管理大队" || u.Purpose != purpose || u.Result != "valid" || u.Colour == nil ||
			*u.Colour != "green" || u.ReasonCode != "ok" || u.At != res.VerifiedAt {
			t.Fatalf("usage item %+v", u)
		}
		if got := jsonKeys(t, []byte(strings.TrimSuffix(strings.TrimPrefix(rec.Body.String(), `{"items":[`), "]}"))); got != "at,colour,department,purpose,reason_code,result" {
			t.Fatalf("usage item keys %s", got)
		}

		// A full-scope code of the same licence discloses every field, still masked.
		full := w.mint(w.zhangsan, w.zsDriving, "full")
		rec = w.verifyAs(w.police, full.Token, purpose)
		decodeJSON(t, rec, &res)
		if rec.Code != http.StatusOK || len(res.Licence.Fields) != 11 || res.Licence.Fields[10].Type != "photo" ||
			!strings.HasPrefix(res.Licence.Fields[10].Value, "data:image/svg+xml;base64,") || strings.Contains(rec.Body.String(), demo.ZhangsanIDNumber) {
			t.Fatalf("full scope: %d %s", rec.Code, rec.Body)
		}
	})
}

func TestVerificationColours(t *testing.T) {
	w := newWorld(t, testServerOpts{})
	cases := []struct {
		name                                   string
		cookie                                 string
		lic                                    func() api.ShowCodeResponse
		purpose, result, colour, reason, state string
	}{
		{"张三's driving licence, 20 days left", w.police, func() api.ShowCodeResponse { return w.mint(w.zhangsan, w.zsDriving, "basic") }, purpose, "valid", "green", "ok", "valid"},
		{"张三's ID card", w.police, func() api.ShowCodeResponse { return w.mint(w.zhangsan, w.zsIDCard, "basic") }, purpose, "valid", "green", "ok", "valid"},
		{"李四's suspended driving licence", w.police, func() api.ShowCodeResponse { return w.mint(w.lisi, w.lsDriving, "basic") }, purpose, "invalid", "red", "suspended", "suspended"},
		{"张三's real-estate title, housing officer", w.housing, func() api.ShowCodeResponse { return w.mint(w.zhangsan, w.zsRealEstate, "basic") }, demo.PurposeMortgageRegister, "valid", "green", "ok", "valid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := w.verifyAs(tc.cookie, tc.lic().Token, tc.purpose)
			var res api.VerificationResponse
			decodeJSON(t, rec, &res)
			if rec.Code != http.StatusOK || res.Result != tc.result || res.Colour != tc.colour || res.ReasonCode != tc.reason || res.Status != tc.state {
				t.Fatalf("%d %s; want %s %s %s", rec.Code, rec.Body, tc.result, tc.colour, tc.reason)
			}
		})
	}
	// The metric counts results by reason.
	rec := w.scrape()
	for _, line := range []string{
		`elicence_verifications_total{reason_code="ok",result="valid"} 3`,
		`elicence_verifications_total{reason_code="suspended",result="invalid"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), line) {
			t.Errorf("metrics lack %s", line)
		}
	}
}

func TestVerificationRefusals(t *testing.T) {
	w := newWorld(t, testServerOpts{})
	code := w.mint(w.zhangsan, w.zsDriving, "basic")

	// The housing officer may not verify driving licences: 403 with a
	// reason, and the code stays usable.
	rec := w.verifyAs(w.housing, code.Content, demo.PurposeRealEstateRegister)
	if rec.Code != http.StatusForbidden || errorCode(rec) != "type_not_in_usage_list" ||
		!strings.Contains(rec.Body.String(), `"reason_code":"type_not_in_usage_list"`) {
		t.Fatalf("housing officer: %d %s", rec.Code, rec.Body)
	}
	if rec := w.verifyAs(w.police, code.Content, purpose); rec.Code != http.StatusOK {
		t.Fatalf("police after the refusal: %d %s", rec.Code, rec.Body)
	}
	rec = w.do(http.MethodGet, licencePath(w.zsDriving, "/usage"), nil, w.zhangsan)
	var usage struct{ Items []api.UsageItem }
	decodeJSON(t, rec, &usage)
	if len(usage.Items) != 2 || usage.Items[0].Result != "valid" || usage.Items[1].Result != "refused" ||
		usage.Items[1].ReasonCode != "type_not_in_usage_list" || usage.Items[1].Colour != nil || usage.Items[1].Department != "阳城县不动产登记中心" {
		t.Fatalf("usage after refusal and success: %s", rec.Body)
	}

	callers := []struct {
		name       string
		cookie     string
		wantStatus int
		wantCode   string
		wantReason string
	}{
		{"citizen", w.zhangsan, 403, "not_officer", "not_officer"},
		{"unbound citizen", w.wangwu, 403, "not_officer", "not_officer"},
		{"anonymous", "", 401, "not_logged_in", ""},
	}
	fresh := w.mint(w.zhangsan, w.zsIDCard, "basic")
	for _, c := range callers {
		rec := w.verifyAs(c.cookie, fresh.Token, purpose)
		if rec.Code != c.wantStatus || errorCode(rec) != c.wantCode ||
			(c.wantReason != "") != strings.Contains(rec.Body.String(), `"reason_code":"`+c.wantReason+`"`) {
			t.Errorf("%s: %d %s", c.name, rec.Code, rec.Body)
		}
	}
	bad := []struct {
		name string
		body any
	}{
		{"no code", map[string]string{"purpose": purpose}},
		{"no purpose", map[string]string{"code": fresh.Token}},
		{"purpose too long", map[string]string{"code": fresh.Token, "purpose": strings.Repeat("查", 51)}},
		{"code not a string", map[string]any{"code": 12, "purpose": purpose}},
	}
	for _, b := range bad {
		rec := w.do(http.MethodPost, "/api/v1/verifications", b.body, w.police)
		if rec.Code != http.StatusBadRequest || errorCode(rec) != "validation_failed" {
			t.Errorf("%s: %d %s", b.name, rec.Code, rec.Body)
		}
	}
	// None of them spent the code.
	if rec := w.verifyAs(w.police, fresh.Token, purpose); rec.Code != http.StatusOK {
		t.Fatalf("code after refused callers: %d %s", rec.Code, rec.Body)
	}
}

func TestVerificationReplayAndInvalidCodes(t *testing.T) {
	w := newWorld(t, testServerOpts{})
	code := w.mint(w.zhangsan, w.zsIDCard, "basic")
	first := w.verifyAs(w.police, code.Content, purpose)
	if first.Code != http.StatusOK {
		t.Fatalf("first: %d %s", first.Code, first.Body)
	}
	// The same officer re-submitting gets the same answer, marked as a
	// replay, with the first time.
	w.clock.Add(5 * time.Second)
	again := w.verifyAs(w.police, code.Token, purpose)
	wantAgain := strings.Replace(first.Body.String(), `"replayed":false`, `"replayed":true`, 1)
	if again.Code != http.StatusOK || again.Body.String() != wantAgain {
		t.Fatalf("replay by the same officer:\n%d %s\nwant\n%s", again.Code, again.Body, wantAgain)
	}

	used := w.verifyAs(w.housing, code.Token, demo.PurposeRealEstateRegister) // may verify ID cards, but the code is spent
	expiring := w.mint(w.zhangsan, w.zsDriving, "basic")
	w.clock.Add(61 * time.Second)
	expired := w.verifyAs(w.police, expiring.Token, purpose)
	unknown := w.verifyAs(w.police, "AAAAAAAAAAAAAAAAAAAAAA", purpose)
	garbage := w.verifyAs(w.police, "https://example.com/pay?order=1", purpose)
	foreign := w.verifyAs(w.police, "https://evil.example/v/AAAAAAAAAAAAAAAAAAAAAA", purpose)
	shortUnknown := w.verifyAs(w.police, "0000 0000", purpose)
	// An unknown code reads exactly as a used one, so a guesser learns
	// nothing; an expired one tells the officer to ask for a fresh code.
	for name, rec := range map[string]*httptest.ResponseRecorder{"used": used, "garbage": garbage, "foreign": foreign, "short unknown": shortUnknown} {
		if rec.Code != http.StatusNotFound || rec.Body.String() != unknown.Body.String() {
			t.Errorf("%s code: %d %s, want the unknown code's answer %d %s", name, rec.Code, rec.Body, unknown.Code, unknown.Body)
		}
	}
	if unknown.Code != http.StatusNotFound || errorCode(unknown) != "show_code_invalid" || reasonCode(t, unknown) != "code_used" {
		t.Fatalf("unknown code: %d %s", unknown.Code, unknown.Body)
	}
	if expired.Code != http.StatusNotFound || errorCode(expired) != "show_code_invalid" || reasonCode(t, expired) != "code_expired" {
		t.Fatalf("expired code: %d %s", expired.Code, expired.Body)
	}
}

func TestVerificationConcurrentOfficers(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		w := newWorld(t, testServerOpts{Driver: driver})
		ctx := context.Background()
		const n = 50
		cookies := make([]string, n)
		for i := range cookies {
			openid := fmt.Sprintf("race-officer-%02d", i)
			if err := w.store.AddOfficer(ctx, openid, w.policeDept); err != nil {
				t.Fatal(err)
			}
			cookies[i] = w.login(openid)
		}
		code := w.mint(w.zhangsan, w.zsDriving, "basic")
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			statuses = map[string]int{}
		)
		start := make(chan struct{})
		for i, c := range cookies {
			wg.Add(1)
			go func(i int, c string) {
				defer wg.Done()
				<-start
				rec := w.doFrom(fmt.Sprintf("192.0.2.%d", i+1), http.MethodPost, "/api/v1/verifications",
					map[string]string{"code": code.Content, "purpose": purpose}, c)
				mu.Lock()
				statuses[fmt.Sprintf("%d %s", rec.Code, errorCode(rec))]++
				mu.Unlock()
			}(i, c)
		}
		close(start)
		wg.Wait()
		if statuses["200 "] != 1 || statuses["404 show_code_invalid"] != n-1 {
			t.Fatalf("outcomes %v; want exactly one 200 and %d show_code_invalid", statuses, n-1)
		}
		rec := w.do(http.MethodGet, licencePath(w.zsDriving, "/usage"), nil, w.zhangsan)
		var usage struct{ Items []api.UsageItem }
		decodeJSON(t, rec, &usage)
		if len(usage.Items) != 1 {
			t.Fatalf("usage records %s, want exactly one", rec.Body)
		}
	})
}

func TestVerificationRateLimits(t *testing.T) {
	w := newWorld(t, testServerOpts{Config: func(c *config.Config) {
		c.Verify.FailuresPerOfficer, c.Verify.FailuresPerIP, c.Verify.FailureWindow = 3, 5, 10*time.Minute
	}})
	post := func(ip, cookie, code string) *httptest.ResponseRecorder {
		return w.doFrom(ip, http.MethodPost, "/api/v1/verifications", map[string]string{"code": code, "purpose": purpose}, cookie)
	}
	wrong := "AAAAAAAAAAAAAAAAAAAAAA"

	// Per officer: 3 failures from different addresses, then 429 even for a good code.
	for i := 0; i < 3; i++ {
		if rec := post(fmt.Sprintf("198.51.100.%d", i+1), w.police, wrong); rec.Code != http.StatusNotFound {
			t.Fatalf("failure %d: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	good := w.mint(w.zhangsan, w.zsDriving, "basic")
	if rec := post("198.51.100.99", w.police, good.Token); rec.Code != http.StatusTooManyRequests || errorCode(rec) != "rate_limited" {
		t.Fatalf("4th attempt by the officer: %d %s, want 429 rate_limited", rec.Code, rec.Body)
	}

	// Per IP: 5 failures by different officers from one address.
	ctx := context.Background()
	var officers []string
	for i := 0; i < 6; i++ {
		openid := fmt.Sprintf("ip-officer-%d", i)
		if err := w.store.AddOfficer(ctx, openid, w.policeDept); err != nil {
			t.Fatal(err)
		}
		officers = append(officers, w.login(openid))
	}
	for i := 0; i < 5; i++ {
		if rec := post("203.0.113.7", officers[i], wrong); rec.Code != http.StatusNotFound {
			t.Fatalf("IP failure %d: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	if rec := post("203.0.113.7", officers[5], good.Token); rec.Code != http.StatusTooManyRequests || errorCode(rec) != "rate_limited" {
		t.Fatalf("6th attempt from the address: %d %s, want 429", rec.Code, rec.Body)
	}
	// The limited attempts did not spend the code.
	if rec := post("203.0.113.8", officers[5], good.Token); rec.Code != http.StatusOK {
		t.Fatalf("fresh officer and address: %d %s", rec.Code, rec.Body)
	}
}

// TestVerificationRedisDown kills the Redis that holds show codes and
// counters in the middle of a test: verification answers 503, never a result.
func TestVerificationRedisDown(t *testing.T) {
	w := newWorld(t, testServerOpts{})
	rc, kill := privateRedis(t)
	w.verifyOver(rc, w.store)
	code := w.mint(w.zhangsan, w.zsDriving, "basic")
	if rec := w.verifyAs(w.police, w.mint(w.zhangsan, w.zsIDCard, "basic").Token, purpose); rec.Code != http.StatusOK {
		t.Fatalf("before the outage: %d %s", rec.Code, rec.Body)
	}
	kill()
	for _, c := range []string{code.Token, code.Content, "AAAAAAAAAAAAAAAAAAAAAA"} {
		rec := w.verifyAs(w.police, c, purpose)
		if rec.Code != http.StatusServiceUnavailable || errorCode(rec) != "dependency_unavailable" || strings.Contains(rec.Body.String(), "valid") {
			t.Fatalf("Redis down: %d %s, want 503 dependency_unavailable", rec.Code, rec.Body)
		}
	}
	if rec := w.do(http.MethodPost, licencePath(w.zsDriving, "/show-codes"), map[string]string{}, w.zhangsan); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("mint with Redis down: %d %s", rec.Code, rec.Body)
	}
}

// TestVerificationDatabaseDown points the verifier at a database that has
// gone away: 503, never a result, and the code is not spent. Then the whole
// server's database goes: still 503.
func TestVerificationDatabaseDown(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		w := newWorld(t, testServerOpts{Driver: driver})
		ctx := context.Background()
		dsn := storetest.DSN(t, driver)
		sealer, err := secure.NewSealer(randomKey(t, secure.DataKeySize), randomKey(t, secure.IndexKeySize))
		if err != nil {
			t.Fatal(err)
		}
		gone, err := store.Open(ctx, driver, dsn, store.WithSealer(sealer))
		if err != nil {
			t.Fatal(err)
		}
		if err := gone.Close(); err != nil {
			t.Fatal(err)
		}
		w.verifyOver(w.redis, gone)
		code := w.mint(w.zhangsan, w.zsDriving, "basic")
		rec := w.verifyAs(w.police, code.Token, purpose)
		if rec.Code != http.StatusServiceUnavailable || errorCode(rec) != "dependency_unavailable" {
			t.Fatalf("verifier's database down: %d %s", rec.Code, rec.Body)
		}
		if _, err := w.deps.ShowCodes.Peek(ctx, code.Token); err != nil {
			t.Fatalf("the code was spent by a failed verification: %v", err)
		}

		if err := w.store.Close(); err != nil {
			t.Fatal(err)
		}
		rec = w.verifyAs(w.police, code.Token, purpose)
		if rec.Code != http.StatusServiceUnavailable || strings.Contains(rec.Body.String(), `"result"`) {
			t.Fatalf("server's database down: %d %s", rec.Code, rec.Body)
		}
	})
}

// TestVerificationLogsClean runs the whole flow and checks the captured
// logs for tokens, QR texts and full ID numbers.
func TestVerificationLogsClean(t *testing.T) {
	w := newWorld(t, testServerOpts{})
	var secrets []string
	for _, l := range []struct {
		cookie  string
		lic     func() api.ShowCodeResponse
		officer string
	}{
		{w.zhangsan, func() api.ShowCodeResponse { return w.mint(w.zhangsan, w.zsDriving, "full") }, w.police},
		{w.zhangsan, func() api.ShowCodeResponse { return w.mint(w.zhangsan, w.zsDriving, "basic") }, w.housing},
		{w.lisi, func() api.ShowCodeResponse { return w.mint(w.lisi, w.lsDriving, "full") }, w.police},
	} {
		c := l.lic()
		secrets = append(secrets, c.Token, c.Content, showcode.Hash(c.Token))
		w.verifyAs(l.officer, c.Content, purpose)
		w.verifyAs(l.officer, c.Content, purpose)
	}
	w.verifyAs(w.police, "AAAAAAAAAAAAAAAAAAAAAA", purpose)
	w.do(http.MethodGet, licencePath(w.zsDriving, ""), nil, w.zhangsan)
	w.do(http.MethodGet, licencePath(w.zsDriving, "/usage"), nil, w.zhangsan)
	w.do(http.MethodGet, "/api/v1/officer/verifications", nil, w.police)
	w.assertNoSecrets(append(secrets, demo.ZhangsanIDNumber, demo.LisiIDNumber, w.zhangsan, w.police)...)
}

// TestVerificationExpiredCodeStaysInvalid pins that a code past its expiry
// never verifies, even while the store has not dropped it yet (Redis's TTL
// runs on its own clock, a little behind the service's or, with several
// instances, behind the fastest one): the first scan must not spend it into
// a replay marker that a second scan then reads as a valid verification.
func TestVerificationExpiredCodeStaysInvalid(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		w := newWorld(t, testServerOpts{Driver: driver})
		code := w.mint(w.zhangsan, w.zsDriving, "basic")
		w.clock.Add(61 * time.Second)
		for i := 1; i <= 3; i++ {
			rec := w.verifyAs(w.police, code.Token, purpose)
			if rec.Code != http.StatusNotFound || errorCode(rec) != "show_code_invalid" || reasonCode(t, rec) != "code_expired" {
				t.Fatalf("scan %d of an expired code: %d %s, want 404 show_code_invalid code_expired", i, rec.Code, rec.Body)
			}
		}
		rec := w.do(http.MethodGet, licencePath(w.zsDriving, "/usage"), nil, w.zhangsan)
		var usage struct{ Items []api.UsageItem }
		decodeJSON(t, rec, &usage)
		if len(usage.Items) != 0 {
			t.Fatalf("an expired code left usage records: %s", rec.Body)
		}
	})
}

// TestVerificationPurposeFromTheUsageList: a purpose is accepted only when
// the department's usage list gives it for the licence type. One typed with
// a Chinese input method's full-width spaces around it is still the listed
// purpose; free text, or a purpose listed only for another type, is refused
// with its own reason code, recorded as refused, and leaves the code usable.
func TestVerificationPurposeFromTheUsageList(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		w := newWorld(t, testServerOpts{Driver: driver})
		code := w.mint(w.zhangsan, w.zsDriving, "basic")
		for _, p := range []string{"道路交通\u3000执法检查", demo.PurposeIdentityCheck} { // the latter is listed for ID cards only
			rec := w.verifyAs(w.police, code.Token, p)
			if rec.Code != http.StatusForbidden || errorCode(rec) != "purpose_not_in_usage_list" ||
				!strings.Contains(rec.Body.String(), `"reason_code":"purpose_not_in_usage_list"`) {
				t.Fatalf("purpose %q: %d %s", p, rec.Code, rec.Body)
			}
		}
		if rec := w.verifyAs(w.police, code.Token, "\u3000"+demo.PurposeAccidentHandling+"\u3000"); rec.Code != http.StatusOK {
			t.Fatalf("listed purpose after the refusals: %d %s", rec.Code, rec.Body)
		}
		rec := w.do(http.MethodGet, licencePath(w.zsDriving, "/usage"), nil, w.zhangsan)
		var usage struct{ Items []api.UsageItem }
		decodeJSON(t, rec, &usage)
		if len(usage.Items) != 3 || usage.Items[0].Purpose != demo.PurposeAccidentHandling || usage.Items[0].Result != "valid" ||
			usage.Items[1].Result != "refused" || usage.Items[1].ReasonCode != "purpose_not_in_usage_list" || usage.Items[1].Purpose != demo.PurposeIdentityCheck ||
			usage.Items[2].Result != "refused" || usage.Items[2].Purpose != "道路交通 执法检查" {
			t.Fatalf("usage: %s", rec.Body)
		}
	})
}
