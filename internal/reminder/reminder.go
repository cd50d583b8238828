// Package reminder sends proactive expiry reminders (证照到期提醒) as WeChat
// template messages. A reminder that is lost, sent twice, sent at night or
// sent after the licence was revoked is a complaint to the county, so every
// reminder is a durable outbox row before anything is sent:
//
//   - the sweep inserts one row per (licence, stage, expiry date); the unique
//     key makes concurrent or repeated sweeps harmless;
//   - dispatchers claim due rows with a lease, re-check the licence and the
//     account just before sending, and record the outcome on the row;
//   - the row id is the message's client_msg_id, so a resend after a crash or
//     a timeout is dropped by WeChat instead of reaching the citizen twice.
//
// The package knows nothing of SQL or HTTP: internal/store implements Store
// and internal/reminder/wxsender adapts the WeChat client to Sender.
package reminder

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// State is where an outbox row is in its life.
type State string

// Row states. pending and sending are the queue; the others are final except
// that an operator may re-drive failed and dead rows (docs/REMINDERS.md).
const (
	StatePending   State = "pending"   // waiting for next_attempt_at
	StateSending   State = "sending"   // leased by a dispatcher until lease_until
	StateSent      State = "sent"      // WeChat accepted it (msgid recorded)
	StateDelivered State = "delivered" // TEMPLATESENDJOBFINISH said success
	StateFailed    State = "failed"    // permanent refusal or failed delivery; never retried
	StateDead      State = "dead"      // max attempts of transient errors; last error kept
	StateCancelled State = "cancelled" // the reminder no longer applies (see Reason*)
	StateSkipped   State = "skipped"   // a nearer stage was due at the same time
)

// States lists every state in the order operators read them.
var States = []State{StatePending, StateSending, StateSent, StateDelivered, StateFailed, StateDead, StateCancelled, StateSkipped}

// Reasons recorded on rows that were not sent. They are stable strings an
// operator can query for; the revive paths match on them.
const (
	ReasonUnsubscribed   = "unsubscribed"    // the account stopped following
	ReasonOptedOut       = "opted_out"       // the holder turned reminders off for the licence
	ReasonUnbound        = "account_unbound" // the account is no longer bound to the holder
	ReasonLicenceGone    = "licence_gone"    // the licence no longer exists
	ReasonNotValid       = "licence_"        // + status: licence_revoked, licence_cancelled, …
	ReasonRenewed        = "renewed"         // the expiry date changed; new stages follow
	ReasonExpired        = "expired"         // the expiry date passed before the row could be sent
	ReasonSuperseded     = "superseded"      // a nearer stage of the same expiry exists
	ReasonStagesAtOnce   = "nearer_stage_due"
	ReasonPermanent      = "wechat_"         // + errcode: wechat_43004, …
	ReasonDeliveryFailed = "delivery_failed" // TEMPLATESENDJOBFINISH reported a failure
)

// Errors of the package.
var (
	// ErrNotFound is returned when a licence does not exist or does not belong
	// to the caller; the two look the same so ids cannot be probed.
	ErrNotFound = errors.New("reminder: not found")
)

// Kind tells the two messages of the outbox apart.
type Kind string

const (
	// KindExpiry is an expiry reminder, made by the sweep.
	KindExpiry Kind = "expiry"
	// KindNotice is a status notice (证照变更通知): the licence was
	// suspended, revoked, cancelled, withdrawn or renewed. The store inserts
	// it in the transaction of the change, one per subscribed account bound
	// to the holder; it then travels exactly like a reminder.
	KindNotice Kind = "notice"
)

// Row is one outbox row as the dispatcher sees it.
type Row struct {
	ID        int64
	Kind      Kind
	LicenceID int64
	Stage     int // days before expiry; 0 on a notice
	// ExpiryDate is the licence's last valid day when the row was made; on
	// a notice, the day the change took effect.
	ExpiryDate time.Time
	// Action and LicenceStatus are a notice's lifecycle action and the
	// status it left the licence in (licence.Action*, licence.Status).
	Action        string
	LicenceStatus string
	OpenID        string
	State         State
	Attempts      int // including the claim that returned this row
	LeaseUntil    time.Time
	// InFlight is set when the row was claimed from an expired lease: an
	// earlier dispatcher may have sent it before it died.
	InFlight bool
	// PrevLeasedBy names the dispatcher whose lease expired, for the log.
	PrevLeasedBy string
}

// Target is what the dispatcher re-reads just before sending a row.
type Target struct {
	LicenceFound bool
	Status       string // licence.Status value
	ValidUntil   *time.Time
	HolderID     int64
	HolderKind   string // person | organisation
	HolderName   string
	TypeName     string
	IssuerName   string

	AccountFound    bool
	AccountHolderID int64
	Subscribed      bool
	OptedOut        bool
	// NearerStage is set when a row of a nearer stage exists for the same
	// licence and expiry date, making this one stale.
	NearerStage bool
	// Stages are the licence type's own reminder stages; empty means the
	// configured defaults. They tell a row whose nearer stage has come due
	// but has no row yet (a revived or long-held row) that it is stale too.
	Stages []int
}

// StageWindow is one stage of the sweep: licences of TypeCodes whose expiry
// date is in [From, To] get a row for Stage, pending when the expiry is
// after Split and skipped otherwise (a nearer stage is due too).
type StageWindow struct {
	TypeCodes []string
	Stage     int
	From      time.Time // the sweep day: licences already expired are left alone
	To        time.Time // From + Stage days
	// Split is From + the next nearer stage's days. Rows with expiry after
	// Split are pending; rows on or before it are skipped. The nearest
	// stage has no nearer one: HasSplit is false and every row is pending.
	Split    time.Time
	HasSplit bool
}

