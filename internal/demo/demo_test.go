package demo_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/configs"
	"github.com/yangcheng-county/elicence/internal/account"
	"github.com/yangcheng-county/elicence/internal/catalogue"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/ident"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
)

// demoNow is a fixed seeding instant: 2025-06-30 23:30 UTC is already
// 1 July in Asia/Shanghai, which catches day arithmetic done in UTC.
var demoNow = time.Date(2025, 6, 30, 23, 30, 0, 0, time.UTC)

const idTypeResident = "111"

var tables = []string{"departments", "licence_types", "licence_type_issuers", "usage_lists", "holders", "licences",
	"accounts", "officers", "staff", "audit_events"}

func TestSeedsAreIdempotent(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			ctx := t.Context()
			dsn := storetest.DSN(t, driver)
			s := storetest.Migrated(t, driver, dsn)
			storetest.SeedCatalogue(t, s)
			cat := storetest.Counts(t, driver, dsn, tables...)
			want := map[string]int64{"departments": 10, "licence_types": 13, "licence_type_issuers": 13, "usage_lists": 4,
				"holders": 0, "licences": 0, "accounts": 0, "officers": 0, "staff": 0, "audit_events": 1}
			if !reflect.DeepEqual(cat, want) {
				t.Fatalf("after the demo catalogue: %v, want %v", cat, want)
			}
			storetest.SeedCatalogue(t, s)
			if again := storetest.Counts(t, driver, dsn, tables...); !reflect.DeepEqual(cat, again) {
				t.Fatalf("second catalogue apply changed rows: %v -> %v", cat, again)
			}

			seed := func(now time.Time) {
				t.Helper()
				if err := demo.Seed(ctx, store.TxAs[demo.Repository](s), now); err != nil {
					t.Fatalf("Seed: %v", err)
				}
			}
			seed(demoNow)
			first := storetest.Counts(t, driver, dsn, tables...)
			want = map[string]int64{"departments": 10, "licence_types": 13, "licence_type_issuers": 13, "usage_lists": 4,
				"holders": 2, "licences": 5, "accounts": 5, "officers": 2, "staff": 3,
				// demo.seed and one staff.add per demo staff member
				"audit_events": 5}
			if !reflect.DeepEqual(first, want) {
				t.Fatalf("after Seed: %v, want %v", first, want)
			}
			zs, _ := s.HolderByIDNumber(ctx, idTypeResident, demo.ZhangsanIDNumber)
			snapshot, _ := s.LicencesByHolder(ctx, zs.ID)

			// A second run, on a later day, adds and changes nothing.
			seed(demoNow.AddDate(0, 0, 3))
			storetest.SeedCatalogue(t, s)
			if again := storetest.Counts(t, driver, dsn, tables...); !reflect.DeepEqual(first, again) {
				t.Fatalf("second Seed changed rows: %v -> %v", first, again)
			}
			if later, _ := s.LicencesByHolder(ctx, zs.ID); !reflect.DeepEqual(snapshot, later) {
				t.Fatal("second Seed changed 张三's licences")
			}
			if _, err := s.VerifyAudit(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSeedKeepsAdministratorsEdits: seeding at start-up only adds what is
// missing, so a catalogue an administrator applied since (here: a renamed
// department, and a new field on the ID card, which the demo file, applied
// in full, could not take away while ID cards are on file) survives the
// next start, which does not fail on it.
func TestSeedKeepsAdministratorsEdits(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			ctx := t.Context()
			s := storetest.Seeded(t, driver, storetest.DSN(t, driver), demoNow)
			edited := strings.Replace(string(configs.DemoCatalogue), "name: 阳城县公安局交通管理大队", "name: 阳城县公安局交通警察大队", 1)
			edited = strings.Replace(edited, "{key: ethnicity, label: 民族, type: text}", "{key: ethnicity, label: 民族, type: text}\n      - {key: remarks, label: 备注, type: text}", 1)
			c, err := catalogue.Parse(strings.NewReader(edited))
			if err != nil {
				t.Fatal(err)
			}
			plan, err := catalogue.Apply(ctx, store.TxAs[catalogue.Repository](s), c, catalogue.Options{Actor: "cli:catalogue"})
			if err != nil || plan.Count("", catalogue.Updated) != 2 {
				t.Fatalf("administrator's apply: %s, %v", plan.Summary(), err)
			}
			if err := demo.Seed(ctx, store.TxAs[demo.Repository](s), demoNow.AddDate(0, 0, 1)); err != nil {
				t.Fatalf("Seed after the edit: %v", err)
			}
			d, err := s.DepartmentByUSCC(ctx, demo.USCCTrafficBrigade)
			if err != nil || d.Name != "阳城县公安局交通警察大队" {
				t.Fatalf("the edit did not survive: %+v, %v", d, err)
			}
			ty, err := s.Type(ctx, demo.TypeResidentID)
			if err != nil || len(ty.Fields) != 10 || ty.Fields[3].Key != "remarks" {
				t.Fatalf("the schema edit did not survive: %+v, %v", ty.Fields, err)
			}
		})
	}
}

