package api_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/store"
)

type statsDept struct {
	ID            int64    `json:"id"`
	Name          string   `json:"name"`
	Held          int64    `json:"held"`
	HeldVerified  int64    `json:"held_verified"`
	UsageRate     *float64 `json:"usage_rate"`
	StockBaseline *int64   `json:"stock_baseline"`
	Verifications int64    `json:"verifications"`
	Valid         int64    `json:"valid"`
	Invalid       int64    `json:"invalid"`
	Refused       int64    `json:"refused"`
}

type statsBody struct {
	Month       string      `json:"month"`
	Departments []statsDept `json:"departments"`
	County      *struct {
		Verifications int64 `json:"verifications"`
		Valid         int64 `json:"valid"`
		Invalid       int64 `json:"invalid"`
	} `json:"county"`
	Tables []struct {
		Name        string   `json:"name"`
		Header      []string `json:"header"`
		RateColumns []int    `json:"rate_columns"`
		Rows        [][]any  `json:"rows"`
	} `json:"tables"`
}

// statsMonth is the clock's month in the county.
func (w *world) statsMonth() string {
	return w.clock.Now().In(store.DateLocation()).Format("2006-01")
}

// verifyFixture makes the month's verifications the statistics tests count:
// the brigade's officer verifies 张三's driving licence twice (valid) and
// 李四's suspended one (invalid); the housing officer 张三's title (valid).
func (w *world) verifyFixture() {
	w.t.Helper()
	for _, s := range []struct {
		officer, holder string
		l               licence.Licence
		purpose, result string
	}{
		{w.police, w.zhangsan, w.zsDriving, purpose, "valid"},
		{w.police, w.zhangsan, w.zsDriving, purpose, "valid"},
		{w.police, w.lisi, w.lsDriving, purpose, "invalid"},
		{w.housing, w.zhangsan, w.zsRealEstate, demo.PurposeRealEstateRegister, "valid"},
	} {
		rec := w.verifyAs(s.officer, w.mint(s.holder, s.l, "basic").Content, s.purpose)
		var res struct{ Result string }
		decodeJSON(w.t, rec, &res)
		if rec.Code != http.StatusOK || res.Result != s.result {
			w.t.Fatalf("verify: %d %s, want %s", rec.Code, rec.Body, s.result)
		}
	}
	// A serving instance's chainer appends the verifications to the audit
	// chain within audit.chain_interval; the test server runs none.
	if _, err := w.store.ChainPending(w.t.Context(), 100); err != nil {
		w.t.Fatal(err)
	}
}

// department finds a department's row of a report.
func (b statsBody) department(t *testing.T, id int64) int {
	t.Helper()
	i := slices.IndexFunc(b.Departments, func(d statsDept) bool { return d.ID == id })
	if i < 0 {
		t.Fatalf("department %d not in the report", id)
	}
	return i
}

