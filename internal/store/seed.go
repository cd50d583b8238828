package store

import (
	"github.com/yangcheng-county/elicence/internal/audit"

	"context"
	"errors"
	"fmt"
	"time"

	"github.com/yangcheng-county/elicence/internal/account"
	"github.com/yangcheng-county/elicence/internal/ident"
	"github.com/yangcheng-county/elicence/internal/licence"
)

// Demo WeChat openids (DESIGN §5). The citizens start unbound and bind
// through the real-name flow; the officers start bound to their departments.
const (
	DemoCitizenZhangsan = "demo-citizen-zhangsan"
	DemoCitizenLisi     = "demo-citizen-lisi"
	DemoCitizenWangwu   = "demo-citizen-wangwu" // no holder record: binding must fail
	DemoOfficerPolice   = "demo-officer-police"
	DemoOfficerHousing  = "demo-officer-housing"
)

// Demo holders' records on file.
const (
	DemoZhangsanName     = "张三"
	DemoZhangsanIDNumber = "140522198503120016"
	DemoZhangsanPhone    = "13800000001"
	DemoLisiName         = "李四"
	DemoLisiIDNumber     = "140522199007080021"
	DemoLisiPhone        = "13800000002"
)

// Purposes on the demo departments' usage lists.
const (
	PurposeTrafficEnforcement = "道路交通执法检查"
	PurposeAccidentHandling   = "交通事故处理"
	PurposeIdentityCheck      = "身份核验"
	PurposeRealEstateRegister = "不动产登记办理"
	PurposeMortgageRegister   = "不动产抵押登记"
)

// seedActor is the audit actor of seeding.
const seedActor = "system:seed"

// SeedCatalogue adds the departments and the 13 licence types of the
// e-licence rules that are missing. Existing rows are left as they are, so
// an administrator's later edits survive and a second run adds nothing.
func (s *Store) SeedCatalogue(ctx context.Context) error {
	return s.seedRetry(ctx, func(tx *Store) error {
		n, err := tx.seedCatalogue(ctx)
		if err != nil || n == 0 {
			return err
		}
		_, err = tx.AppendAudit(ctx, audit.Event{Actor: seedActor, Action: "catalogue.seed", Object: "catalogue",
			Detail: fmt.Sprintf("created %d departments and licence types", n)})
		return err
	})
}

// seedRetry runs a seed in a transaction and retries once when another
// instance seeded the same rows at the same moment.
func (s *Store) seedRetry(ctx context.Context, fn func(tx *Store) error) error {
	err := s.InTx(ctx, fn)
	if errors.Is(err, ErrDuplicate) {
		err = s.InTx(ctx, fn)
	}
	return err
}

func (s *Store) seedCatalogue(ctx context.Context) (created int, err error) {
	for _, d := range catalogueDepartments() {
		_, err := s.DepartmentByUSCC(ctx, d.USCC)
		if err == nil {
			continue
		}
		if !errors.Is(err, licence.ErrNotFound) {
			return created, err
		}
		if _, err := s.CreateDepartment(ctx, d); err != nil {
			return created, err
		}
		created++
	}
	for _, t := range catalogueTypes() {
		_, err := s.Type(ctx, t.Code)
		if err == nil {
			continue
		}
		if !errors.Is(err, licence.ErrNotFound) {
			return created, err
		}
		if err := s.CreateType(ctx, t); err != nil {
			return created, err
		}
		created++
	}
	if created > 0 {
		s.log.InfoContext(ctx, "seeded catalogue", "created", created)
	}
	return created, nil
}

// demoLicence describes one demo licence; dates are computed from the
// seeding day so the demo looks the same whenever it is first run.
type demoLicence struct {
	holderID   string // ID number of the holder
	typeCode   string
	issuerUSCC string
	serial     string
	number     func(issued time.Time) string
	issued     func(today time.Time) time.Time
	until      func(issued, today time.Time) *time.Time
	status     licence.Status
	face       func(l licence.Licence) map[string]string
}

func period(from time.Time, until *time.Time) string {
	if until == nil {
		return from.Format("2006.01.02") + "-长期"
	}
	return from.Format("2006.01.02") + "-" + until.Format("2006.01.02")
}

func yearsAfter(n int) func(issued, _ time.Time) *time.Time {
	return func(issued, _ time.Time) *time.Time {
		t := issued.AddDate(n, 0, 0)
		return &t
	}
}

