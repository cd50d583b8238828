package catalogue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Errors of a Confirm that refuses a plan.
var (
	// ErrExists is an add of an entry already on record.
	ErrExists = errors.New("catalogue: already on record")
	// ErrNotOnRecord is an edit of an entry that is not on record.
	ErrNotOnRecord = errors.New("catalogue: not on record")
	// ErrPlanChanged is an import whose plan differs from the one shown
	// before it (someone changed the catalogue meanwhile).
	ErrPlanChanged = errors.New("catalogue: the plan changed since it was shown")
)

// Change returns the plan's change of the entry kind/key.
func (p Plan) Change(kind, key string) (Change, bool) {
	i := slices.IndexFunc(p.Changes, func(c Change) bool { return c.Kind == kind && c.Key == key })
	if i < 0 {
		return Change{}, false
	}
	return p.Changes[i], true
}

// Digest names the plan: two plans with the same digest make the same
// changes to the same entries. It is what an administrator confirms
// between a dry run and the apply.
func (p Plan) Digest() string {
	var b strings.Builder
	p.Print(&b)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// ExpectCreated is a Confirm that refuses (ErrExists) unless the plan
// creates the entry kind/key.
func ExpectCreated(kind, key string) func(Plan) error {
	return func(p Plan) error {
		if c, ok := p.Change(kind, key); !ok || c.Action != Created {
			return fmt.Errorf("%w: %s %s", ErrExists, kind, key)
		}
		return nil
	}
}

// ExpectOnRecord is a Confirm that refuses (ErrNotOnRecord) when the plan
// would create the entry kind/key instead of changing it.
func ExpectOnRecord(kind, key string) func(Plan) error {
	return func(p Plan) error {
		if c, ok := p.Change(kind, key); !ok || c.Action == Created {
			return fmt.Errorf("%w: %s %s", ErrNotOnRecord, kind, key)
		}
		return nil
	}
}

// ExpectDigest is a Confirm that refuses (ErrPlanChanged) a plan other
// than the one with digest d.
func ExpectDigest(d string) func(Plan) error {
	return func(p Plan) error {
		if p.Digest() != d {
			return ErrPlanChanged
		}
		return nil
	}
}

// Check validates a catalogue built in code (the console's forms) by the
// rules Parse applies to a file, and returns it normalised the same way
// (names and purposes trimmed, issuers defaulted and sorted, reminder
// stages sorted).
func Check(c Catalogue) (Catalogue, error) {
	v := &validator{}
	out := v.catalogue(docOf(c))
	if len(v.problems) > 0 {
		return Catalogue{}, &Error{Problems: v.problems}
	}
	return out, nil
}

// Export reads the whole catalogue from storage: departments in the order
// they were added, types by code, usage lists by department. Applying it
// to the same storage changes nothing.
func Export(ctx context.Context, r Reader) (Catalogue, error) {
	depts, err := r.Departments(ctx)
	if err != nil {
		return Catalogue{}, fmt.Errorf("catalogue: export: %w", err)
	}
	types, err := r.Types(ctx)
	if err != nil {
		return Catalogue{}, fmt.Errorf("catalogue: export: %w", err)
	}
	issuers, err := r.TypeIssuers(ctx)
	if err != nil {
		return Catalogue{}, fmt.Errorf("catalogue: export: %w", err)
	}
	lists, err := r.UsageLists(ctx)
	if err != nil {
		return Catalogue{}, fmt.Errorf("catalogue: export: %w", err)
	}
	c := Catalogue{Departments: depts, Types: make([]TypeEntry, 0, len(types)), UsageLists: []UsageList{}}
	for _, t := range types {
		c.Types = append(c.Types, TypeEntry{Type: t, Issuers: issuers[t.Code]})
	}
	byDept := map[int64][]UsageEntry{}
	for _, e := range lists {
		byDept[e.DepartmentID] = append(byDept[e.DepartmentID], UsageEntry{TypeCode: e.TypeCode, Purposes: e.Purposes})
	}
	for _, d := range depts {
		if entries := byDept[d.ID]; len(entries) > 0 {
			c.UsageLists = append(c.UsageLists, UsageList{DepartmentUSCC: d.USCC, Entries: entries})
		}
	}
	return c, nil
}
