package licence

import "context"

// Catalogue answers which department may issue which licence type: the
// type's issuer list in the catalogue (docs/CATALOGUE.md), which starts as
// its defining department. Issuing checks it before anything is written.
type Catalogue interface {
	MayIssue(ctx context.Context, departmentID int64, typeCode string) (bool, error)
}

// UsageListEntry is one licence type on a department's usage list (用证清单)
// with the purposes the department may verify it for.
type UsageListEntry struct {
	DepartmentID int64
	TypeCode     string
	Purposes     []string
}
