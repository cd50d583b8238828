package store

import "github.com/yangcheng-county/elicence/internal/licence"

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

// defaultStages are the reminder stages, in days before expiry, of every
// type whose licences expire.
var defaultStages = []int{90, 30, 7}

func catalogueDepartments() []licence.Department {
	return []licence.Department{
		{Name: "阳城县行政审批服务管理局", USCC: USCCAdminBureau, Kind: licence.DeptAdmin, AreaCode: "140522"},
		{Name: "阳城县公安局", USCC: USCCPublicSecurity, Kind: licence.DeptIssuer, AreaCode: "140522"},
		{Name: "晋城市公安局交通警察支队", USCC: USCCCityTrafficPolice, Kind: licence.DeptIssuer, AreaCode: "140500"},
		{Name: "阳城县公安局交通管理大队", USCC: USCCTrafficBrigade, Kind: licence.DeptRelying, AreaCode: "140522"},
		{Name: "阳城县不动产登记中心", USCC: USCCRealEstateCentre, Kind: licence.DeptIssuer, AreaCode: "140522"},
		{Name: "阳城县民政局", USCC: USCCCivilAffairs, Kind: licence.DeptIssuer, AreaCode: "140522"},
		{Name: "阳城县人力资源和社会保障局", USCC: USCCHumanResources, Kind: licence.DeptIssuer, AreaCode: "140522"},
		{Name: "阳城县卫生健康局", USCC: USCCHealth, Kind: licence.DeptIssuer, AreaCode: "140522"},
		{Name: "阳城县市场监督管理局", USCC: USCCMarketRegulation, Kind: licence.DeptIssuer, AreaCode: "140522"},
		{Name: "阳城县教育科技局", USCC: USCCEducation, Kind: licence.DeptIssuer, AreaCode: "140522"},
	}
}

type fieldOpt func(*licence.Field)

// basic puts the field in the "basic" show scope.
func basic(f *licence.Field) { f.Basic = true }

// masked marks the field sensitive, shown through rule unless disclosed in full.
func masked(rule licence.MaskRule) fieldOpt {
	return func(f *licence.Field) { f.Sensitive = true; f.Mask = rule }
}

func field(key, label, typ string, opts ...fieldOpt) licence.Field {
	f := licence.Field{Key: key, Label: label, Type: typ}
	for _, o := range opts {
		o(&f)
	}
	return f
}

// Field types.
const (
	ftText    = "text"
	ftDate    = "date"
	ftID      = "id_number"
	ftAddress = "address"
	// ftPhoto values are image data: URIs. Not basic: the full scope shows
	// the photo so an officer can match the licence to the face in front
	// of them; sealed at rest with the rest of the face.
	ftPhoto = "photo"
)

var (
	maskName   = masked(licence.MaskName)
	maskID     = masked(licence.MaskID)
	maskMiddle = masked(licence.MaskMiddle)
)

