package licence

import "context"

// View is a licence with everything a screen shows beside it: its type,
// its issuer and its holder. The store loads it in one query, so the
// wallet, a verification and a reminder each read a licence in one round
// trip instead of four.
type View struct {
	Licence
	Type   Type
	Issuer Department
	Holder Holder
}

// Views loads licence views. Missing licences are ErrNotFound.
type Views interface {
	// View loads one licence version.
	View(ctx context.Context, id int64) (View, error)
	// ViewsByHolder lists the holder's current licences (no superseded
	// versions), in issue order.
	ViewsByHolder(ctx context.Context, holderID int64) ([]View, error)
	// VerificationView loads one licence version together with the
	// purposes for which departmentID may verify its type; listed is false
	// when the type is not on the department's usage list.
	VerificationView(ctx context.Context, id, departmentID int64) (v View, purposes []string, listed bool, err error)
}
