package importer_test

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/glebarez/go-sqlite" // raw connections to count rows
	_ "github.com/go-sql-driver/mysql"
	"github.com/xuri/excelize/v2"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/ident"
	"github.com/yangcheng-county/elicence/internal/importer"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/seal"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
)

// env is a seeded store of one driver plus a raw connection to count rows
// behind the store's back.
type env struct {
	st  *store.Store
	raw *sql.DB
	im  *importer.Importer
	dir string
}

func newEnv(t testing.TB, driver string) *env {
	t.Helper()
	dsn := storetest.DSN(t, driver)
	st := storetest.Seeded(t, driver, dsn, time.Now())
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	im, err := importer.New(st, storetest.SealDemo(t, st, nil).Signing)
	if err != nil {
		t.Fatal(err)
	}
	return &env{st: st, raw: raw, im: im, dir: t.TempDir()}
}

func (e *env) count(t testing.TB, query string) int {
	t.Helper()
	var n int
	if err := e.raw.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// counts is the state an import may change.
type counts struct{ licences, holders, events, audit, imports int }

func (e *env) counts(t testing.TB) counts {
	return counts{
		licences: e.count(t, "SELECT COUNT(*) FROM licences"),
		holders:  e.count(t, "SELECT COUNT(*) FROM holders"),
		events:   e.count(t, "SELECT COUNT(*) FROM licence_events"),
		audit:    e.count(t, "SELECT COUNT(*) FROM audit_events"),
		imports:  e.count(t, "SELECT COUNT(*) FROM audit_events WHERE action = 'licence.import' AND actor = 'cli:import'"),
	}
}

// residentID builds a valid GB 11643 number for person n.
func residentID(n int) string {
	birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n/100)
	first17 := fmt.Sprintf("140522%s%03d", birth.Format("20060102"), n%100+100)
	c, err := ident.ResidentIDCheckChar(first17)
	if err != nil {
		panic(err)
	}
	return first17 + string(c)
}

// wrongCheck returns id with a check character that does not fit.
func wrongCheck(id string) string {
	last := id[17]
	for _, c := range "0123456789X" {
		if byte(c) != last {
			return id[:17] + string(c)
		}
	}
	panic("unreachable")
}

var header = importer.Columns

// stock is a generated import file and what it should do.
type stock struct {
	rows       [][]string
	wantReject map[int]string // file row → code
	newHolders int            // distinct holders the good rows bring
}

// makeStock builds n rows of 不动产权证书 for 不动产登记中心. Every 50 rows
// hold four bad ones: a wrong GB 11643 check digit, an unknown type, an
// impossible date, and a repeat of the previous row's number. Every 100th
// row is for the demo holder 张三, who must be matched, not duplicated.
func makeStock(n int) stock {
	s := stock{wantReject: map[int]string{}}
	for i := range n {
		row := i + 2 // the header is row 1
		id := residentID(i)
		name := "持证人" + strconv.Itoa(i)
		if i%100 == 3 {
			id, name = demo.ZhangsanIDNumber, demo.ZhangsanName
		}
		fields, _ := json.Marshal(map[string]string{"right_holder": name, "location": "阳城县凤城镇" + strconv.Itoa(i) + "号", "area": "88.5㎡"})
		r := []string{demo.TypeRealEstateTitle, fmt.Sprintf("晋(2019)阳城县不动产权第%07d号", i), name, "111", id,
			"1390000" + fmt.Sprintf("%04d", i%10000), "2019-06-01", "", "", string(fields)}
		switch i % 50 {
		case 7:
			r[4] = wrongCheck(id)
			s.wantReject[row] = licence.CodeInvalidIDNumber
		case 19:
			r[0] = demo.USCCRealEstateCentre + "999"
			s.wantReject[row] = importer.CodeUnknownType
		case 31:
			r[6] = "2019-02-30"
			s.wantReject[row] = licence.CodeInvalidDate
		case 43:
			r = append([]string(nil), s.rows[i-1]...)
			s.wantReject[row] = importer.CodeDuplicateInFile
		default:
			if i%100 != 3 {
				s.newHolders++
			}
		}
		s.rows = append(s.rows, r)
	}
	return s
}

