package catalogue

import (
	"context"
	"fmt"

	"github.com/yangcheng-county/elicence/internal/licence"
)

// UsageListReader reads what the usage lists publish (store.Store).
type UsageListReader interface {
	Departments(ctx context.Context) ([]licence.Department, error)
	Types(ctx context.Context) ([]licence.Type, error)
	UsageLists(ctx context.Context) ([]licence.UsageListEntry, error)
}

// PublishedList is one department's usage list as the public reads it
// (e-licence rules Art. 14: the lists are published): which licence types
// it may verify, and for which purposes.
type PublishedList struct {
	Department licence.Department
	Entries    []PublishedEntry
}

// PublishedEntry is one licence type on a published list.
type PublishedEntry struct {
	TypeCode string
	TypeName string
	Purposes []string
}

// Published returns every department's non-empty usage list, departments
// in the order they were added, types by code.
func Published(ctx context.Context, r UsageListReader) ([]PublishedList, error) {
	depts, err := r.Departments(ctx)
	if err != nil {
		return nil, fmt.Errorf("catalogue: published lists: %w", err)
	}
	types, err := r.Types(ctx)
	if err != nil {
		return nil, fmt.Errorf("catalogue: published lists: %w", err)
	}
	entries, err := r.UsageLists(ctx)
	if err != nil {
		return nil, fmt.Errorf("catalogue: published lists: %w", err)
	}
	names := make(map[string]string, len(types))
	for _, t := range types {
		names[t.Code] = t.Name
	}
	byDept := map[int64][]PublishedEntry{}
	for _, e := range entries {
		byDept[e.DepartmentID] = append(byDept[e.DepartmentID], PublishedEntry{TypeCode: e.TypeCode, TypeName: names[e.TypeCode], Purposes: e.Purposes})
	}
	out := []PublishedList{}
	for _, d := range depts {
		if list := byDept[d.ID]; len(list) > 0 {
			out = append(out, PublishedList{Department: d, Entries: list})
		}
	}
	return out, nil
}