// TestSeedConcurrently starts two seeds on one fresh database at once, as
// two processes starting together do: both succeed and the data is there
// once.
func TestSeedConcurrently(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			dsn := storetest.DSN(t, driver)
			a := storetest.Migrated(t, driver, dsn)
			b := storetest.Open(t, driver, dsn)
			errs := make(chan error, 2)
			for _, s := range []*store.Store{a, b} {
				go func() { errs <- demo.Seed(t.Context(), store.TxAs[demo.Repository](s), demoNow) }()
			}
			for range 2 {
				if err := <-errs; err != nil {
					t.Fatalf("Seed: %v", err)
				}
			}
			got := storetest.Counts(t, driver, dsn, "departments", "licences", "officers")
			if got["departments"] != 10 || got["licences"] != 5 || got["officers"] != 2 {
				t.Fatalf("after two concurrent seeds: %v", got)
			}
		})
	}
}

func seededStore(t *testing.T, driver string) *store.Store {
	t.Helper()
	return storetest.Seeded(t, driver, storetest.DSN(t, driver), demoNow)
}

func TestDemoDataMatchesTheREADME(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) { checkDemoData(t, seededStore(t, driver)) })
	}
}

func checkDemoData(t *testing.T, s *store.Store) {
	{
		ctx := context.Background()
		today := time.Date(2025, 7, 1, 0, 0, 0, 0, store.DateLocation()) // demoNow is 1 July in Shanghai

		type want struct {
			typeCode   string
			issuerUSCC string
			colour     licence.Colour
			reason     string
		}
		holders := []struct {
			idn, name, phone string
			licences         []want
		}{
			{demo.ZhangsanIDNumber, demo.ZhangsanName, demo.ZhangsanPhone, []want{
				{demo.TypeResidentID, demo.USCCPublicSecurity, licence.Green, licence.ReasonOK},
				{demo.TypeDrivingLicence, demo.USCCCityTrafficPolice, licence.Green, licence.ReasonOK},
				{demo.TypeRealEstateTitle, demo.USCCRealEstateCentre, licence.Green, licence.ReasonOK},
			}},
			{demo.LisiIDNumber, demo.LisiName, demo.LisiPhone, []want{
				{demo.TypeResidentID, demo.USCCPublicSecurity, licence.Green, licence.ReasonOK},
				{demo.TypeDrivingLicence, demo.USCCCityTrafficPolice, licence.Red, licence.ReasonSuspended},
			}},
		}
		for _, h := range holders {
			t.Run(h.name, func(t *testing.T) {
				got, err := s.HolderByIDNumber(ctx, idTypeResident, h.idn)
				if err != nil {
					t.Fatal(err)
				}
				if got.Name != h.name || got.Phone != h.phone || got.Kind != licence.HolderPerson {
					t.Fatalf("holder = %+v", got)
				}
				ls, err := s.LicencesByHolder(ctx, got.ID)
				if err != nil || len(ls) != len(h.licences) {
					t.Fatalf("licences = %d, %v", len(ls), err)
				}
				for i, w := range h.licences {
					l := ls[i]
					issuer, err := s.Department(ctx, l.IssuerID)
					if err != nil {
						t.Fatal(err)
					}
					if l.TypeCode != w.typeCode || issuer.USCC != w.issuerUSCC {
						t.Errorf("licence %d: type %s issuer %s", i, l.TypeCode, issuer.USCC)
					}
					a := licence.Assess(l, demoNow)
					if a.Colour != w.colour || a.ReasonCode != w.reason {
						t.Errorf("licence %s assesses %+v, want %s/%s", l.TypeCode, a, w.colour, w.reason)
					}
					parsed, err := ident.ParseLicenceIdentifier(l.Identifier)
					if err != nil || parsed.TypeCode != l.TypeCode || parsed.IssuerUSCC != issuer.USCC || parsed.Version != l.Version {
						t.Errorf("identifier %s: %+v, %v", l.Identifier, parsed, err)
					}
					typ, err := s.Type(ctx, l.TypeCode)
					if err != nil {
						t.Fatal(err)
					}
					for _, f := range typ.Fields {
						if _, ok := l.Face[f.Key]; !ok {
							t.Errorf("%s face lacks %s (%s)", typ.Name, f.Key, f.Label)
						}
					}
					if len(l.Face) != len(typ.Fields) {
						t.Errorf("%s face has %d values for %d fields", typ.Name, len(l.Face), len(typ.Fields))
					}
				}
			})
		}

		zs, _ := s.HolderByIDNumber(ctx, idTypeResident, demo.ZhangsanIDNumber)
		zl, _ := s.LicencesByHolder(ctx, zs.ID)
		dl := zl[1]
		if dl.ValidUntil == nil || !dl.ValidUntil.Equal(today.AddDate(0, 0, 20)) {
			t.Fatalf("张三's driving licence valid until %v, want %v", dl.ValidUntil, today.AddDate(0, 0, 20))
		}
		if dl.Face["licence_no"] != demo.ZhangsanIDNumber || dl.Number != demo.ZhangsanIDNumber {
			t.Fatalf("driving licence number = %q / %q", dl.Number, dl.Face["licence_no"])
		}
		if zl[2].ValidUntil != nil {
			t.Fatalf("real-estate title should be long-term, valid until %v", zl[2].ValidUntil)
		}
		if !strings.HasPrefix(zl[2].Number, "晋(2023)阳城县不动产权第") {
			t.Fatalf("title number = %q", zl[2].Number)
		}
		if _, err := s.HolderByIDNumber(ctx, idTypeResident, "140522199501010000"); err == nil {
			t.Fatal("王五 must have no holder record")
		}

		for _, openid := range []string{demo.CitizenZhangsan, demo.CitizenLisi, demo.CitizenWangwu, demo.OfficerPolice, demo.OfficerHousing} {
			a, err := s.Get(ctx, openid)
			if err != nil || a.HolderID != 0 || !a.Subscribed {
				t.Errorf("account %s = %+v, %v; want unbound and subscribed", openid, a, err)
			}
		}
		officers := []struct {
			openid, uscc string
			types        []string
		}{
			{demo.OfficerPolice, demo.USCCTrafficBrigade, []string{demo.TypeDrivingLicence, demo.TypeResidentID}},
			{demo.OfficerHousing, demo.USCCRealEstateCentre, []string{demo.TypeResidentID, demo.TypeRealEstateTitle}},
		}
		for _, o := range officers {
			dept, err := s.Officer(ctx, o.openid)
			if err != nil {
				t.Fatal(err)
			}
			d, err := s.Department(ctx, dept)
			if err != nil || d.USCC != o.uscc {
				t.Fatalf("%s works for %+v, %v", o.openid, d, err)
			}
			types, err := s.UsageTypes(ctx, dept)
			sort.Strings(o.types)
			if err != nil || !reflect.DeepEqual(types, o.types) {
				t.Fatalf("%s usage list = %v, %v; want %v", o.openid, types, err, o.types)
			}
		}
		for _, c := range []string{demo.CitizenZhangsan, demo.CitizenLisi, demo.CitizenWangwu} {
			if _, err := s.Officer(ctx, c); !errors.Is(err, account.ErrNotFound) {
				t.Errorf("citizen %s is an officer: %v", c, err)
			}
		}
	}
}