func demoLicences() []demoLicence {
	idCardFace := func(name, sex, birth, address, idn string) func(licence.Licence) map[string]string {
		return func(l licence.Licence) map[string]string {
			return map[string]string{
				"name": name, "sex": sex, "ethnicity": "汉", "birth_date": birth, "address": address,
				"id_number": idn, "issuing_authority": "阳城县公安局", "valid_period": period(l.ValidFrom, l.ValidUntil),
				"photo": demoPortrait(name, sex),
			}
		}
	}
	drivingFace := func(name, sex, birth, address, idn, class string) func(licence.Licence) map[string]string {
		return func(l licence.Licence) map[string]string {
			return map[string]string{
				"name": name, "sex": sex, "nationality": "中国", "address": address, "birth_date": birth,
				"first_issue_date": l.ValidFrom.Format(time.DateOnly), "vehicle_class": class, "licence_no": idn,
				"valid_period": period(l.ValidFrom, l.ValidUntil), "issuing_authority": "山西省晋城市公安局交通警察支队",
				"photo": demoPortrait(name, sex),
			}
		}
	}
	const (
		zsAddress = "山西省阳城县凤城镇凤栖路88号"
		lsAddress = "山西省阳城县北留镇北留村文化街12号"
	)
	sameAs := func(n string) func(time.Time) string { return func(time.Time) string { return n } }
	return []demoLicence{
		{
			holderID: DemoZhangsanIDNumber, typeCode: TypeResidentID, issuerUSCC: USCCPublicSecurity, serial: "YC2000000101",
			number: sameAs(DemoZhangsanIDNumber),
			issued: func(today time.Time) time.Time { return today.AddDate(-5, 0, 0) },
			until:  yearsAfter(20), status: licence.StatusValid,
			face: idCardFace(DemoZhangsanName, "男", "1985-03-12", zsAddress, DemoZhangsanIDNumber),
		},
		{
			holderID: DemoZhangsanIDNumber, typeCode: TypeDrivingLicence, issuerUSCC: USCCCityTrafficPolice, serial: "JC2000000201",
			number: sameAs(DemoZhangsanIDNumber),
			// Expires 20 days after seeding, so the expiry reminder has
			// something to say on the first run.
			issued: func(today time.Time) time.Time { return today.AddDate(0, 0, 20).AddDate(-6, 0, 0) },
			until:  func(_, today time.Time) *time.Time { t := today.AddDate(0, 0, 20); return &t },
			status: licence.StatusValid,
			face:   drivingFace(DemoZhangsanName, "男", "1985-03-12", zsAddress, DemoZhangsanIDNumber, "C1"),
		},
		{
			holderID: DemoZhangsanIDNumber, typeCode: TypeRealEstateTitle, issuerUSCC: USCCRealEstateCentre, serial: "YC2000000301",
			number: func(issued time.Time) string {
				return fmt.Sprintf("晋(%d)阳城县不动产权第0001234号", issued.Year())
			},
			issued: func(today time.Time) time.Time { return today.AddDate(-2, 0, 0) },
			until:  func(time.Time, time.Time) *time.Time { return nil },
			status: licence.StatusValid,
			face: func(licence.Licence) map[string]string {
				return map[string]string{
					"right_holder":           DemoZhangsanName,
					"co_ownership":           "单独所有",
					"location":               "阳城县凤城镇东关村滨河小区3号楼2单元501室",
					"unit_no":                "140522001001GB00123F00030025",
					"right_type":             "国有建设用地使用权/房屋所有权",
					"right_nature":           "出让/市场化商品房",
					"usage":                  "城镇住宅用地/住宅",
					"area":                   "共有宗地面积12345.67㎡/房屋建筑面积118.56㎡",
					"term":                   "国有建设用地使用权 2010年06月01日起2080年05月31日止",
					"other":                  "专有建筑面积98.20㎡，分摊建筑面积20.36㎡",
					"registration_authority": "阳城县不动产登记中心",
				}
			},
		},
		{
			holderID: DemoLisiIDNumber, typeCode: TypeResidentID, issuerUSCC: USCCPublicSecurity, serial: "YC2000000102",
			number: sameAs(DemoLisiIDNumber),
			issued: func(today time.Time) time.Time { return today.AddDate(-3, 0, 0) },
			until:  yearsAfter(20), status: licence.StatusValid,
			face: idCardFace(DemoLisiName, "女", "1990-07-08", lsAddress, DemoLisiIDNumber),
		},
		{
			holderID: DemoLisiIDNumber, typeCode: TypeDrivingLicence, issuerUSCC: USCCCityTrafficPolice, serial: "JC2000000202",
			number: sameAs(DemoLisiIDNumber),
			issued: func(today time.Time) time.Time { return today.AddDate(-2, 0, 0) },
			until:  yearsAfter(6), status: licence.StatusSuspended,
			face: drivingFace(DemoLisiName, "女", "1990-07-08", lsAddress, DemoLisiIDNumber, "C1"),
		},
	}
}

// demoUsageLists are the usage lists of the demo officers' departments.
func demoUsageLists() []struct {
	uscc, typeCode string
	purposes       []string
} {
	return []struct {
		uscc, typeCode string
		purposes       []string
	}{
		{USCCTrafficBrigade, TypeDrivingLicence, []string{PurposeTrafficEnforcement, PurposeAccidentHandling}},
		{USCCTrafficBrigade, TypeResidentID, []string{PurposeTrafficEnforcement, PurposeIdentityCheck}},
		{USCCRealEstateCentre, TypeRealEstateTitle, []string{PurposeRealEstateRegister, PurposeMortgageRegister}},
		{USCCRealEstateCentre, TypeResidentID, []string{PurposeRealEstateRegister}},
	}
}