// TestConsoleStatistics counts a month of verifications made through the
// API on both databases: the county sees every department with its
// totals, a department admin its own page and nobody else's.
func TestConsoleStatistics(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		w := newWorld(t, testServerOpts{Driver: driver})
		w.verifyFixture()
		month := w.statsMonth()
		cityPolice, err := w.store.DepartmentByUSCC(t.Context(), demo.USCCCityTrafficPolice)
		if err != nil {
			t.Fatal(err)
		}
		admin := w.loginConsole(demo.StaffAdmin, demo.DemoStaffPassword, "")
		rec := admin.do(http.MethodGet, "/api/v1/console/stats/county?month="+month, nil)
		var county statsBody
		decodeJSON(t, rec, &county)
		if rec.Code != http.StatusOK || county.Month != month || county.County == nil {
			t.Fatalf("county: %d %s", rec.Code, rec.Body)
		}
		if c := county.County; c.Verifications != 4 || c.Valid != 3 || c.Invalid != 1 {
			t.Errorf("county totals %+v, want 4 verifications: 3 valid, 1 invalid", *c)
		}
		brigade := county.Departments[county.department(t, w.policeDept)]
		if brigade.Verifications != 3 || brigade.Valid != 2 || brigade.Invalid != 1 || brigade.Refused != 0 {
			t.Errorf("brigade %+v, want 3 verifications: 2 valid, 1 invalid", brigade)
		}
		// The city police issued both driving licences: both held (李四's
		// suspended one too) and both verified this month.
		issuer := county.Departments[county.department(t, cityPolice.ID)]
		if issuer.Held != 2 || issuer.HeldVerified != 2 || issuer.UsageRate == nil || *issuer.UsageRate != 1 || issuer.Verifications != 0 {
			t.Errorf("issuer %+v, want 2 held, 2 verified, usage 100%%", issuer)
		}
		if len(county.Tables) != 2 || county.Tables[0].Name != "departments" || len(county.Tables[0].Rows) != len(county.Departments)+1 ||
			!slices.Equal(county.Tables[0].RateColumns, []int{7, 10, 13}) {
			t.Fatalf("tables %+v", county.Tables)
		}
		var verifications []string
		for _, r := range county.Tables[1].Rows {
			verifications = append(verifications, strings.TrimSpace(fmt.Sprintln(r[1:]...)))
		}
		want := []string{"阳城县公安局交通管理大队 invalid " + purpose + " 1", "阳城县公安局交通管理大队 valid " + purpose + " 2",
			"阳城县不动产登记中心 valid " + demo.PurposeRealEstateRegister + " 1"}
		slices.Sort(verifications)
		slices.Sort(want)
		if !slices.Equal(verifications, want) {
			t.Errorf("verifications table %q, want %q", verifications, want)
		}

		// The brigade's admin: its own page, the same figures; no other's.
		police := w.loginConsole(demo.StaffPoliceAdmin, demo.DemoStaffPassword, "")
		own := "/api/v1/console/stats/departments/" + strconv.FormatInt(w.policeDept, 10) + "?month=" + month
		rec = police.do(http.MethodGet, own, nil)
		var page statsBody
		decodeJSON(t, rec, &page)
		if rec.Code != http.StatusOK || page.County != nil || len(page.Departments) != 1 || page.Departments[0] != brigade {
			t.Fatalf("own page: %d %s", rec.Code, rec.Body)
		}
		for _, path := range []string{
			"/api/v1/console/stats/departments/" + strconv.FormatInt(w.housingDept, 10) + "?month=" + month,
			"/api/v1/console/stats/departments/" + strconv.FormatInt(w.housingDept, 10) + "?month=" + month + "&format=xlsx",
		} {
			if rec := police.do(http.MethodGet, path, nil); rec.Code != http.StatusNotFound {
				t.Errorf("another department's page %s: %d", path, rec.Code)
			}
		}
		if rec := admin.do(http.MethodGet, "/api/v1/console/stats/departments/999999?month="+month, nil); rec.Code != http.StatusNotFound {
			t.Errorf("an unknown department: %d", rec.Code)
		}
		for _, q := range []string{"", "?month=2025-13", "?month=June", "?month=" + month + "&format=pdf", "?month=" + month + "&format=csv",
			"?month=" + month + "&format=csv&table=nope"} {
			if rec := police.do(http.MethodGet, strings.Split(own, "?")[0]+q, nil); rec.Code != http.StatusBadRequest {
				t.Errorf("query %q: %d %s, want 400", q, rec.Code, rec.Body)
			}
		}

		// The workbook holds the page's figures, as numbers.
		rec = police.do(http.MethodGet, own+"&format=xlsx", nil)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Content-Disposition"), ".xlsx") {
			t.Fatalf("xlsx: %d %v", rec.Code, rec.Header())
		}
		f, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := f.GetRows("部门统计", excelize.Options{RawCellValue: true})
		if err != nil || len(rows) != 2 {
			t.Fatalf("sheet 部门统计: %v, %v", rows, err)
		}
		col := slices.Index(rows[0], "核验次数")
		if rows[1][1] != "阳城县公安局交通管理大队" || rows[1][col] != "3" || rows[1][col+2] != "1" {
			t.Errorf("workbook row %v", rows[1])
		}
		_ = f.Close()

		// One table as CSV, with a byte order mark for spreadsheet programs.
		rec = police.do(http.MethodGet, own+"&format=csv&table=verifications", nil)
		body := rec.Body.String()
		if rec.Code != http.StatusOK || !strings.HasPrefix(body, "\uFEFF") {
			t.Fatalf("csv: %d %q", rec.Code, body)
		}
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF"))).ReadAll()
		if err != nil || len(recs) != 3 || recs[0][4] != "次数" {
			t.Fatalf("csv records %q, %v", recs, err)
		}
	})
}