func TestDemoCatalogue(t *testing.T) {
	c, err := demo.Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	depts := c.Departments
	names := map[string]bool{}
	for _, d := range depts {
		if !ident.ValidUSCC(d.USCC) {
			t.Errorf("%s: USCC %s fails GB 32100", d.Name, d.USCC)
		}
		if !orgCodeValid(d.USCC[8:17]) {
			t.Errorf("%s: organisation code %s inside the USCC fails GB 11714", d.Name, d.USCC[8:17])
		}
		if d.USCC[2:8] != d.AreaCode {
			t.Errorf("%s: USCC area %s differs from area code %s", d.Name, d.USCC[2:8], d.AreaCode)
		}
		names[d.Name] = true
	}
	for _, n := range []string{"阳城县公安局", "晋城市公安局交通警察支队", "阳城县公安局交通管理大队", "阳城县不动产登记中心",
		"阳城县行政审批服务管理局", "阳城县民政局", "阳城县人力资源和社会保障局", "阳城县卫生健康局", "阳城县市场监督管理局"} {
		if !names[n] {
			t.Errorf("department %s missing", n)
		}
	}

	types := c.Types
	wantNames := []string{"居民身份证", "户口簿", "出生医学证明", "社会保障卡", "学历学位证书", "职业资格证书", "机动车驾驶证",
		"结婚证", "离婚证", "不动产权证书", "不动产登记证明", "营业执照", "食品经营许可证"}
	var gotNames []string
	codes := map[string]bool{}
	definers := map[string]bool{}
	for _, d := range depts {
		definers[d.USCC] = true
	}
	for _, ty := range types {
		gotNames = append(gotNames, ty.Name)
		t.Run(ty.Name, func(t *testing.T) {
			if !ident.ValidTypeCode(ty.Code) || !definers[ty.Code[:18]] || codes[ty.Code] {
				t.Errorf("type code %s invalid, not from a seeded department, or repeated", ty.Code)
			}
			codes[ty.Code] = true
			if (ty.ValidityYears > 0) != (len(ty.ReminderStages) > 0) {
				t.Errorf("validity %d years but reminder stages %v", ty.ValidityYears, ty.ReminderStages)
			}
			keys := map[string]bool{}
			basics := 0
			for _, f := range ty.Fields {
				if f.Key == "" || f.Label == "" || keys[f.Key] {
					t.Errorf("field %+v: empty or repeated key", f)
				}
				keys[f.Key] = true
				if f.Sensitive != (f.Mask != licence.MaskNone) {
					t.Errorf("field %s: sensitive=%v but mask %q", f.Key, f.Sensitive, f.Mask)
				}
				if f.Type == licence.FieldTypeIDNumber && f.Mask != licence.MaskID {
					t.Errorf("ID number field %s is not masked as an ID", f.Key)
				}
				if f.Type == "address" && ty.HolderKind == licence.HolderPerson && !f.Sensitive {
					t.Errorf("personal address field %s is not sensitive", f.Key)
				}
				if f.Basic {
					basics++
				}
			}
			if basics == 0 || basics == len(ty.Fields) {
				t.Errorf("basic scope holds %d of %d fields: it must be a proper subset", basics, len(ty.Fields))
			}
		})
	}
	if !reflect.DeepEqual(gotNames, wantNames) {
		t.Fatalf("catalogue = %v, want %v", gotNames, wantNames)
	}

	// The driving licence face follows the fields printed on the card itself.
	var dl licence.Type
	for _, ty := range types {
		if ty.Code == demo.TypeDrivingLicence {
			dl = ty.Type
		}
	}
	var labels []string
	for _, f := range dl.Fields {
		labels = append(labels, f.Label)
	}
	wantLabels := "姓名 性别 国籍 住址 出生日期 初次领证日期 准驾车型 证号 有效期限 发证机关 照片"
	if strings.Join(labels, " ") != wantLabels {
		t.Fatalf("driving licence fields = %v", labels)
	}
}

