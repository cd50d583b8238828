package stats_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/importer"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/stats"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
)

// fakeRepo answers with fixed figures and records what reached it, so the
// service's own checks are seen to stop a request before the database.
type fakeRepo struct {
	figures stats.Figures
	calls   int
}

func (f *fakeRepo) MonthFigures(context.Context, stats.Month, int64) (stats.Figures, error) {
	f.calls++
	return f.figures, nil
}

func (f *fakeRepo) SetStockBaseline(context.Context, int64, int64, audit.Event) error {
	f.calls++
	return nil
}

func TestParseMonth(t *testing.T) {
	for in, want := range map[string]stats.Month{"2025-06": {Year: 2025, Month: time.June}, "2000-01": {Year: 2000, Month: time.January}} {
		if got, err := stats.ParseMonth(in); err != nil || got != want || got.String() != in {
			t.Errorf("ParseMonth(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "2025-6", "2025-13", "2025-06-01", "1999-12", "3000-01", "June"} {
		if _, err := stats.ParseMonth(in); !errors.Is(err, stats.ErrBadMonth) {
			t.Errorf("ParseMonth(%q): %v, want ErrBadMonth", in, err)
		}
	}
}

func TestServiceRefusesBeforeTheDatabase(t *testing.T) {
	repo := &fakeRepo{}
	svc, err := stats.NewService(repo, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stats.NewService(nil, nil); err == nil {
		t.Error("NewService(nil) accepted")
	}
	ctx := t.Context()
	june := stats.Month{Year: 2025, Month: time.June}
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"month 13", second(svc.County(ctx, stats.Month{Year: 2025, Month: 13})), stats.ErrBadMonth},
		{"year 0", second(svc.Department(ctx, stats.Month{Month: time.June}, 1)), stats.ErrBadMonth},
		{"department 0", second(svc.Department(ctx, june, 0)), stats.ErrNotFound},
		{"baseline of department 0", svc.SetStockBaseline(ctx, "staff:a", 0, 1), stats.ErrNotFound},
		{"negative baseline", svc.SetStockBaseline(ctx, "staff:a", 1, -1), stats.ErrBadBaseline},
		{"baseline over the maximum", svc.SetStockBaseline(ctx, "staff:a", 1, stats.MaxBaseline+1), stats.ErrBadBaseline},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
	if repo.calls != 0 {
		t.Errorf("refused requests reached the repository %d times", repo.calls)
	}
	if err := svc.SetStockBaseline(ctx, "staff:a", 1, stats.MaxBaseline); err != nil || repo.calls != 1 {
		t.Errorf("the largest baseline: %v (calls %d)", err, repo.calls)
	}
}

func second(_ stats.Report, err error) error { return err }

func i64(n int64) *int64 { return &n }

// TestCountyTotals: the county row sums the departments; its stock
// baseline is the declared stock only when every department that imported
// stock declared one.
func TestCountyTotals(t *testing.T) {
	cases := []struct {
		name string
		deps []stats.DepartmentMonth
		want *int64
	}{
		{"none declared", []stats.DepartmentMonth{{StockImported: 3}, {}}, nil},
		{"all importers declared", []stats.DepartmentMonth{{StockImported: 3, StockBaseline: i64(10)}, {StockBaseline: i64(5)}, {}}, i64(15)},
		{"an importer without one", []stats.DepartmentMonth{{StockImported: 3, StockBaseline: i64(10)}, {StockImported: 1}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.deps = append(c.deps, stats.DepartmentMonth{Issued: 2, Imported: 1, Held: 4, HeldVerified: 1, Verifications: 7, Valid: 7})
			svc, _ := stats.NewService(&fakeRepo{figures: stats.Figures{Departments: c.deps}}, nil)
			r, err := svc.County(t.Context(), stats.Month{Year: 2025, Month: time.June})
			if err != nil {
				t.Fatal(err)
			}
			got := r.County
			if (got.StockBaseline == nil) != (c.want == nil) || c.want != nil && *got.StockBaseline != *c.want {
				t.Errorf("baseline %v, want %v", got.StockBaseline, c.want)
			}
			if got.Name != stats.CountyName || got.Issued != 2 || got.Collected() != 3 || got.Verifications != 7 || got.UsageRate() != (stats.Rate{Num: 1, Den: 4}) {
				t.Errorf("county %+v", got)
			}
		})
	}
}

// TestWritesAreCounted drives the real write paths — issue, a revision,
// a stock import, a verification — and checks that each moves exactly the
// figures it should, on both databases: the licence's origin is recorded
// by each path.
func TestWritesAreCounted(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			ctx := t.Context()
			now := time.Now()
			st := storetest.Seeded(t, driver, storetest.DSN(t, driver), now)
			issuer, err := st.DepartmentByUSCC(ctx, demo.USCCRealEstateCentre)
			if err != nil {
				t.Fatal(err)
			}
			svc, err := stats.NewService(st, nil)
			if err != nil {
				t.Fatal(err)
			}
			// Every write is signed by the demo seals, as in service.
			signing := storetest.SealDemo(t, st, nil).Signing
			life, err := licence.NewLifecycle(st, st, st, signing, nil)
			if err != nil {
				t.Fatal(err)
			}
			month := stats.Month{Year: now.In(store.DateLocation()).Year(), Month: now.In(store.DateLocation()).Month()}
			figures := func() stats.DepartmentMonth {
				t.Helper()
				r, err := svc.Department(ctx, month, issuer.ID)
				if err != nil {
					t.Fatal(err)
				}
				return r.Departments[0]
			}
			before := figures()

			today := time.Now().In(store.DateLocation())
			req := licence.IssueRequest{
				TypeCode: demo.TypeRealEstateTitle, Number: "晋(2025)阳城县不动产权第0777001号",
				Holder:   licence.Holder{Name: demo.ZhangsanName, IDType: "111", IDNumber: demo.ZhangsanIDNumber},
				IssuedOn: today, ValidFrom: today,
				Fields: map[string]string{"right_holder": demo.ZhangsanName, "location": "阳城县凤城镇测试路7号", "area": "90㎡"},
			}
			rec, err := life.Issue(ctx, issuer, "cli:test", req)
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			if _, err := life.Apply(ctx, issuer, "cli:test", rec.ID, licence.EventRequest{Action: licence.ActionUpdate, Reason: "面积更正",
				Fields: map[string]string{"area": "91㎡"}}); err != nil {
				t.Fatalf("update: %v", err)
			}
			stock := req
			stock.Number = "晋(2010)阳城县房权证第0000042号"
			stock.IssuedOn = time.Date(2010, 3, 1, 0, 0, 0, 0, store.DateLocation())
			stock.ValidFrom = stock.IssuedOn
			sign, err := signing.SignerFor(ctx, issuer, stock.TypeCode)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.ImportBatch(ctx, importer.Batch{Issuer: issuer, Actor: "cli:import", Source: "stock.csv",
				Items: []importer.Item{{Row: 2, Req: stock}}, Sign: sign}); err != nil {
				t.Fatalf("import: %v", err)
			}
			if err := st.RecordUsage(ctx, licence.UsageRecord{LicenceID: rec.ID, OfficerOpenID: "o-test", DepartmentID: issuer.ID,
				Purpose: "不动产登记", Scope: "basic", Result: "valid", ReasonCode: "ok", ClientIP: "127.0.0.1"}); err != nil {
				t.Fatalf("RecordUsage: %v", err)
			}

			after := figures()
			// The revision made a second version of the same licence: held
			// once, verified through its lineage, and no new issue.
			want := before
			want.Issued++
			want.Imported++
			want.IssuedOnMonth++
			want.Synced++
			want.StockImported++
			want.Held += 2
			want.HeldVerified++
			want.Verifications++
			want.Valid++
			if after.StockBaseline != nil || before.StockBaseline != nil {
				t.Fatalf("no baseline was declared: %v %v", after.StockBaseline, before.StockBaseline)
			}
			if after != want {
				t.Errorf("after issue, update, import and a verification:\n got %+v\nwant %+v", after, want)
			}
		})
	}
}