func writeCSV(t testing.TB, path string, rows [][]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\uFEFF") // as spreadsheet programs save "CSV UTF-8"
	w := csv.NewWriter(f)
	w.Write(header)
	w.WriteAll(rows)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// idNumberPattern finds a resident ID number standing on its own in a text.
var idNumberPattern = regexp.MustCompile(`(^|[^0-9A-Z])[0-9]{17}[0-9X]($|[^0-9A-Z])`)

// readErrors reads an error file into row → codes.
func readErrors(t testing.TB, path string) map[int][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 || !reflect.DeepEqual(recs[0], []string{"row", "column", "code", "message"}) {
		t.Fatalf("error file header: %v", recs[:min(1, len(recs))])
	}
	out := map[int][]string{}
	prev := 0
	for _, r := range recs[1:] {
		row, err := strconv.Atoi(r[0])
		if err != nil || row < prev {
			t.Fatalf("error file rows out of order or not numbers: %v", r)
		}
		prev = row
		if r[3] == "" || idNumberPattern.MatchString(r[3]) {
			t.Errorf("row %d: message %q empty or quoting an ID number", row, r[3])
		}
		out[row] = append(out[row], r[2])
	}
	return out
}

func wantErrors(t testing.TB, got map[int][]string, want map[int]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("error file has %d rows, want %d", len(got), len(want))
	}
	for row, code := range want {
		if len(got[row]) != 1 || got[row][0] != code {
			t.Errorf("row %d: codes %v, want [%s]", row, got[row], code)
		}
	}
	for row, codes := range got {
		if _, ok := want[row]; !ok {
			t.Errorf("row %d rejected (%v) but is good", row, codes)
		}
	}
}

func (e *env) importFile(t testing.TB, path string, dry bool) importer.Summary {
	t.Helper()
	sum, err := e.im.ImportFile(context.Background(), demo.USCCRealEstateCentre, path, importer.Options{DryRun: dry, BatchSize: 128})
	if err != nil {
		t.Fatalf("import %s: %v", filepath.Base(path), err)
	}
	return sum
}

