package importer

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Reject is one line of the error file: a reason a row was not imported.
// A row with several problems has several lines.
type Reject struct {
	Row     int
	Column  string
	Code    string
	Message string
}

// writeErrorFile writes the rejections in row order (conflicts are only
// found when their batch is written, after later rows were read) as UTF-8
// CSV with a byte order mark, so a spreadsheet program opens the Chinese
// messages correctly. It writes a temporary file and renames it, so a
// crash never leaves half an error file behind.
func writeErrorFile(path string, rejects []Reject) error {
	slices.SortStableFunc(rejects, func(a, b Reject) int { return a.Row - b.Row })
	tmp, err := os.CreateTemp(filepath.Dir(path), ".import-errors-*")
	if err != nil {
		return fmt.Errorf("importer: error file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.WriteString(tmp, "\uFEFF"); err != nil {
		tmp.Close()
		return fmt.Errorf("importer: error file: %w", err)
	}
	w := csv.NewWriter(tmp)
	_ = w.Write([]string{"row", "column", "code", "message"})
	for _, r := range rejects {
		_ = w.Write([]string{strconv.Itoa(r.Row), r.Column, r.Code, r.Message})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		tmp.Close()
		return fmt.Errorf("importer: error file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("importer: error file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("importer: error file: %w", err)
	}
	return nil
}

// removeStale deletes an error file left by an earlier run of the same
// file, which would otherwise describe rows that are now fine.
func removeStale(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("importer: remove stale error file: %w", err)
	}
	return nil
}

// Progress is told how far an import is. Update is called with the number
// of rows handled so far (valid rows count once their batch is written).
type Progress interface {
	Start(total int) // total 0: unknown
	Update(done int)
	Finish()
}

// NewProgress returns a bar redrawn in place when w is a terminal, and
// plain lines (one per tenth, or per 10,000 rows when the total is
// unknown) when it is a log file or a pipe, where carriage returns would
// only make noise.
func NewProgress(w io.Writer, terminal bool) Progress {
	if terminal {
		return &barProgress{w: w}
	}
	return &lineProgress{w: w}
}

type barProgress struct {
	w     io.Writer
	total int
	done  int
	last  time.Time
}

func (p *barProgress) Start(total int) { p.total = total; p.draw() }

func (p *barProgress) Update(done int) {
	p.done = done
	// Redrawing costs a write per call; ten frames a second look smooth.
	if time.Since(p.last) >= 100*time.Millisecond {
		p.draw()
	}
}

func (p *barProgress) Finish() {
	p.draw()
	fmt.Fprintln(p.w)
}

func (p *barProgress) draw() {
	p.last = time.Now()
	const width = 30
	if p.total <= 0 {
		fmt.Fprintf(p.w, "\rimporting: %d rows", p.done)
		return
	}
	done := min(p.done, p.total)
	filled := width * done / p.total
	fmt.Fprintf(p.w, "\rimporting [%s%s] %3d%% %d/%d rows", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		100*done/p.total, done, p.total)
}

type lineProgress struct {
	w     io.Writer
	total int
	next  int
}

func (p *lineProgress) step() int {
	if p.total > 0 {
		return max(p.total/10, 1)
	}
	return 10000
}

func (p *lineProgress) Start(total int) { p.total = total; p.next = p.step() }

func (p *lineProgress) Update(done int) {
	if done < p.next {
		return
	}
	for p.next <= done {
		p.next += p.step()
	}
	if p.total > 0 {
		fmt.Fprintf(p.w, "progress: %d/%d rows (%d%%)\n", done, p.total, 100*min(done, p.total)/p.total)
		return
	}
	fmt.Fprintf(p.w, "progress: %d rows\n", done)
}

func (p *lineProgress) Finish() {}
