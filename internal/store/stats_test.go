package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/stats"
	"github.com/yangcheng-county/elicence/internal/store/mysqltest"
)

// statsJune is the month the fixture is counted for: 2025-06 in
// Asia/Shanghai runs from 2025-05-31 16:00 UTC to 2025-06-30 16:00 UTC.
var statsJune = stats.Month{Year: 2025, Month: time.June}

// Departments of the statistics fixture.
const (
	statsA = 1 // issuer with a declared stock
	statsB = 2 // issuer without one
	statsC = 3 // relying department: verifies only
)

func utcAt(mo time.Month, d, h, m int) time.Time { return time.Date(2025, mo, d, h, m, 0, 0, time.UTC) }

// statsLicence is one licence row of the fixture; the comment beside each
// says what it counts for in June.
type statsLicence struct {
	id, issuer       int64
	origin, status   string
	issuedOn         time.Time // a Shanghai calendar day
	created          time.Time // UTC
	validFrom        time.Time
	validUntil       *time.Time
	version          int
	lineage, superSe *int64
}

func i64(n int64) *int64 { return &n }

// d25 is a calendar day of 2025 in Asia/Shanghai.
func d25(mo time.Month, d int) time.Time { return shanghaiDate(2025, mo, d) }

var statsLicences = []statsLicence{
	// A: issued in June on its issue day (10:00 in Shanghai): issued, synced, held.
	{id: 1, issuer: statsA, origin: "issue", status: "valid", issuedOn: d25(6, 10), created: utcAt(6, 10, 2, 0), validFrom: d25(6, 10)},
	// A: issue date 9 June, made 00:30 on 10 June in Shanghai (still 9 June in UTC): issued, not synced, held.
	{id: 2, issuer: statsA, origin: "issue", status: "valid", issuedOn: d25(6, 9), created: utcAt(6, 9, 16, 30), validFrom: d25(6, 9)},
	// A: made 23:59 on 30 June in Shanghai: issued, synced, held.
	{id: 3, issuer: statsA, origin: "issue", status: "valid", issuedOn: d25(6, 30), created: utcAt(6, 30, 15, 59), validFrom: d25(6, 30)},
	// A: made at 00:00 on 1 July in Shanghai: July's, nothing in June.
	{id: 4, issuer: statsA, origin: "issue", status: "valid", issuedOn: d25(7, 1), created: utcAt(6, 30, 16, 0), validFrom: d25(7, 1)},
	// A: old stock imported in June: imported, stock, held.
	{id: 5, issuer: statsA, origin: "import", status: "valid", issuedOn: shanghaiDate(2019, 3, 1), created: utcAt(6, 5, 0, 0), validFrom: shanghaiDate(2019, 3, 1), validUntil: dayPtr(shanghaiDate(2029, 2, 28))},
	// A: stock imported in May, since revoked: stock only.
	{id: 6, issuer: statsA, origin: "import", status: "revoked", issuedOn: shanghaiDate(2018, 1, 1), created: utcAt(5, 20, 0, 0), validFrom: shanghaiDate(2018, 1, 1)},
	// A: issued on paper 2 June, imported 20 June: imported, issue date in June (not synced), stock, held.
	{id: 7, issuer: statsA, origin: "import", status: "valid", issuedOn: d25(6, 2), created: utcAt(6, 20, 0, 0), validFrom: d25(6, 2)},
	// A: May's, renewed in June by licence 9: superseded, counts through 9.
	{id: 8, issuer: statsA, origin: "issue", status: "superseded", issuedOn: d25(5, 31), created: utcAt(5, 31, 15, 0), validFrom: d25(5, 31), validUntil: dayPtr(shanghaiDate(2025, 6, 15)), superSe: i64(9)},
	// A: the renewal (version 2 of 8): not a new licence; held.
	{id: 9, issuer: statsA, origin: "renew", status: "valid", issuedOn: d25(5, 31), created: utcAt(6, 14, 0, 0), validFrom: d25(5, 31), validUntil: dayPtr(shanghaiDate(2030, 6, 15)), version: 2, lineage: i64(8)},
	// A: expired on 31 May (its status not yet updated): not held.
	{id: 10, issuer: statsA, origin: "issue", status: "valid", issuedOn: d25(4, 1), created: utcAt(4, 1, 2, 0), validFrom: d25(4, 1), validUntil: dayPtr(shanghaiDate(2025, 5, 31))},
	// B: issued and synced; held.
	{id: 11, issuer: statsB, origin: "issue", status: "valid", issuedOn: d25(6, 3), created: utcAt(6, 3, 1, 0), validFrom: d25(6, 3)},
	// B: issued the day after its issue date, since suspended: issued, not synced, held.
	{id: 12, issuer: statsB, origin: "issue", status: "suspended", issuedOn: d25(6, 3), created: utcAt(6, 4, 3, 0), validFrom: d25(6, 3)},
	// B: January's, long-term: held.
	{id: 13, issuer: statsB, origin: "issue", status: "valid", issuedOn: d25(1, 1), created: utcAt(1, 1, 2, 0), validFrom: d25(1, 1)},
}

