package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/bff/api"
	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/importer"
	"github.com/yangcheng-county/elicence/internal/staff"
	"github.com/yangcheng-county/elicence/internal/store"
)

// upload posts a file to the console's import route as the page does: a
// multipart form with the CSRF header.
func (c *console) upload(name, content string, dryRun bool) *httptest.ResponseRecorder {
	c.ts.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		c.ts.t.Fatal(err)
	}
	_, _ = fw.Write([]byte(content))
	_ = mw.WriteField("dry_run", strconv.FormatBool(dryRun))
	if err := mw.Close(); err != nil {
		c.ts.t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/api/v1/console/imports", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(&http.Cookie{Name: api.ConsoleCookie, Value: c.cookie})
	if c.csrf != "" {
		req.Header.Set(api.CSRFHeader, c.csrf)
	}
	w := httptest.NewRecorder()
	c.ts.router.ServeHTTP(w, req)
	return w
}

type importJob struct {
	ID        int64  `json:"id"`
	FileName  string `json:"file_name"`
	DryRun    bool   `json:"dry_run"`
	State     string `json:"state"`
	Total     int    `json:"total"`
	Done      int    `json:"done"`
	Imported  int    `json:"imported"`
	Unchanged int    `json:"unchanged"`
	Rejected  int    `json:"rejected"`
	Failure   string `json:"failure"`
}

// finished polls the job until it is no longer running. The import runs
// in the background; the bound only keeps a broken import from hanging the
// test, it asserts nothing about speed.
func (c *console) finished(id int64) importJob {
	c.ts.t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		w := c.do(http.MethodGet, "/api/v1/console/imports/"+strconv.FormatInt(id, 10), nil)
		var j importJob
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &j) != nil {
			c.ts.t.Fatalf("import %d: %d %s", id, w.Code, w.Body)
		}
		if j.State != "running" {
			return j
		}
	}
	c.ts.t.Fatalf("import %d still running", id)
	return importJob{}
}

const (
	importHead  = "type_code,licence_number,holder_name,holder_id_type,holder_id_number,holder_phone,issue_date,valid_from,valid_until,fields\n"
	estateTitle = demo.USCCRealEstateCentre + "001"
)

// stockCSV has one good row (row 2) and two bad ones: an invalid ID
// number (row 3) and a type the real-estate centre does not issue (row 4).
const stockCSV = importHead +
	estateTitle + ",晋(2019)阳城县不动产权第0000201号,周七,111,11010519491231002x,13900000007,2019-06-02,2019-06-02,2049-06-01,{}\n" +
	estateTitle + ",晋(2019)阳城县不动产权第0000202号,吴八,111,110105194912310020,,2019-06-03,,,{}\n" +
	demo.TypeDrivingLicence + ",140522198503120099,郑九,111,11010519491231002x,,2019-06-03,2019-06-03,2029-06-03,{}\n"

func TestConsoleImport(t *testing.T) {
	for _, driver := range []string{store.DriverSQLite, store.DriverMySQL} {
		t.Run(driver, func(t *testing.T) { testConsoleImport(t, driver) })
	}
}