// SweepPlan is everything one sweep inserts; Now is the rows' creation
// time and first due time.
type SweepPlan struct {
	Now     time.Time
	Windows []StageWindow
}

// SweepResult counts what a sweep changed.
type SweepResult struct {
	Pending    int64 // new rows to send
	Skipped    int64 // new rows recorded as skipped (a nearer stage was due too)
	Superseded int64 // pending rows skipped because a nearer stage arrived
}

// ClaimRequest asks for up to Limit due rows, leased to Worker until
// Now+Lease.
type ClaimRequest struct {
	Now    time.Time
	Lease  time.Duration
	Worker string
	Limit  int
}

// Outcome is what happened to a claimed row; the store applies it only while
// the row is still leased by the same worker.
type Outcome struct {
	State     State // pending (retry/release), sent, failed, dead, cancelled, skipped
	MsgID     int64 // for sent
	Reason    string
	LastError string
	// NextAttempt is when a pending row becomes due again.
	NextAttempt time.Time
	// Refund gives back the attempt the claim counted: the row was released
	// unsent (quiet hours, a quota pause, shutdown), not tried.
	Refund bool
	At     time.Time
}

// Receipt is a TEMPLATESENDJOBFINISH push.
type Receipt struct {
	MsgID  int64
	OpenID string
	Status string // WeChat's text: "success", "failed:user block", "failed: system failed"
	At     time.Time
}

// QueueStats is the queue as an operator or a gauge reads it.
type QueueStats struct {
	Depth     int64     // rows pending or sending
	OldestDue time.Time // next_attempt_at of the oldest due pending row; zero if none
}

// Store is the durable outbox. internal/store implements it on MySQL/MariaDB
// and SQLite; every method must be safe for several processes at once.
type Store interface {
	// TypeStages returns each licence type's own reminder stages; a type with
	// none configured is absent or maps to an empty slice.
	TypeStages(ctx context.Context) (map[string][]int, error)
	// Sweep runs the plan's inserts (ignoring rows that exist) and skips
	// pending rows that a nearer stage has superseded.
	Sweep(ctx context.Context, plan SweepPlan) (SweepResult, error)
	// BeginSweep and FinishSweep record sweep runs, so a restarted
	// scheduler knows whether the day's sweep happened.
	BeginSweep(ctx context.Context, day, at time.Time, worker string) (int64, error)
	FinishSweep(ctx context.Context, id int64, at time.Time, res SweepResult) error
	// LastSweepDay is the latest day a sweep finished for; zero if never.
	LastSweepDay(ctx context.Context) (time.Time, error)

	// Claim leases due rows: pending rows whose next_attempt_at has come, and
	// sending rows whose lease expired (returned with InFlight set).
	Claim(ctx context.Context, req ClaimRequest) ([]Row, error)
	// Finish applies o to a row still leased by worker; false means the
	// lease was lost (expired and taken over) and nothing was changed.
	Finish(ctx context.Context, id int64, worker string, o Outcome) (bool, error)
	// Target reads the licence, holder and account of a row.
	Target(ctx context.Context, r Row) (Target, error)

	// PausedUntil returns when the sending pause ends; zero when none.
	PausedUntil(ctx context.Context) (time.Time, error)
	// Pause stops all sending until the given time (it never shortens a
	// longer pause already recorded).
	Pause(ctx context.Context, until time.Time, reason string, at time.Time) error

	// RecordReceipt stores a delivery report and applies it to the row with
	// its msgid, whether that row is recorded before or after the report.
	RecordReceipt(ctx context.Context, r Receipt, state State, reason string) error

	// CancelPending cancels pending rows of an account (openid != "") or of
	// a licence (licenceID != 0) with reason.
	CancelPending(ctx context.Context, openid string, licenceID int64, reason string, at time.Time) (int64, error)
	// Revive turns rows cancelled with reason back to pending when their
	// expiry date is on or after day.
	Revive(ctx context.Context, openid string, licenceID int64, reason string, day, at time.Time) (int64, error)

	// LicenceHolder returns the holder of a licence, or ErrNotFound.
	LicenceHolder(ctx context.Context, licenceID int64) (int64, error)
	OptedOut(ctx context.Context, holderID, licenceID int64) (bool, error)
	SetOptOut(ctx context.Context, holderID, licenceID int64, optOut bool, at time.Time) error

	// Counts returns the number of rows in each state.
	Counts(ctx context.Context) (map[State]int64, error)
	QueueStats(ctx context.Context, now time.Time) (QueueStats, error)
}

// Message is one template message. Sender adapters translate it to their
// client's type.
type Message struct {
	ToUser      string
	TemplateID  string
	URL         string
	Data        map[string]string
	ClientMsgID string
}

// Sender sends a template message and returns WeChat's msgid. A refusal by
// WeChat must be returned as (or wrap) *SendError so the retry policy can
// tell permanent errors from transient ones; any other error is treated as
// transient (network failure, timeout, HTTP 500).
type Sender interface {
	SendTemplate(ctx context.Context, m Message) (msgID int64, err error)
}

// SendError is a WeChat errcode answered to a send.
type SendError struct {
	Code int
	Msg  string
}

func (e *SendError) Error() string { return fmt.Sprintf("wechat errcode %d: %s", e.Code, e.Msg) }

// civilDay returns the calendar day of t in loc as midnight UTC, the form
// in which days are compared and passed to the store.
func civilDay(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// sameDay reports whether a and b fall on the same calendar date, reading
// each in its own location: store dates come back as midnight in whatever
// zone the driver chose.
func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// asDay normalises a stored date to midnight UTC of its own calendar date.
func asDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
