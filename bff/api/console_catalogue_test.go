package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/ident"
	"github.com/yangcheng-county/elicence/internal/staff"
)

// newUSCC is a valid unified social credit code that no demo department
// has: first17 and its check character.
func newUSCC(t *testing.T, first17 string) string {
	t.Helper()
	c, err := ident.USCCCheckChar(first17)
	if err != nil {
		t.Fatal(err)
	}
	return first17 + string(c)
}

type planBody struct {
	Changes []struct {
		Kind, Key, Name, Action string
		What                    []string
	} `json:"changes"`
	Summary string `json:"summary"`
	Changed bool   `json:"changed"`
	Digest  string `json:"digest"`
}

func decodePlan(t *testing.T, w *httptest.ResponseRecorder) planBody {
	t.Helper()
	var p planBody
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("plan body %s: %v", w.Body, err)
	}
	return p
}

// errorDetails are the messages of a 422's details.
func errorDetails(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Error struct {
			Details []struct{ Field, Code, Message string }
		}
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range body.Error.Details {
		out = append(out, d.Field+" "+d.Code+" "+d.Message)
	}
	return strings.Join(out, "\n")
}

// lastAudit is the newest audit entry about object.
func (ts *testServer) lastAudit(object string) (actor, action, detail string) {
	ts.t.Helper()
	entries, err := ts.store.AuditByObjects(ts.t.Context(), []string{object}, 1)
	if err != nil || len(entries) == 0 {
		ts.t.Fatalf("no audit entry about %s: %v", object, err)
	}
	return entries[0].Actor, entries[0].Action, entries[0].Detail
}

func TestConsoleCatalogueDepartments(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	admin := ts.loginConsole(demo.StaffAdmin, demo.DemoStaffPassword, "")
	uscc := newUSCC(t, "11140522012089999")
	dept := map[string]string{"name": "阳城县文化和旅游局", "uscc": uscc, "kind": "relying", "area_code": "140522"}

	w := admin.do(http.MethodPost, "/api/v1/console/catalogue/departments", dept)
	if w.Code != http.StatusCreated {
		t.Fatalf("add: %d %s", w.Code, w.Body)
	}
	if p := decodePlan(t, w); len(p.Changes) != 1 || p.Changes[0].Action != "created" || p.Changes[0].Key != uscc {
		t.Fatalf("add plan: %+v", p)
	}
	if d, err := ts.store.DepartmentByUSCC(t.Context(), uscc); err != nil || d.Name != "阳城县文化和旅游局" || d.Kind != "relying" {
		t.Fatalf("department on record: %+v, %v", d, err)
	}
	if actor, action, detail := ts.lastAudit("department:" + uscc); actor != "staff:"+demo.StaffAdmin || action != "catalogue.apply" ||
		!strings.Contains(detail, "departments: 1 created") {
		t.Fatalf("audit: %s %s %s", actor, action, detail)
	}

	edit := map[string]string{"name": "阳城县文化和旅游局（新）", "kind": "relying", "area_code": "140522"}
	if w := admin.do(http.MethodPut, "/api/v1/console/catalogue/departments/"+uscc, edit); w.Code != http.StatusOK ||
		!slices.Equal(decodePlan(t, w).Changes[0].What, []string{"name"}) {
		t.Fatalf("edit: %d %s", w.Code, w.Body)
	}
	if d, _ := ts.store.DepartmentByUSCC(t.Context(), uscc); d.Name != "阳城县文化和旅游局（新）" {
		t.Fatalf("after edit: %+v", d)
	}

	bad := map[string]string{"name": "某局", "uscc": uscc[:17] + "0", "kind": "relying", "area_code": "140522"}
	if uscc[17] == '0' {
		bad["uscc"] = uscc[:17] + "1"
	}
	for _, c := range []struct {
		name, method, path string
		body               any
		status             int
		code, detail       string
	}{
		{"add again", http.MethodPost, "/api/v1/console/catalogue/departments", dept, http.StatusConflict, "catalogue_entry_exists", ""},
		{"bad check character", http.MethodPost, "/api/v1/console/catalogue/departments", bad, http.StatusUnprocessableEntity, "validation_failed", "uscc catalogue_rule"},
		{"bad kind and area", http.MethodPost, "/api/v1/console/catalogue/departments",
			map[string]string{"name": "某局", "uscc": newUSCC(t, "11140522012089998"), "kind": "maker", "area_code": "1405"}, http.StatusUnprocessableEntity, "validation_failed", "area_code"},
		{"edit unknown", http.MethodPut, "/api/v1/console/catalogue/departments/" + newUSCC(t, "11140522012089997"), edit, http.StatusNotFound, "not_found", ""},
		{"the USCC never changes", http.MethodPut, "/api/v1/console/catalogue/departments/" + uscc,
			map[string]string{"name": "x", "uscc": demo.USCCEducation, "kind": "relying", "area_code": "140522"}, http.StatusUnprocessableEntity, "validation_failed", "uscc unknown_field"},
	} {
		before := ts.auditCount()
		w := admin.do(c.method, c.path, c.body)
		if w.Code != c.status || errorCode(w) != c.code || !strings.Contains(errorDetails(t, w), c.detail) {
			t.Errorf("%s: %d %s", c.name, w.Code, w.Body)
		}
		if ts.auditCount() != before {
			t.Errorf("%s: a refused change was audited", c.name)
		}
	}
}

