package ident

import (
	"fmt"
	"strings"
)

// usccAlphabet is the GB 32100-2015 character set in value order 0..30.
// I, O, Z, S and V are left out because they are easily confused with
// 1, 0, 2, 5 and U when codes are read aloud or typed from paper.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are the GB 32100-2015 position weights, 3^i mod 31.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// ValidUSCC reports whether s is an 18-character unified social credit
// code (统一社会信用代码, GB 32100-2015): every character from the code's
// alphabet and the last one the MOD 31 check character of the first 17.
// It is strict about case because codes are stored and compared verbatim,
// and lower-case letters are not part of the standard's alphabet.
func ValidUSCC(s string) bool {
	if len(s) != 18 {
		return false
	}
	want, err := USCCCheckChar(s[:17])
	return err == nil && s[17] == want
}

// USCCCheckChar returns the check character for the first 17 characters of
// a unified social credit code, so that seed data and tests can build valid
// codes for departments that do not exist.
func USCCCheckChar(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("ident: uscc: want 17 characters, got %d bytes: %w", len(first17), ErrMalformed)
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(usccAlphabet, first17[i])
		if v < 0 {
			return 0, fmt.Errorf("ident: uscc: character %q at position %d not in the GB 32100 alphabet: %w", first17[i], i+1, ErrMalformed)
		}
		sum += v * usccWeights[i]
	}
	return usccAlphabet[(31-sum%31)%31], nil
}
