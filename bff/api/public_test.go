package api_test

import (
	"context"
	"net/http"
	"reflect"
	"testing"

	"github.com/yangcheng-county/elicence/internal/demo"
)

// TestPublicUsageLists: anyone, logged in or not, reads which department
// may verify which licence types for which purposes; a change to a list is
// in the next answer; a database that does not answer is 503, never an
// empty notice.
func TestPublicUsageLists(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		ts := newTestServer(t, testServerOpts{Driver: driver})
		type usage struct {
			Code     string   `json:"code"`
			Name     string   `json:"name"`
			Purposes []string `json:"purposes"`
		}
		type list struct {
			Department struct{ Name, USCC string } `json:"department"`
			Types      []usage                     `json:"types"`
		}
		read := func(cookie string) []list {
			t.Helper()
			rec := ts.do(http.MethodGet, "/api/v1/public/usage-lists", nil, cookie)
			if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "public, max-age=300" {
				t.Fatalf("usage lists: %d %v %s", rec.Code, rec.Header(), rec.Body)
			}
			var body struct{ Items []list }
			decodeJSON(t, rec, &body)
			return body.Items
		}
		want := []list{
			{Types: []usage{
				{demo.TypeDrivingLicence, "机动车驾驶证", []string{demo.PurposeTrafficEnforcement, demo.PurposeAccidentHandling}},
				{demo.TypeResidentID, "居民身份证", []string{demo.PurposeTrafficEnforcement, demo.PurposeIdentityCheck}},
			}},
			{Types: []usage{
				{demo.TypeResidentID, "居民身份证", []string{demo.PurposeRealEstateRegister}},
				{demo.TypeRealEstateTitle, "不动产权证书", []string{demo.PurposeRealEstateRegister, demo.PurposeMortgageRegister}},
			}},
		}
		want[0].Department.Name, want[0].Department.USCC = "阳城县公安局交通管理大队", demo.USCCTrafficBrigade
		want[1].Department.Name, want[1].Department.USCC = "阳城县不动产登记中心", demo.USCCRealEstateCentre
		if got := read(""); !reflect.DeepEqual(got, want) {
			t.Fatalf("anonymous: %+v, want %+v", got, want)
		}
		if got := read(ts.login(demo.OfficerPolice)); !reflect.DeepEqual(got, want) {
			t.Fatalf("logged in: %+v", got)
		}

		ctx := context.Background()
		bureau, err := ts.store.DepartmentByUSCC(ctx, demo.USCCMarketRegulation)
		if err != nil {
			t.Fatal(err)
		}
		if err := ts.store.SetUsageList(ctx, bureau.ID, demo.TypeBusinessLicence, []string{"市场主体登记"}); err != nil {
			t.Fatal(err)
		}
		got := read("")
		if len(got) != 3 || got[2].Department.USCC != demo.USCCMarketRegulation ||
			!reflect.DeepEqual(got[2].Types, []usage{{demo.TypeBusinessLicence, "营业执照", []string{"市场主体登记"}}}) {
			t.Fatalf("after a new list: %+v", got)
		}

		if err := ts.store.Close(); err != nil {
			t.Fatal(err)
		}
		if rec := ts.do(http.MethodGet, "/api/v1/public/usage-lists", nil, ""); rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("database down: %d %s", rec.Code, rec.Body)
		}
	})
}
