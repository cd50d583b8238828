package licence

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMask(t *testing.T) {
	tests := []struct {
		rule MaskRule
		in   string
		want string
	}{
		{MaskNone, "山西省阳城县凤城镇", "山西省阳城县凤城镇"},
		{MaskNone, "", ""},
		{MaskNone, "a\xffb", "a\uFFFDb"},
		{MaskName, "欧阳娜娜", "欧***"},
		{MaskID, "140522198503120016", "1405**********0016"},
		{MaskPhone, "13800000001", "138****0001"},
		{MaskMiddle, "山西省阳城县凤城镇东关村", "山西省阳****镇东关村"},
		{MaskMiddle, "ABCDEFGHI", "ABC***GHI"},
		{MaskMiddle, "ABCDE", "A***E"},
		{MaskMiddle, "AB", "**"},
		{MaskMiddle, "", ""},
		{MaskAll, "140522198503120016", "****"},
		{MaskAll, "", "****"},
		{MaskRule("typo"), "140522198503120016", "****"},
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
var maskLimits = map[MaskRule]func(n int) int{
	MaskName: func(n int) int { return min(1, n-1) },
	MaskID:   func(n int) int { return min(8, 2*(n/3)) },
	MaskPhone: func(n int) int {
		if n >= 11 {
			return 7
		}
		return 2 * (n / 3)
	},
	MaskMiddle: func(n int) int { return 2 * (n / 3) },
	MaskAll:    func(n int) int { return 0 },
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
		if out := Mask(MaskNone, in); !utf8.ValidString(out) || (utf8.ValidString(in) && out != in) {
			t.Fatalf("Mask(none, %q) = %q", in, out)
		}
	})
}
