package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/licence"
)

func TestUsageListLookups(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		police, err := s.DepartmentByUSCC(ctx, demo.USCCTrafficBrigade)
		if err != nil {
			t.Fatal(err)
		}
		housing, err := s.DepartmentByUSCC(ctx, demo.USCCRealEstateCentre)
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name     string
			dept     int64
			typeCode string
			ok       bool
			purposes []string
		}{
			{"police may check driving licences", police.ID, demo.TypeDrivingLicence, true, []string{demo.PurposeTrafficEnforcement, demo.PurposeAccidentHandling}},
			{"police may check ID cards", police.ID, demo.TypeResidentID, true, []string{demo.PurposeTrafficEnforcement, demo.PurposeIdentityCheck}},
			{"police may not check titles", police.ID, demo.TypeRealEstateTitle, false, nil},
			{"housing may check titles", housing.ID, demo.TypeRealEstateTitle, true, []string{demo.PurposeRealEstateRegister, demo.PurposeMortgageRegister}},
			{"housing may not check driving licences", housing.ID, demo.TypeDrivingLicence, false, nil},
			{"unknown department", 987654, demo.TypeResidentID, false, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, ok, err := s.UsagePurposes(ctx, tt.dept, tt.typeCode)
				if err != nil || ok != tt.ok || !reflect.DeepEqual(got, tt.purposes) {
					t.Fatalf("UsagePurposes = %v, %v, %v; want %v, %v", got, ok, err, tt.purposes, tt.ok)
				}
			})
		}
		types, err := s.UsageTypes(ctx, police.ID)
		if want := []string{demo.TypeDrivingLicence, demo.TypeResidentID}; err != nil || !reflect.DeepEqual(types, want) {
			t.Fatalf("UsageTypes(police) = %v, %v; want %v", types, err, want)
		}
		if none, err := s.UsageTypes(ctx, 987654); err != nil || len(none) != 0 || none == nil {
			t.Fatalf("UsageTypes(unknown) = %#v, %v; want empty list", none, err)
		}

		// Replacing purposes and removing a type.
		if err := s.SetUsageList(ctx, police.ID, demo.TypeResidentID, []string{"身份核验"}); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := s.UsagePurposes(ctx, police.ID, demo.TypeResidentID); !reflect.DeepEqual(got, []string{"身份核验"}) {
			t.Fatalf("purposes after replace = %v", got)
		}
		if err := s.RemoveFromUsageList(ctx, police.ID, demo.TypeResidentID); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.UsagePurposes(ctx, police.ID, demo.TypeResidentID); ok {
			t.Fatal("type still on the usage list after removal")
		}
		if err := s.SetUsageList(ctx, police.ID, "unknown-type-code-000", nil); err == nil {
			t.Fatal("usage list accepted an unknown licence type")
		}
	}))
}

func TestUsageRecordsNewestFirst(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		zs, _ := s.HolderByIDNumber(ctx, IDTypeResident, demo.ZhangsanIDNumber)
		ls, _ := s.LicencesByHolder(ctx, zs.ID)
		police, _ := s.DepartmentByUSCC(ctx, demo.USCCTrafficBrigade)
		housing, _ := s.DepartmentByUSCC(ctx, demo.USCCRealEstateCentre)
		base := time.Date(2025, 7, 1, 8, 0, 0, 123456000, time.UTC)

		recs := []licence.UsageRecord{
			{LicenceID: ls[1].ID, OfficerOpenID: demo.OfficerPolice, DepartmentID: police.ID, Purpose: demo.PurposeTrafficEnforcement, Scope: "basic", Result: "valid", ReasonCode: "ok", ClientIP: "10.0.0.1", At: base},
			{LicenceID: ls[1].ID, OfficerOpenID: demo.OfficerPolice, DepartmentID: police.ID, Purpose: demo.PurposeAccidentHandling, Scope: "full", Result: "valid", ReasonCode: "ok", ClientIP: "2001:db8::1", At: base.Add(2 * time.Hour)},
			{LicenceID: ls[0].ID, OfficerOpenID: demo.OfficerPolice, DepartmentID: police.ID, Purpose: demo.PurposeIdentityCheck, Scope: "basic", Result: "valid", ReasonCode: "ok", ClientIP: "10.0.0.1", At: base.Add(time.Hour)},
			{LicenceID: ls[2].ID, OfficerOpenID: demo.OfficerHousing, DepartmentID: housing.ID, Purpose: demo.PurposeRealEstateRegister, Scope: "full", Result: "valid", ReasonCode: "ok", ClientIP: "10.0.0.2", At: base.Add(30 * time.Minute)},
			// Recorded later but happened earlier: order is by time, not insertion.
			{LicenceID: ls[1].ID, OfficerOpenID: demo.OfficerPolice, DepartmentID: police.ID, Purpose: demo.PurposeTrafficEnforcement, Scope: "basic", Result: "refused", ReasonCode: "type_not_in_usage_list", ClientIP: "10.0.0.1", At: base.Add(-time.Hour)},
		}
		for _, r := range recs {
			if err := s.RecordUsage(ctx, r); err != nil {
				t.Fatalf("RecordUsage: %v", err)
			}
		}
		purposes := func(rs []licence.UsageRecord) []string {
			var out []string
			for _, r := range rs {
				out = append(out, r.Purpose)
			}
			return out
		}
		tests := []struct {
			name  string
			list  func() ([]licence.UsageRecord, error)
			want  []string
			first licence.UsageRecord
		}{
			{"by licence", func() ([]licence.UsageRecord, error) { return s.UsageByLicence(ctx, ls[1].ID, 0) },
				[]string{demo.PurposeAccidentHandling, demo.PurposeTrafficEnforcement, demo.PurposeTrafficEnforcement}, recs[1]},
			{"by licence, limited", func() ([]licence.UsageRecord, error) { return s.UsageByLicence(ctx, ls[1].ID, 2) },
				[]string{demo.PurposeAccidentHandling, demo.PurposeTrafficEnforcement}, recs[1]},
			{"by officer", func() ([]licence.UsageRecord, error) { return s.UsageByOfficer(ctx, demo.OfficerPolice, 10) },
				[]string{demo.PurposeAccidentHandling, demo.PurposeIdentityCheck, demo.PurposeTrafficEnforcement, demo.PurposeTrafficEnforcement}, recs[1]},
			{"other officer", func() ([]licence.UsageRecord, error) { return s.UsageByOfficer(ctx, demo.OfficerHousing, 10) },
				[]string{demo.PurposeRealEstateRegister}, recs[3]},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := tt.list()
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(purposes(got), tt.want) {
					t.Fatalf("purposes = %v, want %v", purposes(got), tt.want)
				}
				first := got[0]
				if first.ID == 0 {
					t.Fatal("record has no id")
				}
				first.ID = 0
				if !first.At.Equal(tt.first.At) {
					t.Fatalf("At = %v, want %v", first.At, tt.first.At)
				}
				first.At = tt.first.At
				if !reflect.DeepEqual(first, tt.first) {
					t.Fatalf("first record = %+v, want %+v", first, tt.first)
				}
			})
		}
		if empty, err := s.UsageByLicence(ctx, 987654, 10); err != nil || len(empty) != 0 {
			t.Fatalf("unknown licence: %v, %v", empty, err)
		}
		if err := s.RecordUsage(ctx, licence.UsageRecord{LicenceID: 987654, OfficerOpenID: "x", DepartmentID: police.ID, At: base}); err == nil {
			t.Fatal("usage recorded for a licence that does not exist")
		}
	}))
}
