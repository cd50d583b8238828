package ident

import (
	"fmt"
	"strings"
	"time"
)

// residentWeights are the GB 11643-1999 position weights, 2^(17-i) mod 11
// for positions i = 0..16 counted from the left.
var residentWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// residentCheckChars maps the weighted sum mod 11 to the check character
// (12 - sum) mod 11, with 10 written as X (ISO 7064 MOD 11-2).
const residentCheckChars = "10X98765432"

// NormaliseResidentID trims surrounding white space and upper-cases the
// letter x. People type the check character as a lower-case x and paste
// numbers with stray spaces; normalising before validating, storing or
// computing a blind index means the same person always maps to the same
// value. It does not validate: call ValidResidentID on the result.
func NormaliseResidentID(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "x", "X")
}

// ValidResidentID reports whether s is an 18-character GB 11643-1999
// citizen identity number: a 6-digit area code, a birth date YYYYMMDD that
// is a real calendar date in or after 1900, a 3-digit sequence number and
// the ISO 7064 MOD 11-2 check character ('0'..'9' or upper-case 'X').
//
// It is strict (no trimming, no lower-case x) so that only the canonical
// form is accepted into storage; pass user input through
// NormaliseResidentID first. The area code is not checked against the
// GB/T 2260 list because that list changes over time while cards issued
// under retired codes stay valid. The date is not required to be in the
// past: the check only rejects numbers that cannot have been issued.
func ValidResidentID(s string) bool {
	if len(s) != 18 {
		return false
	}
	want, err := ResidentIDCheckChar(s[:17])
	if err != nil {
		return false
	}
	return s[17] == want && validBirthDate(s[6:14])
}

// ResidentIDCheckChar returns the check character for the first 17 digits
// of a resident identity number. It exists so that test fixtures and demo
// data can be generated instead of hand-computed. The error never quotes
// the input, as it may be most of a real ID number.
func ResidentIDCheckChar(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("ident: resident id: want 17 digits, got %d bytes: %w", len(first17), ErrMalformed)
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if !isDigit(c) {
			return 0, fmt.Errorf("ident: resident id: non-digit at position %d: %w", i+1, ErrMalformed)
		}
		sum += int(c-'0') * residentWeights[i]
	}
	return residentCheckChars[sum%11], nil
}

// validBirthDate reports whether the 8 digits d form a real date YYYYMMDD
// with a year of 1900 or later. Rebuilding the date with time.Date and
// comparing catches 30 February and friends, because time.Date normalises
// them into the following month.
func validBirthDate(d string) bool {
	if len(d) != 8 {
		return false
	}
	n := 0
	for i := 0; i < 8; i++ {
		if !isDigit(d[i]) {
			return false
		}
		n = n*10 + int(d[i]-'0')
	}
	y, m, day := n/10000, time.Month(n/100%100), n%100
	if y < 1900 || m < time.January || m > time.December || day < 1 {
		return false
	}
	t := time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
	return t.Year() == y && t.Month() == m && t.Day() == day
}
