package reminder

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// QuietHours is a daily window, in minutes after midnight, in which nothing
// is sent. Start > End wraps past midnight (21:00-08:00). The zero value
// (Set false) is no window.
type QuietHours struct {
	Start, End int
	Set        bool
}

func minuteOfDay(t time.Time) int { return t.Hour()*60 + t.Minute() }

// Contains reports whether t (already in the reminder time zone) is inside
// the window.
func (q QuietHours) Contains(t time.Time) bool {
	if !q.Set {
		return false
	}
	m := minuteOfDay(t)
	if q.Start < q.End {
		return m >= q.Start && m < q.End
	}
	return m >= q.Start || m < q.End
}

// Ends returns the first moment at or after t (in t's location) outside the
// window; t itself when t is outside it.
func (q QuietHours) Ends(t time.Time) time.Time {
	if !q.Contains(t) {
		return t
	}
	y, mo, d := t.Date()
	end := time.Date(y, mo, d, q.End/60, q.End%60, 0, 0, t.Location())
	if !end.After(t) {
		end = time.Date(y, mo, d+1, q.End/60, q.End%60, 0, 0, t.Location())
	}
	return end
}

// nextMidnight is 00:00 of the day after t in loc: when WeChat's daily quota
// (errcode 45009) resets for the account.
func nextMidnight(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, loc)
}

// backoff is the wait after the attempts-th failed attempt: RetryBase,
// doubled per attempt, capped at RetryMax. No jitter: rows fail at different
// times anyway, and a deterministic schedule is easier to reason about.
func backoff(attempts int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < attempts; i++ {
		d *= 2
		if d >= max || d <= 0 {
			return max
		}
	}
	if d > max {
		return max
	}
	return d
}

// WeChat errcodes the dispatcher reacts to (docs/REMINDERS.md, "Retry policy").
const (
	codeSystemBusy        = -1
	codeInvalidCredential = 40001
	codeInvalidOpenID     = 40003
	codeInvalidToken      = 40014
	codeInvalidTemplate   = 40037
	codeTokenExpired      = 42001
	codeRequireSubscribe  = 43004
	codeUserRefused       = 43101
	codeDailyQuota        = 45009
	codeMinuteQuota       = 45011
	codeArgumentInvalid   = 47003
)

// verdict is what the retry policy makes of a send error.
type verdict int

const (
	verdictRetry      verdict = iota // transient: back off, count the attempt
	verdictPermanent                 // failed, never retried
	verdictDailyStop                 // pause all sending until the next day
	verdictMinuteWait                // pause all sending for a minute
	verdictShutdown                  // our own context ended: release the row
)

// classify applies the retry policy of docs/REMINDERS.md. Token errors (40001/42001/40014) reach here
// only when the adapter's one refresh-and-retry also failed: back off.
// Anything not known to be permanent is retried, because giving up on a
// reminder is worse than retrying one that cannot succeed.
func classify(ctx context.Context, err error) (verdict, int) {
	var se *SendError
	if errors.As(err, &se) {
		switch se.Code {
		case codeInvalidOpenID, codeInvalidTemplate, codeRequireSubscribe, codeUserRefused, codeArgumentInvalid:
			return verdictPermanent, se.Code
		case codeDailyQuota:
			return verdictDailyStop, se.Code
		case codeMinuteQuota:
			return verdictMinuteWait, se.Code
		}
		return verdictRetry, se.Code
	}
	if ctx.Err() != nil {
		return verdictShutdown, 0
	}
	return verdictRetry, 0
}

// errorText is the last_error kept on a row: short, no openid, no token.
func errorText(err error) string {
	var se *SendError
	if errors.As(err, &se) {
		return truncateRunes(fmt.Sprintf("errcode %d: %s", se.Code, se.Msg), 250)
	}
	return truncateRunes(err.Error(), 250)
}
