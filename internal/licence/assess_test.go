package licence

import (
	"testing"
	"time"
)

func TestAssess(t *testing.T) {
	sh := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, sh)
	day := func(y int, m time.Month, d int) *time.Time { t := time.Date(y, m, d, 0, 0, 0, 0, sh); return &t }
	base := Licence{Status: StatusValid, ValidFrom: *day(2020, 1, 1), ValidUntil: day(2030, 1, 1)}
	with := func(f func(*Licence)) Licence { l := base; f(&l); return l }

	cases := []struct {
		name   string
		l      Licence
		valid  bool
		colour Colour
		reason string
	}{
		{"valid", base, true, Green, ReasonOK},
		{"long-term", with(func(l *Licence) { l.ValidUntil = nil }), true, Green, ReasonOK},
		{"last valid day", with(func(l *Licence) { l.ValidUntil = day(2026, 11, 29) }), true, Green, ReasonOK},
		{"day after last", with(func(l *Licence) { l.ValidUntil = day(2026, 11, 28) }), false, Red, ReasonExpired},
		{"not yet valid", with(func(l *Licence) { l.ValidFrom = *day(2026, 11, 30) }), false, Red, ReasonNotYetValid},
		{"suspended", with(func(l *Licence) { l.Status = StatusSuspended }), false, Red, ReasonSuspended},
		{"revoked", with(func(l *Licence) { l.Status = StatusRevoked }), false, Red, ReasonRevoked},
		{"withdrawn", with(func(l *Licence) { l.Status = StatusWithdrawn }), false, Red, ReasonWithdrawn},
		{"cancelled", with(func(l *Licence) { l.Status = StatusCancelled }), false, Red, ReasonCancelled},
		{"lost", with(func(l *Licence) { l.Status = StatusLost }), false, Red, ReasonLost},
		{"expired status", with(func(l *Licence) { l.Status = StatusExpired }), false, Red, ReasonExpired},
		{"unknown status never valid", with(func(l *Licence) { l.Status = "weird" }), false, Red, ReasonExpired},
		{"pledged", with(func(l *Licence) { l.Annotations = []Annotation{AnnotPledged} }), true, Amber, ReasonPledged},
		{"mortgaged", with(func(l *Licence) { l.Annotations = []Annotation{AnnotMortgaged} }), true, Amber, ReasonMortgaged},
		{"inspection due", with(func(l *Licence) { l.Annotations = []Annotation{AnnotInspectionDue} }), true, Amber, ReasonInspectionDue},
		{"objection wins over pledge", with(func(l *Licence) { l.Annotations = []Annotation{AnnotPledged, AnnotUnderObjection} }), true, Amber, ReasonUnderObjection},
		{"suspended and pledged is red", with(func(l *Licence) {
			l.Status = StatusSuspended
			l.Annotations = []Annotation{AnnotPledged}
		}), false, Red, ReasonSuspended},
		{"expired and pledged is red", with(func(l *Licence) {
			l.ValidUntil = day(2025, 1, 1)
			l.Annotations = []Annotation{AnnotPledged}
		}), false, Red, ReasonExpired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Assess(tc.l, now)
			if got.Valid != tc.valid || got.Colour != tc.colour || got.ReasonCode != tc.reason {
				t.Fatalf("Assess = %+v, want valid=%v colour=%s reason=%s", got, tc.valid, tc.colour, tc.reason)
			}
		})
	}
}

func TestEffectiveStatus(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	past := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if s := EffectiveStatus(Licence{Status: StatusValid, ValidUntil: &past}, now); s != StatusExpired {
		t.Fatalf("valid past its date reads %s", s)
	}
	if s := EffectiveStatus(Licence{Status: StatusSuspended, ValidUntil: &past}, now); s != StatusSuspended {
		t.Fatalf("suspended reads %s", s)
	}
	if s := EffectiveStatus(Licence{Status: StatusValid}, now); s != StatusValid {
		t.Fatalf("long-term reads %s", s)
	}
}
