package ident

import "strings"

// maskAll is what a fully hidden value looks like. It has a fixed length so
// that it does not even reveal how long the value is.
const maskAll = "****"

// MaskIDNumber shows the first 4 and last 4 characters of an ID number and
// a star for each one in between (1405**********0016): enough for a person
// to recognise their own number, not enough to use someone else's. Values
// too short to be a real ID number keep at most a third of their length at
// each end, so even a 5-character input hides its middle (1***5).
func MaskIDNumber(s string) string {
	return maskEnds([]rune(s), 4, 4)
}

// MaskPhone shows the first 3 and last 4 digits of a phone number
// (138****0001), the form Chinese services conventionally print so users
// can tell which of their numbers is meant. Values shorter than a mobile
// number's 11 characters keep at most a third at each end instead, so a
// short value is never shown whole.
func MaskPhone(s string) string {
	r := []rune(s)
	if len(r) >= 11 {
		return keepEnds(r, 3, 4)
	}
	return maskEnds(r, 3, 4)
}

// MaskName keeps the first character of a name and stars the rest
// (张三 → 张*, 欧阳娜娜 → 欧***); a one-character name becomes "*".
// Keeping only the first character still lets an officer match a surname
// without learning the full name.
func MaskName(s string) string {
	r := []rune(s)
	if len(r) <= 1 {
		return strings.Repeat("*", len(r))
	}
	return keepEnds(r, 1, 0)
}

// MaskMiddle keeps a third of the value at each end and stars the middle
// (山西省阳****镇东关村): enough to recognise an address, not to find it.
func MaskMiddle(s string) string {
	r := []rune(s)
	return maskEnds(r, len(r), len(r))
}

// MaskAll hides a value completely behind a fixed-length mask, so that not
// even its length shows.
func MaskAll(string) string { return maskAll }

// maskEnds keeps up to head runes at the start and tail runes at the end,
// each capped at a third of the value (rounded down), and stars the rest.
// The cap is what keeps short values from being shown whole.
func maskEnds(r []rune, head, tail int) string {
	limit := len(r) / 3
	return keepEnds(r, min(head, limit), min(tail, limit))
}

// keepEnds writes r with everything but the first head and last tail runes
// replaced by one star each. Working on runes means a multi-byte character
// is kept or starred whole, never cut; invalid bytes in the input have
// already become U+FFFD in the conversion to []rune.
func keepEnds(r []rune, head, tail int) string {
	n := len(r)
	if head+tail > n {
		head, tail = n, 0
	}
	var b strings.Builder
	b.Grow(n * 3)
	for _, c := range r[:head] {
		b.WriteRune(c)
	}
	b.WriteString(strings.Repeat("*", n-head-tail))
	for _, c := range r[n-tail:] {
		b.WriteRune(c)
	}
	return b.String()
}
