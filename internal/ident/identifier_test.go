package ident

import (
	"errors"
	"testing"
)

// Fixture codes: both USCCs are valid (see TestValidUSCC).
const (
	testTypeCode = "11140522MB00000011001"
	testIssuer   = "12140522MB1234567J"
	// testIdentifier's check character N was computed by hand with the
	// MOD 37,36 recurrence over testTypeCode+testIssuer+"A0000001"+"001".
	testIdentifier = LicenceIdentifierPrefix + testTypeCode + "." + testIssuer + ".A0000001.001.N"
)

func TestMod3736Check(t *testing.T) {
	// "0", "A" and "10" are short enough to trace by hand (M = 36):
	//   "0":  p=36 → (36+0) mod 36 = 0 → 36 → 72 mod 37 = 35; check (37-35) mod 36 = 2.
	//   "A":  p=36 → (36+10) mod 36 = 10 → 20; check (37-20) mod 36 = 17 → 'H'.
	//   "10": p=36 → 1 → 2; (2+0) → 2 → 4; check (37-4) mod 36 = 33 → 'X'.
	// A12425GABC1234002 → M is the worked example of the GRid (Global Release
	// Identifier) standard, which also uses ISO 7064 MOD 37,36.
	tests := []struct {
		in      string
		want    byte
		wantErr bool
	}{
		{"0", '2', false},
		{"A", 'H', false},
		{"10", 'X', false},
		{"A12425GABC1234002", 'M', false},
		{testTypeCode + testIssuer + "A0000001001", 'N', false},
		{"", 0, true},
		{"a1", 0, true},
		{"A-1", 0, true},
		{"A1 ", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Mod3736Check(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("Mod3736Check(%q) error = %v, want ErrMalformed", tt.in, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Mod3736Check(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestMod3736SingleSubstitution checks the property the scheme guarantees:
// changing any one character of a checked string, check character
// included, always breaks the check.
func TestMod3736SingleSubstitution(t *testing.T) {
	for _, payload := range []string{"A12425GABC1234002", testTypeCode + testIssuer + "A0000001001", "0", "ZZZZ"} {
		c, err := Mod3736Check(payload)
		if err != nil {
			t.Fatal(err)
		}
		full := []byte(payload + string(c))
		for i := range full {
			orig := full[i]
			for j := 0; j < len(mod3736Alphabet); j++ {
				if mod3736Alphabet[j] == orig {
					continue
				}
				full[i] = mod3736Alphabet[j]
				got, err := Mod3736Check(string(full[:len(full)-1]))
				if err != nil {
					t.Fatal(err)
				}
				if got == full[len(full)-1] {
					t.Errorf("substituting %q at %d in %s%c went undetected", full[i], i, payload, c)
				}
			}
			full[i] = orig
		}
	}
}

// TestMod3736KnownTransposition pins down a limitation of the hybrid
// scheme so nobody relies on it: swapping I and H below keeps the check
// character. A wrong implementation would be unlikely to share this blind
// spot, so the test also guards the recurrence itself.
func TestMod3736KnownTransposition(t *testing.T) {
	a, errA := Mod3736Check("7RYQ7IHF")
	b, errB := Mod3736Check("7RYQ7HIF")
	if errA != nil || errB != nil || a != '7' || b != '7' {
		t.Errorf("Mod3736Check = %q,%v and %q,%v; want '7' for both", a, errA, b, errB)
	}
}

func TestLicenceIdentifier(t *testing.T) {
	tests := []struct {
		name     string
		typeCode string
		issuer   string
		serial   string
		version  int
		want     string // empty: want an ErrMalformed error
	}{
		{"fixture", testTypeCode, testIssuer, "A0000001", 1, testIdentifier},
		{"version 999", testTypeCode, testIssuer, "20240001", 999,
			LicenceIdentifierPrefix + testTypeCode + "." + testIssuer + ".20240001.999.P"},
		{"version 0", testTypeCode, testIssuer, "A0000001", 0, ""},
		{"version 1000", testTypeCode, testIssuer, "A0000001", 1000, ""},
		{"negative version", testTypeCode, testIssuer, "A0000001", -1, ""},
		{"empty serial", testTypeCode, testIssuer, "", 1, ""},
		{"lower-case serial", testTypeCode, testIssuer, "a0000001", 1, ""},
		{"dot in serial", testTypeCode, testIssuer, "A.1", 1, ""},
		{"type code 20 chars", testTypeCode[:20], testIssuer, "A1", 1, ""},
		{"type code with bad USCC", "11140522MB00000012001", testIssuer, "A1", 1, ""},
		{"type code suffix not digits", "11140522MB0000001100A", testIssuer, "A1", 1, ""},
		{"issuer bad check", testTypeCode, "12140522MB1234567K", "A1", 1, ""},
		{"issuer empty", testTypeCode, "", "A1", 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LicenceIdentifier(tt.typeCode, tt.issuer, tt.serial, tt.version)
			if tt.want == "" {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("LicenceIdentifier() = %q, %v; want ErrMalformed", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("LicenceIdentifier() = %q, %v; want %q", got, err, tt.want)
			}
			id, err := ParseLicenceIdentifier(got)
			want := LicenceID{TypeCode: tt.typeCode, IssuerUSCC: tt.issuer, Serial: tt.serial, Version: tt.version}
			if err != nil || id != want {
				t.Errorf("ParseLicenceIdentifier(%q) = %+v, %v; want %+v", got, id, err, want)
			}
		})
	}
}

func TestParseLicenceIdentifier(t *testing.T) {
	body := testTypeCode + "." + testIssuer + ".A0000001"
	tests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{"valid", testIdentifier, nil},
		{"wrong check", LicenceIdentifierPrefix + body + ".001.M", ErrCheck},
		{"lower-case check", LicenceIdentifierPrefix + body + ".001.n", ErrCheck},
		{"version changed", LicenceIdentifierPrefix + body + ".002.N", ErrCheck},
		{"no prefix", body + ".001.N", ErrMalformed},
		{"other arc", "1.2.156.3005.3." + body + ".001.N", ErrMalformed},
		{"missing check", LicenceIdentifierPrefix + body + ".001", ErrMalformed},
		{"two-char check", LicenceIdentifierPrefix + body + ".001.NN", ErrMalformed},
		{"empty check", LicenceIdentifierPrefix + body + ".001.", ErrMalformed},
		{"extra part", LicenceIdentifierPrefix + body + ".X.001.N", ErrMalformed},
		{"version 2 digits", LicenceIdentifierPrefix + body + ".01.N", ErrMalformed},
		{"version 000", LicenceIdentifierPrefix + body + ".000.N", ErrMalformed},
		{"version signed", LicenceIdentifierPrefix + body + ".+01.N", ErrMalformed},
		{"trailing newline", testIdentifier + "\n", ErrMalformed},
		{"leading space", " " + testIdentifier, ErrMalformed},
		{"empty", "", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := ParseLicenceIdentifier(tt.in)
			if tt.wantErr == nil {
				want := LicenceID{TypeCode: testTypeCode, IssuerUSCC: testIssuer, Serial: "A0000001", Version: 1}
				if err != nil || id != want {
					t.Fatalf("ParseLicenceIdentifier(%q) = %+v, %v; want %+v", tt.in, id, err, want)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseLicenceIdentifier(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if id != (LicenceID{}) {
				t.Errorf("ParseLicenceIdentifier(%q) returned %+v alongside an error", tt.in, id)
			}
		})
	}
}

// TestParseLicenceIdentifierTamper changes every character after the fixed
// prefix to every other alphanumeric character, and swaps every pair of
// adjacent different characters there; each result must be rejected.
// Substitutions are always caught by MOD 37,36; transpositions are not in
// general (see TestMod3736KnownTransposition), so the swap half is a check
// on this fixture, where every swap happens to be caught by a check
// character, the USCC checks or the structure.
func TestParseLicenceIdentifierTamper(t *testing.T) {
	start := len(LicenceIdentifierPrefix)
	b := []byte(testIdentifier)
	for i := start; i < len(b); i++ {
		if b[i] == '.' {
			continue
		}
		orig := b[i]
		for j := 0; j < len(mod3736Alphabet); j++ {
			if mod3736Alphabet[j] == orig {
				continue
			}
			b[i] = mod3736Alphabet[j]
			if _, err := ParseLicenceIdentifier(string(b)); err == nil {
				t.Errorf("substitution accepted: %s", b)
			}
		}
		b[i] = orig
	}
	swaps := 0
	for i := start; i+1 < len(b); i++ {
		if b[i] == b[i+1] {
			continue
		}
		b[i], b[i+1] = b[i+1], b[i]
		if _, err := ParseLicenceIdentifier(string(b)); err == nil {
			t.Errorf("transposition at %d accepted: %s", i, b)
		}
		b[i], b[i+1] = b[i+1], b[i]
		swaps++
	}
	if swaps < 20 || string(b) != testIdentifier {
		t.Fatalf("tamper loop did not run as intended: %d swaps, fixture now %s", swaps, b)
	}
}
