// Package fault names the one failure every layer must tell apart from a
// plain "no": a dependency (database, Redis, WeChat, SMS gateway) that did not
// answer. Adapters wrap such errors with Unavailable so the transport answers
// 503 and a verification fails closed instead of reading as "valid".
package fault

import (
	"errors"
	"fmt"
)

// ErrUnavailable marks an error caused by a dependency that could not be reached.
var ErrUnavailable = errors.New("dependency unavailable")

// Unavailable wraps err so that errors.Is(err, ErrUnavailable) holds while
// the original cause stays inspectable. what names the dependency.
func Unavailable(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w: %w", what, ErrUnavailable, err)
}
