// Package demo is the demo data of embedded mode (README, demo data): the demo
// catalogue (configs/catalogue.demo.yaml), 张三 and 李四 with their
// licences, five WeChat accounts and two officers. Tests build on the same
// data, through the constants here.
package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/yangcheng-county/elicence/configs"
	"github.com/yangcheng-county/elicence/internal/account"
	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/catalogue"
	"github.com/yangcheng-county/elicence/internal/ident"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/staff"
)

// Unified social credit codes of the seeded departments. They are built on
// the county's area code (140522, Jincheng city 140500) with valid GB 32100
// and GB 11714 check characters, and stand in for the real codes, which an
// administrator enters when the platform goes live.
const (
	USCCAdminBureau       = "11140522012080108K" // 阳城县行政审批服务管理局
	USCCPublicSecurity    = "11140522012080212P" // 阳城县公安局
	USCCCityTrafficPolice = "11140500011970328E" // 晋城市公安局交通警察支队
	USCCTrafficBrigade    = "111405220120804312" // 阳城县公安局交通管理大队
	USCCRealEstateCentre  = "121405220120805465" // 阳城县不动产登记中心
	USCCCivilAffairs      = "11140522012080650C" // 阳城县民政局
	USCCHumanResources    = "11140522012080765J" // 阳城县人力资源和社会保障局
	USCCHealth            = "1114052201208087XK" // 阳城县卫生健康局
	USCCMarketRegulation  = "11140522012080984W" // 阳城县市场监督管理局
	USCCEducation         = "11140522012081098E" // 阳城县教育科技局
)

// Licence type codes of the catalogue: the defining department's USCC and a
// three-digit sequence (e-licence rules Art. 16–17 list these licences).
const (
	TypeResidentID          = USCCPublicSecurity + "001"    // 居民身份证
	TypeHouseholdRegister   = USCCPublicSecurity + "002"    // 户口簿
	TypeBirthCertificate    = USCCHealth + "001"            // 出生医学证明
	TypeSocialSecurityCard  = USCCHumanResources + "001"    // 社会保障卡
	TypeDiploma             = USCCEducation + "001"         // 学历学位证书
	TypeQualification       = USCCHumanResources + "002"    // 职业资格证书
	TypeDrivingLicence      = USCCCityTrafficPolice + "001" // 机动车驾驶证
	TypeMarriageCertificate = USCCCivilAffairs + "001"      // 结婚证
	TypeDivorceCertificate  = USCCCivilAffairs + "002"      // 离婚证
	TypeRealEstateTitle     = USCCRealEstateCentre + "001"  // 不动产权证书
	TypeRealEstateProof     = USCCRealEstateCentre + "002"  // 不动产登记证明
	TypeBusinessLicence     = USCCMarketRegulation + "001"  // 营业执照
	TypeFoodBusinessLicence = USCCMarketRegulation + "002"  // 食品经营许可证
)

// Demo WeChat openids (README, demo data). The citizens start unbound and bind
// through the real-name flow; the officers start bound to their departments.
const (
	CitizenZhangsan = "demo-citizen-zhangsan"
	CitizenLisi     = "demo-citizen-lisi"
	CitizenWangwu   = "demo-citizen-wangwu" // no holder record: binding must fail
	OfficerPolice   = "demo-officer-police"
	OfficerHousing  = "demo-officer-housing"
)

// Demo holders' records on file.
const (
	ZhangsanName     = "张三"
	ZhangsanIDNumber = "140522198503120016"
	ZhangsanPhone    = "13800000001"
	LisiName         = "李四"
	LisiIDNumber     = "140522199007080021"
	LisiPhone        = "13800000002"
)

// Purposes on the demo departments' usage lists.
const (
	PurposeTrafficEnforcement = "道路交通执法检查"
	PurposeAccidentHandling   = "交通事故处理"
	PurposeIdentityCheck      = "身份核验"
	PurposeRealEstateRegister = "不动产登记办理"
	PurposeMortgageRegister   = "不动产抵押登记"
)

// Demo console staff (docs/CONSOLE.md): one of each kind a first look
// needs, all with DemoStaffPassword and no second factor, which the
// embedded demo does not require.
const (
	StaffAdmin        = "demo-admin"        // platform admin
	StaffPoliceAdmin  = "demo-police-admin" // department admin of 阳城县公安局交通管理大队
	StaffEstateClerk  = "demo-estate-clerk" // clerk of 阳城县不动产登记中心
	DemoStaffPassword = "demo-password"
)

// idTypeResident is the GB/T 36903 ID type of a resident ID card.
const idTypeResident = "111"

// Actor is the audit actor of seeding.
const Actor = "system:seed"

