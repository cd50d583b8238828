// Package staff is the county's and the departments' staff who run the
// administration console: their accounts (argon2id passwords, a TOTP
// second factor), their roles and department scope, their login sessions
// (kept apart from the citizens' WeChat sessions) and the lockout after
// repeated failures. docs/CONSOLE.md describes the rules; the package
// knows nothing of HTTP, SQL or Redis.
package staff

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/licence"
)

// Role is what a staff member may do; every role but the platform admin's
// is scoped to one department.
type Role string

// The roles of the console (docs/CONSOLE.md, "Roles").
const (
	// RolePlatformAdmin is the county administration (县行政审批服务管理局):
	// departments, catalogue, usage lists, staff, statistics, audit.
	RolePlatformAdmin Role = "platform_admin"
	// RoleDepartmentAdmin runs one department: its officers, apps and licences.
	RoleDepartmentAdmin Role = "department_admin"
	// RoleClerk keeps one department's licences: issue, lifecycle, import.
	RoleClerk Role = "clerk"
	// RoleSealAdmin keeps one department's electronic seals.
	RoleSealAdmin Role = "seal_admin"
)

// Roles lists every role, for documentation and errors.
func Roles() []Role {
	return []Role{RolePlatformAdmin, RoleDepartmentAdmin, RoleClerk, RoleSealAdmin}
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	return slices.Contains(Roles(), r)
}

// Scoped reports whether the role belongs to one department.
func (r Role) Scoped() bool { return r != RolePlatformAdmin }

// Permission is one thing a console endpoint does. Endpoints name the
// permission they need; roles grant permissions in one table (grants), so
// the whole access policy reads in one place.
type Permission string

// Permissions of the console.
const (
	// PermLicencesRead: search the department's licences and read one with
	// its history, usage and audit entries.
	PermLicencesRead Permission = "licences.read"
	// PermLicencesWrite: lifecycle actions on the department's licences.
	PermLicencesWrite Permission = "licences.write"
	// PermStaffManage: list, add and disable staff of every department.
	PermStaffManage Permission = "staff.manage"
	// PermLicencesImport: import the department's stock of licences from
	// a file and read its imports.
	PermLicencesImport Permission = "licences.import"
	// PermOfficersManage: list, invite and remove the department's
	// verifying officers.
	PermOfficersManage Permission = "officers.manage"
	// PermAppsManage: list, create, rotate the secret of and disable the
	// department's Open API apps.
	PermAppsManage Permission = "apps.manage"
	// PermCatalogueManage: departments, licence types and their field
	// schema, usage lists, and the catalogue's export and import.
	PermCatalogueManage Permission = "catalogue.manage"
	// PermStatsCounty: the county's statistics, every department's figures.
	PermStatsCounty Permission = "stats.county"
	// PermStatsRead: a department's statistics and their exports (a
	// department's staff: their own department only).
	PermStatsRead Permission = "stats.read"
	// PermStatsBaseline: declare a department's stock (存量底数).
	PermStatsBaseline Permission = "stats.baseline"
	// PermAuditRead: the audit viewer (a department's staff: the entries
	// of their own department only).
	PermAuditRead Permission = "audit.read"
	// PermAuditVerify: run the audit chain check.
	PermAuditVerify Permission = "audit.verify"
)

// grants is the console's access policy. A role not listed for a
// permission is refused (403); a licence outside the member's department
// is not found (404) whatever the role.
var grants = map[Role][]Permission{
	RolePlatformAdmin: {PermStaffManage, PermCatalogueManage,
		PermStatsCounty, PermStatsRead, PermStatsBaseline, PermAuditRead, PermAuditVerify},
	RoleDepartmentAdmin: {PermLicencesRead, PermLicencesWrite, PermLicencesImport, PermOfficersManage, PermAppsManage,
		PermStatsRead, PermStatsBaseline, PermAuditRead, PermAuditVerify},
	RoleClerk: {PermLicencesRead, PermLicencesWrite, PermLicencesImport,
		PermStatsRead, PermAuditRead},
	RoleSealAdmin: {},
}

// Member is a staff account as the rest of the platform sees it: never its
// password hash or TOTP secret.
type Member struct {
	ID       int64
	Username string
	Role     Role
	// Department is the member's department; zero for a platform admin.
	Department   licence.Department
	TOTPEnrolled bool
	DisabledAt   *time.Time
	CreatedAt    time.Time
}

// May reports whether the member's role grants p. A disabled member may
// do nothing.
func (m Member) May(p Permission) bool {
	if m.DisabledAt != nil {
		return false
	}
	return slices.Contains(grants[m.Role], p)
}

