// Command xlsxfigures prints the sheets of a workbook as JSON, so the
// browser test can check that the console's XLSX export reads back with
// excelize, the library that wrote it:
//
//	go run ./internal/tools/xlsxfigures FILE.xlsx
//
// Output: {"<sheet>": [{"<header>": <value>, …}, …], …}, a row per object
// keyed by the sheet's first row. Numeric cells are JSON numbers, read raw
// (a rate is its fraction, not the percentage shown); an empty cell is null.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/xuri/excelize/v2"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "xlsxfigures:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: xlsxfigures FILE.xlsx")
	}
	f, err := excelize.OpenFile(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	out := map[string][]map[string]any{}
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			return fmt.Errorf("sheet %s: %w", sheet, err)
		}
		out[sheet] = []map[string]any{}
		if len(rows) == 0 {
			continue
		}
		for _, row := range rows[1:] {
			obj := make(map[string]any, len(rows[0]))
			for i, h := range rows[0] {
				obj[h] = value(row, i)
			}
			out[sheet] = append(out[sheet], obj)
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// value is cell i of row: a number when it reads as one, null when empty.
func value(row []string, i int) any {
	if i >= len(row) || row[i] == "" {
		return nil
	}
	if n, err := strconv.ParseFloat(row[i], 64); err == nil {
		return n
	}
	return row[i]
}