// catalogueTypes is the licence catalogue: the 13 licence kinds named in
// e-licence rules Art. 16 (personal) and Art. 17 (enterprise), with the
// face fields printed on the paper licence. Names, ID numbers and home
// addresses are sensitive; the basic scope carries what a verifier needs
// to match the licence to the person in front of them.
func catalogueTypes() []licence.Type {
	spouse := func(prefix, side string) []licence.Field {
		return []licence.Field{
			field(prefix+"_name", "姓名（"+side+"）", ftText, maskName),
			field(prefix+"_nationality", "国籍（"+side+"）", ftText),
			field(prefix+"_birth_date", "出生日期（"+side+"）", ftDate),
			field(prefix+"_id_number", "身份证件号（"+side+"）", ftID, maskID),
		}
	}
	marriage := func(numberLabel string) []licence.Field {
		fs := []licence.Field{
			field("holder_name", "持证人", ftText, maskName, basic),
			field("registered_on", "登记日期", ftDate, basic),
			field("certificate_no", numberLabel, ftText, basic),
		}
		fs = append(fs, spouse("husband", "男方")...)
		fs = append(fs, spouse("wife", "女方")...)
		return append(fs,
			field("registration_authority", "婚姻登记机关", ftText, basic),
			field("remarks", "备注", ftText),
		)
	}
	return []licence.Type{
		{
			Code: TypeResidentID, Name: "居民身份证", HolderKind: licence.HolderPerson,
			ValidityYears: 20, ReminderStages: defaultStages,
			Fields: []licence.Field{
				field("name", "姓名", ftText, maskName, basic),
				field("sex", "性别", ftText, basic),
				field("ethnicity", "民族", ftText),
				field("birth_date", "出生", ftDate),
				field("address", "住址", ftAddress, maskMiddle),
				field("id_number", "公民身份号码", ftID, maskID, basic),
				field("issuing_authority", "签发机关", ftText),
				field("valid_period", "有效期限", ftText, basic),
				field("photo", "照片", ftPhoto),
			},
		},
		{
			Code: TypeHouseholdRegister, Name: "户口簿", HolderKind: licence.HolderPerson,
			Fields: []licence.Field{
				field("householder", "户主姓名", ftText, maskName),
				field("household_type", "户别", ftText),
				field("address", "住址", ftAddress, maskMiddle),
				field("name", "姓名", ftText, maskName, basic),
				field("relation", "与户主关系", ftText, basic),
				field("sex", "性别", ftText, basic),
				field("ethnicity", "民族", ftText),
				field("birth_date", "出生日期", ftDate),
				field("birthplace", "出生地", ftText),
				field("native_place", "籍贯", ftText),
				field("id_number", "公民身份号码", ftID, maskID, basic),
				field("registration_authority", "登记机关", ftText, basic),
			},
		},
		{
			Code: TypeBirthCertificate, Name: "出生医学证明", HolderKind: licence.HolderPerson,
			Fields: []licence.Field{
				field("newborn_name", "新生儿姓名", ftText, maskName, basic),
				field("sex", "性别", ftText, basic),
				field("birth_time", "出生时间", ftText, basic),
				field("birthplace", "出生地点", ftText),
				field("gestational_age", "出生孕周", ftText),
				field("birth_weight", "出生体重", ftText),
				field("mother_name", "母亲姓名", ftText, maskName, basic),
				field("mother_id_number", "母亲有效身份证件号码", ftID, maskID),
				field("father_name", "父亲姓名", ftText, maskName),
				field("father_id_number", "父亲有效身份证件号码", ftID, maskID),
				field("institution", "接生机构名称", ftText),
				field("certificate_no", "出生医学证明编号", ftText, basic),
				field("issuing_institution", "签发机构", ftText, basic),
			},
		},
		{
			Code: TypeSocialSecurityCard, Name: "社会保障卡", HolderKind: licence.HolderPerson,
			ValidityYears: 10, ReminderStages: defaultStages,
			Fields: []licence.Field{
				field("name", "姓名", ftText, maskName, basic),
				field("sex", "性别", ftText, basic),
				field("social_security_no", "社会保障号码", ftID, maskID, basic),
				field("card_no", "卡号", ftText, maskMiddle),
				field("issued_on", "发卡日期", ftDate),
				field("valid_period", "有效期限", ftText, basic),
				field("issuing_authority", "发卡机构", ftText),
			},
		},
		{
			Code: TypeDiploma, Name: "学历学位证书", HolderKind: licence.HolderPerson,
			Fields: []licence.Field{
				field("name", "姓名", ftText, maskName, basic),
				field("sex", "性别", ftText),
				field("birth_date", "出生日期", ftDate),
				field("id_number", "身份证件号码", ftID, maskID),
				field("school", "学校名称", ftText, basic),
				field("major", "专业", ftText, basic),
				field("education_level", "学历层次", ftText, basic),
				field("study_mode", "学习形式", ftText),
				field("degree", "学位", ftText, basic),
				field("enrolment_date", "入学日期", ftDate),
				field("graduation_date", "毕业日期", ftDate, basic),
				field("certificate_no", "证书编号", ftText, basic),
			},
		},
		{
			Code: TypeQualification, Name: "职业资格证书", HolderKind: licence.HolderPerson,
			Fields: []licence.Field{
				field("name", "姓名", ftText, maskName, basic),
				field("sex", "性别", ftText),
				field("id_number", "身份证件号码", ftID, maskID, basic),
				field("occupation", "职业（工种）", ftText, basic),
				field("level", "等级", ftText, basic),
				field("certificate_no", "证书编号", ftText, basic),
				field("issuing_body", "发证机构", ftText),
				field("issued_on", "发证日期", ftDate),
			},
		},
		{
			Code: TypeDrivingLicence, Name: "机动车驾驶证", HolderKind: licence.HolderPerson,
			ValidityYears: 6, ReminderStages: defaultStages,
			Fields: []licence.Field{
				field("name", "姓名", ftText, maskName, basic),
				field("sex", "性别", ftText, basic),
				field("nationality", "国籍", ftText),
				field("address", "住址", ftAddress, maskMiddle),
				field("birth_date", "出生日期", ftDate),
				field("first_issue_date", "初次领证日期", ftDate),
				field("vehicle_class", "准驾车型", ftText, basic),
				field("licence_no", "证号", ftID, maskID, basic),
				field("valid_period", "有效期限", ftText, basic),
				field("issuing_authority", "发证机关", ftText),
				field("photo", "照片", ftPhoto),
			},
		},
		{
			Code: TypeMarriageCertificate, Name: "结婚证", HolderKind: licence.HolderPerson,
			Fields: marriage("结婚证字号"),
		},
		{
			Code: TypeDivorceCertificate, Name: "离婚证", HolderKind: licence.HolderPerson,
			Fields: marriage("离婚证字号"),
		},
		{
			Code: TypeRealEstateTitle, Name: "不动产权证书", HolderKind: licence.HolderPerson,
			Fields: []licence.Field{
				field("right_holder", "权利人", ftText, maskName, basic),
				field("co_ownership", "共有情况", ftText, basic),
				field("location", "坐落", ftAddress, maskMiddle, basic),
				field("unit_no", "不动产单元号", ftText, basic),
				field("right_type", "权利类型", ftText, basic),
				field("right_nature", "权利性质", ftText),
				field("usage", "用途", ftText, basic),
				field("area", "面积", ftText, basic),
				field("term", "使用期限", ftText),
				field("other", "权利其他状况", ftText),
				field("registration_authority", "登记机构", ftText),
			},
		},
		{
			Code: TypeRealEstateProof, Name: "不动产登记证明", HolderKind: licence.HolderPerson,
			Fields: []licence.Field{
				field("certified_matter", "证明权利或事项", ftText, basic),
				field("right_holder", "权利人（申请人）", ftText, maskName, basic),
				field("obligor", "义务人", ftText, maskName),
				field("location", "坐落", ftAddress, maskMiddle, basic),
				field("unit_no", "不动产单元号", ftText, basic),
				field("other", "其他", ftText),
				field("registration_authority", "登记机构", ftText),
			},
		},
		{
			Code: TypeBusinessLicence, Name: "营业执照", HolderKind: licence.HolderOrganisation,
			Fields: []licence.Field{
				field("uscc", "统一社会信用代码", ftText, basic),
				field("name", "名称", ftText, basic),
				field("entity_type", "类型", ftText, basic),
				field("legal_representative", "法定代表人", ftText, maskName, basic),
				field("registered_capital", "注册资本", ftText),
				field("established_on", "成立日期", ftDate, basic),
				field("business_term", "营业期限", ftText, basic),
				field("domicile", "住所", ftAddress),
				field("business_scope", "经营范围", ftText),
				field("registration_authority", "登记机关", ftText),
			},
		},
		{
			Code: TypeFoodBusinessLicence, Name: "食品经营许可证", HolderKind: licence.HolderOrganisation,
			ValidityYears: 5, ReminderStages: defaultStages,
			Fields: []licence.Field{
				field("operator", "经营者名称", ftText, basic),
				field("uscc", "社会信用代码", ftText, basic),
				field("legal_representative", "法定代表人（负责人）", ftText, maskName, basic),
				field("domicile", "住所", ftAddress),
				field("premises", "经营场所", ftAddress, basic),
				field("main_form", "主体业态", ftText, basic),
				field("business_items", "经营项目", ftText),
				field("licence_no", "许可证编号", ftText, basic),
				field("supervising_body", "日常监督管理机构", ftText),
				field("complaint_hotline", "投诉举报电话", ftText),
				field("issuing_authority", "发证机关", ftText),
			},
		},
	}
}
