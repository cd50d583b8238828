package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/staff"
)

// TestConsoleRoleMatrix runs every role against every console endpoint:
// allowed answers what the endpoint answers, refused is 403 forbidden.
func TestConsoleRoleMatrix(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	id := strconv.FormatInt(ts.estateLicenceID(), 10)
	_, adminPW := ts.addStaff("estate-admin", staff.RoleDepartmentAdmin, demo.USCCRealEstateCentre)
	_, sealPW := ts.addStaff("estate-seal", staff.RoleSealAdmin, demo.USCCRealEstateCentre)
	members := map[staff.Role]*console{
		staff.RolePlatformAdmin:   ts.loginConsole(demo.StaffAdmin, demo.DemoStaffPassword, ""),
		staff.RoleDepartmentAdmin: ts.loginConsole("estate-admin", adminPW, ""),
		staff.RoleClerk:           ts.loginConsole(demo.StaffEstateClerk, demo.DemoStaffPassword, ""),
		staff.RoleSealAdmin:       ts.loginConsole("estate-seal", sealPW, ""),
	}
	all := []staff.Role{staff.RolePlatformAdmin, staff.RoleDepartmentAdmin, staff.RoleClerk, staff.RoleSealAdmin}
	licenceDesk := []staff.Role{staff.RoleDepartmentAdmin, staff.RoleClerk}
	admins := []staff.Role{staff.RolePlatformAdmin}
	deptAdmins := []staff.Role{staff.RoleDepartmentAdmin}
	unknownUSCC := newUSCC(t, "11140522012089990")
	estate, err := ts.store.DepartmentByUSCC(t.Context(), demo.USCCRealEstateCentre)
	if err != nil {
		t.Fatal(err)
	}
	estateStats := "/api/v1/console/stats/departments/" + strconv.FormatInt(estate.ID, 10)
	statsReaders := []staff.Role{staff.RolePlatformAdmin, staff.RoleDepartmentAdmin, staff.RoleClerk}
	countyAndDeptAdmins := []staff.Role{staff.RolePlatformAdmin, staff.RoleDepartmentAdmin}
	defer ts.deps.Console.AuditChecks.Wait()
	for _, ep := range []struct {
		method, path string
		body         any
		allowed      []staff.Role
		// status is what an allowed role gets: each request is one that
		// changes nothing, so the roles can run in any order.
		status int
	}{
		{http.MethodGet, "/api/v1/console/me", nil, all, http.StatusOK},
		{http.MethodGet, "/api/v1/console/licence-types", nil, licenceDesk, http.StatusOK},
		{http.MethodGet, "/api/v1/console/licences", nil, licenceDesk, http.StatusOK},
		{http.MethodGet, "/api/v1/console/licences/" + id, nil, licenceDesk, http.StatusOK},
		// restore of a valid licence: an illegal transition, refused by the lifecycle.
		{http.MethodPost, "/api/v1/console/licences/" + id + "/events", map[string]string{"action": "restore", "reason": "核实"}, licenceDesk, http.StatusConflict},
		{http.MethodGet, "/api/v1/console/staff", nil, admins, http.StatusOK},
		{http.MethodPost, "/api/v1/console/staff", map[string]string{"username": "x", "role": "clerk"}, admins, http.StatusUnprocessableEntity},
		{http.MethodPost, "/api/v1/console/staff/999999/disable", nil, admins, http.StatusNotFound},
		// A department's imports, officers and apps; a JSON post to the
		// upload route carries no file.
		{http.MethodGet, "/api/v1/console/imports", nil, licenceDesk, http.StatusOK},
		{http.MethodPost, "/api/v1/console/imports", map[string]string{}, licenceDesk, http.StatusUnprocessableEntity},
		{http.MethodGet, "/api/v1/console/imports/999999", nil, licenceDesk, http.StatusNotFound},
		{http.MethodGet, "/api/v1/console/imports/999999/errors", nil, licenceDesk, http.StatusNotFound},
		{http.MethodGet, "/api/v1/console/officers", nil, deptAdmins, http.StatusOK},
		{http.MethodPost, "/api/v1/console/officers/invites", map[string]string{"name": ""}, deptAdmins, http.StatusUnprocessableEntity},
		{http.MethodDelete, "/api/v1/console/officers/nobody", nil, deptAdmins, http.StatusNotFound},
		{http.MethodGet, "/api/v1/console/apps", nil, deptAdmins, http.StatusOK},
		{http.MethodPost, "/api/v1/console/apps", map[string]string{"name": ""}, deptAdmins, http.StatusUnprocessableEntity},
		{http.MethodPost, "/api/v1/console/apps/app_none/rotate-secret", nil, deptAdmins, http.StatusNotFound},
		{http.MethodPost, "/api/v1/console/apps/app_none/disable", nil, deptAdmins, http.StatusNotFound},
		// The catalogue: refused edits (already on record, not on record, a
		// plan not shown) and an empty file's dry run write nothing.
		{http.MethodGet, "/api/v1/console/catalogue", nil, admins, http.StatusOK},
		{http.MethodGet, "/api/v1/console/catalogue/export", nil, admins, http.StatusOK},
		{http.MethodPost, "/api/v1/console/catalogue/plan", map[string]string{"yaml": ""}, admins, http.StatusOK},
		{http.MethodPost, "/api/v1/console/catalogue/apply", map[string]string{"yaml": "", "digest": "x"}, admins, http.StatusConflict},
		{http.MethodPost, "/api/v1/console/catalogue/departments", map[string]string{"name": "阳城县教育科技局", "uscc": demo.USCCEducation,
			"kind": "relying", "area_code": "140522"}, admins, http.StatusConflict},
		{http.MethodPut, "/api/v1/console/catalogue/departments/" + unknownUSCC, map[string]string{"name": "某局", "kind": "relying",
			"area_code": "140522"}, admins, http.StatusNotFound},
		{http.MethodPost, "/api/v1/console/catalogue/types", map[string]any{"code": demo.TypeResidentID, "name": "居民身份证", "holder_kind": "person",
			"fields": []map[string]string{{"key": "name", "label": "姓名", "type": "text"}}}, admins, http.StatusConflict},
		{http.MethodPut, "/api/v1/console/catalogue/types/" + unknownUSCC + "001", map[string]any{"name": "某证", "holder_kind": "person",
			"fields": []map[string]string{{"key": "name", "label": "姓名", "type": "text"}}}, admins, http.StatusNotFound},
		{http.MethodPut, "/api/v1/console/catalogue/usage-lists/" + unknownUSCC, map[string]any{"types": []any{}}, admins, http.StatusNotFound},
		{http.MethodGet, "/api/v1/console/stats/county?month=2025-06", nil, admins, http.StatusOK},
		{http.MethodGet, estateStats + "?month=2025-06", nil, statsReaders, http.StatusOK},
		{http.MethodGet, estateStats + "?month=2025-06&format=xlsx", nil, statsReaders, http.StatusOK},
		// an out-of-range total: refused after the role check, nothing changes.
		{http.MethodPut, estateStats + "/stock-baseline", map[string]int{"total": -1}, countyAndDeptAdmins, http.StatusBadRequest},
		{http.MethodGet, "/api/v1/console/audit", nil, statsReaders, http.StatusOK},
		{http.MethodPost, "/api/v1/console/audit/chain-checks", nil, countyAndDeptAdmins, http.StatusAccepted},
		{http.MethodGet, "/api/v1/console/audit/chain-checks/none", nil, countyAndDeptAdmins, http.StatusNotFound},
	} {
		for _, role := range all {
			want := http.StatusForbidden
			for _, r := range ep.allowed {
				if r == role {
					want = ep.status
				}
			}
			w := members[role].do(ep.method, ep.path, ep.body)
			if w.Code != want || want == http.StatusForbidden && errorCode(w) != "forbidden" {
				t.Errorf("%s %s as %s: %d %s, want %d", ep.method, ep.path, role, w.Code, w.Body, want)
			}
		}
		// Without a session every endpoint is 401.
		if w := ts.consoleDo(ep.method, ep.path, ep.body, "", ""); w.Code != http.StatusUnauthorized {
			t.Errorf("%s %s anonymous: %d", ep.method, ep.path, w.Code)
		}
	}

	// A department admin of another department finds nothing of this one.
	police := ts.loginConsole(demo.StaffPoliceAdmin, demo.DemoStaffPassword, "")
	for _, req := range []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/api/v1/console/licences/" + id, nil},
		{http.MethodPost, "/api/v1/console/licences/" + id + "/events", map[string]string{"action": "suspend", "reason": "越权"}},
	} {
		if w := police.do(req.method, req.path, req.body); w.Code != http.StatusNotFound {
			t.Errorf("%s %s by another department's admin: %d %s", req.method, req.path, w.Code, w.Body)
		}
	}
	w := police.do(http.MethodGet, "/api/v1/console/licences?holder_id_number="+demo.ZhangsanIDNumber, nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"total":0`) {
		t.Errorf("another department's search: %d %s", w.Code, w.Body)
	}
}

type consoleList struct {
	Items []struct {
		ID             int64  `json:"id"`
		TypeCode       string `json:"type_code"`
		LicenceNumber  string `json:"licence_number"`
		HolderName     string `json:"holder_name"`
		HolderIDNumber string `json:"holder_id_number"`
		Status         string `json:"status"`
	} `json:"items"`
	Total    int `json:"total"`
	PageSize int `json:"page_size"`
}

func TestConsoleLicenceSearch(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	clerk := ts.loginConsole(demo.StaffEstateClerk, demo.DemoStaffPassword, "")
	id := ts.estateLicenceID()
	l, err := ts.store.Licence(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	search := func(query string) consoleList {
		t.Helper()
		w := clerk.do(http.MethodGet, "/api/v1/console/licences?"+query, nil)
		var out consoleList
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &out) != nil {
			t.Fatalf("search %q: %d %s", query, w.Code, w.Body)
		}
		if strings.Contains(w.Body.String(), demo.ZhangsanIDNumber) {
			t.Fatalf("search %q returned a full ID number: %s", query, w.Body)
		}
		return out
	}
	for _, q := range []string{
		"", "number=" + url.QueryEscape(l.Number), "holder_id_number=" + demo.ZhangsanIDNumber,
		"holder_id_number=" + strings.ToLower(demo.ZhangsanIDNumber), "type_code=" + demo.TypeRealEstateTitle, "status=valid",
	} {
		got := search(q)
		if got.Total != 1 || len(got.Items) != 1 || got.Items[0].ID != id || got.Items[0].HolderName != demo.ZhangsanName ||
			got.Items[0].HolderIDNumber != "1405**********0016" || got.Items[0].Status != "valid" {
			t.Errorf("search %q = %+v", q, got)
		}
	}
	for _, q := range []string{"number=no-such-number", "holder_id_number=" + demo.LisiIDNumber, "status=suspended",
		"type_code=" + demo.TypeDrivingLicence, "status=expired"} {
		if got := search(q); got.Total != 0 || len(got.Items) != 0 {
			t.Errorf("search %q = %+v, want nothing", q, got)
		}
	}
	if got := search("page=2"); got.Total != 1 || len(got.Items) != 0 {
		t.Errorf("page 2 = %+v", got)
	}
	if got := search("page_size=1000"); got.PageSize != 100 {
		t.Errorf("page_size=1000 served %d", got.PageSize)
	}
	for _, q := range []string{"status=superseded", "page=0", "page_size=x"} {
		if w := clerk.do(http.MethodGet, "/api/v1/console/licences?"+q, nil); w.Code != http.StatusUnprocessableEntity {
			t.Errorf("search %q: %d", q, w.Code)
		}
	}
}

func TestConsoleLifecycleAction(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	clerk := ts.loginConsole(demo.StaffEstateClerk, demo.DemoStaffPassword, "")
	id := strconv.FormatInt(ts.estateLicenceID(), 10)
	path := "/api/v1/console/licences/" + id + "/events"
	// Every console action needs a reason, also those the lifecycle takes
	// without one from a department's system.
	for _, action := range []string{"suspend", "report_lost"} {
		w := clerk.do(http.MethodPost, path, map[string]string{"action": action, "reason": "  "})
		if w.Code != http.StatusUnprocessableEntity || errorCode(w) != "reason_required" {
			t.Errorf("%s without a reason: %d %s", action, w.Code, w.Body)
		}
	}
	w := clerk.do(http.MethodPost, path, map[string]string{"action": "suspend", "reason": "法院查封"})
	if w.Code != http.StatusOK {
		t.Fatalf("suspend: %d %s", w.Code, w.Body)
	}
	var detail struct {
		Status  string `json:"status"`
		History []struct {
			Action, Reason, Actor string
		} `json:"history"`
		Audit []struct {
			Action, Actor string
		} `json:"audit"`
		Fields []struct{ Key, Value string } `json:"fields"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &detail); err != nil {
		t.Fatal(err)
	}
	last := detail.History[len(detail.History)-1]
	if detail.Status != "suspended" || last.Action != "suspend" || last.Reason != "法院查封" || last.Actor != "staff:"+demo.StaffEstateClerk {
		t.Fatalf("after suspend: %+v", detail)
	}
	if len(detail.Audit) == 0 || detail.Audit[0].Action != "licence.suspend" || detail.Audit[0].Actor != "staff:"+demo.StaffEstateClerk {
		t.Fatalf("audit entries: %+v", detail.Audit)
	}
	if len(detail.Fields) == 0 {
		t.Fatal("the detail shows no face fields")
	}
	// The change is the lifecycle's: the same refusal as the Open API's.
	if w := clerk.do(http.MethodPost, path, map[string]string{"action": "suspend", "reason": "再次"}); w.Code != http.StatusConflict || errorCode(w) != "illegal_transition" {
		t.Fatalf("second suspend: %d %s", w.Code, w.Body)
	}
	if w := clerk.do(http.MethodPost, path, map[string]string{"action": "fly", "reason": "x"}); w.Code != http.StatusUnprocessableEntity {
		t.Fatalf("unknown action: %d %s", w.Code, w.Body)
	}
	if w := clerk.do(http.MethodGet, "/api/v1/console/licences/999999", nil); w.Code != http.StatusNotFound {
		t.Fatalf("unknown licence: %d", w.Code)
	}
}