// statsUsage: licence, verifying department, result, purpose, time.
var statsUsage = []struct {
	licence, dept   int64
	result, purpose string
	at              time.Time
}{
	{1, statsC, "valid", "开户", utcAt(6, 11, 2, 0)},
	{1, statsC, "valid", "开户", utcAt(6, 12, 2, 0)},
	// The superseded version verifies red; its lineage (9) was used.
	{8, statsC, "invalid", "开户", utcAt(6, 20, 2, 0)},
	// Refused by the usage list: no use of licence 2.
	{2, statsC, "refused", "入学", utcAt(6, 5, 2, 0)},
	// 23:59:59 on 31 May in Shanghai: May's.
	{11, statsB, "valid", "入学", time.Date(2025, 5, 31, 15, 59, 59, 0, time.UTC)},
	// 00:00 on 1 June in Shanghai: June's.
	{11, statsB, "valid", "入学", utcAt(5, 31, 16, 0)},
	// 00:00 on 1 July: July's.
	{13, statsC, "invalid", "开户", utcAt(6, 30, 16, 0)},
	// A revoked licence verified: a verification, but it is not held.
	{6, statsC, "invalid", "开户", utcAt(6, 15, 2, 0)},
}

// statsMessages: licence, kind, state, sent_at (nil: never sent).
var statsMessages = []struct {
	licence     int64
	kind, state string
	sent        *time.Time
}{
	{1, "expiry", "delivered", dayPtr(utcAt(6, 10, 3, 0))},
	{2, "expiry", "sent", dayPtr(utcAt(6, 11, 3, 0))},
	{5, "expiry", "failed", dayPtr(utcAt(6, 12, 3, 0))},
	{3, "expiry", "pending", nil},
	{12, "notice", "delivered", dayPtr(utcAt(6, 20, 3, 0))},
	{11, "expiry", "delivered", dayPtr(utcAt(5, 31, 15, 0))},
}

const statsTypeCode = "11140522MB0000000X001"

func seedStats(t *testing.T, s *Store) {
	t.Helper()
	ctx := testCtx(t)
	now := utc(time.Now())
	ins := func(table string, cols []string, values [][]any) {
		t.Helper()
		if err := s.insertValues(ctx, table, cols, values, ""); err != nil {
			t.Fatalf("insert %s: %v", table, err)
		}
	}
	ins("departments", []string{"id", "name", "uscc", "kind", "area_code", "created_at"}, [][]any{
		{statsA, "县市场监督管理局", "11140522MB0000000X", "issuer", "140522", now},
		{statsB, "县交通运输局", "11140522MB0000001X", "issuer", "140522", now},
		{statsC, "县农商银行", "91140522MA0000002X", "relying", "140522", now},
	})
	ins("licence_types", []string{"code", "name", "holder_kind", "fields", "created_at"}, [][]any{
		{statsTypeCode, "营业执照", "person", "[]", now},
	})
	ins("holders", []string{"id", "kind", "name", "id_type", "id_number_enc", "id_number_idx", "phone_enc", "created_at"}, [][]any{
		{1, "person", "张三", "111", "x", strings.Repeat("0", 64), "", now},
	})
	var lv [][]any
	for _, l := range statsLicences {
		v := l.version
		if v == 0 {
			v = 1
		}
		lv = append(lv, []any{l.id, fmt.Sprintf("id-%d", l.id), "x", fmt.Sprintf("%064d", l.id), statsTypeCode, 1, l.issuer,
			dateOf(l.issuedOn), dateOf(l.validFrom), datePtr(l.validUntil), l.status, "[]", v, "x", "", l.created, l.created,
			l.origin, l.lineage, l.superSe})
	}
	ins("licences", []string{"id", "identifier", "number_enc", "number_idx", "type_code", "holder_id", "issuer_id",
		"issued_on", "valid_from", "valid_until", "status", "annotations", "version", "face_enc", "seal", "created_at", "updated_at",
		"origin", "lineage_id", "superseded_by"}, lv)
	var uv [][]any
	for _, u := range statsUsage {
		uv = append(uv, []any{u.licence, "o-1", u.dept, u.purpose, "basic", u.result, "ok", "127.0.0.1", utc(u.at)})
	}
	ins("usage_records", []string{"licence_id", "officer_openid", "department_id", "purpose", "scope", "result", "reason_code", "client_ip", "at"}, uv)
	var rv [][]any
	for _, m := range statsMessages {
		rv = append(rv, []any{m.licence, 30, dateOf(d25(7, 1)), 1, "o-1", m.state, now, now, now, m.sent, m.kind})
	}
	ins("reminders", []string{"licence_id", "stage", "expiry_date", "licence_version", "openid", "state", "next_attempt_at", "created_at", "updated_at", "sent_at", "kind"}, rv)
}