// TestImportStock: of 1,000 rows exactly the 80 bad ones are rejected,
// with their row numbers and codes; the rest are imported with holders
// created or matched, history lines and one audit event per batch; a
// second run changes nothing; a changed row then conflicts.
func TestImportStock(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := context.Background()
			s := makeStock(1000)
			path := filepath.Join(e.dir, "stock.csv")
			writeCSV(t, path, s.rows)
			before := e.counts(t)

			sum := e.importFile(t, path, false)
			want := importer.Summary{Imported: 1000 - len(s.wantReject), Rejected: len(s.wantReject), ErrorFile: path + importer.ErrorFileSuffix}
			if sum != want {
				t.Fatalf("summary %+v, want %+v", sum, want)
			}
			wantErrors(t, readErrors(t, sum.ErrorFile), s.wantReject)
			after := e.counts(t)
			batches := (sum.Imported + 127) / 128 // rows per batch are good rows only
			if d := (counts{after.licences - before.licences, after.holders - before.holders, after.events - before.events,
				after.audit - before.audit, after.imports - before.imports}); d != (counts{sum.Imported, s.newHolders, sum.Imported, batches, batches}) {
				t.Errorf("rows added %+v, want licences %d holders %d events %d audit %d", d, sum.Imported, s.newHolders, sum.Imported, batches)
			}
			if n, err := e.st.VerifyAudit(ctx); err != nil {
				t.Fatalf("audit chain after import: %d %v", n, err)
			}
			// Every imported version carries its issuer's seal, and the
			// scan's check holds for it (a sample: a new holder's and
			// an existing holder's rows among them).
			signing := storetest.SealDemo(t, e.st, nil).Signing
			for i := 0; i < len(s.rows); i += 37 {
				if _, rejected := s.wantReject[i+2]; rejected {
					continue
				}
				ls, err := e.st.CurrentByNumber(ctx, s.rows[i][0], s.rows[i][1])
				if err != nil || len(ls) != 1 {
					t.Fatalf("licence of row %d: %v %v", i+2, ls, err)
				}
				v, err := e.st.View(ctx, ls[0].ID)
				if err != nil {
					t.Fatal(err)
				}
				if got, err := signing.Check(ctx, v); err != nil || !got.OK || got.Reason != "" {
					t.Errorf("seal check of row %d: %+v %v", i+2, got, err)
				}
			}

			// Row 2 (i=0) as stored: sealed number found by its index, holder
			// matched by blind index, long-term, valid, version 1, history.
			ls, err := e.st.CurrentByNumber(ctx, demo.TypeRealEstateTitle, s.rows[0][1])
			if err != nil || len(ls) != 1 {
				t.Fatalf("licence of row 2: %v %v", ls, err)
			}
			l := ls[0]
			if l.Status != licence.StatusValid || l.Version != 1 || l.ValidUntil != nil || l.IssuedOn.Format(time.DateOnly) != "2019-06-01" ||
				l.ValidFrom.Format(time.DateOnly) != "2019-06-01" || l.Face["right_holder"] != "持证人0" {
				t.Errorf("licence of row 2: %+v", l)
			}
			if p, err := ident.ParseLicenceIdentifier(l.Identifier); err != nil || p.Version != 1 || !strings.HasPrefix(p.Serial, "IM") {
				t.Errorf("identifier %s: %+v %v", l.Identifier, p, err)
			}
			h, err := e.st.HolderByIDNumber(ctx, "111", residentID(0))
			if err != nil || h.ID != l.HolderID || h.Name != "持证人0" || h.Phone != "13900000000" || h.Kind != licence.HolderPerson {
				t.Errorf("holder of row 2: %+v %v (licence holder %d)", h, err, l.HolderID)
			}
			hist, err := e.st.History(ctx, l.ID)
			if err != nil || len(hist) != 1 || hist[0].Action != licence.ActionImport || hist[0].ToStatus != licence.StatusValid || hist[0].Actor != "cli:import" {
				t.Errorf("history: %+v %v", hist, err)
			}
			zs, err := e.st.HolderByIDNumber(ctx, "111", demo.ZhangsanIDNumber)
			if err != nil {
				t.Fatal(err)
			}
			if mine, err := e.st.LicencesByHolder(ctx, zs.ID); err != nil || len(mine) != 3+10 {
				t.Errorf("张三 has %d licences, want his 3 demo ones and 10 imported: %v", len(mine), err)
			}

			// Second run: nothing new, nothing written, same rejections.
			again := e.importFile(t, path, false)
			if again != (importer.Summary{Unchanged: sum.Imported, Rejected: sum.Rejected, ErrorFile: sum.ErrorFile}) {
				t.Errorf("re-import: %+v", again)
			}
			if c := e.counts(t); c != after {
				t.Errorf("re-import changed the database: %+v → %+v", after, c)
			}

			// A row whose content changed conflicts with what is there; the
			// clean file without the bad rows leaves no error file behind.
			var good [][]string
			for i, r := range s.rows {
				if _, bad := s.wantReject[i+2]; !bad {
					good = append(good, r)
				}
			}
			good[0] = append([]string(nil), good[0]...)
			good[0][8] = "2039-06-01"
			writeCSV(t, path, good)
			third := e.importFile(t, path, false)
			if third != (importer.Summary{Unchanged: len(good) - 1, Rejected: 1, ErrorFile: sum.ErrorFile}) {
				t.Errorf("changed row: %+v", third)
			}
			wantErrors(t, readErrors(t, third.ErrorFile), map[int]string{2: importer.CodeConflictsExisting})
			writeCSV(t, path, good[1:])
			if last := e.importFile(t, path, false); last != (importer.Summary{Unchanged: len(good) - 1}) {
				t.Errorf("clean file: %+v", last)
			}
			if _, err := os.Stat(sum.ErrorFile); !os.IsNotExist(err) {
				t.Errorf("stale error file left behind: %v", err)
			}
		})
	}
}

// TestImportDryRunWritesNothing: a dry run reports what a real run would
// do and writes the error file, but not one row of the database.
func TestImportDryRunWritesNothing(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			s := makeStock(200)
			path := filepath.Join(e.dir, "stock.csv")
			writeCSV(t, path, s.rows)
			before := e.counts(t)
			sum := e.importFile(t, path, true)
			if sum.Imported != 200-len(s.wantReject) || sum.Rejected != len(s.wantReject) || sum.Unchanged != 0 {
				t.Errorf("dry run summary %+v", sum)
			}
			wantErrors(t, readErrors(t, sum.ErrorFile), s.wantReject)
			if c := e.counts(t); c != before {
				t.Errorf("dry run wrote: %+v → %+v", before, c)
			}
			// After the real run, a dry run sees every good row unchanged.
			e.importFile(t, path, false)
			mid := e.counts(t)
			if again := e.importFile(t, path, true); again.Unchanged != sum.Imported || again.Imported != 0 {
				t.Errorf("dry run after import: %+v", again)
			}
			if c := e.counts(t); c != mid {
				t.Errorf("second dry run wrote: %+v → %+v", mid, c)
			}
		})
	}
}

