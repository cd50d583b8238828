// Package account holds the WeChat accounts of the public account's users:
// their real-name binding to a holder, their follow state, and officer roles.
package account

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when no account or officer exists for an openid.
var ErrNotFound = errors.New("account: not found")

// Account is one WeChat user of the public account, known by openid.
type Account struct {
	OpenID     string
	HolderID   int64 // 0 until real-name binding succeeds
	BoundAt    time.Time
	Subscribed bool // follows the public account; reminders need it
	CreatedAt  time.Time
}

// Repository stores accounts and officer bindings.
type Repository interface {
	// Ensure returns the account for openid, creating it on first login.
	Ensure(ctx context.Context, openid string) (Account, error)
	Get(ctx context.Context, openid string) (Account, error)
	// BindHolder records a completed real-name binding.
	BindHolder(ctx context.Context, openid string, holderID int64, at time.Time) error
	SetSubscribed(ctx context.Context, openid string, subscribed bool) error
	// Officer returns the department an officer is bound to, or ErrNotFound.
	Officer(ctx context.Context, openid string) (departmentID int64, err error)
	// AddOfficer binds openid to a department, replacing any earlier binding.
	AddOfficer(ctx context.Context, openid string, departmentID int64) error
}