// statsWant are the fixture's June figures, counted by hand from the
// comments above.
var statsWant = map[int64]stats.DepartmentMonth{
	statsA: {DepartmentID: statsA, Name: "县市场监督管理局", Kind: "issuer",
		Issued: 3, Imported: 2, IssuedOnMonth: 4, Synced: 2, StockImported: 3, StockBaseline: i64(10),
		Held: 6, HeldVerified: 2, RemindersSent: 3, RemindersDelivered: 1},
	statsB: {DepartmentID: statsB, Name: "县交通运输局", Kind: "issuer",
		Issued: 2, IssuedOnMonth: 2, Synced: 1, Held: 3, HeldVerified: 1, NoticesSent: 1, NoticesDelivered: 1,
		Verifications: 1, Valid: 1},
	statsC: {DepartmentID: statsC, Name: "县农商银行", Kind: "relying",
		Verifications: 5, Valid: 2, Invalid: 2, Refused: 1},
}

var statsWantVerifications = []stats.VerificationCount{
	{DepartmentID: statsB, Department: "县交通运输局", Result: "valid", Purpose: "入学", Count: 1},
	{DepartmentID: statsC, Department: "县农商银行", Result: "invalid", Purpose: "开户", Count: 2},
	{DepartmentID: statsC, Department: "县农商银行", Result: "refused", Purpose: "入学", Count: 1},
	{DepartmentID: statsC, Department: "县农商银行", Result: "valid", Purpose: "开户", Count: 2},
}