// Permissions lists what the member may do, for the console to show only
// what it can use.
func (m Member) Permissions() []Permission {
	if m.DisabledAt != nil {
		return []Permission{}
	}
	return slices.Clone(grants[m.Role])
}

// Actor is the member's name in the audit chain and licence histories.
func (m Member) Actor() string { return audit.ActorStaff(m.Username) }

// Secrets are what only a login reads: the password hash and the TOTP
// secret (empty until enrolment starts; Confirmed once a code proved it).
type Secrets struct {
	PasswordHash  string
	TOTPSecret    string
	TOTPConfirmed bool
}

// Errors of the staff service.
var (
	// ErrNotFound is an unknown staff id or username.
	ErrNotFound = errors.New("staff: not found")
	// ErrUsernameTaken is an add with a username already on record.
	ErrUsernameTaken = errors.New("staff: username taken")
	// ErrInvalid is an add with a bad username, role or department.
	ErrInvalid = errors.New("staff: invalid account")
	// ErrLoginFailed is a wrong username, password or code, or a disabled
	// account: one answer for all, so a caller learns nothing of which.
	ErrLoginFailed = errors.New("staff: login failed")
	// ErrLocked is a login while the username is locked out after
	// repeated failures.
	ErrLocked = errors.New("staff: locked out")
	// ErrNoSession is an unknown, expired, logged-out or revoked session:
	// the caller is not logged in. Not a failure.
	ErrNoSession = errors.New("staff: no session")
	// ErrAlreadyDisabled is a disable of a member already disabled.
	ErrAlreadyDisabled = errors.New("staff: already disabled")
)

// usernamePattern: lower-case letters, digits, dot, dash and underscore,
// 3 to 32 characters, starting with a letter or digit. ASCII only, so two
// usernames never look alike.
var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,31}$`)

// Repository keeps staff accounts (the store). Writes append their audit
// event in the same transaction.
type Repository interface {
	// AddStaff inserts m with its password hash and appends ev; a taken
	// username is ErrUsernameTaken. It returns m with its id.
	AddStaff(ctx context.Context, m Member, passwordHash string, ev audit.Event) (Member, error)
	// StaffByUsername returns the member and their secrets, or ErrNotFound.
	StaffByUsername(ctx context.Context, username string) (Member, Secrets, error)
	// Staff returns one member, or ErrNotFound.
	Staff(ctx context.Context, id int64) (Member, error)
	// ListStaff returns every member by id.
	ListStaff(ctx context.Context) ([]Member, error)
	// SetTOTP stores the member's TOTP secret (sealed at rest), confirmed
	// or pending; with a non-nil ev it appends ev in the same transaction.
	SetTOTP(ctx context.Context, id int64, secret string, confirmed bool, ev *audit.Event) error
	// DisableStaff marks an enabled member disabled at at and appends ev;
	// ErrNotFound for an unknown id, ErrAlreadyDisabled for a disabled one.
	DisableStaff(ctx context.Context, id int64, at time.Time, ev audit.Event) error
	// AppendAudit records an event that changes no row (a login, a logout).
	AppendAudit(ctx context.Context, ev audit.Event) (audit.Entry, error)
}

// SessionRecord is what is stored for a console session, under the hash
// of its id. CSRF is the token every unsafe request must echo in a header.
type SessionRecord struct {
	StaffID   int64     `json:"staff_id"`
	CSRF      string    `json:"csrf"`
	CreatedAt time.Time `json:"created_at"`
	LastSeen  time.Time `json:"last_seen"`
}

// Sessions keeps console sessions (Redis), apart from the WeChat
// sessions. Keys passed in are hashes; the store never sees a raw id. It
// indexes sessions by member, so a disabled member's sessions can all be
// revoked at once.
type Sessions interface {
	// Put creates a session record that expires after ttl.
	Put(ctx context.Context, idHash string, r SessionRecord, ttl time.Duration) error
	// Touch overwrites an existing record and its ttl, and must not
	// recreate a session deleted meanwhile (a logout or revocation wins).
	Touch(ctx context.Context, idHash string, r SessionRecord, ttl time.Duration) error
	// Get returns the record; ok is false when there is none.
	Get(ctx context.Context, idHash string) (r SessionRecord, ok bool, err error)
	// Delete ends one session of the member.
	Delete(ctx context.Context, staffID int64, idHash string) error
	// DeleteAll ends every session of the member.
	DeleteAll(ctx context.Context, staffID int64) error
}

// Counter counts failures in a fixed window (redisx.Counter); it fails
// closed, so a Redis outage refuses logins instead of lifting the lockout.
type Counter interface {
	Count(ctx context.Context, key string) (int, error)
	Add(ctx context.Context, key string, window time.Duration) (int, error)
	Reset(ctx context.Context, key string) error
}
