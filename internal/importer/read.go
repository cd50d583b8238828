package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/yangcheng-county/elicence/internal/licence"
)

// Columns of an import file, in the documented order. The header row names
// them; their order in the file does not matter.
var Columns = []string{
	"type_code", "licence_number", "holder_name", "holder_id_type", "holder_id_number",
	"holder_phone", "issue_date", "valid_from", "valid_until", "fields",
}

// Positions of the columns in a record's cells.
const (
	colTypeCode = iota
	colNumber
	colHolderName
	colHolderIDType
	colHolderIDNumber
	colHolderPhone
	colIssueDate
	colValidFrom
	colValidUntil
	colFields
	numColumns // the count, not a column
)

// ErrBadFile is returned for a file that cannot be imported at all: an
// unknown extension, a missing or unknown header, an unreadable sheet.
var ErrBadFile = errors.New("importer: bad file")

// record is one data row: its row number in the file and its cells in
// Columns order.
type record struct {
	row   int
	cells [numColumns]string
}

func (r record) blank() bool {
	for _, c := range r.cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// source yields the data rows of a file, header already read.
type source interface {
	Next() (record, error) // io.EOF at the end
	Total() int            // data rows expected, for progress; 0 when unknown
	Close() error
}

// openSource opens a .csv or .xlsx file and reads its header.
func openSource(path string) (source, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return openCSV(path)
	case ".xlsx":
		return openXLSX(path)
	}
	return nil, fmt.Errorf("%w: %s: want a .csv or .xlsx file", ErrBadFile, filepath.Base(path))
}

// headerIndex maps the header's cells to Columns positions: index[i] is
// the file column holding Columns[i]. Every column must be there exactly
// once, and no other: a misspelt header would otherwise drop its data
// without a word.
func headerIndex(header []string) ([numColumns]int, error) {
	var idx [numColumns]int
	for i := range idx {
		idx[i] = -1
	}
	pos := make(map[string]int, len(Columns))
	for i, c := range Columns {
		pos[c] = i
	}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF")))
		if h == "" {
			continue
		}
		p, ok := pos[h]
		if !ok {
			return idx, fmt.Errorf("%w: unknown column %q in the header (want %s)", ErrBadFile, h, strings.Join(Columns, ", "))
		}
		if idx[p] >= 0 {
			return idx, fmt.Errorf("%w: column %q twice in the header", ErrBadFile, h)
		}
		idx[p] = i
	}
	var missing []string
	for i, c := range Columns {
		if idx[i] < 0 {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return idx, fmt.Errorf("%w: header lacks %s", ErrBadFile, strings.Join(missing, ", "))
	}
	return idx, nil
}

func pick(idx [numColumns]int, cells []string, row int) record {
	rec := record{row: row}
	for i, p := range idx {
		if p < len(cells) {
			rec.cells[i] = cells[p]
		}
	}
	return rec
}

// --- CSV -------------------------------------------------------------------

type csvSource struct {
	f     *os.File
	r     *csv.Reader
	idx   [numColumns]int
	total int
}

func openCSV(path string) (*csvSource, error) {
	total, err := countLines(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("importer: %w", err)
	}
	br := bufio.NewReaderSize(f, 64<<10)
	// Spreadsheet programs save "CSV UTF-8" with a byte order mark.
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\xEF\xBB\xBF")) {
		_, _ = br.Discard(3)
	}
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s: no header row: %w", ErrBadFile, filepath.Base(path), err)
	}
	idx, err := headerIndex(header)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &csvSource{f: f, r: r, idx: idx, total: max(total-1, 0)}, nil
}

// countLines counts newlines, a cheap estimate of the rows for progress
// (a quoted value spanning lines makes it an overestimate).
func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("importer: %w", err)
	}
	defer f.Close()
	buf := make([]byte, 256<<10)
	n := 0
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return 0, fmt.Errorf("importer: %w", err)
		}
	}
}

func (s *csvSource) Next() (record, error) {
	cells, err := s.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return record{}, io.EOF
		}
		return record{}, fmt.Errorf("%w: %w", ErrBadFile, err)
	}
	line, _ := s.r.FieldPos(0)
	return pick(s.idx, cells, line), nil
}

func (s *csvSource) Total() int   { return s.total }
func (s *csvSource) Close() error { return s.f.Close() }

// --- XLSX ------------------------------------------------------------------

type xlsxSource struct {
	f     *excelize.File
	rows  *excelize.Rows
	idx   [numColumns]int
	row   int
	total int
}

// openXLSX opens the first sheet with excelize's streaming row reader, so
// a sheet of a hundred thousand rows is never held in memory whole.
func openXLSX(path string) (*xlsxSource, error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadFile, filepath.Base(path), err)
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		f.Close()
		return nil, fmt.Errorf("%w: %s has no sheet", ErrBadFile, filepath.Base(path))
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s: %w", ErrBadFile, filepath.Base(path), err)
	}
	s := &xlsxSource{f: f, rows: rows}
	if !rows.Next() {
		s.Close()
		return nil, fmt.Errorf("%w: %s: no header row", ErrBadFile, filepath.Base(path))
	}
	s.row = 1
	header, err := rows.Columns()
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("%w: %w", ErrBadFile, err)
	}
	if s.idx, err = headerIndex(header); err != nil {
		s.Close()
		return nil, err
	}
	if dim, err := f.GetSheetDimension(sheets[0]); err == nil {
		if _, last, ok := strings.Cut(dim, ":"); ok {
			if _, n, err := excelize.CellNameToCoordinates(last); err == nil {
				s.total = max(n-1, 0)
			}
		}
	}
	return s, nil
}