// Repository is the storage the demo data goes into (store.Store).
type Repository interface {
	catalogue.Repository
	DepartmentByUSCC(ctx context.Context, uscc string) (licence.Department, error)
	HolderByIDNumber(ctx context.Context, idType, idNumber string) (licence.Holder, error)
	CreateHolder(ctx context.Context, h licence.Holder) (licence.Holder, error)
	LicenceByIdentifier(ctx context.Context, identifier string) (licence.Licence, error)
	CreateLicence(ctx context.Context, l licence.Licence) (licence.Licence, error)
	Get(ctx context.Context, openid string) (account.Account, error)
	Ensure(ctx context.Context, openid string) (account.Account, error)
	SetSubscribed(ctx context.Context, openid string, subscribed bool) error
	Officer(ctx context.Context, openid string) (int64, error)
	AddOfficer(ctx context.Context, openid string, departmentID int64) error
	StaffByUsername(ctx context.Context, username string) (staff.Member, staff.Secrets, error)
	AddStaff(ctx context.Context, m staff.Member, passwordHash string, ev audit.Event) (staff.Member, error)
}

// TxFunc runs fn in one transaction (store.TxAs[demo.Repository]).
type TxFunc func(ctx context.Context, fn func(tx Repository) error) error

// Catalogue returns the demo catalogue, parsed from the embedded
// configs/catalogue.demo.yaml.
func Catalogue() (catalogue.Catalogue, error) {
	c, err := catalogue.Parse(bytes.NewReader(configs.DemoCatalogue))
	if err != nil {
		return catalogue.Catalogue{}, fmt.Errorf("demo: catalogue: %w", err)
	}
	return c, nil
}

// catalogueOptions: the demo catalogue only adds what is missing, so
// whatever an administrator changed since survives a restart.
var catalogueOptions = catalogue.Options{Actor: Actor, CreateOnly: true}

// ApplyCatalogue adds what is missing of the demo catalogue alone.
func ApplyCatalogue(ctx context.Context, tx catalogue.TxFunc) error {
	c, err := Catalogue()
	if err != nil {
		return err
	}
	_, err = catalogue.Apply(ctx, tx, c, catalogueOptions)
	return err
}

// Seed adds what is missing of the demo catalogue and the demo people of
// the README: 张三 and 李四 with their licences, five WeChat accounts
// (citizens unbound, all subscribed), two officers and three console staff,
// in one transaction.
// Licence dates are counted from now's calendar day in Asia/Shanghai
// (张三's driving licence expires 20 days after it). Only missing rows are
// added, so a second run, even on a later day, adds nothing and changes
// nothing.
func Seed(ctx context.Context, tx TxFunc, now time.Time) error {
	c, err := Catalogue()
	if err != nil {
		return err
	}
	return tx(ctx, func(r Repository) error {
		inTx := func(ctx context.Context, fn func(catalogue.Repository) error) error { return fn(r) }
		if _, err := catalogue.Apply(ctx, inTx, c, catalogueOptions); err != nil {
			return err
		}
		n, err := seedPeople(ctx, r, now)
		if err != nil || n == 0 {
			return err
		}
		_, err = r.AppendAudit(ctx, audit.Event{Actor: Actor, Action: "demo.seed", Object: "demo",
			Detail: fmt.Sprintf("created %d demo rows", n)})
		return err
	})
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
			holderID: ZhangsanIDNumber, typeCode: TypeResidentID, issuerUSCC: USCCPublicSecurity, serial: "YC2000000101",
			number: sameAs(ZhangsanIDNumber),
			issued: func(today time.Time) time.Time { return today.AddDate(-5, 0, 0) },
			until:  yearsAfter(20), status: licence.StatusValid,
			face: idCardFace(ZhangsanName, "男", "1985-03-12", zsAddress, ZhangsanIDNumber),
		},
		{
			holderID: ZhangsanIDNumber, typeCode: TypeDrivingLicence, issuerUSCC: USCCCityTrafficPolice, serial: "JC2000000201",
			number: sameAs(ZhangsanIDNumber),
			// Expires 20 days after seeding, so the expiry reminder has
			// something to say on the first run.
			issued: func(today time.Time) time.Time { return today.AddDate(0, 0, 20).AddDate(-6, 0, 0) },
			until:  func(_, today time.Time) *time.Time { t := today.AddDate(0, 0, 20); return &t },
			status: licence.StatusValid,
			face:   drivingFace(ZhangsanName, "男", "1985-03-12", zsAddress, ZhangsanIDNumber, "C1"),
		},
		{
			holderID: ZhangsanIDNumber, typeCode: TypeRealEstateTitle, issuerUSCC: USCCRealEstateCentre, serial: "YC2000000301",
			number: func(issued time.Time) string {
				return fmt.Sprintf("晋(%d)阳城县不动产权第0001234号", issued.Year())
			},
			issued: func(today time.Time) time.Time { return today.AddDate(-2, 0, 0) },
			until:  func(time.Time, time.Time) *time.Time { return nil },
			status: licence.StatusValid,
			face: func(licence.Licence) map[string]string {
				return map[string]string{
					"right_holder":           ZhangsanName,
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
			holderID: LisiIDNumber, typeCode: TypeResidentID, issuerUSCC: USCCPublicSecurity, serial: "YC2000000102",
			number: sameAs(LisiIDNumber),
			issued: func(today time.Time) time.Time { return today.AddDate(-3, 0, 0) },
			until:  yearsAfter(20), status: licence.StatusValid,
			face: idCardFace(LisiName, "女", "1990-07-08", lsAddress, LisiIDNumber),
		},
		{
			holderID: LisiIDNumber, typeCode: TypeDrivingLicence, issuerUSCC: USCCCityTrafficPolice, serial: "JC2000000202",
			number: sameAs(LisiIDNumber),
			issued: func(today time.Time) time.Time { return today.AddDate(-2, 0, 0) },
			until:  yearsAfter(6), status: licence.StatusSuspended,
			face: drivingFace(LisiName, "女", "1990-07-08", lsAddress, LisiIDNumber, "C1"),
		},
	}
}

