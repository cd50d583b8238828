package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/store/mysqltest"
)

// TestSearchAudit filters a hand-made chain by every filter of the
// console's audit viewer, and by each department's scope.
func TestSearchAudit(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		dept := func(uscc string) int64 {
			d, err := s.DepartmentByUSCC(ctx, uscc)
			if err != nil {
				t.Fatal(err)
			}
			return d.ID
		}
		brigade, cityPolice, estate := dept(demo.USCCTrafficBrigade), dept(demo.USCCCityTrafficPolice), dept(demo.USCCRealEstateCentre)
		licenceOf := func(issuer int64) string {
			var id int64
			if err := s.db.WithContext(ctx).Raw("SELECT MIN(id) FROM licences WHERE issuer_id = ?", issuer).Scan(&id).Error; err != nil || id == 0 {
				t.Fatalf("a licence of %d: %d, %v", issuer, id, err)
			}
			return fmt.Sprintf("licence:%d", id)
		}
		driving, estateTitle := licenceOf(cityPolice), licenceOf(estate)
		if err := s.db.WithContext(ctx).Exec("DELETE FROM audit_events").Error; err != nil {
			t.Fatal(err)
		}
		if err := s.db.WithContext(ctx).Exec("UPDATE audit_head SET last_id = 0, last_hash = ? WHERE id = 1", genesisHash).Error; err != nil {
			t.Fatal(err)
		}
		at := time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)
		for i, ev := range []audit.Event{
			// 1: the brigade's officer verifies the city police's licence.
			{Actor: audit.ActorOfficer(demo.OfficerPolice), Action: "verification.valid", Object: driving},
			// 2: the estate clerk suspends an estate licence.
			{Actor: audit.ActorStaff(demo.StaffEstateClerk), Action: "licence.suspend", Object: estateTitle},
			// 3: the brigade's admin logs in.
			{Actor: audit.ActorStaff(demo.StaffPoliceAdmin), Action: "staff.login", Object: "staff:" + demo.StaffPoliceAdmin},
			// 4: the county sets the estate centre's baseline (by id) …
			{Actor: audit.ActorStaff(demo.StaffAdmin), Action: "stats.stock_baseline", Object: fmt.Sprintf("department:%d", estate)},
			// 5: … and imports its stock (by USCC).
			{Actor: audit.ActorCLI("import"), Action: "licence.import", Object: "department:" + demo.USCCRealEstateCentre},
			// 6: the county's own business.
			{Actor: audit.ActorCLI("catalogue"), Action: "catalogue.apply", Object: "catalogue"},
			// 7: the housing officer verifies the estate licence.
			{Actor: audit.ActorOfficer(demo.OfficerHousing), Action: "verification.valid", Object: estateTitle},
		} {
			ev.At = at.Add(time.Duration(i) * time.Hour)
			if _, err := s.AppendAudit(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			name string
			q    audit.Query
			want []int64
		}{
			{"everything, newest first", audit.Query{}, []int64{7, 6, 5, 4, 3, 2, 1}},
			{"actor", audit.Query{Actor: audit.ActorOfficer(demo.OfficerPolice)}, []int64{1}},
			{"action", audit.Query{Action: "verification.valid"}, []int64{7, 1}},
			{"licence", audit.Query{Objects: []string{estateTitle}}, []int64{7, 2}},
			{"time range [from, to)", audit.Query{From: at.Add(time.Hour), To: at.Add(3 * time.Hour)}, []int64{3, 2}},
			{"page after 5", audit.Query{Before: 5, Limit: 2}, []int64{4, 3}},
			{"filters combine", audit.Query{Action: "verification.valid", Objects: []string{driving}}, []int64{1}},
			{"nothing matches", audit.Query{Actor: "staff:nobody"}, nil},
			// The brigade: what its officer and admin did, wherever.
			{"brigade's scope", audit.Query{DepartmentID: brigade}, []int64{3, 1}},
			// The city police: its licence, whoever touched it.
			{"issuer's scope", audit.Query{DepartmentID: cityPolice}, []int64{1}},
			{"estate centre's scope", audit.Query{DepartmentID: estate}, []int64{7, 5, 4, 2}},
			{"scope and filter", audit.Query{DepartmentID: estate, Action: "licence.suspend"}, []int64{2}},
			{"another's licence in scope", audit.Query{DepartmentID: brigade, Objects: []string{estateTitle}}, nil},
		} {
			got, err := s.SearchAudit(ctx, c.q)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			var seqs []int64
			for _, e := range got {
				seqs = append(seqs, e.Seq)
			}
			if !slices.Equal(seqs, c.want) {
				t.Errorf("%s: %v, want %v", c.name, seqs, c.want)
			}
		}
	}))
}

