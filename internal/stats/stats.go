// Package stats computes the statistics the county assesses departments by
// (docs/STATISTICS.md): per department and calendar month, licences issued
// and collected, the share generated on the day of issue (同步生成率), stock
// electronification progress, verifications by result and purpose, the
// usage rate and the template messages delivered; and the county's totals
// across departments. The figures are counted by the database (Repository);
// this package adds the rates and totals, checks its inputs and exports
// every table as CSV and XLSX.
package stats

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
)

var (
	// ErrNotFound: the department does not exist.
	ErrNotFound = errors.New("stats: department not found")
	// ErrBadMonth: not a month of the form 2006-01 between minYear and maxYear.
	ErrBadMonth = errors.New("stats: month must be YYYY-MM")
	// ErrBadBaseline: a stock baseline must be between 0 and MaxBaseline.
	ErrBadBaseline = errors.New("stats: stock baseline out of range")
)

// MaxBaseline bounds a declared stock: far above any county's paper
// licences, low enough that a typo of several extra digits is refused.
const MaxBaseline = 10_000_000

// The years a month may fall in: the platform's records start after the
// first, and a year past the second is a typo.
const (
	minYear = 2000
	maxYear = 2999
)

// Month is a calendar month in Asia/Shanghai, the zone of the county's
// days (docs/DOMAIN.md).
type Month struct {
	Year  int
	Month time.Month
}

// ParseMonth reads "2006-01".
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || t.Year() < minYear || t.Year() > maxYear {
		return Month{}, ErrBadMonth
	}
	return Month{Year: t.Year(), Month: t.Month()}, nil
}

// String is "2006-01".
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// Valid reports whether m names a month the platform can count.
func (m Month) Valid() bool {
	return m.Year >= minYear && m.Year <= maxYear && m.Month >= time.January && m.Month <= time.December
}

// Bounds returns the first instant of m and of the month after, in loc.
func (m Month) Bounds(loc *time.Location) (start, end time.Time) {
	start = time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, loc)
	return start, start.AddDate(0, 1, 0)
}

// Rate is a share with its numerator and denominator, so a table can show
// both and a zero denominator is "no figure", not 0 %.
type Rate struct {
	Num, Den int64
}

// Value is Num/Den; ok is false when Den is 0.
func (r Rate) Value() (v float64, ok bool) {
	if r.Den == 0 {
		return 0, false
	}
	return float64(r.Num) / float64(r.Den), true
}

// DepartmentMonth holds one department's figures for one month. The issuer
// figures count the licences it issued; Verifications count the
// verifications its officers made. Every field is a count; definitions in
// docs/STATISTICS.md.
type DepartmentMonth struct {
	DepartmentID int64
	Name         string
	Kind         string

	// Issued: first versions made by the issuing service in the month.
	Issued int64
	// Imported: first versions collected by stock import in the month.
	Imported int64
	// IssuedOnMonth: first versions (issued or imported, whenever) whose
	// issue date falls in the month; Synced: those of them made by the
	// issuing service on their issue date.
	IssuedOnMonth int64
	Synced        int64
	// StockImported: stock licences imported up to the month's end;
	// StockBaseline: the stock the department declared (nil: none).
	StockImported int64
	StockBaseline *int64
	// Held: current versions in force in the month; HeldVerified: those of
	// them (any version of their lineage) verified at least once in it.
	Held         int64
	HeldVerified int64
	// Template messages to holders of the department's licences, sent in
	// the month, and of those, reported delivered by WeChat.
	RemindersSent      int64
	RemindersDelivered int64
	NoticesSent        int64
	NoticesDelivered   int64

	// Verifications made by the department's officers in the month, by
	// result (valid | invalid | refused).
	Verifications int64
	Valid         int64
	Invalid       int64
	Refused       int64
}

// Collected is every licence brought into the library in the month (归集):
// issued plus imported.
func (d DepartmentMonth) Collected() int64 { return d.Issued + d.Imported }

// SyncRate is 同步生成率: Synced / IssuedOnMonth.
func (d DepartmentMonth) SyncRate() Rate { return Rate{Num: d.Synced, Den: d.IssuedOnMonth} }

// StockProgress is StockImported / StockBaseline (no figure without a
// baseline).
func (d DepartmentMonth) StockProgress() Rate {
	if d.StockBaseline == nil {
		return Rate{Num: d.StockImported}
	}
	return Rate{Num: d.StockImported, Den: *d.StockBaseline}
}

// UsageRate is HeldVerified / Held.
func (d DepartmentMonth) UsageRate() Rate { return Rate{Num: d.HeldVerified, Den: d.Held} }