func (s *xlsxSource) Next() (record, error) {
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			return record{}, fmt.Errorf("%w: %w", ErrBadFile, err)
		}
		return record{}, io.EOF
	}
	s.row++
	// Raw values: a date cell then reads as its serial number whatever
	// display format the clerk's spreadsheet gave it, and is converted here.
	cells, err := s.rows.Columns(excelize.Options{RawCellValue: true})
	if err != nil {
		return record{}, fmt.Errorf("%w: row %d: %w", ErrBadFile, s.row, err)
	}
	rec := pick(s.idx, cells, s.row)
	for _, c := range []int{colIssueDate, colValidFrom, colValidUntil} {
		rec.cells[c] = excelDate(rec.cells[c])
	}
	return rec, nil
}

// excelDate turns a spreadsheet date serial ("45293") into YYYY-MM-DD and
// leaves anything else, such as a date typed as text, as it is.
func excelDate(v string) string {
	v = strings.TrimSpace(v)
	serial, err := strconv.ParseFloat(v, 64)
	if err != nil || serial < 1 || serial > 2958465 { // 9999-12-31
		return v
	}
	t, err := excelize.ExcelDateToTime(serial, false)
	if err != nil {
		return v
	}
	return t.Format(time.DateOnly)
}

func (s *xlsxSource) Total() int { return s.total }

func (s *xlsxSource) Close() error {
	err := s.rows.Close()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// --- rows to requests ------------------------------------------------------

// parseRecord turns a record into an issue request. Problems of reading
// (a date that is not YYYY-MM-DD, fields that are not a JSON object) come
// back as FieldErrors; everything else is left to licence.ValidateIssue.
// An empty valid_from means "valid from the issue date". covered lists the
// fields whose validation would only repeat a reading problem: those with
// one, and a valid_from taken from an unreadable issue date.
func parseRecord(rec record) (req licence.IssueRequest, errs []licence.FieldError, covered map[string]bool) {
	c := rec.cells
	covered = map[string]bool{}
	req = licence.IssueRequest{
		TypeCode: strings.TrimSpace(c[colTypeCode]),
		Number:   strings.TrimSpace(c[colNumber]),
		Holder: licence.Holder{
			Name:     strings.TrimSpace(c[colHolderName]),
			IDType:   strings.TrimSpace(c[colHolderIDType]),
			IDNumber: c[colHolderIDNumber],
			Phone:    strings.TrimSpace(c[colHolderPhone]),
		},
	}
	date := func(field, v string) (time.Time, bool) {
		v = strings.TrimSpace(v)
		if v == "" {
			return time.Time{}, false
		}
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			errs = append(errs, licence.FieldError{Field: field, Code: licence.CodeInvalidDate, Message: field + " must be a date YYYY-MM-DD"})
			covered[field] = true
			return time.Time{}, false
		}
		return t, true
	}
	req.IssuedOn, _ = date("issue_date", c[colIssueDate])
	if t, ok := date("valid_from", c[colValidFrom]); ok {
		req.ValidFrom = t
	} else if strings.TrimSpace(c[colValidFrom]) == "" {
		req.ValidFrom = req.IssuedOn
		covered["valid_from"] = covered["issue_date"]
	}
	if t, ok := date("valid_until", c[colValidUntil]); ok {
		req.ValidUntil = &t
	}
	fields, err := parseFields(c[colFields])
	if err != nil {
		errs = append(errs, licence.FieldError{Field: "fields", Code: CodeInvalidFields, Message: err.Error()})
		covered["fields"] = true
	}
	req.Fields = fields
	return req, errs, covered
}

// parseFields reads the fields column: a JSON object whose values are
// strings (numbers are taken as written; null and blank values count as
// absent, so a re-import compares equal however empty values were spelt).
func parseFields(v string) (map[string]string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return map[string]string{}, nil
	}
	d := json.NewDecoder(strings.NewReader(v))
	d.UseNumber()
	var raw map[string]any
	if err := d.Decode(&raw); err != nil || raw == nil {
		return nil, errors.New(`fields must be a JSON object such as {"name":"张三"}`)
	}
	if d.More() {
		return nil, errors.New("fields has text after its JSON object")
	}
	out := make(map[string]string, len(raw))
	for k, x := range raw {
		switch x := x.(type) {
		case string:
			if x = strings.TrimSpace(x); x != "" {
				out[k] = x
			}
		case json.Number:
			out[k] = x.String()
		case nil:
		default:
			return nil, fmt.Errorf("fields.%s must be a string", k)
		}
	}
	return out, nil
}

// columnOf names the file column a FieldError is about: face fields keep
// their key ("fields.name") so the clerk knows which one.
func columnOf(field string) string {
	switch field {
	case "holder.name":
		return "holder_name"
	case "holder.id_type", "holder.kind":
		return "holder_id_type"
	case "holder.id_number":
		return "holder_id_number"
	case "holder.phone":
		return "holder_phone"
	}
	return field
}
