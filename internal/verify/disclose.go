package verify

import (
	"strings"

	"github.com/yangcheng-county/elicence/internal/ident"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/showcode"
)

// Field is one disclosed face field. Masked says the value went through
// its catalogue mask rule, so a screen can mark it as partial.
type Field struct {
	Key    string
	Label  string
	Type   string // the catalogue's field type; photo values are data: URIs
	Value  string
	Masked bool
}

// Disclose picks and masks the face fields of l that scope allows, in
// catalogue order: basic gives the fields the catalogue marks Basic, full
// gives all of them. Every value goes through its field's
// licence.Field.EffectiveMask, which fails closed: sensitive fields are
// masked by their rule, ID and phone numbers by their type even when the
// catalogue forgot to mark them, and a sensitive field without a rule is
// hidden completely. Empty values are left out. Any other scope discloses
// nothing.
func Disclose(t licence.Type, l licence.Licence, scope showcode.Scope) []Field {
	out := make([]Field, 0, len(t.Fields))
	for _, f := range t.Fields {
		switch {
		case scope == showcode.ScopeFull:
		case scope == showcode.ScopeBasic && f.Basic:
		default:
			continue
		}
		v := l.Face[f.Key]
		if v == "" {
			continue
		}
		rule := f.EffectiveMask()
		out = append(out, Field{Key: f.Key, Label: f.Label, Type: f.Type, Value: licence.Mask(rule, v), Masked: rule != licence.MaskNone})
	}
	return out
}

// HolderView is how a verifier sees the holder.
type HolderView struct {
	Name     string
	IDNumber string
}

// MaskHolder hides a person's name and ID number down to what lets an
// officer match them against the person in front of them (张*,
// 1405**********0016). An organisation's name and USCC are public register
// data printed on its licence, so they are shown whole.
func MaskHolder(h licence.Holder) HolderView {
	if h.Kind == licence.HolderOrganisation {
		return HolderView{Name: h.Name, IDNumber: h.IDNumber}
	}
	return HolderView{Name: ident.MaskName(h.Name), IDNumber: ident.MaskIDNumber(h.IDNumber)}
}

// LicenceNumber is the licence number a scope discloses. Basic shows it
// masked like an ID number. Full shows it whole, except where the number is
// the holder's own ID number (a driving licence's number is): the ID number
// stays masked under every scope.
func LicenceNumber(l licence.Licence, h licence.Holder, scope showcode.Scope) string {
	if scope == showcode.ScopeFull && !sameIDNumber(l.Number, h.IDNumber) {
		return l.Number
	}
	return ident.MaskIDNumber(l.Number)
}

func sameIDNumber(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	return a != "" && strings.EqualFold(a, b)
}
