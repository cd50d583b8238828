package stats_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/yangcheng-county/elicence/internal/stats"
)

// exportReport is a county report with every kind of cell: counts, a rate
// with and without a denominator, a missing baseline, and a purpose with a
// comma and a quote that CSV must escape.
func exportReport(t *testing.T) stats.Report {
	t.Helper()
	deps := []stats.DepartmentMonth{
		{DepartmentID: 1, Name: "县市场监督管理局", Issued: 3, Imported: 2, IssuedOnMonth: 4, Synced: 3, StockImported: 30, StockBaseline: i64(120),
			Held: 8, HeldVerified: 2, RemindersSent: 5, RemindersDelivered: 4, NoticesSent: 1, NoticesDelivered: 1},
		{DepartmentID: 2, Name: "县农商银行", Verifications: 7, Valid: 4, Invalid: 2, Refused: 1},
	}
	vs := []stats.VerificationCount{
		{DepartmentID: 2, Department: "县农商银行", Result: "valid", Purpose: `开户, "对公"`, Count: 4},
		{DepartmentID: 2, Department: "县农商银行", Result: "invalid", Purpose: "贷款", Count: 3},
	}
	svc, err := stats.NewService(&fakeRepo{figures: stats.Figures{Departments: deps, Verifications: vs}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := svc.County(t.Context(), stats.Month{Year: 2025, Month: time.June})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wantRows is the department table as its figures say it should read,
// independently of the export code: the column order of the header.
func wantDepartmentRows(r stats.Report) [][]string {
	row := func(d stats.DepartmentMonth) []string {
		n := func(v int64) string { return strconv.FormatInt(v, 10) }
		baseline, progress := "", ""
		if d.StockBaseline != nil {
			baseline = n(*d.StockBaseline)
			progress = strconv.FormatFloat(float64(d.StockImported)/float64(*d.StockBaseline), 'f', 4, 64)
		}
		ratio := func(a, b int64) string {
			if b == 0 {
				return ""
			}
			return strconv.FormatFloat(float64(a)/float64(b), 'f', 4, 64)
		}
		return []string{"2025-06", d.Name, n(d.Issued), n(d.Imported), n(d.Issued + d.Imported), n(d.IssuedOnMonth), n(d.Synced),
			ratio(d.Synced, d.IssuedOnMonth), n(d.StockImported), baseline, progress, n(d.Held), n(d.HeldVerified), ratio(d.HeldVerified, d.Held),
			n(d.Verifications), n(d.Valid), n(d.Invalid), n(d.Refused),
			n(d.RemindersSent), n(d.RemindersDelivered), n(d.NoticesSent), n(d.NoticesDelivered)}
	}
	var out [][]string
	for _, d := range r.Departments {
		out = append(out, row(d))
	}
	return append(out, row(*r.County))
}

func TestCSVExport(t *testing.T) {
	r := exportReport(t)
	tables := r.Tables()
	if len(tables) != 2 || tables[0].Name != "departments" || tables[1].Name != "verifications" {
		t.Fatalf("tables: %+v", tables)
	}
	want := map[string][][]string{
		"departments": wantDepartmentRows(r),
		"verifications": {
			{"2025-06", "县农商银行", "valid", `开户, "对公"`, "4"},
			{"2025-06", "县农商银行", "invalid", "贷款", "3"},
		},
	}
	for _, tb := range tables {
		var buf bytes.Buffer
		if err := stats.WriteCSV(&buf, tb); err != nil {
			t.Fatal(err)
		}
		body, ok := strings.CutPrefix(buf.String(), "\uFEFF")
		if !ok {
			t.Errorf("%s: no byte order mark", tb.Name)
		}
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", tb.Name, err)
		}
		if strings.Join(recs[0], "|") != strings.Join(tb.Header, "|") {
			t.Errorf("%s header %v", tb.Name, recs[0])
		}
		got := recs[1:]
		if len(got) != len(want[tb.Name]) {
			t.Fatalf("%s: %d rows, want %d", tb.Name, len(got), len(want[tb.Name]))
		}
		for i := range got {
			if strings.Join(got[i], "|") != strings.Join(want[tb.Name][i], "|") {
				t.Errorf("%s row %d:\n got %q\nwant %q", tb.Name, i+1, got[i], want[tb.Name][i])
			}
		}
	}
	// The county row is last and sums the departments.
	last := wantDepartmentRows(r)[2]
	if last[1] != stats.CountyName || last[2] != "3" || last[14] != "7" {
		t.Errorf("county row %v", last)
	}
}

// TestXLSXExport reads the workbook back with excelize and compares every
// figure: counts and rates are numbers (rates formatted as percentages),
// a missing figure an empty cell.
func TestXLSXExport(t *testing.T) {
	r := exportReport(t)
	var buf bytes.Buffer
	if err := stats.WriteXLSX(&buf, r.Tables()...); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); strings.Join(got, "|") != "部门统计|核验统计" {
		t.Fatalf("sheets %v", got)
	}
	rows, err := f.GetRows("部门统计", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	want := wantDepartmentRows(r)
	if len(rows) != len(want)+1 {
		t.Fatalf("%d rows, want %d and the header", len(rows), len(want))
	}
	for i, w := range want {
		got := rows[i+1]
		for j, cell := range w {
			g := ""
			if j < len(got) {
				g = got[j]
			}
			if !sameFigure(g, cell) {
				t.Errorf("row %d column %s: %q, want %q", i+1, rows[0][j], g, cell)
			}
		}
	}
	// Numbers, not text: a spreadsheet sums the columns as they are.
	for _, c := range []string{"C2", "H2", "N4"} {
		if typ, err := f.GetCellType("部门统计", c); err != nil || typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
			t.Errorf("%s is of type %v (%v), want a number", c, typ, err)
		}
	}
	if v, _ := f.GetCellValue("部门统计", "H2"); v != "75.00%" {
		t.Errorf("同步生成率 of row 2 shows %q, want 75.00%%", v)
	}
	if v, _ := f.GetCellValue("部门统计", "H3"); v != "" {
		t.Errorf("a rate without a denominator shows %q, want an empty cell", v)
	}
	ver, err := f.GetRows("核验统计")
	if err != nil {
		t.Fatal(err)
	}
	if len(ver) != 3 || ver[1][3] != `开户, "对公"` || ver[1][4] != "4" || ver[2][4] != "3" {
		t.Errorf("verifications sheet %q", ver)
	}
}

// sameFigure compares a raw cell with the CSV form of a figure: numbers
// by value (a spreadsheet keeps rates as full floats), text as it is.
func sameFigure(got, want string) bool {
	if got == want {
		return true
	}
	g, err1 := strconv.ParseFloat(got, 64)
	w, err2 := strconv.ParseFloat(want, 64)
	return err1 == nil && err2 == nil && g-w < 0.00005 && w-g < 0.00005
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestExportsReportWriteErrors(t *testing.T) {
	r := exportReport(t)
	if err := stats.WriteCSV(failingWriter{}, r.Tables()[0]); err == nil {
		t.Error("WriteCSV to a failing writer: no error")
	}
	if err := stats.WriteXLSX(failingWriter{}, r.Tables()...); err == nil {
		t.Error("WriteXLSX to a failing writer: no error")
	}
}
