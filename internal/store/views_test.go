package store

import (
	"errors"
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
