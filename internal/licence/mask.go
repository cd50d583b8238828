package licence

import (
	"strings"

	"github.com/yangcheng-county/elicence/internal/ident"
)

// Mask applies a catalogue field's mask rule to v. An unknown rule hides
// the value completely: a typo in the catalogue must fail closed, never
// disclose. MaskNone returns v unchanged when it is valid UTF-8; invalid
// bytes are replaced so that no rule ever produces invalid text.
func Mask(rule MaskRule, v string) string {
	switch rule {
	case MaskNone:
		return strings.ToValidUTF8(v, "\uFFFD")
	case MaskName:
		return ident.MaskName(v)
	case MaskID:
		return ident.MaskIDNumber(v)
	case MaskPhone:
		return ident.MaskPhone(v)
	case MaskMiddle:
		return ident.MaskMiddle(v)
	default: // MaskAll and anything unknown
		return ident.MaskAll(v)
	}
}
