package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/licence"
)

// TestViews: one query gives a licence with its type, issuer and holder,
// and for a verification the department's purposes for the type.
func TestViews(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		zs, _ := s.HolderByIDNumber(ctx, IDTypeResident, demo.ZhangsanIDNumber)
		vs, err := s.ViewsByHolder(ctx, zs.ID)
		if err != nil || len(vs) != 3 {
			t.Fatalf("ViewsByHolder = %d views, %v", len(vs), err)
		}
		driving := vs[1]
		if driving.Type.Code != demo.TypeDrivingLicence || driving.Type.Name != "机动车驾驶证" || len(driving.Type.Fields) == 0 ||
			driving.Issuer.USCC != demo.USCCCityTrafficPolice || driving.Holder.IDNumber != demo.ZhangsanIDNumber || driving.Face["name"] != "张三" {
			t.Fatalf("driving licence view = %+v", driving)
		}
		police, _ := s.DepartmentByUSCC(ctx, demo.USCCTrafficBrigade)
		housing, _ := s.DepartmentByUSCC(ctx, demo.USCCRealEstateCentre)
		v, purposes, listed, err := s.VerificationView(ctx, driving.ID, police.ID)
		if err != nil || !listed || len(purposes) != 2 || v.ID != driving.ID {
			t.Fatalf("police VerificationView = %v %v %v", purposes, listed, err)
		}
		if _, purposes, listed, err = s.VerificationView(ctx, driving.ID, housing.ID); err != nil || listed || purposes != nil {
			t.Fatalf("housing VerificationView = %v %v %v", purposes, listed, err)
		}
		if _, err := s.View(ctx, 987654); !errors.Is(err, licence.ErrNotFound) {
			t.Fatalf("View of a missing licence: %v", err)
		}
	}))
}

// TestChangesAreAudited: a binding and a verification each leave their
// audit entry (the verification's once chained), and the chain still
// verifies.
func TestChangesAreAudited(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		zs, _ := s.HolderByIDNumber(ctx, IDTypeResident, demo.ZhangsanIDNumber)
		if err := s.BindHolder(ctx, demo.CitizenZhangsan, zs.ID, demoNow); err != nil {
			t.Fatal(err)
		}
		ls, _ := s.LicencesByHolder(ctx, zs.ID)
		police, _ := s.DepartmentByUSCC(ctx, demo.USCCTrafficBrigade)
		if err := s.RecordUsage(ctx, licence.UsageRecord{LicenceID: ls[1].ID, OfficerOpenID: demo.OfficerPolice, DepartmentID: police.ID,
			Purpose: demo.PurposeTrafficEnforcement, Scope: "basic", Result: "valid", ReasonCode: "ok", At: demoNow}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.ChainPending(ctx, 10); n != 1 || err != nil {
			t.Fatalf("ChainPending = %d, %v; want the one record", n, err)
		}
		n, err := s.VerifyAudit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := s.AuditEvents(ctx, n-2, 10)
		if err != nil || len(evs) != 2 {
			t.Fatalf("last entries: %v, %v", evs, err)
		}
		if evs[0].Action != "realname.bind" || evs[0].Actor != "account:"+demo.CitizenZhangsan ||
			evs[1].Action != "verification.valid" || evs[1].Actor != "officer:"+demo.OfficerPolice || evs[1].Object != fmt.Sprintf("licence:%d", ls[1].ID) {
			t.Fatalf("audit entries = %+v", evs)
		}
		for _, e := range evs {
			if strings.Contains(e.Detail, demo.ZhangsanIDNumber) {
				t.Fatalf("audit detail holds an ID number: %s", e.Detail)
			}
		}
	}))
}
