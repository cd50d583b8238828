// Package audit is the tamper-evident record of state changes (e-licence
// rules Art. 25): the event every change writes and the port it is written
// through. The hash chain itself lives in the store, which appends an event
// in the same transaction as the change it records.
package audit

import (
	"context"
	"time"
)

// Event is one audited change. Actor is "cli:<command>", "officer:<openid>",
// "system:<what>", …; Action is dotted ("catalogue.apply"). Detail must
// never hold a full ID number, a token or a secret: the chain cannot be
// scrubbed later.
type Event struct {
	At     time.Time
	Actor  string
	Action string
	Object string
	Detail string
}

// Appender appends an event to the chain.
type Appender interface {
	AppendAudit(ctx context.Context, ev Event) error
}