func TestConsoleStockBaseline(t *testing.T) {
	w := newWorld(t, testServerOpts{})
	police := w.loginConsole(demo.StaffPoliceAdmin, demo.DemoStaffPassword, "")
	path := func(id int64) string {
		return "/api/v1/console/stats/departments/" + strconv.FormatInt(id, 10) + "/stock-baseline"
	}
	for _, c := range []struct {
		id     int64
		body   any
		status int
	}{
		{w.policeDept, map[string]any{"total": -1}, http.StatusBadRequest},
		{w.policeDept, map[string]any{"total": 10_000_001}, http.StatusBadRequest},
		{w.policeDept, map[string]any{}, http.StatusBadRequest},
		{w.policeDept, map[string]any{"total": 5, "extra": 1}, http.StatusUnprocessableEntity},
		{w.housingDept, map[string]any{"total": 5}, http.StatusNotFound},
		{w.policeDept, map[string]any{"total": 1200}, http.StatusOK},
	} {
		if rec := police.do(http.MethodPut, path(c.id), c.body); rec.Code != c.status {
			t.Errorf("PUT %s %v: %d %s, want %d", path(c.id), c.body, rec.Code, rec.Body, c.status)
		}
	}
	// Without the CSRF header nothing changes.
	if rec := w.consoleDo(http.MethodPut, path(w.policeDept), map[string]any{"total": 1}, police.cookie, ""); rec.Code != http.StatusForbidden {
		t.Errorf("without CSRF: %d", rec.Code)
	}
	rec := police.do(http.MethodGet, "/api/v1/console/stats/departments/"+strconv.FormatInt(w.policeDept, 10)+"?month="+w.statsMonth(), nil)
	var page statsBody
	decodeJSON(t, rec, &page)
	if len(page.Departments) != 1 || page.Departments[0].StockBaseline == nil || *page.Departments[0].StockBaseline != 1200 {
		t.Fatalf("baseline after PUT: %s", rec.Body)
	}
	// The change is in the department's audit entries.
	rec = police.do(http.MethodGet, "/api/v1/console/audit?action=stats.stock_baseline", nil)
	var entries auditList
	decodeJSON(t, rec, &entries)
	if len(entries.Items) != 1 || entries.Items[0].Actor != "staff:"+demo.StaffPoliceAdmin || entries.Items[0].Detail != "total=1200" {
		t.Fatalf("audit of the baseline: %s", rec.Body)
	}
}

type auditList struct {
	Items []struct {
		Seq    int64  `json:"seq"`
		At     string `json:"at"`
		Actor  string `json:"actor"`
		Action string `json:"action"`
		Object string `json:"object"`
		Detail string `json:"detail"`
	} `json:"items"`
	NextBefore *int64 `json:"next_before"`
}