// auditCount is the number of audit events on record.
func (ts *testServer) auditCount() int {
	ts.t.Helper()
	evs, err := ts.store.AuditEvents(ts.t.Context(), 0, 100000)
	if err != nil {
		ts.t.Fatal(err)
	}
	return len(evs)
}

// realEstateType is 不动产权证书 as the console edits it (licences of it
// are on file in the demo).
func realEstateType(t *testing.T, c *console) map[string]any {
	t.Helper()
	w := c.do(http.MethodGet, "/api/v1/console/catalogue", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("catalogue: %d %s", w.Code, w.Body)
	}
	var cat struct {
		Types []map[string]any `json:"types"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &cat); err != nil {
		t.Fatal(err)
	}
	for _, ty := range cat.Types {
		if ty["code"] == demo.TypeRealEstateTitle {
			if n, _ := ty["licences"].(float64); n < 1 {
				t.Fatalf("the demo has licences of %s, the catalogue says %v", demo.TypeRealEstateTitle, ty["licences"])
			}
			delete(ty, "code")
			delete(ty, "licences")
			return ty
		}
	}
	t.Fatalf("no %s in the catalogue", demo.TypeRealEstateTitle)
	return nil
}

func TestConsoleCatalogueTypes(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	admin := ts.loginConsole(demo.StaffAdmin, demo.DemoStaffPassword, "")
	path := "/api/v1/console/catalogue/types/" + demo.TypeRealEstateTitle

	// Licences are on file: relabelling and a new optional field are fine.
	ty := realEstateType(t, admin)
	fields := ty["fields"].([]any)
	fields[0].(map[string]any)["label"] = "权利人名称"
	ty["fields"] = append(fields, map[string]any{"key": "parcel_no", "label": "宗地代码", "type": "text"})
	if w := admin.do(http.MethodPut, path, ty); w.Code != http.StatusOK || !slices.Equal(decodePlan(t, w).Changes[0].What, []string{"fields"}) {
		t.Fatalf("harmless edit: %d %s", w.Code, w.Body)
	}
	got, err := ts.store.Type(t.Context(), demo.TypeRealEstateTitle)
	if err != nil || got.Fields[0].Label != "权利人名称" || got.Fields[len(got.Fields)-1].Key != "parcel_no" {
		t.Fatalf("type on record: %+v, %v", got.Fields, err)
	}
	if actor, _, _ := ts.lastAudit("licence_type:" + demo.TypeRealEstateTitle); actor != "staff:"+demo.StaffAdmin {
		t.Fatalf("audit actor %s", actor)
	}

	// What would break licences on file is refused, naming the field.
	removed := realEstateType(t, admin)
	removed["fields"] = removed["fields"].([]any)[1:]
	retyped := realEstateType(t, admin)
	retyped["fields"].([]any)[1].(map[string]any)["type"] = "date"
	required := realEstateType(t, admin)
	required["fields"].([]any)[1].(map[string]any)["required"] = true
	masked := realEstateType(t, admin)
	masked["fields"].([]any)[1].(map[string]any)["mask"] = "middle"
	for _, c := range []struct {
		name   string
		body   map[string]any
		detail string
	}{
		{"remove a field", removed, "cannot remove field right_holder"},
		{"retype a field", retyped, "fields[1].type catalogue_rule"},
		{"require a field", required, "cannot make co_ownership required"},
		{"mask without sensitive", masked, "a mask rule only applies to a sensitive field"},
	} {
		before := ts.auditCount()
		w := admin.do(http.MethodPut, path, c.body)
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(errorDetails(t, w), c.detail) {
			t.Errorf("%s: %d %s", c.name, w.Code, w.Body)
		}
		if ts.auditCount() != before {
			t.Errorf("%s: audited", c.name)
		}
	}
	if after, _ := ts.store.Type(t.Context(), demo.TypeRealEstateTitle); len(after.Fields) != len(got.Fields) || after.Fields[1].Type != "text" {
		t.Fatalf("a refused edit changed the type: %+v", after.Fields)
	}

	// A new type: its code opens with its defining department's USCC.
	code := demo.USCCRealEstateCentre + "009"
	newType := map[string]any{"code": code, "name": "不动产测试证明", "holder_kind": "person", "validity_years": 5,
		"reminder_stages": []int{30, 90}, "face_template": "", "issuers": []string{},
		"fields": []map[string]any{{"key": "owner", "label": "权利人", "type": "text", "required": true, "sensitive": true, "mask": "name", "basic": true}}}
	if w := admin.do(http.MethodPost, "/api/v1/console/catalogue/types", newType); w.Code != http.StatusCreated {
		t.Fatalf("add type: %d %s", w.Code, w.Body)
	}
	added, err := ts.store.Type(t.Context(), code)
	if err != nil || !slices.Equal(added.ReminderStages, []int{90, 30}) || !added.Fields[0].Required {
		t.Fatalf("new type: %+v, %v", added, err)
	}
	if ok, _ := ts.store.MayIssue(t.Context(), ts.departmentID(demo.USCCRealEstateCentre), code); !ok {
		t.Fatal("the defining department may not issue its new type")
	}
	for _, c := range []struct {
		name, method, path string
		body               any
		status             int
	}{
		{"add again", http.MethodPost, "/api/v1/console/catalogue/types", newType, http.StatusConflict},
		{"bad code", http.MethodPost, "/api/v1/console/catalogue/types", withKey(newType, "code", "12140522012080546X009"), http.StatusUnprocessableEntity},
		{"name of another type", http.MethodPost, "/api/v1/console/catalogue/types",
			withKey(withKey(newType, "code", demo.USCCRealEstateCentre+"008"), "name", "不动产权证书"), http.StatusUnprocessableEntity},
		{"no fields", http.MethodPost, "/api/v1/console/catalogue/types", withKey(withKey(newType, "code", demo.USCCRealEstateCentre+"007"), "fields", []any{}), http.StatusUnprocessableEntity},
		{"edit unknown", http.MethodPut, "/api/v1/console/catalogue/types/" + demo.USCCRealEstateCentre + "006", withKey(newType, "code", nil), http.StatusNotFound},
	} {
		body := c.body
		if m, ok := body.(map[string]any); ok && m["code"] == nil {
			delete(m, "code")
		}
		if w := admin.do(c.method, c.path, body); w.Code != c.status {
			t.Errorf("%s: %d %s", c.name, w.Code, w.Body)
		}
	}
}

// withKey is a copy of m with k set to v.
func withKey(m map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(m))
	for key, val := range m {
		out[key] = val
	}
	out[k] = v
	return out
}

func (ts *testServer) departmentID(uscc string) int64 {
	ts.t.Helper()
	d, err := ts.store.DepartmentByUSCC(ts.t.Context(), uscc)
	if err != nil {
		ts.t.Fatal(err)
	}
	return d.ID
}

func TestConsoleCatalogueUsageLists(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	admin := ts.loginConsole(demo.StaffAdmin, demo.DemoStaffPassword, "")
	path := "/api/v1/console/catalogue/usage-lists/" + demo.USCCEducation
	list := map[string]any{"types": []map[string]any{{"type_code": demo.TypeResidentID, "purposes": []string{"入学资格审核", " 学籍登记 "}}}}
	if w := admin.do(http.MethodPut, path, list); w.Code != http.StatusOK || decodePlan(t, w).Changes[0].Action != "created" {
		t.Fatalf("put: %d %s", w.Code, w.Body)
	}
	w := ts.do(http.MethodGet, "/api/v1/public/usage-lists", nil, "")
	var pub struct {
		Items []struct {
			Department struct{ USCC string }
			Types      []struct {
				Code     string
				Purposes []string
			}
		}
	}
	if err := json.Unmarshal(w.Body.Bytes(), &pub); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(pub.Items, func(it struct {
		Department struct{ USCC string }
		Types      []struct {
			Code     string
			Purposes []string
		}
	}) bool {
		return it.Department.USCC == demo.USCCEducation
	})
	if i < 0 || pub.Items[i].Types[0].Code != demo.TypeResidentID || !slices.Equal(pub.Items[i].Types[0].Purposes, []string{"入学资格审核", "学籍登记"}) {
		t.Fatalf("published lists: %s", w.Body)
	}
	if actor, _, _ := ts.lastAudit("usage_list:" + demo.USCCEducation); actor != "staff:"+demo.StaffAdmin {
		t.Fatalf("audit actor %s", actor)
	}

	for _, c := range []struct {
		name, path string
		body       any
		status     int
		detail     string
	}{
		{"no purposes", path, map[string]any{"types": []map[string]any{{"type_code": demo.TypeResidentID, "purposes": []string{}}}}, http.StatusUnprocessableEntity, "at least one purpose"},
		{"unknown type", path, map[string]any{"types": []map[string]any{{"type_code": demo.USCCEducation + "009", "purposes": []string{"x"}}}}, http.StatusUnprocessableEntity, "unknown licence type"},
		{"purpose twice", path, map[string]any{"types": []map[string]any{{"type_code": demo.TypeResidentID, "purposes": []string{"x", "x "}}}}, http.StatusUnprocessableEntity, "listed twice"},
		{"unknown department", "/api/v1/console/catalogue/usage-lists/" + newUSCC(t, "11140522012089996"), list, http.StatusNotFound, ""},
	} {
		if w := admin.do(http.MethodPut, c.path, c.body); w.Code != c.status || !strings.Contains(errorDetails(t, w), c.detail) {
			t.Errorf("%s: %d %s", c.name, w.Code, w.Body)
		}
	}

	// The whole list: an empty one takes every type off.
	if w := admin.do(http.MethodPut, path, map[string]any{"types": []any{}}); w.Code != http.StatusOK || decodePlan(t, w).Changes[0].Action != "removed" {
		t.Fatalf("empty list: %d %s", w.Code, w.Body)
	}
	if _, ok, _ := ts.store.UsagePurposes(t.Context(), ts.departmentID(demo.USCCEducation), demo.TypeResidentID); ok {
		t.Fatal("the type is still on the list")
	}
}

func TestConsoleCatalogueImport(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	admin := ts.loginConsole(demo.StaffAdmin, demo.DemoStaffPassword, "")
	w := admin.do(http.MethodGet, "/api/v1/console/catalogue/export", nil)
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/yaml") ||
		!strings.Contains(w.Header().Get("Content-Disposition"), "catalogue.yaml") {
		t.Fatalf("export: %d %v", w.Code, w.Header())
	}
	exported := w.Body.String()

	// The export is the catalogue: its plan changes nothing.
	w = admin.do(http.MethodPost, "/api/v1/console/catalogue/plan", map[string]string{"yaml": exported})
	if p := decodePlan(t, w); w.Code != http.StatusOK || p.Changed || len(p.Changes) == 0 {
		t.Fatalf("plan of the export: %d %s", w.Code, p.Summary)
	}

	changed := strings.Replace(exported, "name: 阳城县教育科技局", "name: 阳城县教育和科技局", 1)
	if changed == exported {
		t.Fatalf("the export does not name 阳城县教育科技局:\n%s", exported)
	}
	before := ts.auditCount()
	w = admin.do(http.MethodPost, "/api/v1/console/catalogue/plan", map[string]string{"yaml": changed})
	plan := decodePlan(t, w)
	if w.Code != http.StatusOK || !plan.Changed || !strings.Contains(plan.Summary, "departments: 0 created, 1 updated") {
		t.Fatalf("plan: %d %s", w.Code, w.Body)
	}
	if d, _ := ts.store.DepartmentByUSCC(t.Context(), demo.USCCEducation); d.Name != "阳城县教育科技局" || ts.auditCount() != before {
		t.Fatal("the dry run wrote")
	}

	// An apply must repeat the digest of the plan shown.
	for name, digest := range map[string]string{"no digest": "", "another plan's": strings.Repeat("ab", 32)} {
		w := admin.do(http.MethodPost, "/api/v1/console/catalogue/apply", map[string]string{"yaml": changed, "digest": digest})
		if w.Code != http.StatusConflict || errorCode(w) != "plan_changed" {
			t.Errorf("%s: %d %s", name, w.Code, w.Body)
		}
	}
	w = admin.do(http.MethodPost, "/api/v1/console/catalogue/apply", map[string]string{"yaml": changed, "digest": plan.Digest})
	if w.Code != http.StatusOK || decodePlan(t, w).Digest != plan.Digest {
		t.Fatalf("apply: %d %s", w.Code, w.Body)
	}
	if d, _ := ts.store.DepartmentByUSCC(t.Context(), demo.USCCEducation); d.Name != "阳城县教育和科技局" {
		t.Fatalf("after the apply: %+v", d)
	}
	if actor, _, detail := ts.lastAudit("catalogue"); actor != "staff:"+demo.StaffAdmin || detail != plan.Summary {
		t.Fatalf("audit: %s %s", actor, detail)
	}
	// Applied once: the same digest now names a plan that no longer is.
	if w := admin.do(http.MethodPost, "/api/v1/console/catalogue/apply", map[string]string{"yaml": changed, "digest": plan.Digest}); w.Code != http.StatusConflict {
		t.Fatalf("second apply of the same plan: %d %s", w.Code, w.Body)
	}

	for _, c := range []struct{ name, yaml, detail string }{
		{"not YAML", "departments: [", "yaml invalid_yaml"},
		{"unknown key", "departments:\n  - {nmae: x}\n", "nmae"}, //nolint:misspell // the misspelling is the point
		{"bad USCC", strings.Replace(exported, `uscc: "`+demo.USCCTrafficBrigade+`"`, `uscc: "111405220120804313"`, 1), "GB 32100"},
	} {
		for _, step := range []string{"plan", "apply"} {
			w := admin.do(http.MethodPost, "/api/v1/console/catalogue/"+step, map[string]string{"yaml": c.yaml, "digest": plan.Digest})
			if w.Code != http.StatusUnprocessableEntity || !strings.Contains(errorDetails(t, w), c.detail) {
				t.Errorf("%s (%s): %d %s", c.name, step, w.Code, w.Body)
			}
		}
	}
}

// TestConsoleStaffAdd: the one-time password is in the add's answer only,
// and logs the new member in.
func TestConsoleStaffAdd(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	admin := ts.loginConsole(demo.StaffAdmin, demo.DemoStaffPassword, "")
	w := admin.do(http.MethodPost, "/api/v1/console/staff", map[string]string{"username": "wang.clerk", "role": string(staff.RoleClerk),
		"department_uscc": demo.USCCRealEstateCentre})
	var added struct {
		Staff struct {
			ID         int64
			Department struct{ USCC string }
		}
		Password string
	}
	if w.Code != http.StatusCreated || json.Unmarshal(w.Body.Bytes(), &added) != nil || added.Password == "" ||
		added.Staff.Department.USCC != demo.USCCRealEstateCentre {
		t.Fatalf("add: %d %s", w.Code, w.Body)
	}
	list := admin.do(http.MethodGet, "/api/v1/console/staff", nil)
	if list.Code != http.StatusOK || !strings.Contains(list.Body.String(), "wang.clerk") || strings.Contains(list.Body.String(), added.Password) {
		t.Fatalf("list: %d %s", list.Code, list.Body)
	}
	ts.loginConsole("wang.clerk", added.Password, "")
	for name, body := range map[string]map[string]string{
		"taken":              {"username": "wang.clerk", "role": "clerk", "department_uscc": demo.USCCRealEstateCentre},
		"unknown department": {"username": "li.clerk", "role": "clerk", "department_uscc": newUSCC(t, "11140522012089995")},
		"no department":      {"username": "li.clerk", "role": "clerk"},
	} {
		if w := admin.do(http.MethodPost, "/api/v1/console/staff", body); w.Code != http.StatusConflict && w.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", name, w.Code, w.Body)
		}
	}
	ts.assertNoSecrets(added.Password)
}