// SeedDemo adds the demo data of DESIGN §5 (and the catalogue it needs):
// 张三 and 李四 with their licences, five WeChat accounts (citizens
// unbound, all subscribed), two officers and their departments' usage
// lists. Licence dates are counted from now's calendar day in
// Asia/Shanghai (张三's driving licence expires 20 days after it). Only
// missing rows are added, so a second run, even on a later day, adds
// nothing and changes nothing.
func (s *Store) SeedDemo(ctx context.Context, now time.Time) error {
	return s.seedRetry(ctx, func(tx *Store) error {
		n, err := tx.seedCatalogue(ctx)
		if err != nil {
			return err
		}
		m, err := tx.seedDemo(ctx, now)
		if err != nil || n+m == 0 {
			return err
		}
		_, err = tx.AppendAudit(ctx, audit.Event{Actor: seedActor, Action: "demo.seed", Object: "demo",
			Detail: fmt.Sprintf("created %d catalogue rows and %d demo rows", n, m)})
		return err
	})
}

func (s *Store) seedDemo(ctx context.Context, now time.Time) (created int, err error) {
	today := dateOf(now).Time

	holders := map[string]int64{}
	for _, h := range []licence.Holder{
		{Kind: licence.HolderPerson, Name: DemoZhangsanName, IDType: IDTypeResident, IDNumber: DemoZhangsanIDNumber, Phone: DemoZhangsanPhone},
		{Kind: licence.HolderPerson, Name: DemoLisiName, IDType: IDTypeResident, IDNumber: DemoLisiIDNumber, Phone: DemoLisiPhone},
	} {
		got, err := s.HolderByIDNumber(ctx, h.IDType, h.IDNumber)
		if errors.Is(err, licence.ErrNotFound) {
			got, err = s.CreateHolder(ctx, h)
			created++
		}
		if err != nil {
			return created, fmt.Errorf("store: seed demo holder: %w", err)
		}
		holders[h.IDNumber] = got.ID
	}

	for _, d := range demoLicences() {
		issuer, err := s.DepartmentByUSCC(ctx, d.issuerUSCC)
		if err != nil {
			return created, fmt.Errorf("store: seed demo issuer: %w", err)
		}
		id, err := ident.LicenceIdentifier(d.typeCode, d.issuerUSCC, d.serial, 1)
		if err != nil {
			return created, fmt.Errorf("store: seed demo identifier: %w", err)
		}
		if _, err := s.LicenceByIdentifier(ctx, id); err == nil {
			continue
		} else if !errors.Is(err, licence.ErrNotFound) {
			return created, err
		}
		issued := d.issued(today)
		l := licence.Licence{
			Identifier: id, Number: d.number(issued), TypeCode: d.typeCode,
			HolderID: holders[d.holderID], IssuerID: issuer.ID,
			IssuedOn: issued, ValidFrom: issued, ValidUntil: d.until(issued, today),
			Status: d.status, Version: 1,
		}
		l.Face = d.face(l)
		if _, err := s.CreateLicence(ctx, l); err != nil {
			return created, fmt.Errorf("store: seed demo licence: %w", err)
		}
		created++
	}

	for _, openid := range []string{DemoCitizenZhangsan, DemoCitizenLisi, DemoCitizenWangwu, DemoOfficerPolice, DemoOfficerHousing} {
		if _, err := s.Get(ctx, openid); err == nil {
			continue
		} else if !errors.Is(err, account.ErrNotFound) {
			return created, err
		}
		if _, err := s.ensureAccount(ctx, openid, true); err != nil {
			return created, fmt.Errorf("store: seed demo account: %w", err)
		}
		created++
	}

	for _, o := range []struct{ openid, uscc string }{
		{DemoOfficerPolice, USCCTrafficBrigade},
		{DemoOfficerHousing, USCCRealEstateCentre},
	} {
		if _, err := s.Officer(ctx, o.openid); err == nil {
			continue
		} else if !errors.Is(err, account.ErrNotFound) {
			return created, err
		}
		dept, err := s.DepartmentByUSCC(ctx, o.uscc)
		if err != nil {
			return created, fmt.Errorf("store: seed demo officer: %w", err)
		}
		if err := s.AddOfficer(ctx, o.openid, dept.ID); err != nil {
			return created, fmt.Errorf("store: seed demo officer: %w", err)
		}
		created++
	}

	for _, u := range demoUsageLists() {
		dept, err := s.DepartmentByUSCC(ctx, u.uscc)
		if err != nil {
			return created, fmt.Errorf("store: seed demo usage list: %w", err)
		}
		_, ok, err := s.UsagePurposes(ctx, dept.ID, u.typeCode)
		if err != nil {
			return created, err
		}
		if ok {
			continue
		}
		if err := s.SetUsageList(ctx, dept.ID, u.typeCode, u.purposes); err != nil {
			return created, fmt.Errorf("store: seed demo usage list: %w", err)
		}
		created++
	}
	if created > 0 {
		s.log.InfoContext(ctx, "seeded demo data", "created", created)
	}
	return created, nil
}
