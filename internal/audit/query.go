package audit

import (
	"errors"
	"fmt"
	"time"
)

// Query selects entries for the console's audit viewer, newest first. Empty
// fields do not filter; the filters that are set all apply.
type Query struct {
	Actor  string // exact: "staff:li.clerk", "officer:<openid>"
	Action string // exact: "licence.suspend"
	// Objects: any of these ("licence:12", every version of a licence).
	Objects []string
	// From and To bound At to [From, To).
	From, To time.Time
	// DepartmentID, when set, keeps only the entries about the
	// department's own objects: the licences it issued, the department
	// itself and its staff (docs/CONSOLE.md, "Audit").
	DepartmentID int64
	// Before pages back: only entries with Seq < Before (0: the newest).
	Before int64
	// Limit is at most MaxPage (0: DefaultPage).
	Limit int
}

// Page sizes of the audit viewer.
const (
	DefaultPage = 50
	MaxPage     = 200
)

// Normalise fills the page size.
func (q Query) Normalise() Query {
	if q.Limit <= 0 {
		q.Limit = DefaultPage
	}
	q.Limit = min(q.Limit, MaxPage)
	return q
}

// ErrTampered is the chain failing to verify: a row was edited, removed or
// inserted outside the store's appender.
var ErrTampered = errors.New("audit: chain broken")

// TamperError names the first chain position that does not verify. It
// wraps ErrTampered.
type TamperError struct {
	Seq int64
	Why string
}

func (e *TamperError) Error() string {
	return fmt.Sprintf("audit: entry %d %s: %s", e.Seq, e.Why, ErrTampered)
}

func (e *TamperError) Unwrap() error { return ErrTampered }
