package licence

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// Codes built with the GB 32100 check character (see internal/ident tests).
const (
	testPersonType = "11140522MB00000011" + "001"
	testOrgType    = "12140522MB1234567J" + "001"
	testUSCC       = "91350100M000100Y43"
	testResidentID = "140522198503120016"
)

func testTypes() (person, org Type) {
	person = Type{
		Code: testPersonType, Name: "测试证", HolderKind: HolderPerson,
		Fields: []Field{
			{Key: "name", Label: "姓名", Type: "text", Required: true},
			{Key: "birth_date", Label: "出生日期", Type: "date"},
			{Key: "id_number", Label: "公民身份号码", Type: FieldTypeIDNumber},
			{Key: "contact", Label: "联系电话", Type: FieldTypePhone},
		},
	}
	org = Type{
		Code: testOrgType, Name: "测试许可证", HolderKind: HolderOrganisation,
		Fields: []Field{
			{Key: "name", Label: "名称", Type: "text", Required: true},
			{Key: "uscc", Label: "统一社会信用代码", Type: FieldTypeIDNumber},
		},
	}
	return person, org
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func dayPtr(s string) *time.Time { t := day(s); return &t }

func goodPersonRequest() IssueRequest {
	return IssueRequest{
		TypeCode: testPersonType,
		Number:   "YC-2024-0001",
		Holder:   Holder{Name: "张三", IDType: IDTypeResident, IDNumber: testResidentID, Phone: "13800000001"},
		IssuedOn: day("2024-01-02"), ValidFrom: day("2024-01-02"), ValidUntil: dayPtr("2030-01-01"),
		Fields: map[string]string{"name": "张三", "birth_date": "1985-03-12", "id_number": testResidentID, "contact": "0356-4220000"},
	}
}

func TestValidateIssue(t *testing.T) {
	person, org := testTypes()
	type fe struct{ field, code string }
	tests := []struct {
		name   string
		typ    Type
		modify func(*IssueRequest)
		want   []fe
	}{
		{"good person", person, func(*IssueRequest) {}, nil},
		{"good: long-term, no phone, optional fields empty", person, func(r *IssueRequest) {
			r.ValidUntil = nil
			r.Holder.Phone = ""
			r.Fields = map[string]string{"name": "张三"}
		}, nil},
		{"good: lower-case x and spaces normalised", person, func(r *IssueRequest) {
			r.Holder.IDNumber = " 11010519491231002x "
			r.Fields["id_number"] = "11010519491231002x"
		}, nil},
		{"good: valid_until equal to valid_from", person, func(r *IssueRequest) { r.ValidUntil = dayPtr("2024-01-02") }, nil},
		{"good organisation", org, func(r *IssueRequest) {
			r.TypeCode = testOrgType
			r.Holder = Holder{Name: "阳城县某某有限公司", IDType: IDTypeUSCC, IDNumber: strings.ToLower(testUSCC)}
			r.Fields = map[string]string{"name": "阳城县某某有限公司", "uscc": testUSCC}
		}, nil},
		{"good: passport holder, no check", person, func(r *IssueRequest) {
			r.Holder.IDType = IDTypePassport
			r.Holder.IDNumber = "E12345678"
			r.Fields["id_number"] = "E12345678"
		}, nil},

		{"wrong type code", person, func(r *IssueRequest) { r.TypeCode = testOrgType }, []fe{{"type_code", CodeTypeMismatch}}},
		{"number empty", person, func(r *IssueRequest) { r.Number = "  " }, []fe{{"licence_number", CodeRequired}}},
		{"number 65 characters", person, func(r *IssueRequest) { r.Number = strings.Repeat("证", 65) }, []fe{{"licence_number", CodeTooLong}}},
		{"number 64 characters", person, func(r *IssueRequest) { r.Number = strings.Repeat("证", 64) }, nil},
		{"holder name empty", person, func(r *IssueRequest) { r.Holder.Name = "" }, []fe{{"holder.name", CodeRequired}}},
		{"holder name too long", person, func(r *IssueRequest) { r.Holder.Name = strings.Repeat("张", 101) }, []fe{{"holder.name", CodeTooLong}}},
		{"id type empty", person, func(r *IssueRequest) { r.Holder.IDType = "" }, []fe{{"holder.id_type", CodeRequired}}},
		{"id type unknown", person, func(r *IssueRequest) { r.Holder.IDType = "999" }, []fe{{"holder.id_type", CodeUnsupportedIDType}}},
		{"GB 11643 wrong check digit", person, func(r *IssueRequest) { r.Holder.IDNumber = "140522198503120017" },
			[]fe{{"holder.id_number", CodeInvalidIDNumber}}},
		{"GB 11643 check digit where X is due", person, func(r *IssueRequest) { r.Holder.IDNumber = "110105194912310020" },
			[]fe{{"holder.id_number", CodeInvalidIDNumber}}},
		{"GB 11643 30 February", person, func(r *IssueRequest) { r.Holder.IDNumber = "140522199902300035" },
			[]fe{{"holder.id_number", CodeInvalidIDNumber}}},
		{"GB 11643 17 digits", person, func(r *IssueRequest) { r.Holder.IDNumber = "14052219850312001" },
			[]fe{{"holder.id_number", CodeInvalidIDNumber}}},
		{"id number empty", person, func(r *IssueRequest) { r.Holder.IDNumber = " " }, []fe{{"holder.id_number", CodeRequired}}},
		{"organisation USCC for a person's type", person, func(r *IssueRequest) {
			r.Holder.IDType = IDTypeUSCC
			r.Holder.IDNumber = testUSCC
			r.Fields["id_number"] = testUSCC
		}, []fe{{"holder.id_type", CodeHolderKindMismatch}}},
		{"resident ID for an organisation's type", org, func(r *IssueRequest) {
			r.TypeCode = testOrgType
			r.Fields = map[string]string{"name": "某公司"}
		}, []fe{{"holder.id_type", CodeHolderKindMismatch}}},
		{"explicit holder kind disagrees", person, func(r *IssueRequest) { r.Holder.Kind = HolderOrganisation },
			[]fe{{"holder.kind", CodeHolderKindMismatch}}},
		{"GB 32100 wrong check character", org, func(r *IssueRequest) {
			r.TypeCode = testOrgType
			r.Holder = Holder{Name: "某公司", IDType: IDTypeUSCC, IDNumber: "91350100M000100Y44"}
			r.Fields = map[string]string{"name": "某公司", "uscc": "91350100M000100Y4O"}
		}, []fe{{"holder.id_number", CodeInvalidIDNumber}, {"fields.uscc", CodeInvalidIDNumber}}},
		{"phone malformed", person, func(r *IssueRequest) { r.Holder.Phone = "1380000000" }, []fe{{"holder.phone", CodeInvalidPhone}}},
		{"issue date missing", person, func(r *IssueRequest) { r.IssuedOn = time.Time{} }, []fe{{"issue_date", CodeRequired}}},
		{"valid from missing", person, func(r *IssueRequest) { r.ValidFrom = time.Time{} }, []fe{{"valid_from", CodeRequired}}},
		{"valid until before valid from", person, func(r *IssueRequest) { r.ValidUntil = dayPtr("2024-01-01") },
			[]fe{{"valid_until", CodeDateOrder}}},
		{"required field missing", person, func(r *IssueRequest) { delete(r.Fields, "name") }, []fe{{"fields.name", CodeRequired}}},
		{"required field blank", person, func(r *IssueRequest) { r.Fields["name"] = " \t" }, []fe{{"fields.name", CodeRequired}}},
		{"date field 2023-02-29", person, func(r *IssueRequest) { r.Fields["birth_date"] = "2023-02-29" },
			[]fe{{"fields.birth_date", CodeInvalidDate}}},
		{"date field in Chinese form", person, func(r *IssueRequest) { r.Fields["birth_date"] = "1985年03月12日" },
			[]fe{{"fields.birth_date", CodeInvalidDate}}},
		{"id_number field checked by GB 11643", person, func(r *IssueRequest) { r.Fields["id_number"] = "140522198503120017" },
			[]fe{{"fields.id_number", CodeInvalidIDNumber}}},
		{"phone field malformed", person, func(r *IssueRequest) { r.Fields["contact"] = "call me" },
			[]fe{{"fields.contact", CodeInvalidPhone}}},
		{"face field too long", person, func(r *IssueRequest) { r.Fields["name"] = strings.Repeat("a", MaxFieldLen+1) },
			[]fe{{"fields.name", CodeTooLong}}},
		{"unknown keys, sorted", person, func(r *IssueRequest) { r.Fields["zeta"] = "1"; r.Fields["alpha"] = "2" },
			[]fe{{"fields.alpha", CodeUnknownField}, {"fields.zeta", CodeUnknownField}}},
		{"everything wrong at once, in order", person, func(r *IssueRequest) {
			*r = IssueRequest{TypeCode: testPersonType, ValidFrom: day("2024-01-02"), ValidUntil: dayPtr("2023-01-01"),
				Fields: map[string]string{"birth_date": "x", "extra": "y"}}
		}, []fe{
			{"licence_number", CodeRequired}, {"holder.name", CodeRequired}, {"holder.id_type", CodeRequired},
			{"holder.id_number", CodeRequired}, {"issue_date", CodeRequired}, {"valid_until", CodeDateOrder},
			{"fields.name", CodeRequired}, {"fields.birth_date", CodeInvalidDate}, {"fields.extra", CodeUnknownField},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := goodPersonRequest()
			tt.modify(&req)
			errs := ValidateIssue(tt.typ, req)
			var got []fe
			for _, e := range errs {
				got = append(got, fe{e.Field, e.Code})
				if e.Message == "" {
					t.Errorf("%s/%s: empty message", e.Field, e.Code)
				}
				if strings.Contains(e.Message, testResidentID[:14]) {
					t.Errorf("%s: message %q repeats an ID number", e.Field, e.Message)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ValidateIssue = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidationErrorNamesFieldsNotValues(t *testing.T) {
	err := &ValidationError{Details: []FieldError{
		{Field: "holder.id_number", Code: CodeInvalidIDNumber, Message: "holder ID number fails the GB 11643 check"},
		{Field: "valid_until", Code: CodeDateOrder, Message: "x"},
	}}
	want := "licence: validation failed: holder.id_number: invalid_id_number, valid_until: date_order"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestHolderKindOf(t *testing.T) {
	for idType, want := range map[string]HolderKind{"111": HolderPerson, "414": HolderPerson, "001": HolderOrganisation} {
		if got, ok := HolderKindOf(idType); !ok || got != want {
			t.Errorf("HolderKindOf(%s) = %s, %v; want %s", idType, got, ok, want)
		}
	}
	if _, ok := HolderKindOf("999"); ok {
		t.Error("HolderKindOf(999) ok, want unsupported")
	}
}