// chinaTime is UTC+8, the zone in which licence dates are calendar days;
// China has kept it without daylight saving since 1991.
var chinaTime = time.FixedZone("CST", 8*60*60)

func seedPeople(ctx context.Context, s Repository, now time.Time) (created int, err error) {
	y, m, d := now.In(chinaTime).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, chinaTime)
	holders := map[string]int64{}
	for _, h := range []licence.Holder{
		{Kind: licence.HolderPerson, Name: ZhangsanName, IDType: idTypeResident, IDNumber: ZhangsanIDNumber, Phone: ZhangsanPhone},
		{Kind: licence.HolderPerson, Name: LisiName, IDType: idTypeResident, IDNumber: LisiIDNumber, Phone: LisiPhone},
	} {
		got, err := s.HolderByIDNumber(ctx, h.IDType, h.IDNumber)
		if errors.Is(err, licence.ErrNotFound) {
			got, err = s.CreateHolder(ctx, h)
			created++
		}
		if err != nil {
			return created, fmt.Errorf("demo: seed holder: %w", err)
		}
		holders[h.IDNumber] = got.ID
	}

	for _, d := range demoLicences() {
		issuer, err := s.DepartmentByUSCC(ctx, d.issuerUSCC)
		if err != nil {
			return created, fmt.Errorf("demo: seed issuer: %w", err)
		}
		id, err := ident.LicenceIdentifier(d.typeCode, d.issuerUSCC, d.serial, 1)
		if err != nil {
			return created, fmt.Errorf("demo: seed identifier: %w", err)
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
			return created, fmt.Errorf("demo: seed licence: %w", err)
		}
		created++
	}

	for _, openid := range []string{CitizenZhangsan, CitizenLisi, CitizenWangwu, OfficerPolice, OfficerHousing} {
		if _, err := s.Get(ctx, openid); err == nil {
			continue
		} else if !errors.Is(err, account.ErrNotFound) {
			return created, err
		}
		if _, err := s.Ensure(ctx, openid); err != nil {
			return created, fmt.Errorf("demo: seed account: %w", err)
		}
		if err := s.SetSubscribed(ctx, openid, true); err != nil {
			return created, fmt.Errorf("demo: seed account: %w", err)
		}
		created++
	}

	for _, o := range []struct{ openid, uscc string }{
		{OfficerPolice, USCCTrafficBrigade},
		{OfficerHousing, USCCRealEstateCentre},
	} {
		if _, err := s.Officer(ctx, o.openid); err == nil {
			continue
		} else if !errors.Is(err, account.ErrNotFound) {
			return created, err
		}
		dept, err := s.DepartmentByUSCC(ctx, o.uscc)
		if err != nil {
			return created, fmt.Errorf("demo: seed officer: %w", err)
		}
		if err := s.AddOfficer(ctx, o.openid, dept.ID); err != nil {
			return created, fmt.Errorf("demo: seed officer: %w", err)
		}
		created++
	}

	n, err := seedStaff(ctx, s, now)
	return created + n, err
}

// seedStaff adds the demo console staff that are missing.
func seedStaff(ctx context.Context, s Repository, now time.Time) (created int, err error) {
	for _, m := range []struct {
		username string
		role     staff.Role
		uscc     string
	}{
		{StaffAdmin, staff.RolePlatformAdmin, ""},
		{StaffPoliceAdmin, staff.RoleDepartmentAdmin, USCCTrafficBrigade},
		{StaffEstateClerk, staff.RoleClerk, USCCRealEstateCentre},
	} {
		if _, _, err := s.StaffByUsername(ctx, m.username); err == nil {
			continue
		} else if !errors.Is(err, staff.ErrNotFound) {
			return created, err
		}
		var dept licence.Department
		if m.uscc != "" {
			if dept, err = s.DepartmentByUSCC(ctx, m.uscc); err != nil {
				return created, fmt.Errorf("demo: seed staff: %w", err)
			}
		}
		hash, err := staff.HashPassword(DemoStaffPassword)
		if err != nil {
			return created, err
		}
		member := staff.Member{Username: m.username, Role: m.role, Department: dept, CreatedAt: now}
		ev := audit.Event{At: now, Actor: Actor, Action: "staff.add", Object: "staff:" + m.username, Detail: "role=" + string(m.role) + " (demo)"}
		if _, err := s.AddStaff(ctx, member, hash, ev); err != nil {
			return created, fmt.Errorf("demo: seed staff: %w", err)
		}
		created++
	}
	return created, nil
}