// TestVerifyAuditWhileAppending appends while the walk is under way, as a
// live server does: the chain still verifies, and progress reaches the end.
func TestVerifyAuditWhileAppending(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		for i := range verifyBatch + 5 {
			if _, err := s.AppendAudit(ctx, audit.Event{Actor: "cli:test", Action: "test.append", Object: fmt.Sprintf("x:%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		var calls []int64
		n, err := s.VerifyAuditProgress(ctx, func(checked, total int64) {
			calls = append(calls, checked)
			if len(calls) <= 2 { // an append after each of the first two batches
				if _, err := s.AppendAudit(ctx, audit.Event{Actor: "cli:test", Action: "test.append", Object: "late"}); err != nil {
					t.Error(err)
				}
			}
			if checked > total {
				t.Errorf("progress %d of %d", checked, total)
			}
		})
		if err != nil || n != verifyBatch+7 {
			t.Fatalf("VerifyAuditProgress = %d, %v; want %d, nil", n, err, verifyBatch+7)
		}
		if calls[len(calls)-1] != n {
			t.Fatalf("progress ended at %v, want %d", calls, n)
		}
		// Rows beyond the head are still a break: rewind the head to an
		// earlier entry with its own hash.
		var prev auditEventRow
		if err := s.db.WithContext(ctx).Where("id = ?", n-1).First(&prev).Error; err != nil {
			t.Fatal(err)
		}
		if err := s.db.WithContext(ctx).Exec("UPDATE audit_head SET last_id = ?, last_hash = ? WHERE id = 1", prev.ID, prev.Hash).Error; err != nil {
			t.Fatal(err)
		}
		var te *TamperError
		if _, err := s.VerifyAudit(ctx); !errors.As(err, &te) || te.Seq != n {
			t.Fatalf("VerifyAudit with the head rewound = %v, want a break at %d", err, n)
		}
	})
}

// TestSearchAuditUsesIndexes checks on MariaDB that each filter of the
// viewer reads its index in id order, never the whole table.
func TestSearchAuditUsesIndexes(t *testing.T) {
	s := openStore(t, DriverMySQL, mysqltest.DSN(t), true)
	ctx := testCtx(t)
	var vals []string
	for i := 1; i <= 5000; i++ {
		vals = append(vals, fmt.Sprintf("(%d, '2025-06-01 00:00:00', 'officer:o-%d', 'verification.%d', 'licence:%d', '', '%064d', '%064d')",
			i, i%300, i%40, i%2000, i, i+100000))
	}
	if err := s.db.WithContext(ctx).Exec("INSERT INTO audit_events (id, at, actor, action, object, detail, prev_hash, hash) VALUES " + strings.Join(vals, ",")).Error; err != nil {
		t.Fatal(err)
	}
	if err := s.db.WithContext(ctx).Exec("ANALYZE TABLE audit_events").Error; err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		q   audit.Query
		key string
	}{
		{audit.Query{Actor: "officer:o-7"}, "ix_audit_events_actor"},
		{audit.Query{Action: "verification.3", Before: 4000}, "ix_audit_events_action"},
		{audit.Query{Objects: []string{"licence:12", "licence:13"}}, "ix_audit_events_object"},
		{audit.Query{From: time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)}, "ix_audit_events_at"},
	} {
		var rows []auditEventRow
		q := s.db.WithContext(ctx).ToSQL(func(tx *gorm.DB) *gorm.DB { return s.auditSearch(tx, c.q).Find(&rows) })
		var plan []map[string]any
		if err := s.db.WithContext(ctx).Raw("EXPLAIN " + q).Scan(&plan).Error; err != nil {
			t.Fatalf("EXPLAIN %s: %v", q, err)
		}
		if len(plan) != 1 || fmt.Sprint(plan[0]["key"]) != c.key || fmt.Sprint(plan[0]["type"]) == "ALL" {
			t.Errorf("%+v: plan %v, want a read of %s", c.q, plan, c.key)
		}
	}
}