func testConsoleImport(t *testing.T, driver string) {
	ts := newTestServer(t, testServerOpts{Driver: driver})
	clerk := ts.loginConsole(demo.StaffEstateClerk, demo.DemoStaffPassword, "")
	start := func(name, content string, dryRun bool) importJob {
		t.Helper()
		w := clerk.upload(name, content, dryRun)
		var j importJob
		if w.Code != http.StatusAccepted || json.Unmarshal(w.Body.Bytes(), &j) != nil || j.State != "running" || j.FileName != name {
			t.Fatalf("upload %s: %d %s", name, w.Code, w.Body)
		}
		return clerk.finished(j.ID)
	}
	search := func() string {
		t.Helper()
		w := clerk.do(http.MethodGet, "/api/v1/console/licences?number="+"晋(2019)阳城县不动产权第0000201号", nil)
		return w.Body.String()
	}

	// The dry run counts and reports, and writes no licence.
	dry := start("存量.csv", stockCSV, true)
	if dry.State != "done" || !dry.DryRun || dry.Imported != 1 || dry.Rejected != 2 || dry.Done != 3 || dry.Total != 3 {
		t.Fatalf("dry run: %+v", dry)
	}
	if !strings.Contains(search(), `"total":0`) {
		t.Fatal("a dry run wrote a licence")
	}
	errorRows := func(j importJob) [][]string {
		t.Helper()
		w := clerk.do(http.MethodGet, "/api/v1/console/imports/"+strconv.FormatInt(j.ID, 10)+"/errors", nil)
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") ||
			!strings.Contains(w.Header().Get("Content-Disposition"), "attachment") {
			t.Fatalf("errors of %d: %d %v %s", j.ID, w.Code, w.Header(), w.Body)
		}
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(w.Body.String(), "\uFEFF"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	// The error file is the command's: a header, then row, column, code, message.
	rows := errorRows(dry)
	if len(rows) != 3 || strings.Join(rows[0], ",") != "row,column,code,message" ||
		rows[1][0] != "3" || rows[1][2] != "invalid_id_number" || rows[2][0] != "4" || rows[2][2] != importer.CodeTypeNotIssued {
		t.Fatalf("error file: %q", rows)
	}

	// The import writes the good row, audited as the clerk.
	live := start("存量.csv", stockCSV, false)
	if live.State != "done" || live.DryRun || live.Imported != 1 || live.Rejected != 2 || len(errorRows(live)) != 3 {
		t.Fatalf("import: %+v", live)
	}
	if !strings.Contains(search(), `"total":1`) {
		t.Fatalf("the imported licence is not found: %s", search())
	}
	entries, err := ts.store.AuditByObjects(t.Context(), []string{"import:" + strconv.FormatInt(live.ID, 10)}, 10)
	if err != nil || len(entries) != 2 || entries[0].Action != "import.finish" || entries[1].Actor != "staff:"+demo.StaffEstateClerk {
		t.Fatalf("audit of the import: %v %+v", err, entries)
	}
	// A file with no rejected row has no error file.
	again := start("存量.csv", importHead+strings.Split(stockCSV, "\n")[1]+"\n", false)
	if again.Unchanged != 1 || again.Rejected != 0 {
		t.Fatalf("re-import: %+v", again)
	}
	if w := clerk.do(http.MethodGet, "/api/v1/console/imports/"+strconv.FormatInt(again.ID, 10)+"/errors", nil); w.Code != http.StatusNotFound {
		t.Fatalf("errors of a clean import: %d", w.Code)
	}
	// The page finds its imports again after a reload.
	w := clerk.do(http.MethodGet, "/api/v1/console/imports", nil)
	if w.Code != http.StatusOK || strings.Count(w.Body.String(), `"id":`) != 3 {
		t.Fatalf("list: %d %s", w.Code, w.Body)
	}

	// Files that cannot be imported at all are refused before any job.
	for name, content := range map[string]string{
		"notes.txt":  stockCSV,
		"header.csv": "type_code,licence_no\n1,2\n",
		"empty.csv":  "",
	} {
		w := clerk.upload(name, content, true)
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `"bad_file"`) {
			t.Errorf("%s: %d %s", name, w.Code, w.Body)
		}
	}
	if w := clerk.do(http.MethodPost, "/api/v1/console/imports", map[string]string{}); w.Code != http.StatusUnprocessableEntity {
		t.Errorf("no file: %d %s", w.Code, w.Body)
	}
	noCSRF := &console{ts: ts, cookie: clerk.cookie}
	if w := noCSRF.upload("存量.csv", stockCSV, true); w.Code != http.StatusForbidden || errorCode(w) != "csrf_failed" {
		t.Errorf("upload without the CSRF token: %d %s", w.Code, w.Body)
	}

	// Another department finds none of these imports.
	police := ts.loginConsole(demo.StaffPoliceAdmin, demo.DemoStaffPassword, "")
	for _, p := range []string{"", "/errors"} {
		if w := police.do(http.MethodGet, "/api/v1/console/imports/"+strconv.FormatInt(dry.ID, 10)+p, nil); w.Code != http.StatusNotFound {
			t.Errorf("another department's import%s: %d", p, w.Code)
		}
	}
	if w := police.do(http.MethodGet, "/api/v1/console/imports", nil); !strings.Contains(w.Body.String(), `"items":[]`) {
		t.Errorf("another department's list: %s", w.Body)
	}
}

// TestConsoleImportOneAtATime: a second import while one runs is refused;
// a job whose instance went away reads as interrupted and blocks nothing.
func TestConsoleImportOneAtATime(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	clerk := ts.loginConsole(demo.StaffEstateClerk, demo.DemoStaffPassword, "")
	dept, err := ts.store.DepartmentByUSCC(t.Context(), demo.USCCRealEstateCentre)
	if err != nil {
		t.Fatal(err)
	}
	now := ts.clock.Now()
	// A job some other instance is running.
	other, err := ts.store.StartImportJob(t.Context(), importer.Job{DepartmentID: dept.ID, Actor: "staff:x", FileName: "a.csv",
		State: importer.JobRunning, CreatedAt: now, UpdatedAt: now}, now.Add(-importer.StaleAfter),
		func(id int64) audit.Event { return audit.Event{At: now, Actor: "staff:x", Action: "import.start"} })
	if err != nil {
		t.Fatal(err)
	}
	if w := clerk.upload("存量.csv", stockCSV, true); w.Code != http.StatusConflict || errorCode(w) != "import_running" {
		t.Fatalf("a second import: %d %s", w.Code, w.Body)
	}
	ts.clock.Add(importer.StaleAfter + time.Second)
	w := clerk.do(http.MethodGet, "/api/v1/console/imports/"+strconv.FormatInt(other.ID, 10), nil)
	if !strings.Contains(w.Body.String(), `"state":"interrupted"`) {
		t.Fatalf("a job without a heartbeat: %s", w.Body)
	}
	if w := clerk.upload("存量.csv", stockCSV, true); w.Code != http.StatusAccepted {
		t.Fatalf("an import after an interrupted one: %d %s", w.Code, w.Body)
	}
	var j importJob
	_ = json.Unmarshal(w.Body.Bytes(), &j)
	clerk.finished(j.ID)
}

type invitation struct {
	URL   string `json:"url"`
	QR    string `json:"qr_png"`
	Token string
}

func (c *console) invite(name string) invitation {
	c.ts.t.Helper()
	w := c.do(http.MethodPost, "/api/v1/console/officers/invites", map[string]string{"name": name})
	var inv invitation
	if w.Code != http.StatusCreated || json.Unmarshal(w.Body.Bytes(), &inv) != nil ||
		!strings.HasPrefix(inv.URL, c.ts.publicURL+"/officer/invite/") || !strings.HasPrefix(inv.QR, "data:image/png;base64,") {
		c.ts.t.Fatalf("invite %s: %d %s", name, w.Code, w.Body)
	}
	inv.Token = strings.TrimPrefix(inv.URL, c.ts.publicURL+"/officer/invite/")
	return inv
}

func TestConsoleOfficers(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	admin := ts.loginConsole(demo.StaffPoliceAdmin, demo.DemoStaffPassword, "")
	inv := admin.invite("王警官")
	w := admin.do(http.MethodGet, "/api/v1/console/officers", nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"name":"王警官"`) || !strings.Contains(w.Body.String(), demo.OfficerPolice) {
		t.Fatalf("list: %d %s", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), inv.Token) {
		t.Fatal("the list shows an invitation's token")
	}

	// 李四, a citizen, opens the link in WeChat: login first, then accept.
	path := "/api/v1/officer-invites/" + inv.Token
	if w := ts.do(http.MethodPost, path+"/accept", nil, ""); w.Code != http.StatusUnauthorized {
		t.Fatalf("accept without login: %d", w.Code)
	}
	lisi := ts.login(demo.CitizenLisi)
	if w := ts.do(http.MethodGet, "/api/v1/officer/context", nil, lisi); w.Code != http.StatusForbidden {
		t.Fatalf("李四 an officer before accepting: %d", w.Code)
	}
	if w := ts.do(http.MethodGet, path, nil, lisi); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "阳城县公安局交通管理大队") {
		t.Fatalf("peek: %d %s", w.Code, w.Body)
	}
	if w := ts.do(http.MethodPost, path+"/accept", nil, lisi); w.Code != http.StatusOK {
		t.Fatalf("accept: %d %s", w.Code, w.Body)
	}
	if w := ts.do(http.MethodGet, "/api/v1/officer/context", nil, lisi); w.Code != http.StatusOK {
		t.Fatalf("李四 not an officer after accepting: %d %s", w.Code, w.Body)
	}
	// Single use: the link is spent, for 李四 and for anyone else.
	wangwu := ts.login(demo.CitizenWangwu)
	for _, who := range []string{lisi, wangwu} {
		if w := ts.do(http.MethodPost, path+"/accept", nil, who); w.Code != http.StatusGone || errorCode(w) != "invite_used" {
			t.Errorf("a used invitation: %d %s", w.Code, w.Body)
		}
	}
	if w := ts.do(http.MethodGet, path, nil, wangwu); errorCode(w) != "invite_used" {
		t.Errorf("peek of a used invitation: %d %s", w.Code, w.Body)
	}
	if w := ts.do(http.MethodPost, "/api/v1/officer-invites/not-a-token/accept", nil, wangwu); w.Code != http.StatusNotFound {
		t.Errorf("an unknown invitation: %d", w.Code)
	}
	// An officer already bound elsewhere is not moved, and the invitation
	// stays open for the one it was meant for.
	second := admin.invite("赵警官")
	housing := ts.login(demo.OfficerHousing)
	if w := ts.do(http.MethodPost, "/api/v1/officer-invites/"+second.Token+"/accept", nil, housing); w.Code != http.StatusConflict || errorCode(w) != "already_officer" {
		t.Errorf("an officer of another department: %d %s", w.Code, w.Body)
	}
	// 24 hours later the invitation is dead. (Every session has ended by
	// then too: everyone logs in again.)
	ts.clock.Add(24 * time.Hour)
	admin = ts.loginConsole(demo.StaffPoliceAdmin, demo.DemoStaffPassword, "")
	lisi, wangwu = ts.login(demo.CitizenLisi), ts.login(demo.CitizenWangwu)
	if w := ts.do(http.MethodPost, "/api/v1/officer-invites/"+second.Token+"/accept", nil, wangwu); w.Code != http.StatusGone || errorCode(w) != "invite_expired" {
		t.Errorf("an expired invitation: %d %s", w.Code, w.Body)
	}
	if w := ts.do(http.MethodGet, "/api/v1/officer/context", nil, wangwu); w.Code != http.StatusForbidden {
		t.Errorf("王五 became an officer through an expired invitation: %d", w.Code)
	}
	if w := admin.do(http.MethodPost, "/api/v1/console/officers/invites", map[string]string{"name": " "}); w.Code != http.StatusUnprocessableEntity {
		t.Errorf("an invitation without a name: %d", w.Code)
	}

	// Another department's admin cannot remove 李四; his own can, at once.
	_, pw := ts.addStaff("estate-admin", staff.RoleDepartmentAdmin, demo.USCCRealEstateCentre)
	estate := ts.loginConsole("estate-admin", pw, "")
	if w := estate.do(http.MethodDelete, "/api/v1/console/officers/"+demo.CitizenLisi, nil); w.Code != http.StatusNotFound {
		t.Fatalf("removal by another department: %d %s", w.Code, w.Body)
	}
	if w := estate.do(http.MethodGet, "/api/v1/console/officers", nil); strings.Contains(w.Body.String(), demo.CitizenLisi) {
		t.Fatalf("another department lists 李四: %s", w.Body)
	}
	if w := admin.do(http.MethodDelete, "/api/v1/console/officers/"+demo.CitizenLisi, nil); w.Code != http.StatusNoContent {
		t.Fatalf("remove: %d %s", w.Code, w.Body)
	}
	if w := ts.do(http.MethodGet, "/api/v1/officer/context", nil, lisi); w.Code != http.StatusForbidden || errorCode(w) != "not_officer" {
		t.Fatalf("李四's session after removal: %d %s", w.Code, w.Body)
	}
	if w := admin.do(http.MethodDelete, "/api/v1/console/officers/"+demo.CitizenLisi, nil); w.Code != http.StatusNotFound {
		t.Fatalf("remove twice: %d", w.Code)
	}
	entries, err := ts.store.AuditByObjects(t.Context(), []string{"officer:" + demo.CitizenLisi}, 10)
	// Newest first.
	if err != nil || len(entries) != 2 || entries[1].Action != "officer.add" || entries[0].Action != "officer.remove" ||
		entries[0].Actor != "staff:"+demo.StaffPoliceAdmin {
		t.Fatalf("audit: %v %+v", err, entries)
	}
	ts.assertNoSecrets(inv.Token, second.Token)
}

type credentials struct {
	AppID     string `json:"app_id"`
	AppSecret string `json:"app_secret"`
}

func TestConsoleApps(t *testing.T) {
	ts := newTestServer(t, testServerOpts{})
	admin := ts.loginConsole(demo.StaffPoliceAdmin, demo.DemoStaffPassword, "")
	secretOf := func(w *httptest.ResponseRecorder, want int) credentials {
		t.Helper()
		var cred credentials
		if w.Code != want || json.Unmarshal(w.Body.Bytes(), &cred) != nil || cred.AppSecret == "" || w.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("credentials: %d %s", w.Code, w.Body)
		}
		if _, stored, err := ts.store.AppSecret(t.Context(), cred.AppID); err != nil || stored != cred.AppSecret {
			t.Fatalf("the shown secret is not the stored one: %v", err)
		}
		return cred
	}
	cred := secretOf(admin.do(http.MethodPost, "/api/v1/console/apps", map[string]string{"name": "交管业务系统"}), http.StatusCreated)
	w := admin.do(http.MethodGet, "/api/v1/console/apps", nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), cred.AppID) || strings.Contains(w.Body.String(), cred.AppSecret) {
		t.Fatalf("list: %d %s", w.Code, w.Body)
	}
	rotated := secretOf(admin.do(http.MethodPost, "/api/v1/console/apps/"+cred.AppID+"/rotate-secret", nil), http.StatusOK)
	if rotated.AppID != cred.AppID || rotated.AppSecret == cred.AppSecret {
		t.Fatalf("rotation: %+v after %+v", rotated, cred)
	}

	// Another department's admin finds no such app.
	_, pw := ts.addStaff("estate-admin", staff.RoleDepartmentAdmin, demo.USCCRealEstateCentre)
	estate := ts.loginConsole("estate-admin", pw, "")
	for _, p := range []string{"/rotate-secret", "/disable"} {
		if w := estate.do(http.MethodPost, "/api/v1/console/apps/"+cred.AppID+p, nil); w.Code != http.StatusNotFound {
			t.Errorf("%s by another department: %d %s", p, w.Code, w.Body)
		}
	}
	if w := estate.do(http.MethodGet, "/api/v1/console/apps", nil); strings.Contains(w.Body.String(), cred.AppID) {
		t.Errorf("another department lists the app: %s", w.Body)
	}

	if w := admin.do(http.MethodPost, "/api/v1/console/apps/"+cred.AppID+"/disable", nil); w.Code != http.StatusNoContent {
		t.Fatalf("disable: %d %s", w.Code, w.Body)
	}
	for _, p := range []string{"/rotate-secret", "/disable"} {
		if w := admin.do(http.MethodPost, "/api/v1/console/apps/"+cred.AppID+p, nil); w.Code != http.StatusConflict || errorCode(w) != "app_disabled" {
			t.Errorf("%s of a disabled app: %d %s", p, w.Code, w.Body)
		}
	}
	if w := admin.do(http.MethodGet, "/api/v1/console/apps", nil); !strings.Contains(w.Body.String(), `"disabled":true`) {
		t.Errorf("list after disable: %s", w.Body)
	}
	if w := admin.do(http.MethodPost, "/api/v1/console/apps", map[string]string{"name": ""}); w.Code != http.StatusUnprocessableEntity {
		t.Errorf("an app without a name: %d", w.Code)
	}
	entries, err := ts.store.AuditByObjects(t.Context(), []string{"app:" + cred.AppID}, 10)
	if err != nil || len(entries) != 3 {
		t.Fatalf("audit: %v %+v", err, entries)
	}
	for i, action := range []string{"app.disable", "app.rotate_secret", "app.add"} { // newest first
		if entries[i].Action != action || entries[i].Actor != "staff:"+demo.StaffPoliceAdmin {
			t.Errorf("audit %d: %+v, want %s", i, entries[i], action)
		}
	}
	ts.assertNoSecrets(cred.AppSecret, rotated.AppSecret)
}
