package licence

// UsageListEntry is one licence type on a department's usage list (用证清单)
// with the purposes the department may verify it for.
type UsageListEntry struct {
	DepartmentID int64
	TypeCode     string
	Purposes     []string
}
