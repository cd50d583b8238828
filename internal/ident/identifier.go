package ident

import (
	"fmt"
	"strconv"
	"strings"
)

// LicenceIdentifierPrefix is the GB/T 36904-2018 object identifier arc
// under which every Chinese e-licence identifier sits
// (1.2.156 = China, 3005 = e-licences, 2 = licence identifiers).
const LicenceIdentifierPrefix = "1.2.156.3005.2."

// mod3736Alphabet is the ISO/IEC 7064 alphanumeric alphabet in value order.
const mod3736Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// LicenceID is a parsed GB/T 36904 licence identifier without its fixed
// prefix and check character.
type LicenceID struct {
	TypeCode   string // 21 characters: the defining body's USCC + 3 digits
	IssuerUSCC string // USCC of the issuing department
	Serial     string // issuer's serial, [0-9A-Z]+
	Version    int    // 1..999
}

// Mod3736Check returns the ISO/IEC 7064 MOD 37,36 check character of s,
// whose characters must be in 0-9A-Z (upper case). GB/T 36904 uses this
// hybrid system because it catches every single-character substitution in
// an alphanumeric string while needing only one alphanumeric check
// character. It does not catch every adjacent transposition: roughly one
// in five hundred slips through, which is a property of the scheme.
//
// The computation follows the standard's definition with M = 36:
// p starts at M; for each character p = (p + value) mod M, with 0 read as M,
// then p = 2p mod (M+1); the check value is (M+1 - p) mod M.
func Mod3736Check(s string) (byte, error) {
	if s == "" {
		return 0, fmt.Errorf("ident: mod 37,36: empty input: %w", ErrMalformed)
	}
	const m = 36
	p := m
	for i := 0; i < len(s); i++ {
		v := strings.IndexByte(mod3736Alphabet, s[i])
		if v < 0 {
			return 0, fmt.Errorf("ident: mod 37,36: character %q at position %d not in 0-9A-Z: %w", s[i], i+1, ErrMalformed)
		}
		p = (p + v) % m
		if p == 0 {
			p = m
		}
		p = 2 * p % (m + 1)
	}
	return mod3736Alphabet[(m+1-p)%m], nil
}

// ValidTypeCode reports whether code is a 21-character licence type code:
// the USCC of the body that defined the type followed by 3 digits. Checking
// the embedded USCC catches a mistyped catalogue entry before it is baked
// into thousands of licence identifiers.
func ValidTypeCode(code string) bool {
	if len(code) != 21 || !ValidUSCC(code[:18]) {
		return false
	}
	return isDigit(code[18]) && isDigit(code[19]) && isDigit(code[20])
}

// LicenceIdentifier builds the GB/T 36904-2018 identifier
// 1.2.156.3005.2.{typeCode}.{issuerUSCC}.{serial}.{version}.{check}, with the
// version written as 3 digits and the check character computed by
// Mod3736Check over the four parts joined without dots. Every part is
// validated first, so an identifier this function returns always parses.
func LicenceIdentifier(typeCode, issuerUSCC, serial string, version int) (string, error) {
	id := LicenceID{TypeCode: typeCode, IssuerUSCC: issuerUSCC, Serial: serial, Version: version}
	if err := id.validate(); err != nil {
		return "", err
	}
	v3 := fmt.Sprintf("%03d", version)
	check, err := Mod3736Check(typeCode + issuerUSCC + serial + v3)
	if err != nil {
		return "", err
	}
	return LicenceIdentifierPrefix + typeCode + "." + issuerUSCC + "." + serial + "." + v3 + "." + string(check), nil
}

// ParseLicenceIdentifier splits a GB/T 36904 identifier into its parts and
// verifies each of them and the check character. It is strict (no trimming,
// no case folding) because identifiers are compared verbatim elsewhere; a
// malformed value wraps ErrMalformed and a wrong check character wraps
// ErrCheck.
func ParseLicenceIdentifier(s string) (LicenceID, error) {
	rest, ok := strings.CutPrefix(s, LicenceIdentifierPrefix)
	if !ok {
		return LicenceID{}, fmt.Errorf("ident: licence identifier: missing prefix %s: %w", LicenceIdentifierPrefix, ErrMalformed)
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 5 {
		return LicenceID{}, fmt.Errorf("ident: licence identifier: want 5 parts after the prefix, got %d: %w", len(parts), ErrMalformed)
	}
	v3, check := parts[3], parts[4]
	if len(v3) != 3 || !isDigit(v3[0]) || !isDigit(v3[1]) || !isDigit(v3[2]) {
		return LicenceID{}, fmt.Errorf("ident: licence identifier: version must be 3 digits: %w", ErrMalformed)
	}
	version, _ := strconv.Atoi(v3)
	id := LicenceID{TypeCode: parts[0], IssuerUSCC: parts[1], Serial: parts[2], Version: version}
	if err := id.validate(); err != nil {
		return LicenceID{}, err
	}
	if len(check) != 1 {
		return LicenceID{}, fmt.Errorf("ident: licence identifier: check must be 1 character: %w", ErrMalformed)
	}
	want, err := Mod3736Check(id.TypeCode + id.IssuerUSCC + id.Serial + v3)
	if err != nil {
		return LicenceID{}, err
	}
	if check[0] != want {
		return LicenceID{}, fmt.Errorf("ident: licence identifier %s: %w", s, ErrCheck)
	}
	return id, nil
}

// validate checks every part of id on its own, naming the bad part so that
// catalogue and seed mistakes are easy to find.
func (id LicenceID) validate() error {
	if !ValidTypeCode(id.TypeCode) {
		return fmt.Errorf("ident: licence identifier: type code %q is not a USCC plus 3 digits: %w", id.TypeCode, ErrMalformed)
	}
	if !ValidUSCC(id.IssuerUSCC) {
		return fmt.Errorf("ident: licence identifier: issuer %q is not a valid USCC: %w", id.IssuerUSCC, ErrMalformed)
	}
	if id.Serial == "" {
		return fmt.Errorf("ident: licence identifier: empty serial: %w", ErrMalformed)
	}
	for i := 0; i < len(id.Serial); i++ {
		if strings.IndexByte(mod3736Alphabet, id.Serial[i]) < 0 {
			return fmt.Errorf("ident: licence identifier: serial %q has a character outside 0-9A-Z: %w", id.Serial, ErrMalformed)
		}
	}
	if id.Version < 1 || id.Version > 999 {
		return fmt.Errorf("ident: licence identifier: version %d outside 1..999: %w", id.Version, ErrMalformed)
	}
	return nil
}
