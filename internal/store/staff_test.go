package store

import (
	"errors"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/staff"
)

func TestStaffRepository(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		// The demo staff are seeded once, with their departments.
		clerk, sec, err := s.StaffByUsername(ctx, demo.StaffEstateClerk)
		if err != nil || clerk.Role != staff.RoleClerk || clerk.Department.USCC != demo.USCCRealEstateCentre || sec.PasswordHash == "" || sec.TOTPSecret != "" {
			t.Fatalf("demo clerk = %+v %+v, %v", clerk, sec, err)
		}
		if err := demo.Seed(ctx, TxAs[demo.Repository](s), demoNow); err != nil {
			t.Fatal(err)
		}
		all, err := s.ListStaff(ctx)
		if err != nil || len(all) != 3 || all[0].Username != demo.StaffAdmin || all[0].Department.ID != 0 || all[2].Department.ID != clerk.Department.ID {
			t.Fatalf("ListStaff after a second seed = %+v, %v", all, err)
		}

		ev := audit.Event{Actor: "cli:test", Action: "staff.add", Object: "staff:again"}
		m := staff.Member{Username: demo.StaffEstateClerk, Role: staff.RoleClerk, Department: clerk.Department, CreatedAt: time.Now()}
		if _, err := s.AddStaff(ctx, m, "$argon2id$x", ev); !errors.Is(err, staff.ErrUsernameTaken) {
			t.Fatalf("duplicate username: %v", err)
		}

		// TOTP: pending, then confirmed with its audit event; sealed at rest.
		if err := s.SetTOTP(ctx, clerk.ID, "JBSWY3DPEHPK3PXP", false, nil); err != nil {
			t.Fatal(err)
		}
		if _, sec, _ := s.StaffByUsername(ctx, demo.StaffEstateClerk); sec.TOTPSecret != "JBSWY3DPEHPK3PXP" || sec.TOTPConfirmed {
			t.Fatalf("pending TOTP = %+v", sec)
		}
		var raw string
		if err := s.q(ctx).Raw("SELECT totp_secret_enc FROM staff WHERE id = ?", clerk.ID).Scan(&raw).Error; err != nil || raw == "" || raw == "JBSWY3DPEHPK3PXP" {
			t.Fatalf("stored TOTP secret %q, %v: want it sealed", raw, err)
		}
		enrol := audit.Event{Actor: clerk.Actor(), Action: "staff.totp_enrol", Object: "staff:" + clerk.Username}
		if err := s.SetTOTP(ctx, clerk.ID, "JBSWY3DPEHPK3PXP", true, &enrol); err != nil {
			t.Fatal(err)
		}
		if got, sec, _ := s.StaffByUsername(ctx, demo.StaffEstateClerk); !sec.TOTPConfirmed || !got.TOTPEnrolled {
			t.Fatalf("confirmed TOTP = %+v %+v", got, sec)
		}

		// Disable: once, audited; unknown ids are not found.
		before := count(t, s, "audit_events")
		off := audit.Event{Actor: "cli:test", Action: "staff.disable", Object: "staff:" + clerk.Username}
		if err := s.DisableStaff(ctx, clerk.ID, time.Now(), off); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Staff(ctx, clerk.ID); err != nil || got.DisabledAt == nil || got.May(staff.PermLicencesRead) {
			t.Fatalf("disabled member = %+v, %v", got, err)
		}
		if err := s.DisableStaff(ctx, clerk.ID, time.Now(), off); !errors.Is(err, staff.ErrAlreadyDisabled) {
			t.Fatalf("second disable: %v", err)
		}
		if err := s.DisableStaff(ctx, 999999, time.Now(), off); !errors.Is(err, staff.ErrNotFound) {
			t.Fatalf("disable unknown: %v", err)
		}
		if n := count(t, s, "audit_events"); n != before+1 {
			t.Fatalf("audit events %d → %d, want one for the one disable", before, n)
		}
		if _, err := s.Staff(ctx, 999999); !errors.Is(err, staff.ErrNotFound) {
			t.Fatalf("unknown staff: %v", err)
		}
	}))
}

func TestSearchLicences(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		police, err := s.DepartmentByUSCC(ctx, demo.USCCCityTrafficPolice)
		if err != nil {
			t.Fatal(err)
		}
		// 张三's licence expires 20 days after demoNow: valid today, expired
		// a month later.
		for _, c := range []struct {
			q    licence.SearchQuery
			want int64
		}{
			{licence.SearchQuery{}, 2},
			{licence.SearchQuery{Number: demo.ZhangsanIDNumber}, 1},
			{licence.SearchQuery{HolderIDNumber: demo.LisiIDNumber}, 1},
			{licence.SearchQuery{Status: licence.StatusSuspended}, 1},
			{licence.SearchQuery{Status: licence.StatusValid}, 1},
			{licence.SearchQuery{Status: licence.StatusExpired}, 0},
			{licence.SearchQuery{Status: licence.StatusExpired, Today: demoNow.AddDate(0, 1, 0)}, 1},
			{licence.SearchQuery{TypeCode: demo.TypeRealEstateTitle}, 0},
			{licence.SearchQuery{Number: demo.ZhangsanIDNumber, HolderIDNumber: demo.LisiIDNumber}, 0},
		} {
			c.q.IssuerID = police.ID
			if c.q.Today.IsZero() {
				c.q.Today = demoNow
			}
			page, err := s.SearchLicences(ctx, c.q)
			if err != nil || page.Total != c.want || int64(len(page.Items)) != c.want {
				t.Errorf("search %+v = %d items of %d, %v; want %d", c.q, len(page.Items), page.Total, err, c.want)
			}
		}
		page, err := s.SearchLicences(ctx, licence.SearchQuery{IssuerID: police.ID, PageSize: 1, Page: 2, Today: demoNow})
		if err != nil || page.Total != 2 || len(page.Items) != 1 || page.Items[0].Holder.Name != demo.ZhangsanName {
			t.Fatalf("page 2 of 1 = %+v, %v (newest first: 李四 then 张三)", page, err)
		}
	}))
}