// TestConsoleAuditViewer: a department's admin sees what its people did
// and what was done to its objects, filtered and paged; the county sees
// everything.
func TestConsoleAuditViewer(t *testing.T) {
	w := newWorld(t, testServerOpts{})
	w.verifyFixture()
	police := w.loginConsole(demo.StaffPoliceAdmin, demo.DemoStaffPassword, "")
	admin := w.loginConsole(demo.StaffAdmin, demo.DemoStaffPassword, "")
	list := func(c *console, query string) auditList {
		t.Helper()
		rec := c.do(http.MethodGet, "/api/v1/console/audit"+query, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("audit %s: %d %s", query, rec.Code, rec.Body)
		}
		var out auditList
		decodeJSON(t, rec, &out)
		return out
	}
	actions := func(l auditList) string {
		var out []string
		for _, e := range l.Items {
			out = append(out, e.Action+"@"+e.Object)
		}
		return strings.Join(out, " ")
	}
	zs, ls, title := "licence:"+strconv.FormatInt(w.zsDriving.ID, 10), "licence:"+strconv.FormatInt(w.lsDriving.ID, 10),
		"licence:"+strconv.FormatInt(w.zsRealEstate.ID, 10)
	// The brigade: its officer's verifications (of the city police's
	// licences) and its admin's login, never the housing officer's scan.
	got := actions(list(police, "?actor=officer:"+demo.OfficerPolice))
	if got != "verification.invalid@"+ls+" verification.valid@"+zs+" verification.valid@"+zs {
		t.Errorf("brigade, by its officer: %s", got)
	}
	if got := actions(list(police, "")); strings.Contains(got, title) || !strings.Contains(got, "staff.login@staff:"+demo.StaffPoliceAdmin) {
		t.Errorf("brigade's entries: %s", got)
	}
	if got := list(police, "?licence="+strconv.FormatInt(w.zsRealEstate.ID, 10)); len(got.Items) != 0 {
		t.Errorf("brigade sees another department's licence: %s", actions(got))
	}
	// The county sees the housing officer's scan; filters combine.
	if got := actions(list(admin, "?action=verification.valid&licence="+strconv.FormatInt(w.zsRealEstate.ID, 10))); got != "verification.valid@"+title {
		t.Errorf("county, by licence and action: %s", got)
	}
	// Time: nothing before the fixture, everything of it up to now.
	now := w.clock.Now().UTC()
	if got := list(admin, "?action=verification.valid&to="+now.Add(-time.Hour).Format(time.RFC3339)); len(got.Items) != 0 {
		t.Errorf("before the fixture: %s", actions(got))
	}
	if got := list(admin, "?action=verification.valid&from="+now.Add(-time.Hour).Format(time.RFC3339)+"&to="+now.Add(time.Hour).Format(time.RFC3339)); len(got.Items) != 3 {
		t.Errorf("during the fixture: %s", actions(got))
	}
	// Pages, newest first, go back by seq.
	first := list(police, "?actor=officer:"+demo.OfficerPolice+"&page_size=2")
	if len(first.Items) != 2 || first.NextBefore == nil || *first.NextBefore != first.Items[1].Seq {
		t.Fatalf("first page: %+v", first)
	}
	second := list(police, fmt.Sprintf("?actor=officer:%s&page_size=2&before=%d", demo.OfficerPolice, *first.NextBefore))
	if len(second.Items) != 1 || second.Items[0].Seq >= first.Items[1].Seq || second.NextBefore != nil {
		t.Fatalf("second page: %+v", second)
	}
	for _, q := range []string{"?licence=x", "?licence=0", "?from=yesterday", "?to=2025-06-01", "?before=-1", "?page_size=0", "?page_size=201"} {
		if rec := police.do(http.MethodGet, "/api/v1/console/audit"+q, nil); rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("audit %s: %d %s, want 422", q, rec.Code, rec.Body)
		}
	}
}

type chainCheck struct {
	ID      string `json:"id"`
	State   string `json:"state"`
	Checked int64  `json:"checked"`
	Total   int64  `json:"total"`
	BadSeq  *int64 `json:"bad_seq"`
}

// TestConsoleAuditChainCheck runs the chain check from the console: it
// answers at once with the running check, and the poll ends intact with
// every entry counted.
func TestConsoleAuditChainCheck(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	police := ts.loginConsole(demo.StaffPoliceAdmin, demo.DemoStaffPassword, "")
	rec := police.do(http.MethodPost, "/api/v1/console/audit/chain-checks", nil)
	var started chainCheck
	decodeJSON(t, rec, &started)
	if rec.Code != http.StatusAccepted || started.ID == "" || started.State != "running" {
		t.Fatalf("start: %d %s", rec.Code, rec.Body)
	}
	ts.deps.Console.AuditChecks.Wait()
	n, err := ts.store.VerifyAudit(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	rec = police.do(http.MethodGet, "/api/v1/console/audit/chain-checks/"+started.ID, nil)
	var done chainCheck
	decodeJSON(t, rec, &done)
	if rec.Code != http.StatusOK || done.State != "intact" || done.Checked != n || done.Total != n || done.BadSeq != nil {
		t.Fatalf("poll: %d %s, want intact with %d entries", rec.Code, rec.Body, n)
	}
	if rec := police.do(http.MethodGet, "/api/v1/console/audit/chain-checks/no-such-check", nil); rec.Code != http.StatusNotFound {
		t.Fatalf("unknown check: %d", rec.Code)
	}
	if rec := ts.consoleDo(http.MethodPost, "/api/v1/console/audit/chain-checks", nil, police.cookie, ""); rec.Code != http.StatusForbidden {
		t.Fatalf("start without CSRF: %d", rec.Code)
	}
}
