package ident

import "testing"

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
