// Package ident checks and formats the identifiers the e-licence platform
// relies on: resident identity numbers (GB 11643), unified social credit
// codes (GB 32100), licence identifiers (GB/T 36904, with the ISO/IEC 7064
// MOD 37,36 check character), and the display masks that keep personal data
// out of screens and responses that do not need it in full.
//
// Everything here is pure computation with no I/O, so every layer, from
// request validation to seed data, can use the same rules and cannot drift
// apart.
package ident

import "errors"

// ErrMalformed is returned when an input has the wrong length, alphabet or
// structure, before any check character is looked at. Callers can tell a
// typo in the shape of a value from a value that merely fails its checksum.
var ErrMalformed = errors.New("ident: malformed")

// ErrCheck is returned when a well-formed value carries the wrong check
// character, which usually means a mistyped or tampered value.
var ErrCheck = errors.New("ident: check character mismatch")

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
