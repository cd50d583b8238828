package licence

import "time"

// Colour is the verification colour an officer reads at arm's length.
type Colour string

const (
	Green Colour = "green" // valid
	Amber Colour = "amber" // valid, with an annotation the officer must see
	Red   Colour = "red"   // not valid
)

// Assessment is how a licence reads at one moment.
type Assessment struct {
	Valid      bool
	Colour     Colour
	ReasonCode string
}

// Reason codes returned by Assess. They are part of the public API.
const (
	ReasonOK             = "ok"
	ReasonExpired        = "expired"
	ReasonNotYetValid    = "not_yet_valid"
	ReasonSuspended      = "suspended"
	ReasonRevoked        = "revoked"
	ReasonWithdrawn      = "withdrawn"
	ReasonCancelled      = "cancelled"
	ReasonLost           = "reported_lost"
	ReasonPledged        = "pledged"
	ReasonMortgaged      = "mortgaged"
	ReasonInspectionDue  = "inspection_due"
	ReasonUnderObjection = "under_objection"
	ReasonSuperseded     = "superseded"
)

// Assess maps status, validity dates and annotations to a result. A status
// other than valid wins over the dates; an expired date wins over annotations,
// because a licence past its validity is not valid whatever is recorded on it.
func Assess(l Licence, now time.Time) Assessment {
	switch l.Status {
	case StatusValid:
	case StatusSuspended:
		return Assessment{Colour: Red, ReasonCode: ReasonSuspended}
	case StatusRevoked:
		return Assessment{Colour: Red, ReasonCode: ReasonRevoked}
	case StatusWithdrawn:
		return Assessment{Colour: Red, ReasonCode: ReasonWithdrawn}
	case StatusCancelled:
		return Assessment{Colour: Red, ReasonCode: ReasonCancelled}
	case StatusLost:
		return Assessment{Colour: Red, ReasonCode: ReasonLost}
	case StatusSuperseded:
		// A newer version replaced this one: whatever it said is no longer
		// what the issuer stands behind.
		return Assessment{Colour: Red, ReasonCode: ReasonSuperseded}
	default: // expired, or anything unknown: never read as valid
		return Assessment{Colour: Red, ReasonCode: ReasonExpired}
	}
	if !l.ValidFrom.IsZero() && now.Before(l.ValidFrom) {
		return Assessment{Colour: Red, ReasonCode: ReasonNotYetValid}
	}
	if l.ValidUntil != nil && !now.Before(l.ValidUntil.AddDate(0, 0, 1)) {
		// valid_until is the last valid day, inclusive.
		return Assessment{Colour: Red, ReasonCode: ReasonExpired}
	}
	for _, a := range annotationOrder {
		if l.HasAnnotation(a) {
			return Assessment{Valid: true, Colour: Amber, ReasonCode: string(a)}
		}
	}
	return Assessment{Valid: true, Colour: Green, ReasonCode: ReasonOK}
}

// annotationOrder puts the annotation that matters most to a verifier first.
var annotationOrder = []Annotation{AnnotUnderObjection, AnnotPledged, AnnotMortgaged, AnnotInspectionDue}

// HasAnnotation reports whether a is recorded on the licence.
func (l Licence) HasAnnotation(a Annotation) bool {
	for _, x := range l.Annotations {
		if x == a {
			return true
		}
	}
	return false
}

// EffectiveStatus is the status a holder should see: a valid licence past its
// last day reads as expired even before a batch job rewrites it.
func EffectiveStatus(l Licence, now time.Time) Status {
	if l.Status == StatusValid && l.ValidUntil != nil && !now.Before(l.ValidUntil.AddDate(0, 0, 1)) {
		return StatusExpired
	}
	return l.Status
}