func statsService(t *testing.T, s *Store) *stats.Service {
	t.Helper()
	svc, err := stats.NewService(s, func() time.Time { return utcAt(7, 1, 0, 0) })
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func sameDepartment(t *testing.T, got, want stats.DepartmentMonth) {
	t.Helper()
	gb, wb := got.StockBaseline, want.StockBaseline
	got.StockBaseline, want.StockBaseline = nil, nil
	if got != want || (gb == nil) != (wb == nil) || gb != nil && *gb != *wb {
		t.Errorf("department %d:\n got %+v baseline %v\nwant %+v baseline %v", want.DepartmentID, got, deref(gb), want, deref(wb))
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestStatsMonthFigures checks every figure of a month against the
// hand-counted fixture, on both databases: the county's report, each
// department's own, and the month boundaries in Asia/Shanghai.
func TestStatsMonthFigures(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		seedStats(t, s)
		ctx := testCtx(t)
		svc := statsService(t, s)
		if err := svc.SetStockBaseline(ctx, audit.ActorStaff("admin"), statsA, 10); err != nil {
			t.Fatalf("SetStockBaseline: %v", err)
		}

		r, err := svc.County(ctx, statsJune)
		if err != nil {
			t.Fatalf("County: %v", err)
		}
		if len(r.Departments) != 3 {
			t.Fatalf("departments: %+v", r.Departments)
		}
		for _, d := range r.Departments {
			sameDepartment(t, d, statsWant[d.DepartmentID])
		}
		sameDepartment(t, *r.County, stats.DepartmentMonth{Name: stats.CountyName, StockBaseline: i64(10),
			Issued: 5, Imported: 2, IssuedOnMonth: 6, Synced: 3, StockImported: 3, Held: 9, HeldVerified: 3,
			RemindersSent: 3, RemindersDelivered: 1, NoticesSent: 1, NoticesDelivered: 1,
			Verifications: 6, Valid: 3, Invalid: 2, Refused: 1})
		if fmt.Sprint(r.Verifications) != fmt.Sprint(statsWantVerifications) {
			t.Errorf("verifications:\n got %+v\nwant %+v", r.Verifications, statsWantVerifications)
		}

		for id, want := range statsWant {
			r, err := svc.Department(ctx, statsJune, id)
			if err != nil {
				t.Fatalf("Department %d: %v", id, err)
			}
			if len(r.Departments) != 1 || r.County != nil {
				t.Fatalf("department %d report: %+v", id, r)
			}
			sameDepartment(t, r.Departments[0], want)
			var wantV []stats.VerificationCount
			for _, v := range statsWantVerifications {
				if v.DepartmentID == id {
					wantV = append(wantV, v)
				}
			}
			if fmt.Sprint(r.Verifications) != fmt.Sprint(wantV) {
				t.Errorf("department %d verifications: got %+v, want %+v", id, r.Verifications, wantV)
			}
		}

		// July: licence 4, the message-free July verification of 13.
		jul, err := svc.County(ctx, stats.Month{Year: 2025, Month: time.July})
		if err != nil {
			t.Fatal(err)
		}
		if c := jul.County; c.Issued != 1 || c.Verifications != 1 || c.Invalid != 1 || c.StockImported != 3 {
			t.Errorf("July county: %+v", c)
		}
	})
}

// TestStatsRefusals: an unknown department and a bad baseline change
// nothing and say why; an unknown department's report is not found.
func TestStatsRefusals(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		seedStats(t, s)
		ctx := testCtx(t)
		svc := statsService(t, s)
		before := count(t, s, "audit_events")
		if err := svc.SetStockBaseline(ctx, "staff:x", 99, 5); !errors.Is(err, stats.ErrNotFound) {
			t.Errorf("baseline of unknown department: %v, want ErrNotFound", err)
		}
		if err := svc.SetStockBaseline(ctx, "staff:x", statsA, -1); !errors.Is(err, stats.ErrBadBaseline) {
			t.Errorf("negative baseline: %v, want ErrBadBaseline", err)
		}
		if n := count(t, s, "stock_baselines") + count(t, s, "audit_events") - before; n != 0 {
			t.Errorf("refused baselines wrote %d rows", n)
		}
		if _, err := svc.Department(ctx, statsJune, 99); !errors.Is(err, stats.ErrNotFound) {
			t.Errorf("report of unknown department: %v, want ErrNotFound", err)
		}
		if err := s.InTx(ctx, func(tx *Store) error {
			_, err := tx.MonthFigures(ctx, statsJune, 0)
			return err
		}); err == nil {
			t.Error("statistics inside a transaction: no error")
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := svc.County(cancelled, statsJune); !errors.Is(err, context.Canceled) {
			t.Errorf("statistics with a cancelled context: %v", err)
		}
		// A baseline is replaced, not added, and audited each time.
		for _, n := range []int64{10, 12} {
			if err := svc.SetStockBaseline(ctx, "staff:x", statsA, n); err != nil {
				t.Fatal(err)
			}
		}
		r, err := svc.Department(ctx, statsJune, statsA)
		if err != nil {
			t.Fatal(err)
		}
		if b := r.Departments[0].StockBaseline; b == nil || *b != 12 {
			t.Errorf("baseline after 10 then 12: %v", deref(b))
		}
		if n := count(t, s, "audit_events") - before; n != 2 {
			t.Errorf("audit events for two baselines: %d", n)
		}
	})
}

