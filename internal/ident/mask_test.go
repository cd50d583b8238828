package ident

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/yangcheng-county/elicence/internal/licence"
)

func TestMaskIDNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"140522198503120016", "1405**********0016"},
		{"11010519491231002X", "1101**********002X"},
		{"140522850312001", "1405*******2001"}, // 15-digit first generation
		{"123456789012", "1234****9012"},
		{"12345678901", "123*****901"},
		{"123456789", "123***789"},
		{"12345", "1***5"},
		{"1234", "1**4"},
		{"123", "1*3"},
		{"12", "**"},
		{"1", "*"},
		{"", ""},
		{"护照号码一二三四五六", "护照号****四五六"}, // rune-safe
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := MaskIDNumber(tt.in); got != tt.want {
				t.Errorf("MaskIDNumber(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMaskName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"张三", "张*"},
		{"李四", "李*"},
		{"欧阳娜娜", "欧***"},
		{"阿依古丽·买买提", "阿*******"},
		{"王", "*"},
		{"", ""},
		{"Li Lei", "L*****"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := MaskName(tt.in); got != tt.want {
				t.Errorf("MaskName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"13800000001", "138****0001"},
		{"13800000000", "138****0000"},
		{"035684022222", "035*****2222"},
		{"+8613800000001", "+86*******0001"},
		{"84022222", "84****22"},
		{"4022222", "40***22"},
		{"12345", "1***5"},
		{"123", "1*3"},
		{"1", "*"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := MaskPhone(tt.in); got != tt.want {
				t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMask(t *testing.T) {
	tests := []struct {
		rule licence.MaskRule
		in   string
		want string
	}{
		{licence.MaskNone, "山西省阳城县凤城镇", "山西省阳城县凤城镇"},
		{licence.MaskNone, "", ""},
		{licence.MaskNone, "a\xffb", "a\uFFFDb"},
		{licence.MaskName, "欧阳娜娜", "欧***"},
		{licence.MaskID, "140522198503120016", "1405**********0016"},
		{licence.MaskPhone, "13800000001", "138****0001"},
		{licence.MaskMiddle, "山西省阳城县凤城镇东关村", "山西省阳****镇东关村"},
		{licence.MaskMiddle, "ABCDEFGHI", "ABC***GHI"},
		{licence.MaskMiddle, "ABCDE", "A***E"},
		{licence.MaskMiddle, "AB", "**"},
		{licence.MaskMiddle, "", ""},
		{licence.MaskAll, "140522198503120016", "****"},
		{licence.MaskAll, "", "****"},
		{licence.MaskRule("typo"), "140522198503120016", "****"},
	}
	for _, tt := range tests {
		t.Run(string(tt.rule)+"/"+tt.in, func(t *testing.T) {
			if got := Mask(tt.rule, tt.in); got != tt.want {
				t.Errorf("Mask(%q, %q) = %q, want %q", tt.rule, tt.in, got, tt.want)
			}
		})
	}
}

// maskLimits says, for a rule, how many input runes out of n it may show at
// most. Checked by FuzzMask against the output's non-star runes.
var maskLimits = map[licence.MaskRule]func(n int) int{
	licence.MaskName: func(n int) int { return min(1, n-1) },
	licence.MaskID:   func(n int) int { return min(8, 2*(n/3)) },
	licence.MaskPhone: func(n int) int {
		if n >= 11 {
			return 7
		}
		return 2 * (n / 3)
	},
	licence.MaskMiddle: func(n int) int { return 2 * (n / 3) },
	licence.MaskAll:    func(n int) int { return 0 },
}

func FuzzMask(f *testing.F) {
	for _, s := range []string{
		"", "1", "张三", "欧阳娜娜", "12345", "13800000001", "140522198503120016",
		"11010519491231002X", "a\xffb\xfe", "\xe5\xbc", "阿依古丽·买买提", "*****", "1****",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n := utf8.RuneCountInString(in)
		for rule, limit := range maskLimits {
			out := Mask(rule, in)
			if !utf8.ValidString(out) {
				t.Fatalf("Mask(%q, %q) = %q: invalid UTF-8", rule, in, out)
			}
			shown := 0
			for _, r := range out {
				if r != '*' {
					shown++
				}
			}
			if max := max(limit(n), 0); shown > max {
				t.Fatalf("Mask(%q, %q) = %q shows %d runes, at most %d allowed", rule, in, out, shown, max)
			}
			// An input made partly of stars can legitimately come back
			// unchanged ("1****"), so the containment check only applies
			// to inputs that have none.
			if n > 4 && !strings.Contains(in, "*") && strings.Contains(out, in) {
				t.Fatalf("Mask(%q, %q) = %q contains the whole input", rule, in, out)
			}
		}
		if out := Mask(licence.MaskNone, in); !utf8.ValidString(out) || (utf8.ValidString(in) && out != in) {
			t.Fatalf("Mask(none, %q) = %q", in, out)
		}
	})
}