// TestImportXLSX reads the first sheet of a workbook: columns in another
// order, a date stored as a spreadsheet date, a date typed as text, a blank
// row (skipped, but counted in row numbers), and a bad row.
func TestImportXLSX(t *testing.T) {
	e := newEnv(t, store.DriverSQLite)
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	cols := []string{"licence_number", "type_code", "holder_name", "holder_id_type", "holder_id_number", "holder_phone",
		"issue_date", "valid_from", "valid_until", "fields"}
	set := func(row int, vals ...any) {
		cell, _ := excelize.CoordinatesToCellName(1, row)
		if err := f.SetSheetRow(sheet, cell, &vals); err != nil {
			t.Fatal(err)
		}
	}
	set(1, anySlice(cols)...)
	issued := time.Date(2018, 3, 15, 0, 0, 0, 0, time.UTC)
	set(2, "X-2018-0001", demo.TypeRealEstateTitle, "甲", "111", residentID(1), "", issued, "", "", `{"right_holder":"甲"}`)
	set(4, "X-2018-0002", demo.TypeRealEstateTitle, "乙", "111", wrongCheck(residentID(2)), "", "2018-03-16", "", "", "")
	set(5, "X-2018-0003", demo.TypeRealEstateTitle, "丙", "111", residentID(3), "", "2018-03-17", "2018-03-17", "2048-03-16", "")
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14}) // m/d/yy: the raw serial is read, not the display
	if err != nil {
		t.Fatal(err)
	}
	f.SetCellStyle(sheet, "G2", "G2", dateStyle)
	// A second sheet must be ignored.
	f.NewSheet("备注")
	f.SetCellValue("备注", "A1", "not data")
	path := filepath.Join(e.dir, "stock.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}

	sum := e.importFile(t, path, false)
	if sum.Imported != 2 || sum.Rejected != 1 {
		t.Fatalf("xlsx summary %+v", sum)
	}
	wantErrors(t, readErrors(t, sum.ErrorFile), map[int]string{4: licence.CodeInvalidIDNumber})
	ls, err := e.st.CurrentByNumber(context.Background(), demo.TypeRealEstateTitle, "X-2018-0001")
	if err != nil || len(ls) != 1 || ls[0].IssuedOn.Format(time.DateOnly) != "2018-03-15" {
		t.Fatalf("xlsx row 2: %+v %v", ls, err)
	}
	ls, err = e.st.CurrentByNumber(context.Background(), demo.TypeRealEstateTitle, "X-2018-0003")
	if err != nil || len(ls) != 1 || ls[0].ValidUntil == nil || ls[0].ValidUntil.Format(time.DateOnly) != "2048-03-16" {
		t.Fatalf("xlsx row 5: %+v %v", ls, err)
	}
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// TestImportRefusesBadFiles: a file that cannot be read as a whole is
// refused before anything is written.
func TestImportRefusesBadFiles(t *testing.T) {
	e := newEnv(t, store.DriverSQLite)
	write := func(name, content string) string {
		p := filepath.Join(e.dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	full := strings.Join(header, ",")
	cases := map[string]string{
		"wrong extension": write("stock.txt", full+"\n"),
		"empty":           write("empty.csv", ""),
		"missing column":  write("missing.csv", strings.Join(header[:9], ",")+"\n"),
		"unknown column":  write("unknown.csv", full+",valid_untill\n"), //nolint:misspell // the misspelling is the point
		"column twice":    write("twice.csv", full+",fields\n"),
		"not a workbook":  write("fake.xlsx", "PK not really"),
	}
	before := e.counts(t)
	for name, path := range cases {
		if _, err := e.im.ImportFile(context.Background(), demo.USCCRealEstateCentre, path, importer.Options{}); err == nil {
			t.Errorf("%s: imported", name)
		}
	}
	if _, err := e.im.ImportFile(context.Background(), "91350100M000100Y43", write("ok.csv", full+"\n"), importer.Options{}); err == nil ||
		!strings.Contains(err.Error(), "department not found") {
		t.Errorf("unknown department: %v", err)
	}
	if c := e.counts(t); c != before {
		t.Errorf("bad files wrote: %+v → %+v", before, c)
	}
}

// TestImportRowChecks covers the checks beyond ValidateIssue one row at a
// time: fields that are not a JSON object, a type another department
// issues, an organisation ID for a person's licence, valid_from defaulting
// to the issue date.
func TestImportRowChecks(t *testing.T) {
	e := newEnv(t, store.DriverSQLite)
	row := func(mod func(r []string)) []string {
		r := []string{demo.TypeRealEstateTitle, "N-1", "丁", "111", residentID(9), "", "2020-01-01", "", "", ""}
		mod(r)
		return r
	}
	rows := [][]string{
		row(func(r []string) { r[9] = `["not","an","object"]` }),
		row(func(r []string) { r[1] = "N-2"; r[9] = `{"right_holder":{"nested":1}}` }),
		row(func(r []string) { r[0] = demo.TypeDrivingLicence; r[1] = "N-3" }),
		row(func(r []string) { r[1] = "N-4"; r[3] = "001"; r[4] = "91350100M000100Y43" }),
		row(func(r []string) { r[1] = "N-5"; r[8] = "2019-12-31" }),
		row(func(r []string) { r[1] = "N-6"; r[9] = `{"no_such_field":"x"}` }),
		row(func(r []string) { r[1] = "N-7"; r[8] = "2030-01-01" }),
	}
	path := filepath.Join(e.dir, "rows.csv")
	writeCSV(t, path, rows)
	sum := e.importFile(t, path, false)
	if sum.Imported != 1 || sum.Rejected != 6 {
		t.Errorf("summary %+v", sum)
	}
	wantErrors(t, readErrors(t, sum.ErrorFile), map[int]string{
		2: importer.CodeInvalidFields, 3: importer.CodeInvalidFields, 4: importer.CodeTypeNotIssued,
		5: licence.CodeHolderKindMismatch, 6: licence.CodeDateOrder, 7: licence.CodeUnknownField,
	})
	ls, err := e.st.CurrentByNumber(context.Background(), demo.TypeRealEstateTitle, "N-7")
	if err != nil || len(ls) != 1 || ls[0].ValidFrom.Format(time.DateOnly) != "2020-01-01" {
		t.Errorf("valid_from default: %+v %v", ls, err)
	}
}

// TestFailedBatchWritesNothing: when a write of a batch fails (here a type
// the catalogue lacks, which only the database notices, as the importer's
// own check is bypassed), the batch's holders, licences, history lines and
// audit event are all rolled back.
func TestFailedBatchWritesNothing(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := context.Background()
			dept, err := e.st.DepartmentByUSCC(ctx, demo.USCCRealEstateCentre)
			if err != nil {
				t.Fatal(err)
			}
			item := func(row int, typeCode, number, id string) importer.Item {
				d := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
				return importer.Item{Row: row, Req: licence.IssueRequest{TypeCode: typeCode, Number: number,
					Holder: licence.Holder{Name: "戊", IDType: "111", IDNumber: id, Kind: licence.HolderPerson}, IssuedOn: d, ValidFrom: d}}
			}
			before := e.counts(t)
			_, err = e.st.ImportBatch(ctx, importer.Batch{Issuer: dept, Actor: "cli:import", Source: "t.csv", Items: []importer.Item{
				item(2, demo.TypeRealEstateTitle, "F-1", residentID(11)),
				item(3, demo.USCCRealEstateCentre+"998", "F-2", residentID(12)),
			}})
			if err == nil {
				t.Fatal("batch with a type the catalogue lacks was written")
			}
			if c := e.counts(t); c != before {
				t.Errorf("failed batch left rows: %+v → %+v", before, c)
			}
			if _, err := e.st.HolderByIDNumber(ctx, "111", residentID(11)); err == nil {
				t.Error("holder of the failed batch is on record")
			}
		})
	}
}

