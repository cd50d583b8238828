package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/stats"
)

// Compile-time check: the store counts the statistics.
var _ stats.Repository = (*Store)(nil)

// stockBaselineRow is a department's declared stock (存量底数).
type stockBaselineRow struct {
	DepartmentID int64     `gorm:"column:department_id;primaryKey;autoIncrement:false"`
	Total        int64     `gorm:"column:total"`
	UpdatedBy    string    `gorm:"column:updated_by"`
	UpdatedAt    time.Time `gorm:"column:updated_at"`
}

func (stockBaselineRow) TableName() string { return "stock_baselines" }

// statsMonth is a month's bounds as the columns compare them: instants in
// UTC for DATETIME columns, calendar days for DATE columns; and the
// department the figures are for (0: every department).
type statsMonth struct {
	start, end        time.Time
	firstDay, nextDay civilDate
	department        int64
}

func newStatsMonth(m stats.Month, departmentID int64) statsMonth {
	start, end := m.Bounds(dateLoc)
	return statsMonth{start: utc(start), end: utc(end), firstDay: dateOf(start), nextDay: dateOf(end), department: departmentID}
}

// dept is the condition on col that keeps a query to the department, or
// nothing for the whole county; args appends its argument.
func (sm statsMonth) dept(col string) string {
	if sm.department == 0 {
		return ""
	}
	return " AND " + col + " = ?"
}

func (sm statsMonth) args(args ...any) []any {
	if sm.department == 0 {
		return args
	}
	return append(args, sm.department)
}

// statsParallel is how many of a report's queries run at once, each on a
// connection of its own. The two that read the month's usage rows take
// most of the time and each runs on one database thread, so running them
// side by side brings a report close to its longest query; more would
// take connections from verification for little gain.
const statsParallel = 2

