package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/seal"
)

// TestPublicSeals: anyone reads every seal with its state, approval and
// certificate validity (公示); a seal reported lost shows its loss time in
// the very next answer.
func TestPublicSeals(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		ts := newTestServer(t, testServerOpts{Driver: driver})
		type item struct {
			ID            int64    `json:"id"`
			Name          string   `json:"name"`
			Kind          string   `json:"kind"`
			Department    string   `json:"department"`
			Status        string   `json:"status"`
			ApprovedTypes []string `json:"approved_types"`
			Certificate   *struct {
				NotBefore string `json:"not_before"`
				NotAfter  string `json:"not_after"`
			} `json:"certificate"`
			LostAt *string `json:"lost_at"`
		}
		read := func() map[string]item {
			t.Helper()
			rec := ts.do(http.MethodGet, "/api/v1/public/seals", nil, "")
			if rec.Code != http.StatusOK {
				t.Fatalf("seals: %d %s", rec.Code, rec.Body)
			}
			var body struct{ Items []item }
			decodeJSON(t, rec, &body)
			out := map[string]item{}
			for _, it := range body.Items {
				out[it.Department] = it
			}
			return out
		}
		got := read()
		estate, ok := got["阳城县不动产登记中心"]
		if !ok || estate.Status != "active" || estate.Kind != "official" || estate.Certificate == nil || estate.LostAt != nil ||
			len(estate.ApprovedTypes) != 2 || estate.ApprovedTypes[0] != demo.TypeRealEstateTitle {
			t.Fatalf("real estate centre's seal: %+v", estate)
		}
		if bureau := got["阳城县行政审批服务管理局"]; bureau.Status != "active" || len(bureau.ApprovedTypes) != 0 {
			t.Fatalf("platform seal: %+v", bureau)
		}

		if _, err := ts.seals.Registry.Transition(t.Context(), "staff:test", estate.ID, seal.Request{Action: seal.ActionReportLost}); err != nil {
			t.Fatal(err)
		}
		estate = read()["阳城县不动产登记中心"]
		if estate.Status != "lost" || estate.LostAt == nil {
			t.Fatalf("after report lost: %+v", estate)
		}
		if _, err := time.Parse(time.RFC3339, *estate.LostAt); err != nil {
			t.Fatalf("lost_at %q: %v", *estate.LostAt, err)
		}
	})
}

// TestLicenceDetailShowsSeal: the holder's licence face names the issuing
// seal and says whether its signature checks out, as a scan would; a
// version whose signature was altered reads unverified.
func TestLicenceDetailShowsSeal(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	cookie := ts.login(demo.CitizenZhangsan)
	ts.bind(cookie, demo.ZhangsanName, demo.ZhangsanIDNumber, demo.ZhangsanPhone)
	holder, err := ts.store.HolderByIDNumber(t.Context(), "111", demo.ZhangsanIDNumber)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := ts.store.LicencesByHolder(t.Context(), holder.ID)
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	for _, l := range ls {
		if l.TypeCode == demo.TypeDrivingLicence {
			id = l.ID
		}
	}
	type detail struct {
		Seal *struct {
			Name     string `json:"name"`
			Verified bool   `json:"verified"`
		} `json:"seal"`
	}
	read := func() detail {
		t.Helper()
		rec := ts.do(http.MethodGet, fmt.Sprintf("/api/v1/licences/%d", id), nil, cookie)
		if rec.Code != http.StatusOK {
			t.Fatalf("detail: %d %s", rec.Code, rec.Body)
		}
		var d detail
		decodeJSON(t, rec, &d)
		return d
	}
	if d := read(); d.Seal == nil || d.Seal.Name != "晋城市公安局交通警察支队" || !d.Seal.Verified {
		t.Fatalf("signed licence: %+v", d.Seal)
	}
	seals, err := ts.seals.Registry.Seals(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range seals {
		if s.Department == "晋城市公安局交通警察支队" {
			lostAt := ts.clock.Now().Add(-24 * time.Hour) // before the demo licences were signed
			if _, err := ts.seals.Registry.Transition(t.Context(), "staff:test", s.ID, seal.Request{Action: seal.ActionReportLost, LostAt: &lostAt}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if d := read(); d.Seal == nil || d.Seal.Verified {
		t.Fatalf("signed after its seal was lost: %+v", d.Seal)
	}
}
