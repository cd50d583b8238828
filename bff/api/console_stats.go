package api

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/stats"
)

// consoleStatsHandlers are the statistics pages and their exports
// (docs/STATISTICS.md). The county's overview needs stats.county; a
// department's page is open to its own staff and to the county, and any
// other department's is not found, as for licences.
type consoleStatsHandlers struct {
	stats *stats.Service
}

// statsDepartmentDTO is one department's month, for the page's charts.
// A rate without a denominator (or a baseline) is null.
type statsDepartmentDTO struct {
	ID            int64    `json:"id"`
	Name          string   `json:"name"`
	Issued        int64    `json:"issued"`
	Imported      int64    `json:"imported"`
	Collected     int64    `json:"collected"`
	IssuedOnMonth int64    `json:"issued_on_month"`
	Synced        int64    `json:"synced"`
	SyncRate      *float64 `json:"sync_rate"`
	StockImported int64    `json:"stock_imported"`
	StockBaseline *int64   `json:"stock_baseline"`
	StockProgress *float64 `json:"stock_progress"`
	Held          int64    `json:"held"`
	HeldVerified  int64    `json:"held_verified"`
	UsageRate     *float64 `json:"usage_rate"`
	Verifications int64    `json:"verifications"`
	Valid         int64    `json:"valid"`
	Invalid       int64    `json:"invalid"`
	Refused       int64    `json:"refused"`
}

// statsTableDTO is a table exactly as the exports write it: cells are
// numbers (rates as fractions, in the columns listed in rate_columns),
// strings, or null for an undefined figure.
type statsTableDTO struct {
	Name        string   `json:"name"`
	Title       string   `json:"title"`
	Header      []string `json:"header"`
	RateColumns []int    `json:"rate_columns"`
	Rows        [][]any  `json:"rows"`
}

type statsReportDTO struct {
	Month       string               `json:"month"`
	Departments []statsDepartmentDTO `json:"departments"`
	County      *statsDepartmentDTO  `json:"county"`
	Tables      []statsTableDTO      `json:"tables"`
}

func rateValue(r stats.Rate) *float64 {
	if v, ok := r.Value(); ok {
		return &v
	}
	return nil
}

func statsDepartment(d stats.DepartmentMonth) statsDepartmentDTO {
	return statsDepartmentDTO{
		ID: d.DepartmentID, Name: d.Name, Issued: d.Issued, Imported: d.Imported, Collected: d.Collected(),
		IssuedOnMonth: d.IssuedOnMonth, Synced: d.Synced, SyncRate: rateValue(d.SyncRate()),
		StockImported: d.StockImported, StockBaseline: d.StockBaseline, StockProgress: rateValue(d.StockProgress()),
		Held: d.Held, HeldVerified: d.HeldVerified, UsageRate: rateValue(d.UsageRate()),
		Verifications: d.Verifications, Valid: d.Valid, Invalid: d.Invalid, Refused: d.Refused,
	}
}

func statsReport(r stats.Report) statsReportDTO {
	out := statsReportDTO{Month: r.Month.String(), Departments: make([]statsDepartmentDTO, 0, len(r.Departments)), Tables: []statsTableDTO{}}
	for _, d := range r.Departments {
		out.Departments = append(out.Departments, statsDepartment(d))
	}
	if r.County != nil {
		c := statsDepartment(*r.County)
		out.County = &c
	}
	for _, t := range r.Tables() {
		dto := statsTableDTO{Name: t.Name, Title: t.Title, Header: t.Header, RateColumns: []int{}, Rows: make([][]any, 0, len(t.Rows))}
		for i, row := range t.Rows {
			cells := make([]any, len(row))
			for j, c := range row {
				cells[j] = c.Value()
				if i == 0 && c.IsRate() {
					dto.RateColumns = append(dto.RateColumns, j)
				}
			}
			dto.Rows = append(dto.Rows, cells)
		}
		out.Tables = append(out.Tables, dto)
	}
	return out
}

func (h *consoleStatsHandlers) county(c *gin.Context) {
	m, ok := statsMonth(c)
	if !ok {
		return
	}
	r, err := h.stats.County(c.Request.Context(), m)
	if err != nil {
		respondError(c, dependencyFailure("statistics", err))
		return
	}
	h.respond(c, r, "county")
}

func (h *consoleStatsHandlers) department(c *gin.Context) {
	id, ok := h.departmentID(c)
	if !ok {
		return
	}
	m, ok := statsMonth(c)
	if !ok {
		return
	}
	r, err := h.stats.Department(c.Request.Context(), m, id)
	if err != nil {
		respondError(c, dependencyFailure("statistics", err))
		return
	}
	h.respond(c, r, "department-"+strconv.FormatInt(id, 10))
}

type baselineBody struct {
	Total *int64 `json:"total"`
}

func (h *consoleStatsHandlers) setBaseline(c *gin.Context) {
	id, ok := h.departmentID(c)
	if !ok {
		return
	}
	var in baselineBody
	if err := decodeStrict(c, &in); err != nil {
		respondError(c, err)
		return
	}
	if in.Total == nil {
		respondError(c, stats.ErrBadBaseline)
		return
	}
	if err := h.stats.SetStockBaseline(c.Request.Context(), mustStaff(c).Member.Actor(), id, *in.Total); err != nil {
		respondError(c, dependencyFailure("statistics", err))
		return
	}
	c.JSON(http.StatusOK, gin.H{"department_id": id, "total": *in.Total})
}

// departmentID is the :id of a department's page: any department for the
// county's staff, the member's own for a department's (another is 404).
func (h *consoleStatsHandlers) departmentID(c *gin.Context) (int64, bool) {
	id, ok := pathID(c)
	if !ok {
		return 0, false
	}
	if m := mustStaff(c).Member; m.Role.Scoped() && m.Department.ID != id {
		respondError(c, errNotFound)
		return 0, false
	}
	return id, true
}

// statsMonth reads ?month=YYYY-MM; the page always sends one, so the
// server needs no idea of which month is "now" in the county.
func statsMonth(c *gin.Context) (stats.Month, bool) {
	m, err := stats.ParseMonth(c.Query("month"))
	if err != nil {
		respondError(c, err)
		return stats.Month{}, false
	}
	return m, true
}

// respond answers the report as JSON, or with ?format=xlsx (every table,
// one sheet each) or ?format=csv&table=<name> (one table) as a download.
func (h *consoleStatsHandlers) respond(c *gin.Context, r stats.Report, scope string) {
	name := fmt.Sprintf("elicence-stats-%s-%s", scope, r.Month)
	var (
		buf         bytes.Buffer
		err         error
		contentType string
	)
	switch format := c.Query("format"); format {
	case "":
		c.JSON(http.StatusOK, statsReport(r))
		return
	case "xlsx":
		contentType, name = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name+".xlsx"
		err = stats.WriteXLSX(&buf, r.Tables()...)
	case "csv":
		tables := r.Tables()
		i := slices.IndexFunc(tables, func(t stats.Table) bool { return t.Name == c.Query("table") })
		if i < 0 {
			respondError(c, errBadExport)
			return
		}
		contentType, name = "text/csv; charset=utf-8", name+"-"+tables[i].Name+".csv"
		err = stats.WriteCSV(&buf, tables[i])
	default:
		respondError(c, errBadExport)
		return
	}
	if err != nil {
		respondError(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Data(http.StatusOK, contentType, buf.Bytes())
}
