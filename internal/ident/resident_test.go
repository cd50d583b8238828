package ident

import (
	"errors"
	"testing"
)

func TestValidResidentID(t *testing.T) {
	// Every "bad date" case below carries the check character that is right
	// for its first 17 digits (computed by hand with the GB 11643 weights),
	// so it can only fail because of the date.
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"standard example with X", "11010519491231002X", true},
		{"demo zhangsan", "140522198503120016", true},
		{"demo lisi", "140522199007080021", true},
		{"leap day 2000", "140522200002290033", true},
		{"first day of 1900", "14052219000101003X", true},
		{"future date allowed", "140522209912310030", true},

		{"wrong check digit", "140522198503120017", false},
		{"wrong check X for digit", "14052219850312001X", false},
		{"check digit where X is due", "110105194912310020", false},
		{"lower-case x not canonical", "11010519491231002x", false},
		{"30 February", "140522199902300035", false},
		{"29 February 1900 not leap", "140522190002290037", false},
		{"29 February 2023", "140522202302290034", false},
		{"31 April", "140522199904310034", false},
		{"month 13", "140522199913010033", false},
		{"month 00", "140522199900010034", false},
		{"day 00", "140522199901000030", false},
		{"day 32", "140522199901320034", false},
		{"year before 1900", "140522189912310035", false},
		{"17 characters", "14052219850312001", false},
		{"19 characters", "1405221985031200160", false},
		{"15-digit first-generation number", "140522850312001", false},
		{"empty", "", false},
		{"letter in area code", "1A0522198503120016", false},
		{"letter O in date", "1405221985O3120016", false},
		{"letter as check", "14052219850312001A", false},
		{"surrounding spaces", " 140522198503120016", false},
		{"full-width digits", "１４０５２２１９８５０３１２００１６", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidResidentID(tt.in); got != tt.want {
				t.Errorf("ValidResidentID(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormaliseResidentID(t *testing.T) {
	tests := []struct {
		in, want string
		valid    bool
	}{
		{"11010519491231002x", "11010519491231002X", true},
		{"  140522198503120016\t\n", "140522198503120016", true},
		{"\u3000140522199007080021 ", "140522199007080021", true}, // ideographic space from IME input
		{"140522198503120016", "140522198503120016", true},
		{"1405 22198503120016", "1405 22198503120016", false}, // inner spaces are not guessed away
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := NormaliseResidentID(tt.in)
			if got != tt.want {
				t.Fatalf("NormaliseResidentID(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if v := ValidResidentID(got); v != tt.valid {
				t.Errorf("ValidResidentID(%q) = %v, want %v", got, v, tt.valid)
			}
		})
	}
}

func TestResidentIDCheckChar(t *testing.T) {
	tests := []struct {
		in      string
		want    byte
		wantErr bool
	}{
		{"11010519491231002", 'X', false},
		{"14052219850312001", '6', false},
		{"14052219900708002", '1', false},
		{"1405221985031200", 0, true},
		{"140522198503120016", 0, true},
		{"1405221985031200A", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ResidentIDCheckChar(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("ResidentIDCheckChar(%q) error = %v, want ErrMalformed", tt.in, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ResidentIDCheckChar(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}
