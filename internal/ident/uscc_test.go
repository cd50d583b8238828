package ident

import (
	"errors"
	"testing"
)

// The valid codes below were each checked twice: by this implementation and
// by a hand calculation with the GB 32100 weights. Worked example for
// 91350100M000100Y43 (alphabet values M=21, Y=30):
//
//	9·1 + 1·3 + 3·9 + 5·27 + 0·19 + 1·26 + 0·16 + 0·17 + 21·20 + 0·29
//	+ 0·25 + 0·13 + 1·8 + 0·24 + 0·10 + 30·30 + 4·28 = 1640
//	1640 mod 31 = 28, check = 31 - 28 = 3 → '3'
//
// Other codes that circulate as examples were tried and dropped because
// their check characters do not match, so they cannot be real.
func TestValidUSCC(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"commonly cited example", "91350100M000100Y43", true},
		{"published code 1", "91110108551385082Q", true},
		{"published code 2", "91440300708461136T", true},
		{"published code with X", "9144030071526726XG", true},
		{"generated government body", "11140522MB00000011", true},
		{"generated public institution", "12140522MB1234567J", true},

		{"wrong check", "91350100M000100Y44", false},
		{"check off by one letter", "91110108551385082P", false},
		{"lower case", "91350100m000100y43", false},
		{"contains I", "91350100I000100Y43", false},
		{"contains O", "91350100O000100Y43", false},
		{"contains Z", "91350100Z000100Y43", false},
		{"contains S", "91350100S000100Y43", false},
		{"contains V", "91350100V000100Y43", false},
		{"17 characters", "91350100M000100Y4", false},
		{"19 characters", "91350100M000100Y430", false},
		{"empty", "", false},
		{"non-ASCII", "91350100Ｍ000100Y43", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidUSCC(tt.in); got != tt.want {
				t.Errorf("ValidUSCC(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestUSCCCheckChar(t *testing.T) {
	tests := []struct {
		in      string
		want    byte
		wantErr bool
	}{
		{"91350100M000100Y4", '3', false},
		{"9144030071526726X", 'G', false},
		{"11140522MB0000001", '1', false},
		{"12140522MB1234567", 'J', false},
		{"00000000000000000", '0', false}, // sum 0 → (31-0) mod 31 = 0, not 31
		{"9135010OM000100Y4", 0, true},
		{"91350100M000100Y", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := USCCCheckChar(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("USCCCheckChar(%q) error = %v, want ErrMalformed", tt.in, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("USCCCheckChar(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			if full := tt.in + string(got); !ValidUSCC(full) {
				t.Errorf("ValidUSCC(%q) = false for a code built by USCCCheckChar", full)
			}
		})
	}
}
