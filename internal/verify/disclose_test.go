package verify_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/showcode"
	"github.com/yangcheng-county/elicence/internal/verify"
)

// drivingType mirrors the catalogue's driving licence closely enough to
// exercise every branch: basic and non-basic, sensitive with each rule,
// and a sensitive field with no rule.
var drivingType = licence.Type{
	Code: "11140500011970328E001", Name: "机动车驾驶证", HolderKind: licence.HolderPerson,
	Fields: []licence.Field{
		{Key: "name", Label: "姓名", Sensitive: true, Mask: licence.MaskName, Basic: true},
		{Key: "sex", Label: "性别", Basic: true},
		{Key: "address", Label: "住址", Sensitive: true, Mask: licence.MaskMiddle},
		{Key: "licence_no", Label: "证号", Sensitive: true, Mask: licence.MaskID, Basic: true},
		{Key: "vehicle_class", Label: "准驾车型", Basic: true},
		{Key: "issuing_authority", Label: "发证机关"},
		{Key: "phone", Label: "电话", Sensitive: true, Mask: licence.MaskPhone},
		{Key: "secret", Label: "未配置掩码", Sensitive: true},
		{Key: "empty", Label: "空", Basic: true},
	},
}

var zhangsanDriving = licence.Licence{
	Number: "140522198503120016",
	Face: map[string]string{
		"name": "张三", "sex": "男", "address": "山西省阳城县凤城镇凤栖路88号",
		"licence_no": "140522198503120016", "vehicle_class": "C1",
		"issuing_authority": "山西省晋城市公安局交通警察支队", "phone": "13800000001",
		"secret": "不应出现", "unlisted": "不在目录中",
	},
}

func TestVerifyDisclose(t *testing.T) {
	cases := []struct {
		scope showcode.Scope
		want  []verify.Field
	}{
		{showcode.ScopeBasic, []verify.Field{
			{Key: "name", Label: "姓名", Value: "张*", Masked: true},
			{Key: "sex", Label: "性别", Value: "男"},
			{Key: "licence_no", Label: "证号", Value: "1405**********0016", Masked: true},
			{Key: "vehicle_class", Label: "准驾车型", Value: "C1"},
		}},
		{showcode.ScopeFull, []verify.Field{
			{Key: "name", Label: "姓名", Value: "张*", Masked: true},
			{Key: "sex", Label: "性别", Value: "男"},
			{Key: "address", Label: "住址", Value: "山西省阳城*****栖路88号", Masked: true},
			{Key: "licence_no", Label: "证号", Value: "1405**********0016", Masked: true},
			{Key: "vehicle_class", Label: "准驾车型", Value: "C1"},
			{Key: "issuing_authority", Label: "发证机关", Value: "山西省晋城市公安局交通警察支队"},
			{Key: "phone", Label: "电话", Value: "138****0001", Masked: true},
			{Key: "secret", Label: "未配置掩码", Value: "****", Masked: true},
		}},
		{showcode.Scope("everything"), []verify.Field{}},
	}
	for _, tc := range cases {
		t.Run(string(tc.scope), func(t *testing.T) {
			got := verify.Disclose(drivingType, zhangsanDriving, tc.scope)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Disclose(%s) =\n%+v\nwant\n%+v", tc.scope, got, tc.want)
			}
			for _, f := range got {
				if strings.Contains(f.Value, "140522198503120016") || strings.Contains(f.Value, "张三") {
					t.Fatalf("field %s discloses a full personal value: %q", f.Key, f.Value)
				}
			}
		})
	}
}

