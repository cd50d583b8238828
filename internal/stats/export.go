package stats

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// Table is one table of a report as the page shows it and the exports
// write it: a name for files and sheets, a header and rows of cells.
type Table struct {
	Name   string // file name part: departments, verifications
	Title  string // sheet name and heading
	Header []string
	Rows   [][]Cell
}

// cellKind says how a cell is written: counts and rates are numbers in a
// spreadsheet, so its users can sum and chart them.
type cellKind int

const (
	kindText cellKind = iota
	kindCount
	kindRate
)

// Cell is one value of a table.
type Cell struct {
	kind  cellKind
	text  string
	count int64
	rate  Rate
}

func text(s string) Cell { return Cell{kind: kindText, text: s} }
func count(n int64) Cell { return Cell{kind: kindCount, count: n} }
func rate(r Rate) Cell   { return Cell{kind: kindRate, rate: r} }
func optCount(n *int64) Cell { // a count that may be missing (no baseline declared)
	if n == nil {
		return text("")
	}
	return count(*n)
}

// String is the cell as CSV writes it: counts in decimal, rates as a
// fraction to four places, an undefined rate (no denominator) empty.
func (c Cell) String() string {
	switch c.kind {
	case kindCount:
		return strconv.FormatInt(c.count, 10)
	case kindRate:
		if v, ok := c.rate.Value(); ok {
			return strconv.FormatFloat(v, 'f', 4, 64)
		}
		return ""
	}
	return c.text
}

// Value is the cell as a spreadsheet or a JSON answer holds it: an int64
// count, a float64 rate, a string, or nil for an undefined figure.
func (c Cell) Value() any {
	switch c.kind {
	case kindCount:
		return c.count
	case kindRate:
		if v, ok := c.rate.Value(); ok {
			return v
		}
		return nil
	}
	return c.text
}

// IsRate reports whether the cell is a rate, which pages and workbooks
// show as a percentage.
func (c Cell) IsRate() bool { return c.kind == kindRate }

// departmentHeader names the columns of the department table, in the order
// of departmentRow; docs/STATISTICS.md defines each.
var departmentHeader = []string{
	"月份", "部门", "新发证照", "存量归集", "归集合计", "当月发证证照", "同步生成", "同步生成率",
	"存量累计归集", "存量底数", "存量电子化进度", "持证数", "当月用证证照", "用证率",
	"核验次数", "核验有效", "核验无效", "核验拒绝",
	"到期提醒发送", "到期提醒送达", "变更通知发送", "变更通知送达",
}

func departmentRow(m Month, d DepartmentMonth) []Cell {
	return []Cell{
		text(m.String()), text(d.Name), count(d.Issued), count(d.Imported), count(d.Collected()),
		count(d.IssuedOnMonth), count(d.Synced), rate(d.SyncRate()),
		count(d.StockImported), optCount(d.StockBaseline), rate(d.StockProgress()),
		count(d.Held), count(d.HeldVerified), rate(d.UsageRate()),
		count(d.Verifications), count(d.Valid), count(d.Invalid), count(d.Refused),
		count(d.RemindersSent), count(d.RemindersDelivered), count(d.NoticesSent), count(d.NoticesDelivered),
	}
}

// Tables returns the report's tables: the departments (with the county's
// totals last on a county report) and the verifications by department,
// result and purpose.
func (r Report) Tables() []Table {
	deps := Table{Name: "departments", Title: "部门统计", Header: departmentHeader}
	for _, d := range r.Departments {
		deps.Rows = append(deps.Rows, departmentRow(r.Month, d))
	}
	if r.County != nil {
		deps.Rows = append(deps.Rows, departmentRow(r.Month, *r.County))
	}
	ver := Table{Name: "verifications", Title: "核验统计", Header: []string{"月份", "部门", "结果", "用途", "次数"}}
	for _, v := range r.Verifications {
		ver.Rows = append(ver.Rows, []Cell{text(r.Month.String()), text(v.Department), text(v.Result), text(v.Purpose), count(v.Count)})
	}
	return []Table{deps, ver}
}

// WriteCSV writes t as UTF-8 CSV with a byte order mark, so a spreadsheet
// program opens the Chinese headers correctly.
func WriteCSV(w io.Writer, t Table) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return fmt.Errorf("stats: csv %s: %w", t.Name, err)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Header); err != nil {
		return fmt.Errorf("stats: csv %s: %w", t.Name, err)
	}
	rec := make([]string, len(t.Header))
	for _, row := range t.Rows {
		for i, c := range row {
			rec[i] = c.String()
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("stats: csv %s: %w", t.Name, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("stats: csv %s: %w", t.Name, err)
	}
	return nil
}

// WriteXLSX writes the tables as one workbook, a sheet each in order.
// Counts and rates are numeric cells (rates formatted as percentages), so
// the workbook computes and charts as it is.
func WriteXLSX(w io.Writer, tables ...Table) error {
	f := excelize.NewFile()
	defer f.Close()
	pct, err := f.NewStyle(&excelize.Style{NumFmt: 10}) // 0.00%
	if err != nil {
		return fmt.Errorf("stats: xlsx: %w", err)
	}
	for i, t := range tables {
		if err := writeSheet(f, i, t, pct); err != nil {
			return fmt.Errorf("stats: xlsx %s: %w", t.Name, err)
		}
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("stats: xlsx: %w", err)
	}
	return nil
}

func writeSheet(f *excelize.File, i int, t Table, pct int) error {
	var err error
	if i == 0 {
		err = f.SetSheetName(f.GetSheetName(0), t.Title)
	} else {
		_, err = f.NewSheet(t.Title)
	}
	if err != nil {
		return err
	}
	header := make([]any, len(t.Header))
	for j, h := range t.Header {
		header[j] = h
	}
	if err := f.SetSheetRow(t.Title, "A1", &header); err != nil {
		return err
	}
	vals := make([]any, len(t.Header))
	for r, row := range t.Rows {
		for j, c := range row {
			vals[j] = c.Value()
		}
		cell, err := excelize.CoordinatesToCellName(1, r+2)
		if err != nil {
			return err
		}
		if err := f.SetSheetRow(t.Title, cell, &vals); err != nil {
			return err
		}
	}
	if len(t.Rows) == 0 {
		return nil
	}
	for j, c := range t.Rows[0] {
		if c.kind != kindRate {
			continue
		}
		col, err := excelize.ColumnNumberToName(j + 1)
		if err != nil {
			return err
		}
		if err := f.SetCellStyle(t.Title, col+"2", fmt.Sprintf("%s%d", col, len(t.Rows)+1), pct); err != nil {
			return err
		}
	}
	return nil
}
