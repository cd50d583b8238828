package licence

import (
	"errors"
	"fmt"
)

// Errors of the issuing side. Each maps to one public error code
// (bff/api/errors.go).
var (
	// ErrTypeNotIssued: the department is not an issuer of the licence type.
	ErrTypeNotIssued = errors.New("licence: the department does not issue this licence type")
	// ErrIllegalTransition wraps every *TransitionError.
	ErrIllegalTransition = errors.New("licence: illegal transition")
	// ErrReasonRequired: the action must say why (docs/DOMAIN.md, lifecycle).
	ErrReasonRequired = errors.New("licence: a reason is required for this action")
	// ErrDuplicate: a current licence of the type with the same number exists.
	ErrDuplicate = errors.New("licence: a licence of this type with this number exists")
)

// TransitionError says which action was refused from which state and
// where it would have led; it wraps ErrIllegalTransition.
type TransitionError struct {
	Action string
	From   Status
	To     Status
	// Why is set when the refusal is about an annotation rather than the
	// status ("already pledged", "not pledged").
	Why string
}

func (e *TransitionError) Error() string {
	if e.Why != "" {
		return fmt.Sprintf("licence: %s refused: %s", e.Action, e.Why)
	}
	return fmt.Sprintf("licence: %s refused: %s → %s is not a lifecycle transition", e.Action, e.From, e.To)
}

func (e *TransitionError) Unwrap() error { return ErrIllegalTransition }
