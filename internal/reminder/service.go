package reminder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Deps are what a Service needs; every field is required.
type Deps struct {
	Store   Store
	Sender  Sender
	Log     *slog.Logger
	Metrics *Metrics
	// Now is the clock; tests move it instead of sleeping.
	Now func() time.Time
}

// Service sweeps licences into the outbox and dispatches the outbox. Any
// number of Services (in one process or many) may run against one database.
type Service struct {
	store   Store
	sender  Sender
	opts    Options
	log     *slog.Logger
	metrics *Metrics
	now     func() time.Time
}

// NewService checks its dependencies and options.
func NewService(d Deps, o Options) (*Service, error) {
	switch {
	case d.Store == nil:
		return nil, errors.New("reminder: Deps.Store is nil")
	case d.Sender == nil:
		return nil, errors.New("reminder: Deps.Sender is nil")
	case d.Log == nil:
		return nil, errors.New("reminder: Deps.Log is nil")
	case d.Metrics == nil:
		return nil, errors.New("reminder: Deps.Metrics is nil")
	case d.Now == nil:
		return nil, errors.New("reminder: Deps.Now is nil")
	}
	if err := o.normalise(); err != nil {
		return nil, err
	}
	return &Service{store: d.Store, sender: d.Sender, opts: o, log: d.Log, metrics: d.Metrics, now: d.Now}, nil
}

// Summary counts what RunOnce (or one scheduler pass) did.
type Summary struct {
	Sweep     SweepResult
	Claimed   int
	Sent      int
	Retried   int // transient error: back to pending with a backoff
	Failed    int // permanent error
	Dead      int // max attempts reached
	Cancelled int // licence or account changed before sending
	Skipped   int // a nearer stage of the same expiry exists
	Released  int // handed back unsent (quiet hours, quota pause, lease ending, shutdown)
	LeaseLost int // another dispatcher took the row over before we finished
	// Resent counts rows claimed from an expired lease: they may have been
	// sent by a dispatcher that died, and are sent again with the same
	// client_msg_id so WeChat drops a duplicate.
	Resent int
	// PausedUntil is set when WeChat's quota (45009/45011) stopped sending.
	PausedUntil time.Time
	// QuietUntil is set when quiet hours stopped sending.
	QuietUntil time.Time
}

// String is the one-line report of `bff remind --once`.
func (s Summary) String() string {
	out := fmt.Sprintf("swept: %d pending, %d skipped, %d superseded; dispatched: %d claimed, %d sent, %d retried, %d failed, %d dead, %d cancelled, %d skipped, %d released, %d resent after a crash",
		s.Sweep.Pending, s.Sweep.Skipped, s.Sweep.Superseded, s.Claimed, s.Sent, s.Retried, s.Failed, s.Dead, s.Cancelled, s.Skipped, s.Released, s.Resent)
	if !s.PausedUntil.IsZero() {
		out += "; WeChat quota reached, sending paused until " + s.PausedUntil.Format(time.RFC3339)
	}
	if !s.QuietUntil.IsZero() {
		out += "; quiet hours until " + s.QuietUntil.Format(time.RFC3339)
	}
	return out
}

// ---- sweep ----

// Sweep enqueues the reminders that are due today: for each licence whose
// expiry minus a stage has arrived, whose holder's account follows the
// public account and has not turned reminders off, one row per stage. When
// several stages are due at once only the nearest one is pending; the others
// are recorded as skipped. Existing rows are left alone, so sweeping twice,
// or from several instances at once, adds nothing.
func (s *Service) Sweep(ctx context.Context) (SweepResult, error) {
	now := s.now()
	day := civilDay(now, s.opts.Location)
	stages, err := s.store.TypeStages(ctx)
	if err != nil {
		return SweepResult{}, fmt.Errorf("reminder: sweep: %w", err)
	}
	plan := SweepPlan{Now: now.UTC(), Windows: planWindows(day, stages, s.opts.Stages)}
	id, err := s.store.BeginSweep(ctx, day, now.UTC(), s.opts.Worker)
	if err != nil {
		return SweepResult{}, fmt.Errorf("reminder: sweep: %w", err)
	}
	res, err := s.store.Sweep(ctx, plan)
	if err != nil {
		return res, fmt.Errorf("reminder: sweep: %w", err)
	}
	if err := s.store.FinishSweep(ctx, id, s.now().UTC(), res); err != nil {
		return res, fmt.Errorf("reminder: sweep: %w", err)
	}
	s.log.InfoContext(ctx, "reminder sweep done", "day", day.Format(time.DateOnly),
		"pending", res.Pending, "skipped", res.Skipped, "superseded", res.Superseded)
	return res, nil
}