// MonthFigures implements stats.Repository with one grouped query per
// figure (statsQueries), statsParallel at a time, outside a transaction:
// SQLite's transactions here take the write lock, and a verification
// landing between two queries moves a figure by one. The rows are added
// up in query order once all have answered.
func (s *Store) MonthFigures(ctx context.Context, m stats.Month, departmentID int64) (stats.Figures, error) {
	if s.inTx {
		return stats.Figures{}, errors.New("store: statistics: not inside a transaction")
	}
	sm := newStatsMonth(m, departmentID)
	depts, err := s.statsDepartments(ctx, sm)
	if err != nil {
		return stats.Figures{}, err
	}
	qs := statsQueries(s, sm)
	rows := make([][]statsRow, len(qs))
	errs := make([]error, len(qs))
	next := make(chan int, len(qs))
	for i := range qs {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range statsParallel {
		wg.Go(func() {
			for i := range next {
				if err := s.q(ctx).Raw(qs[i].sql, qs[i].args...).Scan(&rows[i]).Error; err != nil {
					errs[i] = fmt.Errorf("%s: %w", qs[i].name, err)
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return stats.Figures{}, fmt.Errorf("store: statistics %s: %w", m, err)
	}
	f := statsFill{byID: make(map[int64]*stats.DepartmentMonth, len(depts))}
	for i := range depts {
		f.byID[depts[i].DepartmentID] = &depts[i]
	}
	for i, q := range qs {
		for _, r := range rows[i] {
			if d, ok := f.byID[r.Dept]; ok {
				q.apply(&f, d, r)
			}
		}
	}
	slices.SortFunc(f.verifications, func(a, b stats.VerificationCount) int {
		return cmp.Or(cmp.Compare(a.DepartmentID, b.DepartmentID), cmp.Compare(a.Result, b.Result), cmp.Compare(a.Purpose, b.Purpose))
	})
	return stats.Figures{Departments: depts, Verifications: f.verifications}, nil
}

// statsDepartments lists the departments in scope, in id order, with their
// declared stock.
func (s *Store) statsDepartments(ctx context.Context, sm statsMonth) ([]stats.DepartmentMonth, error) {
	var rows []struct {
		ID    int64  `gorm:"column:id"`
		Name  string `gorm:"column:name"`
		Kind  string `gorm:"column:kind"`
		Total *int64 `gorm:"column:total"`
	}
	err := s.q(ctx).Raw(`SELECT d.id, d.name, d.kind, b.total FROM departments d
LEFT JOIN stock_baselines b ON b.department_id = d.id WHERE 1 = 1`+sm.dept("d.id")+` ORDER BY d.id`, sm.args()...).
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: statistics departments: %w", err)
	}
	if sm.department != 0 && len(rows) == 0 {
		return nil, fmt.Errorf("store: statistics of department %d: %w", sm.department, stats.ErrNotFound)
	}
	out := make([]stats.DepartmentMonth, len(rows))
	for i, r := range rows {
		out[i] = stats.DepartmentMonth{DepartmentID: r.ID, Name: r.Name, Kind: r.Kind, StockBaseline: r.Total}
	}
	return out, nil
}

// statsRow is one grouped row of a statistics query: the department, up to
// two grouping keys and up to two counts.
type statsRow struct {
	Dept  int64  `gorm:"column:dept"`
	Key   string `gorm:"column:k"`
	Key2  string `gorm:"column:k2"`
	N     int64  `gorm:"column:n"`
	Extra int64  `gorm:"column:extra"`
}

// statsFill is what the queries' rows are added to.
type statsFill struct {
	byID          map[int64]*stats.DepartmentMonth
	verifications []stats.VerificationCount
}

// statsQuery is one figure's SQL, the index it is written for, and how its
// rows fill the departments' figures.
type statsQuery struct {
	name  string
	sql   string
	args  []any
	index string // the index the query reads (checked by EXPLAIN in the tests)
	apply func(f *statsFill, d *stats.DepartmentMonth, r statsRow)
}

// refused is the usage result of a verification the usage list did not
// allow: it never reached the licence's content, so it is no use of it.
const refused = "refused"

// heldStatuses are the statuses in which a holder still holds a licence:
// the terminal ones (revoked, withdrawn, cancelled, superseded) are gone.
var heldStatuses = []string{string(licence.StatusValid), string(licence.StatusSuspended), string(licence.StatusLost)}

// statsQueries are the month's figures, one grouped query each
// (docs/STATISTICS.md defines them), the two over the month's usage rows
// first so that they run side by side.
func statsQueries(s *Store, sm statsMonth) []statsQuery {
	issue, imp := licence.ActionIssue, licence.ActionImport
	return []statsQuery{{
		// Licences held in the month, and those of them verified at least
		// once in it on any version of their lineage: the month's distinct
		// licence ids (index only), joined to their versions' lineages. A
		// later version is held from its first version's creation.
		name: "held", index: "ix_licences_held",
		sql: `SELECT l.issuer_id AS dept, COUNT(*) AS n, COUNT(v.lineage) AS extra
FROM licences l
LEFT JOIN licences f ON f.id = l.lineage_id
LEFT JOIN (
  SELECT DISTINCT COALESCE(x.lineage_id, x.id) AS lineage
  FROM (SELECT DISTINCT licence_id FROM usage_records WHERE at >= ? AND at < ? AND result <> ?) u
  JOIN licences x ON x.id = u.licence_id
) v ON v.lineage = COALESCE(l.lineage_id, l.id)
WHERE l.superseded_by IS NULL AND l.status IN ? AND l.valid_from < ? AND (l.valid_until IS NULL OR l.valid_until >= ?)
  AND COALESCE(f.created_at, l.created_at) < ?` + sm.dept("l.issuer_id") + `
GROUP BY l.issuer_id`,
		args:  sm.args(sm.start, sm.end, refused, heldStatuses, sm.nextDay, sm.firstDay, sm.end),
		apply: func(_ *statsFill, d *stats.DepartmentMonth, r statsRow) { d.Held, d.HeldVerified = r.N, r.Extra },
	}, {
		// Verifications by verifying department, result and purpose.
		name: "verifications", index: "ix_usage_records_stats",
		sql: `SELECT department_id AS dept, result AS k, purpose AS k2, COUNT(*) AS n FROM usage_records
WHERE at >= ? AND at < ?` + sm.dept("department_id") + `
GROUP BY department_id, result, purpose`,
		args: sm.args(sm.start, sm.end),
		apply: func(f *statsFill, d *stats.DepartmentMonth, r statsRow) {
			d.Verifications += r.N
			switch r.Key { // the results verification writes (docs/DOMAIN.md)
			case "valid":
				d.Valid += r.N
			case "invalid":
				d.Invalid += r.N
			case refused:
				d.Refused += r.N
			}
			f.verifications = append(f.verifications, stats.VerificationCount{
				DepartmentID: r.Dept, Department: d.Name, Result: r.Key, Purpose: r.Key2, Count: r.N})
		},
	}, {
		// First versions made in the month, by origin.
		name: "created", index: "ix_licences_origin",
		sql: `SELECT issuer_id AS dept, origin AS k, COUNT(*) AS n FROM licences
WHERE origin IN (?, ?) AND created_at >= ? AND created_at < ?` + sm.dept("issuer_id") + `
GROUP BY issuer_id, origin`,
		args: sm.args(issue, imp, sm.start, sm.end),
		apply: func(_ *statsFill, d *stats.DepartmentMonth, r statsRow) {
			if r.Key == imp {
				d.Imported = r.N
			} else {
				d.Issued = r.N
			}
		},
	}, {
		// Stock imported up to the month's end.
		name: "stock", index: "ix_licences_origin",
		sql: `SELECT issuer_id AS dept, COUNT(*) AS n FROM licences
WHERE origin = ? AND created_at < ?` + sm.dept("issuer_id") + `
GROUP BY issuer_id`,
		args:  sm.args(imp, sm.end),
		apply: func(_ *statsFill, d *stats.DepartmentMonth, r statsRow) { d.StockImported = r.N },
	}, {
		// First versions whose issue date falls in the month, and those of
		// them the issuing service made on that very day in Asia/Shanghai.
		name: "synced", index: "ix_licences_issued_on",
		sql: `SELECT issuer_id AS dept, COUNT(*) AS n,
  SUM(CASE WHEN origin = ? AND ` + s.shanghaiDay("created_at") + ` = issued_on THEN 1 ELSE 0 END) AS extra
FROM licences
WHERE issued_on >= ? AND issued_on < ? AND origin IN (?, ?)` + sm.dept("issuer_id") + `
GROUP BY issuer_id`,
		args:  sm.args(issue, sm.firstDay, sm.nextDay, issue, imp),
		apply: func(_ *statsFill, d *stats.DepartmentMonth, r statsRow) { d.IssuedOnMonth, d.Synced = r.N, r.Extra },
	}, {
		// Template messages about the department's licences sent in the
		// month, and those of them WeChat reported delivered.
		name: "messages", index: "ix_reminders_sent",
		sql: `SELECT l.issuer_id AS dept, r.kind AS k, COUNT(*) AS n, SUM(CASE WHEN r.state = 'delivered' THEN 1 ELSE 0 END) AS extra
FROM reminders r JOIN licences l ON l.id = r.licence_id
WHERE r.sent_at >= ? AND r.sent_at < ?` + sm.dept("l.issuer_id") + `
GROUP BY l.issuer_id, r.kind`,
		args: sm.args(sm.start, sm.end),
		apply: func(_ *statsFill, d *stats.DepartmentMonth, r statsRow) {
			if r.Key == "notice" {
				d.NoticesSent, d.NoticesDelivered = r.N, r.Extra
			} else {
				d.RemindersSent, d.RemindersDelivered = r.N, r.Extra
			}
		},
	}}
}

// shanghaiDay is the SQL for the calendar day in Asia/Shanghai of a UTC
// DATETIME column, comparable with a DATE column. China has kept UTC+8
// without daylight saving since 1991, so a fixed offset is exact and
// needs no time zone tables in MariaDB.
func (s *Store) shanghaiDay(col string) string {
	if s.driver == DriverMySQL {
		return "DATE(" + col + " + INTERVAL 8 HOUR)"
	}
	return "date(" + col + ", '+8 hours')"
}

// SetStockBaseline implements stats.Repository: the baseline and its audit
// event commit together.
func (s *Store) SetStockBaseline(ctx context.Context, departmentID, total int64, ev audit.Event) error {
	return s.InTx(ctx, func(tx *Store) error {
		if err := tx.mustExist(ctx, &departmentRow{}, "id = ?", departmentID); err != nil {
			return fmt.Errorf("store: stock baseline of department %d: %w", departmentID, mapErr(err, stats.ErrNotFound))
		}
		r := stockBaselineRow{DepartmentID: departmentID, Total: total, UpdatedBy: ev.Actor, UpdatedAt: utc(ev.At)}
		if err := tx.q(ctx).Save(&r).Error; err != nil {
			return fmt.Errorf("store: stock baseline of department %d: %w", departmentID, err)
		}
		_, err := tx.AppendAudit(ctx, ev)
		return err
	})
}