// add sums o's counts into d. Baselines are summed by countyBaseline.
func (d *DepartmentMonth) add(o DepartmentMonth) {
	d.Issued += o.Issued
	d.Imported += o.Imported
	d.IssuedOnMonth += o.IssuedOnMonth
	d.Synced += o.Synced
	d.StockImported += o.StockImported
	d.Held += o.Held
	d.HeldVerified += o.HeldVerified
	d.RemindersSent += o.RemindersSent
	d.RemindersDelivered += o.RemindersDelivered
	d.NoticesSent += o.NoticesSent
	d.NoticesDelivered += o.NoticesDelivered
	d.Verifications += o.Verifications
	d.Valid += o.Valid
	d.Invalid += o.Invalid
	d.Refused += o.Refused
}

// VerificationCount is the number of verifications one department made in
// a month with one result for one purpose.
type VerificationCount struct {
	DepartmentID int64
	Department   string
	Result       string
	Purpose      string
	Count        int64
}

// Figures is what the repository counts for a month: every department in
// scope (in id order, with zero figures where nothing happened) and the
// verification counts (by department, result, purpose).
type Figures struct {
	Departments   []DepartmentMonth
	Verifications []VerificationCount
}

// Report is a month's statistics. County holds the totals across
// departments and is nil on a single department's report.
type Report struct {
	Month         Month
	Departments   []DepartmentMonth
	County        *DepartmentMonth
	Verifications []VerificationCount
}

// Repository counts the figures in the database.
type Repository interface {
	// MonthFigures counts month m for one department, or for every
	// department when departmentID is 0. An unknown department is
	// ErrNotFound.
	MonthFigures(ctx context.Context, m Month, departmentID int64) (Figures, error)
	// SetStockBaseline records a department's declared stock and appends
	// ev in the same transaction. An unknown department is ErrNotFound.
	SetStockBaseline(ctx context.Context, departmentID, total int64, ev audit.Event) error
}

// Service answers the statistics pages and exports.
type Service struct {
	repo Repository
	now  func() time.Time
}

// NewService checks its dependencies.
func NewService(repo Repository, now func() time.Time) (*Service, error) {
	if repo == nil {
		return nil, errors.New("stats: nil repository")
	}
	if now == nil {
		now = time.Now
	}
	return &Service{repo: repo, now: now}, nil
}

// County is month m for every department, with the county's totals.
func (s *Service) County(ctx context.Context, m Month) (Report, error) {
	r, err := s.report(ctx, m, 0)
	if err != nil {
		return Report{}, err
	}
	total := DepartmentMonth{Name: CountyName, StockBaseline: countyBaseline(r.Departments)}
	for _, d := range r.Departments {
		total.add(d)
	}
	r.County = &total
	return r, nil
}

// countyBaseline is the county's declared stock: the sum of the
// departments' baselines, or none when no department declared one or a
// department that imported stock did not (its imports would count against
// no baseline, and the county's progress would read too high).
func countyBaseline(ds []DepartmentMonth) *int64 {
	var (
		sum      int64
		declared bool
	)
	for _, d := range ds {
		switch {
		case d.StockBaseline != nil:
			sum += *d.StockBaseline
			declared = true
		case d.StockImported > 0:
			return nil
		}
	}
	if !declared {
		return nil
	}
	return &sum
}

// Department is month m for one department (its own page).
func (s *Service) Department(ctx context.Context, m Month, departmentID int64) (Report, error) {
	if departmentID <= 0 {
		return Report{}, ErrNotFound
	}
	return s.report(ctx, m, departmentID)
}

func (s *Service) report(ctx context.Context, m Month, departmentID int64) (Report, error) {
	if !m.Valid() {
		return Report{}, ErrBadMonth
	}
	f, err := s.repo.MonthFigures(ctx, m, departmentID)
	if err != nil {
		return Report{}, err
	}
	return Report{Month: m, Departments: f.Departments, Verifications: f.Verifications}, nil
}

// SetStockBaseline records the stock a department declared, audited as
// stats.stock_baseline by actor.
func (s *Service) SetStockBaseline(ctx context.Context, actor string, departmentID, total int64) error {
	if departmentID <= 0 {
		return ErrNotFound
	}
	if total < 0 || total > MaxBaseline {
		return ErrBadBaseline
	}
	return s.repo.SetStockBaseline(ctx, departmentID, total, audit.Event{
		At: s.now(), Actor: actor, Action: "stats.stock_baseline",
		Object: "department:" + strconv.FormatInt(departmentID, 10), Detail: "total=" + strconv.FormatInt(total, 10),
	})
}

// CountyName labels the county's totals row.
const CountyName = "全县合计"