// TestStatsUseIndexes checks on MariaDB that each statistics query reads
// the index migration 0020 made for it, from the index alone, over a table
// large enough that the optimiser prefers an index to a scan.
func TestStatsUseIndexes(t *testing.T) {
	s := openStore(t, DriverMySQL, mysqltest.DSN(t), true)
	seedStats(t, s)
	ctx := testCtx(t)
	// 4,000 more licences over 2020–2025 and 8,000 verifications over
	// 2024–2025, so each month is a small slice of the tables.
	var lv, uv [][]any
	for i := int64(100); i < 4100; i++ {
		created := utcAt(1, 1, 0, 0).AddDate(-5, 0, int(i%2000))
		lv = append(lv, []any{i, fmt.Sprintf("f-%d", i), "x", fmt.Sprintf("%064d", i), statsTypeCode, 1, statsA + i%2,
			dateOf(created), dateOf(created), nil, "valid", "[]", 1, "x", "", created, created, []string{"issue", "import"}[i%2]})
	}
	for i := 0; i < 8000; i++ {
		uv = append(uv, []any{100 + i%4000, "o-1", statsC, "开户", "basic", "valid", "ok", "127.0.0.1", utcAt(1, 1, 0, 0).AddDate(-1, 0, i%700)})
	}
	for from := 0; from < len(lv); from += 1000 {
		if err := s.insertValues(ctx, "licences", []string{"id", "identifier", "number_enc", "number_idx", "type_code", "holder_id", "issuer_id",
			"issued_on", "valid_from", "valid_until", "status", "annotations", "version", "face_enc", "seal", "created_at", "updated_at", "origin"},
			lv[from:min(from+1000, len(lv))], ""); err != nil {
			t.Fatal(err)
		}
	}
	for from := 0; from < len(uv); from += 1000 {
		if err := s.insertValues(ctx, "usage_records", []string{"licence_id", "officer_openid", "department_id", "purpose", "scope", "result", "reason_code", "client_ip", "at"},
			uv[from:min(from+1000, len(uv))], ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.q(ctx).Exec("ANALYZE TABLE licences, usage_records, reminders").Error; err != nil {
		t.Fatal(err)
	}
	// The table (or alias) each query reads by its index.
	reads := map[string]string{"created": "licences", "stock": "licences", "synced": "licences", "held": "l", "messages": "r", "verifications": "usage_records"}
	for _, dept := range []int64{0, statsA} {
		for _, q := range statsQueries(s, newStatsMonth(statsJune, dept)) {
			var plan []map[string]any
			if err := s.q(ctx).Raw("EXPLAIN "+q.sql, q.args...).Scan(&plan).Error; err != nil {
				t.Fatalf("%s: EXPLAIN: %v", q.name, err)
			}
			want := map[string]string{reads[q.name]: q.index}
			if q.name == "held" {
				want["usage_records"] = "ix_usage_records_stats"
			}
			// One department's verifications are its range of
			// ix_usage_records_department, with the rows read for result
			// and purpose: not worth a second wide index on the table every
			// verification writes to (docs/STATISTICS.md).
			indexOnly := true
			if q.name == "verifications" && dept != 0 {
				want["usage_records"], indexOnly = "ix_usage_records_department", false
			}
			for table, key := range want {
				p := planRow(plan, table)
				if p == nil {
					t.Errorf("%s (department %d): no table %s in plan %v", q.name, dept, table, plan)
					continue
				}
				if fmt.Sprint(p["key"]) != key || indexOnly && !readsIndexOnly(p) {
					t.Errorf("%s (department %d): table %s read by %v (%v), want %s alone; plan %v", q.name, dept, table, p["key"], p["Extra"], key, plan)
				}
			}
		}
	}
}

// readsIndexOnly: "Using index", not "Using index condition" (which reads
// the rows after the index).
func readsIndexOnly(p map[string]any) bool {
	for _, e := range strings.Split(fmt.Sprint(p["Extra"]), ";") {
		if strings.TrimSpace(e) == "Using index" {
			return true
		}
	}
	return false
}

func planRow(plan []map[string]any, table string) map[string]any {
	for _, p := range plan {
		if fmt.Sprint(p["table"]) == table {
			return p
		}
	}
	return nil
}

// TestStatsMigrationBackfillsOrigin: migration 0020 gives the licences
// already on record the origin their history line names. It is run again
// here over such licences (its statements are safe to repeat, as every
// migration's must be on MySQL).
func TestStatsMigrationBackfillsOrigin(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		seedStats(t, s)
		ctx := testCtx(t)
		now := utc(time.Now())
		var ev [][]any
		for id, action := range map[int64]string{1: "issue", 5: "import", 9: "renew"} {
			ev = append(ev, []any{id, id, 1, action, "", "valid", "[]", "", "cli:test", now, now})
		}
		if err := s.insertValues(ctx, "licence_events", []string{"lineage_id", "licence_id", "version", "action", "from_status", "to_status",
			"annotations", "reason", "actor", "effective_at", "at"}, ev, ""); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"UPDATE licences SET origin = 'issue'", "DELETE FROM schema_migrations WHERE version = 20"} {
			if err := s.q(ctx).Exec(q).Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migration 0020 again: %v", err)
		}
		var got []struct {
			ID     int64
			Origin string
		}
		if err := s.q(ctx).Raw("SELECT id, origin FROM licences WHERE id IN (1, 5, 9, 13) ORDER BY id").Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != "[{1 issue} {5 import} {9 renew} {13 issue}]" {
			t.Errorf("origins after the backfill: %v", got)
		}
	})
}
