// Package audit is the platform's record of every state change (e-licence
// rules Art. 21 and 25: operation logs kept at least three years). Domain
// services describe a change as an Event and hand it to an Appender in the
// same transaction as the change itself, so a change and its record commit
// together or not at all. One kind of event is chained later instead: a
// verification's usage record is itself its durable record, written alone
// on the officer's request, and a Chainer appends it to the chain within
// about a second (Pending). The tamper-evident hash chain that links the
// entries lives in the store; see docs/storage.md.
package audit

import (
	"context"
	"time"
)

// Event is one change as a service describes it. Detail must never hold a
// full ID number, a token or a secret: the chain makes it impossible to
// scrub later.
type Event struct {
	At     time.Time // when it happened; zero means now
	Actor  string    // who: see the Actor* helpers
	Action string    // what, dotted: "licence.suspend", "officer.add", …
	Object string    // on what: "licence:12", "department:<uscc>", …
	Detail string    // free text or JSON, bounded and free of secrets
}

// Entry is an Event as the chain holds it.
type Entry struct {
	Seq int64 // position in the chain, from 1
	Event
	PrevHash string
	Hash     string
}

// Appender adds events to the chain. Implementations called inside a
// transaction append in that transaction.
type Appender interface {
	AppendAudit(ctx context.Context, ev Event) (Entry, error)
}

// Actor names, one prefix per kind of caller, so the viewer can filter by
// kind and the chain reads without a lookup table.
func ActorApp(appID string) string      { return "app:" + appID }
func ActorStaff(username string) string { return "staff:" + username }
func ActorCLI(command string) string    { return "cli:" + command }
func ActorOfficer(openid string) string { return "officer:" + openid }
func ActorAccount(openid string) string { return "account:" + openid }
func ActorSystem(what string) string    { return "system:" + what }
