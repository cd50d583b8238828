package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/yangcheng-county/elicence/bff/api"
	"github.com/yangcheng-county/elicence/internal/demo"
)

func TestOfficerContext(t *testing.T) {
	w := newWorld(t, testServerOpts{})
	cases := []struct {
		name     string
		cookie   string
		dept     string
		purposes []string
		types    []api.OfficerType
	}{
		{"police", w.police, "阳城县公安局交通管理大队",
			[]string{demo.PurposeTrafficEnforcement, demo.PurposeAccidentHandling, demo.PurposeIdentityCheck},
			[]api.OfficerType{{demo.TypeResidentID, "居民身份证"}, {demo.TypeDrivingLicence, "机动车驾驶证"}}},
		{"housing", w.housing, "阳城县不动产登记中心",
			[]string{demo.PurposeRealEstateRegister, demo.PurposeMortgageRegister},
			[]api.OfficerType{{demo.TypeResidentID, "居民身份证"}, {demo.TypeRealEstateTitle, "不动产权证书"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := w.do(http.MethodGet, "/api/v1/officer/context", nil, tc.cookie)
			if rec.Code != http.StatusOK {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			if got := jsonKeys(t, rec.Body.Bytes()); got != "department,purposes,types" {
				t.Fatalf("keys %s", got)
			}
			var oc api.OfficerContextResponse
			decodeJSON(t, rec, &oc)
			if oc.Department.Name != tc.dept || len(oc.Types) != len(tc.types) {
				t.Fatalf("context %+v", oc)
			}
			for _, want := range tc.types {
				found := false
				for _, got := range oc.Types {
					found = found || got == want
				}
				if !found {
					t.Errorf("types %+v lack %+v", oc.Types, want)
				}
			}
			if strings.Join(sorted(oc.Purposes), ",") != strings.Join(sorted(tc.purposes), ",") {
				t.Errorf("purposes %v, want %v", oc.Purposes, tc.purposes)
			}
		})
	}
	for _, c := range []struct {
		name, cookie string
		status       int
	}{{"citizen", w.zhangsan, 403}, {"anonymous", "", 401}} {
		for _, path := range []string{"/api/v1/officer/context", "/api/v1/officer/verifications"} {
			if rec := w.do(http.MethodGet, path, nil, c.cookie); rec.Code != c.status {
				t.Errorf("%s %s: %d %s", c.name, path, rec.Code, rec.Body)
			}
		}
	}
}

func TestOfficerVerifications(t *testing.T) {
	w := newWorld(t, testServerOpts{})
	w.verifyAs(w.police, w.mint(w.zhangsan, w.zsDriving, "basic").Token, demo.PurposeTrafficEnforcement)
	w.verifyAs(w.police, w.mint(w.lisi, w.lsDriving, "basic").Token, demo.PurposeAccidentHandling)
	w.verifyAs(w.housing, w.mint(w.zhangsan, w.zsDriving, "basic").Token, demo.PurposeRealEstateRegister)

	rec := w.do(http.MethodGet, "/api/v1/officer/verifications", nil, w.police)
	var body struct{ Items []api.OfficerVerification }
	decodeJSON(t, rec, &body)
	if rec.Code != http.StatusOK || len(body.Items) != 2 {
		t.Fatalf("police: %d %s", rec.Code, rec.Body)
	}
	if got := jsonKeys(t, []byte(strings.SplitN(strings.TrimPrefix(rec.Body.String(), `{"items":[`), "},", 2)[0]+"}")); got != "at,colour,holder_name_masked,licence_type,purpose,reason_code,result" {
		t.Fatalf("item keys %s", got)
	}
	// Newest first; both verifications share the frozen clock, so the
	// later one is first by insertion order.
	want := []struct{ typ, result, colour, reason, purpose, holder string }{
		{"机动车驾驶证", "invalid", "red", "suspended", demo.PurposeAccidentHandling, "李*"},
		{"机动车驾驶证", "valid", "green", "ok", demo.PurposeTrafficEnforcement, "张*"},
	}
	for i, x := range want {
		it := body.Items[i]
		if it.LicenceType != x.typ || it.Result != x.result || it.Colour == nil || *it.Colour != x.colour ||
			it.ReasonCode != x.reason || it.Purpose != x.purpose || it.HolderNameMasked != x.holder || it.At == "" {
			t.Errorf("item %d: %+v, want %+v", i, it, x)
		}
	}

	rec = w.do(http.MethodGet, "/api/v1/officer/verifications", nil, w.housing)
	decodeJSON(t, rec, &body)
	if len(body.Items) != 1 || body.Items[0].Result != "refused" || body.Items[0].Colour != nil || body.Items[0].ReasonCode != "type_not_in_usage_list" {
		t.Fatalf("housing: %s", rec.Body)
	}
	// A refused officer was not allowed to read the licence: their history
	// names no holder, not even masked.
	if body.Items[0].HolderNameMasked != "" || strings.Contains(rec.Body.String(), "张") {
		t.Fatalf("refused verification discloses the holder: %s", rec.Body)
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestOfficerRemovedLosesRightsAtOnce: the session middleware reads the
// officer binding on every request, so an officer removed while logged in
// is refused on the very next request, with the same session cookie.
func TestOfficerRemovedLosesRightsAtOnce(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		w := newWorld(t, testServerOpts{Driver: driver})
		if rec := w.verifyAs(w.police, w.mint(w.zhangsan, w.zsIDCard, "basic").Token, purpose); rec.Code != http.StatusOK {
			t.Fatalf("before removal: %d %s", rec.Code, rec.Body)
		}
		if err := w.store.RemoveOfficer(context.Background(), demo.OfficerPolice); err != nil {
			t.Fatal(err)
		}
		code := w.mint(w.zhangsan, w.zsIDCard, "basic")
		rec := w.verifyAs(w.police, code.Token, purpose)
		if rec.Code != http.StatusForbidden || errorCode(rec) != "not_officer" {
			t.Fatalf("after removal: %d %s", rec.Code, rec.Body)
		}
		if rec := w.do(http.MethodGet, "/api/v1/officer/context", nil, w.police); rec.Code != http.StatusForbidden {
			t.Fatalf("officer context after removal: %d %s", rec.Code, rec.Body)
		}
		var me struct{ Roles []string }
		decodeJSON(t, w.do(http.MethodGet, "/api/v1/me", nil, w.police), &me)
		if slices.Contains(me.Roles, "officer") {
			t.Fatalf("roles after removal: %v", me.Roles)
		}
		// The refused attempt did not spend the code.
		if _, err := w.deps.ShowCodes.Peek(context.Background(), code.Token); err != nil {
			t.Fatalf("code spent by a refused verification: %v", err)
		}
	})
}