// planWindows groups licence types by their stage list and makes one window
// per (group, stage). Licences of a group with expiry in (day+s[i-1],
// day+s[i]] are at stage s[i]; farther stages are due too and recorded
// skipped.
func planWindows(day time.Time, typeStages map[string][]int, defaults []int) []StageWindow {
	groups := map[string][]string{}
	stagesOf := map[string][]int{}
	for code, st := range typeStages {
		if len(st) == 0 {
			st = defaults
		}
		st = normaliseStages(st)
		if len(st) == 0 {
			continue
		}
		key := fmt.Sprint(st)
		groups[key] = append(groups[key], code)
		stagesOf[key] = st
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []StageWindow
	for _, k := range keys {
		codes := groups[k]
		sort.Strings(codes)
		st := stagesOf[k]
		for i, stage := range st {
			w := StageWindow{TypeCodes: codes, Stage: stage, From: day, To: day.AddDate(0, 0, stage)}
			if i > 0 {
				w.Split, w.HasSplit = day.AddDate(0, 0, st[i-1]), true
			}
			out = append(out, w)
		}
	}
	return out
}

// normaliseStages sorts stages nearest first and drops duplicates and
// non-positive values.
func normaliseStages(in []int) []int {
	out := make([]int, 0, len(in))
	for _, s := range in {
		if s > 0 {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ---- dispatch ----

// RunOnce sweeps, then sends until the queue is drained or only rows that are
// not due yet remain (backoff, quiet hours, a quota pause, leased by a
// live dispatcher). It is `bff remind --once`.
func (s *Service) RunOnce(ctx context.Context) (Summary, error) {
	var sum Summary
	res, err := s.Sweep(ctx)
	sum.Sweep = res
	if err != nil {
		return sum, err
	}
	err = s.Drain(ctx, &sum)
	s.observeQueue(ctx)
	return sum, err
}

// Drain dispatches batches until a claim returns nothing.
func (s *Service) Drain(ctx context.Context, sum *Summary) error {
	for ctx.Err() == nil {
		n, err := s.DispatchBatch(ctx, sum)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
	return nil
}

// DispatchBatch claims up to BatchSize due rows and sends them one by one. It
// claims nothing inside quiet hours or while a quota pause is in force, and
// returns the number of rows claimed.
func (s *Service) DispatchBatch(ctx context.Context, sum *Summary) (int, error) {
	now := s.now()
	local := now.In(s.opts.Location)
	if s.opts.Quiet.Contains(local) {
		sum.QuietUntil = s.opts.Quiet.Ends(local)
		return 0, nil
	}
	until, err := s.store.PausedUntil(ctx)
	if err != nil {
		return 0, fmt.Errorf("reminder: dispatch: %w", err)
	}
	if now.Before(until) {
		sum.PausedUntil = until
		return 0, nil
	}
	rows, err := s.store.Claim(ctx, ClaimRequest{Now: now.UTC(), Lease: s.opts.Lease, Worker: s.opts.Worker, Limit: s.opts.BatchSize})
	if err != nil {
		return 0, fmt.Errorf("reminder: dispatch: %w", err)
	}
	sum.Claimed += len(rows)
	for i, r := range rows {
		stop, err := s.handle(ctx, r, sum)
		if err != nil {
			// The rest of the batch was never tried: hand it back now,
			// rather than leave it leased until the lease runs out and
			// then resend it as if a dispatcher had died mid-send.
			for _, rest := range rows[i+1:] {
				s.release(ctx, rest, s.now(), sum)
			}
			return len(rows), err
		}
		if stop.IsZero() {
			continue
		}
		// Quiet hours began, a quota pause, or shutdown: hand the rest back
		// unsent without counting an attempt.
		for _, rest := range rows[i+1:] {
			s.release(ctx, rest, stop, sum)
		}
		break
	}
	return len(rows), nil
}

// handle re-checks one claimed row, sends it and records the outcome. A
// non-zero stop tells the caller to hand back the rest of the batch, due
// again at stop.
func (s *Service) handle(ctx context.Context, r Row, sum *Summary) (stop time.Time, err error) {
	log := s.log.With("row_id", r.ID, "licence_id", r.LicenceID, "stage", r.Stage, "attempt", r.Attempts)
	if r.InFlight {
		sum.Resent++
		log.WarnContext(ctx, "resending row that was in flight", "previous_worker", r.PrevLeasedBy)
	}
	if ctx.Err() != nil {
		return s.release(ctx, r, s.now(), sum), nil
	}
	now := s.now()
	local := now.In(s.opts.Location)
	if s.opts.Quiet.Contains(local) {
		end := s.opts.Quiet.Ends(local)
		sum.QuietUntil = end
		return s.release(ctx, r, end, sum), nil
	}
	// A row whose lease is about to run out is handed back rather than sent:
	// another dispatcher may take it over at any moment.
	if !now.Before(r.LeaseUntil.Add(-s.opts.Lease / 4)) {
		s.release(ctx, r, now, sum)
		return time.Time{}, nil
	}

	t, err := s.store.Target(ctx, r)
	if err != nil {
		s.release(ctx, r, now, sum)
		return time.Time{}, fmt.Errorf("reminder: dispatch row %d: %w", r.ID, err)
	}
	today := civilDay(now, s.opts.Location)
	if state, reason := s.stillApplies(r, t, today); state != "" {
		o := Outcome{State: state, Reason: reason, At: now.UTC()}
		if ok, err := s.finish(ctx, r, o, sum, log); err != nil || !ok {
			return time.Time{}, err
		}
		if state == StateCancelled {
			sum.Cancelled++
		} else {
			sum.Skipped++
		}
		log.InfoContext(ctx, "reminder not sent", "state", state, "reason", reason)
		return time.Time{}, nil
	}

	msgID, sendErr := s.sender.SendTemplate(ctx, buildMessage(s.opts, r, t, today))
	if sendErr != nil {
		return s.sendFailed(ctx, r, sendErr, sum, log)
	}
	if _, err := s.finish(ctx, r, Outcome{State: StateSent, MsgID: msgID, At: s.now().UTC()}, sum, log); err != nil {
		return time.Time{}, err
	}
	sum.Sent++
	s.metrics.Sent.Inc()
	return time.Time{}, nil
}

// sendFailed applies the retry policy (docs/REMINDERS.md) to a failed send.
func (s *Service) sendFailed(ctx context.Context, r Row, sendErr error, sum *Summary, log *slog.Logger) (stop time.Time, err error) {
	now := s.now()
	v, code := classify(ctx, sendErr)
	text := errorText(sendErr)
	switch v {
	case verdictPermanent:
		o := Outcome{State: StateFailed, Reason: ReasonPermanent + strconv.Itoa(code), LastError: text, At: now.UTC()}
		if ok, err := s.finish(ctx, r, o, sum, log); err != nil || !ok {
			return time.Time{}, err
		}
		sum.Failed++
		s.metrics.Failed.Inc()
		log.WarnContext(ctx, "reminder refused permanently", "errcode", code)
		return time.Time{}, nil

	case verdictDailyStop, verdictMinuteWait:
		// The quota is the account's, shared by every instance: pause them
		// all, and hand this row back without counting the attempt.
		until := now.Add(time.Minute)
		if v == verdictDailyStop {
			until = nextMidnight(now, s.opts.Location)
		}
		if err := s.store.Pause(ctx, until.UTC(), text, now.UTC()); err != nil {
			s.release(ctx, r, until, sum)
			return until, fmt.Errorf("reminder: pause sending: %w", err)
		}
		sum.PausedUntil = until
		log.WarnContext(ctx, "wechat quota reached: sending paused", "errcode", code, "until", until)
		o := Outcome{State: StatePending, LastError: text, NextAttempt: until.UTC(), Refund: true, At: now.UTC()}
		if _, err := s.finish(ctx, r, o, sum, log); err != nil {
			return until, err
		}
		sum.Released++
		return until, nil

	case verdictShutdown:
		// Whether WeChat got it is unknown; the resend reuses client_msg_id.
		return s.release(ctx, r, now, sum), nil
	}

	// Transient: -1, a token WeChat still refused after the adapter's
	// refresh, HTTP 5xx, timeouts, unknown codes.
	if r.Attempts >= s.opts.MaxAttempts {
		o := Outcome{State: StateDead, LastError: text, At: now.UTC()}
		if ok, err := s.finish(ctx, r, o, sum, log); err != nil || !ok {
			return time.Time{}, err
		}
		sum.Dead++
		s.metrics.Dead.Inc()
		log.ErrorContext(ctx, "reminder dead after max attempts", "errcode", code, "error", text)
		return time.Time{}, nil
	}
	next := now.Add(backoff(r.Attempts, s.opts.RetryBase, s.opts.RetryMax))
	o := Outcome{State: StatePending, LastError: text, NextAttempt: next.UTC(), At: now.UTC()}
	if ok, err := s.finish(ctx, r, o, sum, log); err != nil || !ok {
		return time.Time{}, err
	}
	sum.Retried++
	log.WarnContext(ctx, "reminder send failed, will retry", "errcode", code, "error", text, "next_attempt", next)
	return time.Time{}, nil
}

// stillApplies re-checks a row against the licence and account as they are
// now. It returns "" when the row should be sent, else the state and reason
// to record instead.
func (s *Service) stillApplies(r Row, t Target, today time.Time) (State, string) {
	switch {
	case !t.LicenceFound:
		return StateCancelled, ReasonLicenceGone
	case t.Status != "valid":
		return StateCancelled, ReasonNotValid + t.Status
	case t.ValidUntil == nil || !sameDay(*t.ValidUntil, r.ExpiryDate):
		// Renewed (or made long-term): the next sweep makes the new
		// expiry's stages. A change of version alone (an amendment that
		// kept the expiry date) leaves the reminder due.
		return StateCancelled, ReasonRenewed
	case asDay(r.ExpiryDate).Before(today):
		return StateCancelled, ReasonExpired
	case !t.AccountFound || t.AccountHolderID != t.HolderID:
		return StateCancelled, ReasonUnbound
	case !t.Subscribed:
		return StateCancelled, ReasonUnsubscribed
	case t.OptedOut:
		return StateCancelled, ReasonOptedOut
	case t.NearerStage, s.nearerStageDue(r, t, today):
		return StateSkipped, ReasonSuperseded
	}
	return "", ""
}

// nearerStageDue reports whether a stage nearer to expiry than the row's has
// come due as well, by the rule the sweep applies: a row revived by a
// subscribe or an opt-in, or held back for days, must not go out when the
// sweep will make the nearer stage's row, or the citizen gets both.
func (s *Service) nearerStageDue(r Row, t Target, today time.Time) bool {
	stages := t.Stages
	if len(stages) == 0 {
		stages = s.opts.Stages
	}
	left := daysLeft(r.ExpiryDate, today)
	for _, st := range stages {
		if st > 0 && st < r.Stage && left <= st {
			return true
		}
	}
	return false
}

// release hands a row back unsent, due at at, refunding its attempt. It
// returns at so callers can stop the batch with it.
func (s *Service) release(ctx context.Context, r Row, at time.Time, sum *Summary) time.Time {
	// The row must be handed back even when ctx has ended (shutdown).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	o := Outcome{State: StatePending, NextAttempt: at.UTC(), Refund: true, At: s.now().UTC()}
	ok, err := s.store.Finish(ctx, r.ID, s.opts.Worker, o)
	switch {
	case err != nil:
		// The lease runs out by itself and another dispatcher takes over.
		s.log.WarnContext(ctx, "could not release reminder row", "row_id", r.ID, "error", err)
	case ok:
		sum.Released++
	default:
		sum.LeaseLost++
	}
	return at
}

// finish records o on a row; false means another dispatcher holds it now.
func (s *Service) finish(ctx context.Context, r Row, o Outcome, sum *Summary, log *slog.Logger) (bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	ok, err := s.store.Finish(ctx, r.ID, s.opts.Worker, o)
	if err != nil {
		return false, fmt.Errorf("reminder: record row %d: %w", r.ID, err)
	}
	if !ok {
		sum.LeaseLost++
		log.WarnContext(ctx, "reminder lease lost before the outcome was recorded", "state", o.State)
	}
	return ok, nil
}

// ---- status ----

// Status returns the number of rows per state and how long the oldest due
// row has been waiting (0 when none is due). It is `bff remind --status`.
func (s *Service) Status(ctx context.Context) (map[State]int64, time.Duration, error) {
	counts, err := s.store.Counts(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("reminder: status: %w", err)
	}
	for _, st := range States {
		if _, ok := counts[st]; !ok {
			counts[st] = 0
		}
	}
	now := s.now()
	qs, err := s.store.QueueStats(ctx, now.UTC())
	if err != nil {
		return nil, 0, fmt.Errorf("reminder: status: %w", err)
	}
	return counts, oldestAge(qs, now), nil
}

func oldestAge(qs QueueStats, now time.Time) time.Duration {
	if qs.OldestDue.IsZero() || qs.OldestDue.After(now) {
		return 0
	}
	return now.Sub(qs.OldestDue)
}

// observeQueue refreshes the queue gauges; a failure only leaves them stale.
func (s *Service) observeQueue(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	now := s.now()
	qs, err := s.store.QueueStats(ctx, now.UTC())
	if err != nil {
		s.log.WarnContext(ctx, "reminder queue stats", "error", err)
		return
	}
	s.metrics.QueueDepth.Set(float64(qs.Depth))
	s.metrics.OldestDueAge.Set(oldestAge(qs, now).Seconds())
}

// FormatStatus renders Status for `bff remind --status`.
func FormatStatus(counts map[State]int64, oldest time.Duration) string {
	var b strings.Builder
	for _, st := range States {
		fmt.Fprintf(&b, "%-10s %d\n", st, counts[st])
	}
	fmt.Fprintf(&b, "oldest due %s\n", oldest.Truncate(time.Second))
	return b.String()
}