// TestImportNeedsASeal: rows of a type the department has no active seal
// for are rejected with no_signing_seal, and nothing is written unsigned.
func TestImportNeedsASeal(t *testing.T) {
	e := newEnv(t, store.DriverSQLite)
	ctx := context.Background()
	sl := storetest.SealDemo(t, e.st, nil)
	seals, err := sl.Registry.Seals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, se := range seals {
		if se.Department == "阳城县不动产登记中心" {
			if _, err := sl.Registry.Transition(ctx, "staff:test", se.ID, seal.Request{Action: seal.ActionCancel, Reason: "换发新章"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	st := makeStock(10)
	path := filepath.Join(e.dir, "stock.csv")
	writeCSV(t, path, st.rows)
	before := e.counts(t)
	sum := e.importFile(t, path, false)
	if sum.Imported != 0 || sum.Rejected != 10 {
		t.Fatalf("summary %+v", sum)
	}
	for row, codes := range readErrors(t, sum.ErrorFile) {
		if _, bad := st.wantReject[row]; !bad && !slices.Contains(codes, importer.CodeNoSigningSeal) {
			t.Errorf("row %d: codes %v, want %s", row, codes, importer.CodeNoSigningSeal)
		}
	}
	if after := e.counts(t); after != before {
		t.Errorf("rows written: %+v → %+v", before, after)
	}
}
