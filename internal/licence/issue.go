package licence

import (
	"errors"
	"fmt"
	"strings"
	"time"
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

// IssueRequest is one licence to issue: an Open API body or one row of a
// stock import.
type IssueRequest struct {
	TypeCode   string
	Number     string // 证照编号
	Holder     Holder // Name, IDType, IDNumber, Phone; Kind follows the type
	IssuedOn   time.Time
	ValidFrom  time.Time
	ValidUntil *time.Time // nil = long-term (长期)
	Fields     map[string]string
}

// FieldError is one reason a request is refused. Field is the request's
// JSON path ("holder.id_number", "fields.name", "valid_until"); Code is
// snake_case and part of the public API.
type FieldError struct {
	Field   string
	Code    string
	Message string
}

// ValidationError carries every FieldError of a request, so a department's
// system can fix all of them at once (422 validation_failed with details).
type ValidationError struct {
	Details []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Details))
	for _, d := range e.Details {
		parts = append(parts, d.Field+": "+d.Code)
	}
	return "licence: invalid request: " + strings.Join(parts, ", ")
}

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
