package reminder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/yangcheng-county/elicence/internal/account"
)

// WeChat's TEMPLATESENDJOBFINISH statuses.
const (
	DeliverySuccess      = "success"
	DeliveryUserBlock    = "failed:user block"
	DeliverySystemFailed = "failed: system failed"
)

// Events acts on the public account's pushed events (it implements the
// wechat package's EventSink). Every method is idempotent: WeChat re-pushes
// an event it got no quick 200 for.
//
// Unsubscribing cancels the account's pending rows (reason unsubscribed)
// rather than holding them: nothing can reach a user who does not follow
// the account, and a held row would be sent days later with stale wording.
// Subscribing again revives those rows whose expiry has not passed; the
// dispatcher's re-check then sends them with the days left as of that
// moment, unless a nearer stage came due meanwhile: then the revived row is
// skipped and the next sweep makes that stage's row, so one reminder goes
// out, not two.
type Events struct {
	store    Store
	accounts account.Repository
	loc      *time.Location
	log      *slog.Logger
	now      func() time.Time
}

// NewEvents returns the event sink.
func NewEvents(store Store, accounts account.Repository, loc *time.Location, log *slog.Logger, now func() time.Time) (*Events, error) {
	if store == nil || accounts == nil || loc == nil || log == nil || now == nil {
		return nil, errors.New("reminder: events: nil dependency")
	}
	return &Events{store: store, accounts: accounts, loc: loc, log: log, now: now}, nil
}

// Subscribed marks the account as following (creating it if the user has
// never logged in, so a later real-name binding gets reminders) and revives
// its rows cancelled by an earlier unsubscribe.
func (e *Events) Subscribed(ctx context.Context, openid string) error {
	if _, err := e.accounts.Ensure(ctx, openid); err != nil {
		return fmt.Errorf("reminder: subscribe: %w", err)
	}
	if err := e.accounts.SetSubscribed(ctx, openid, true); err != nil {
		return fmt.Errorf("reminder: subscribe: %w", err)
	}
	now := e.now()
	n, err := e.store.Revive(ctx, openid, 0, ReasonUnsubscribed, civilDay(now, e.loc), now.UTC())
	if err != nil {
		return fmt.Errorf("reminder: subscribe: %w", err)
	}
	e.log.InfoContext(ctx, "account subscribed", "revived_reminders", n)
	return nil
}

// Unsubscribed marks the account as not following and cancels its pending
// rows. An account never seen before needs nothing.
func (e *Events) Unsubscribed(ctx context.Context, openid string) error {
	err := e.accounts.SetSubscribed(ctx, openid, false)
	if err != nil && !errors.Is(err, account.ErrNotFound) {
		return fmt.Errorf("reminder: unsubscribe: %w", err)
	}
	n, err := e.store.CancelPending(ctx, openid, 0, ReasonUnsubscribed, e.now().UTC())
	if err != nil {
		return fmt.Errorf("reminder: unsubscribe: %w", err)
	}
	e.log.InfoContext(ctx, "account unsubscribed", "cancelled_reminders", n)
	return nil
}

// TemplateFinished records WeChat's delivery report against the row with
// msgID: success → delivered; user block or system failure → failed (not
// retried: a blocked user asked not to be messaged, and a resend with the
// same client_msg_id would be dropped as a duplicate anyway).
func (e *Events) TemplateFinished(ctx context.Context, openid string, msgID int64, status string) error {
	if msgID == 0 {
		e.log.WarnContext(ctx, "template report without msgid", "status", status)
		return nil
	}
	state, reason := StateDelivered, ""
	if strings.HasPrefix(status, "failed") {
		state, reason = StateFailed, ReasonDeliveryFailed
	}
	r := Receipt{MsgID: msgID, OpenID: openid, Status: truncateRunes(status, 32), At: e.now().UTC()}
	if err := e.store.RecordReceipt(ctx, r, state, reason); err != nil {
		return fmt.Errorf("reminder: template report: %w", err)
	}
	return nil
}