func TestVerifyMaskHolderAndNumber(t *testing.T) {
	person := licence.Holder{Kind: licence.HolderPerson, Name: "张三", IDNumber: "140522198503120016"}
	org := licence.Holder{Kind: licence.HolderOrganisation, Name: "阳城县某某食品有限公司", IDNumber: "91140522MA0K123456"}
	holderCases := []struct {
		h    licence.Holder
		want verify.HolderView
	}{
		{person, verify.HolderView{Name: "张*", IDNumber: "1405**********0016"}},
		{licence.Holder{Kind: licence.HolderPerson, Name: "欧阳娜娜", IDNumber: "11010519491231002X"}, verify.HolderView{Name: "欧***", IDNumber: "1101**********002X"}},
		{org, verify.HolderView{Name: org.Name, IDNumber: org.IDNumber}},
	}
	for _, tc := range holderCases {
		if got := verify.MaskHolder(tc.h); got != tc.want {
			t.Errorf("MaskHolder(%s) = %+v, want %+v", tc.h.Name, got, tc.want)
		}
	}

	numberCases := []struct {
		name   string
		number string
		scope  showcode.Scope
		want   string
	}{
		{"basic masks", "晋(2023)阳城县不动产权第0001234号", showcode.ScopeBasic, "晋(20***************234号"},
		{"full shows", "晋(2023)阳城县不动产权第0001234号", showcode.ScopeFull, "晋(2023)阳城县不动产权第0001234号"},
		{"ID number as licence number stays masked under full", "140522198503120016", showcode.ScopeFull, "1405**********0016"},
		{"ID number as licence number, lower-case x", "11010519491231002x", showcode.ScopeFull, "1101**********002x"},
	}
	for _, tc := range numberCases {
		h := person
		if strings.HasSuffix(tc.number, "x") {
			h.IDNumber = "11010519491231002X"
		}
		got := verify.LicenceNumber(licence.Licence{Number: tc.number}, h, tc.scope)
		if got != tc.want {
			t.Errorf("%s: LicenceNumber = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestVerifyColourOf(t *testing.T) {
	cases := []struct {
		result, reason string
		want           licence.Colour
	}{
		{"valid", licence.ReasonOK, licence.Green},
		{"valid", licence.ReasonMortgaged, licence.Amber},
		{"valid", licence.ReasonUnderObjection, licence.Amber},
		{"invalid", licence.ReasonSuspended, licence.Red},
		{"invalid", licence.ReasonExpired, licence.Red},
		{"refused", verify.ReasonNotInUsageList, ""},
		{"", "", ""},
	}
	for _, tc := range cases {
		if got := verify.ColourOf(tc.result, tc.reason); got != tc.want {
			t.Errorf("ColourOf(%q, %q) = %q, want %q", tc.result, tc.reason, got, tc.want)
		}
	}
}

func TestVerifyNormalisePurpose(t *testing.T) {
	cases := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"道路交通执法检查", "道路交通执法检查", true},
		{"  身份核验 ", "身份核验", true},
		{"现场临时核验 车辆检查", "现场临时核验 车辆检查", true},
		{"现场临时核验\u3000车辆检查", "现场临时核验 车辆检查", true}, // full-width space from a Chinese IME
		{"车辆\u00a0检查", "车辆 检查", true},
		{strings.Repeat("核", 50), strings.Repeat("核", 50), true},
		{strings.Repeat("核", 51), "", false},
		{"", "", false},
		{"   ", "", false},
		{"line\nbreak", "", false},
		{"bell\a", "", false},
		{"bad\xffutf8", "", false},
	}
	for _, tc := range cases {
		got, ok := verify.NormalisePurpose(tc.in)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("NormalisePurpose(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}

// A catalogue entry that types a field id_number or phone but forgets to
// mark it sensitive must still never show the full number (fail closed).
func TestVerifyDiscloseMasksUnmarkedIdentifiers(t *testing.T) {
	typ := licence.Type{Code: "T", Name: "未来证照", Fields: []licence.Field{
		{Key: "holder_id", Label: "身份证号", Type: licence.FieldTypeIDNumber, Basic: true},
		{Key: "mobile", Label: "联系电话", Type: licence.FieldTypePhone, Basic: true},
		{Key: "note", Label: "备注", Type: "text", Basic: true},
	}}
	l := licence.Licence{Face: map[string]string{"holder_id": "140522198503120016", "mobile": "13800000001", "note": "无"}}
	want := []verify.Field{
		{Key: "holder_id", Label: "身份证号", Type: licence.FieldTypeIDNumber, Value: "1405**********0016", Masked: true},
		{Key: "mobile", Label: "联系电话", Type: licence.FieldTypePhone, Value: "138****0001", Masked: true},
		{Key: "note", Label: "备注", Type: "text", Value: "无"},
	}
	for _, scope := range []showcode.Scope{showcode.ScopeBasic, showcode.ScopeFull} {
		if got := verify.Disclose(typ, l, scope); !reflect.DeepEqual(got, want) {
			t.Errorf("Disclose(%s) =\n%+v\nwant\n%+v", scope, got, want)
		}
	}
}
