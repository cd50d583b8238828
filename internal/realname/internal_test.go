package realname

import (
	"testing"
)

func TestRandomCode(t *testing.T) {
	seen := map[string]bool{}
	firstDigits := map[byte]int{}
	for i := 0; i < 2000; i++ {
		c, err := randomCode()
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != 6 {
			t.Fatalf("code %q is not 6 characters", c)
		}
		for j := 0; j < 6; j++ {
			if c[j] < '0' || c[j] > '9' {
				t.Fatalf("code %q has a non-digit", c)
			}
		}
		seen[c] = true
		firstDigits[c[0]]++
	}
	// 2000 draws from a million: a handful of repeats at most.
	if len(seen) < 1990 {
		t.Fatalf("only %d distinct codes in 2000 draws", len(seen))
	}
	// Leading zeros must occur (no bias towards 100000..999999).
	if firstDigits['0'] == 0 {
		t.Fatal("no code starts with 0 in 2000 draws")
	}
}