// TestConstantsNameTheCatalogue keeps the Go constants tests build on and
// the demo catalogue file from drifting apart.
func TestConstantsNameTheCatalogue(t *testing.T) {
	c, err := demo.Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	depts := map[string]bool{}
	for _, d := range c.Departments {
		depts[d.USCC] = true
	}
	types := map[string]catalogue.TypeEntry{}
	for _, ty := range c.Types {
		types[ty.Code] = ty
	}
	for _, u := range []string{demo.USCCAdminBureau, demo.USCCPublicSecurity, demo.USCCCityTrafficPolice, demo.USCCTrafficBrigade,
		demo.USCCRealEstateCentre, demo.USCCCivilAffairs, demo.USCCHumanResources, demo.USCCHealth, demo.USCCMarketRegulation, demo.USCCEducation} {
		if !depts[u] {
			t.Errorf("department %s is not in the demo catalogue", u)
		}
	}
	for _, code := range []string{demo.TypeResidentID, demo.TypeHouseholdRegister, demo.TypeBirthCertificate, demo.TypeSocialSecurityCard,
		demo.TypeDiploma, demo.TypeQualification, demo.TypeDrivingLicence, demo.TypeMarriageCertificate, demo.TypeDivorceCertificate,
		demo.TypeRealEstateTitle, demo.TypeRealEstateProof, demo.TypeBusinessLicence, demo.TypeFoodBusinessLicence} {
		ty, ok := types[code]
		if !ok {
			t.Errorf("type %s is not in the demo catalogue", code)
			continue
		}
		// Every type is issued by its defining department, so the demo
		// licences' issuers may issue them.
		if !reflect.DeepEqual(ty.Issuers, []string{code[:18]}) {
			t.Errorf("type %s issuers = %v, want its defining department", code, ty.Issuers)
		}
	}
	purposes := map[string]bool{}
	for _, u := range c.UsageLists {
		for _, e := range u.Entries {
			for _, p := range e.Purposes {
				purposes[p] = true
			}
		}
	}
	for _, p := range []string{demo.PurposeTrafficEnforcement, demo.PurposeAccidentHandling, demo.PurposeIdentityCheck,
		demo.PurposeRealEstateRegister, demo.PurposeMortgageRegister} {
		if !purposes[p] {
			t.Errorf("purpose %s is on no usage list of the demo catalogue", p)
		}
	}
}

// orgCodeValid checks a GB 11714 organisation code (8 characters and a
// check character), the part of a USCC that predates it.
func orgCodeValid(code string) bool {
	weights := []int{3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		c := code[i]
		v := int(c - '0')
		if c >= 'A' && c <= 'Z' {
			v = int(c-'A') + 10
		}
		sum += v * w
	}
	want := fmt.Sprint(11 - sum%11)
	switch want {
	case "10":
		want = "X"
	case "11":
		want = "0"
	}
	return string(code[8]) == want
}
