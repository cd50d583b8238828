package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
	"gorm.io/gorm"

	"github.com/yangcheng-county/elicence/internal/reminder"
)

// Reminders is the expiry-reminder outbox (tables reminders, reminder_*),
// implementing reminder.Store on both drivers. Every method is safe for
// several processes sharing one database: uniqueness comes from keys,
// claims from row locks (MySQL: FOR UPDATE SKIP LOCKED) or the single
// writer (SQLite: BEGIN IMMEDIATE, set up by Open).
type Reminders struct {
	s *Store
}

var _ reminder.Store = (*Reminders)(nil)

// NewReminders returns the outbox on s.
func NewReminders(s *Store) (*Reminders, error) {
	if s == nil {
		return nil, errors.New("store: reminders: store is nil")
	}
	return &Reminders{s: s}, nil
}

// pauseName is the one row of reminder_pauses: all template sending shares
// WeChat's quota for the account.
const pauseName = "wechat_template"

// receiptRetention is how long delivery reports are kept for rows that were
// not recorded yet when the report arrived.
const receiptRetention = 30 * 24 * time.Hour

type reminderSweepRow struct {
	ID         int64      `gorm:"column:id;primaryKey"`
	SweepDay   civilDate  `gorm:"column:sweep_day"`
	Worker     string     `gorm:"column:worker"`
	StartedAt  time.Time  `gorm:"column:started_at"`
	FinishedAt *time.Time `gorm:"column:finished_at"`
	Pending    int64      `gorm:"column:pending"`
	Skipped    int64      `gorm:"column:skipped"`
	Superseded int64      `gorm:"column:superseded"`
}

func (reminderSweepRow) TableName() string { return "reminder_sweeps" }

// reminderClaimRow is what a claim reads of a row.
type reminderClaimRow struct {
	ID            int64     `gorm:"column:id"`
	Kind          string    `gorm:"column:kind"`
	LicenceID     int64     `gorm:"column:licence_id"`
	Stage         int       `gorm:"column:stage"`
	ExpiryDate    civilDate `gorm:"column:expiry_date"`
	Action        string    `gorm:"column:action"`
	LicenceStatus *string   `gorm:"column:licence_status"`
	OpenID        string    `gorm:"column:openid"`
	State         string    `gorm:"column:state"`
	Attempts      int       `gorm:"column:attempts"`
	LeasedBy      *string   `gorm:"column:leased_by"`
}

type reminderTargetRow struct {
	Status        string    `gorm:"column:status"`
	ValidUntil    civilDate `gorm:"column:valid_until"`
	HolderID      int64     `gorm:"column:holder_id"`
	HolderKind    string    `gorm:"column:holder_kind"`
	HolderName    string    `gorm:"column:holder_name"`
	TypeName      string    `gorm:"column:type_name"`
	TypeStages    string    `gorm:"column:type_stages"`
	IssuerName    string    `gorm:"column:issuer_name"`
	AccountOpenID *string   `gorm:"column:account_openid"`
	AccountHolder *int64    `gorm:"column:account_holder"`
	Subscribed    *bool     `gorm:"column:subscribed"`
	OptedOut      bool      `gorm:"column:opted_out"`
	Nearer        bool      `gorm:"column:nearer"`
}

func dayParam(t time.Time) string { return t.Format(time.DateOnly) }

// retry runs fn again when MySQL chose it as a deadlock victim or timed out
// on a lock: concurrent sweeps and claims touch overlapping index ranges,
// and the loser of such a race only has to try again.
func (r *Reminders) retry(ctx context.Context, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt == 5 || !lockConflict(err) {
			return err
		}
		t := time.NewTimer(time.Duration(attempt*attempt) * 5 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

func lockConflict(err error) bool {
	var me *mysqldriver.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 || me.Number == 1205 // deadlock, lock wait timeout
	}
	return false
}

// TypeStages reads each licence type's reminder_stages (a JSON array).
func (r *Reminders) TypeStages(ctx context.Context) (map[string][]int, error) {
	var rows []struct {
		Code   string `gorm:"column:code"`
		Stages string `gorm:"column:reminder_stages"`
	}
	if err := r.s.q(ctx).Raw("SELECT code, reminder_stages FROM licence_types").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: reminder type stages: %w", err)
	}
	out := make(map[string][]int, len(rows))
	for _, row := range rows {
		var st []int
		if s := strings.TrimSpace(row.Stages); s != "" {
			if err := json.Unmarshal([]byte(s), &st); err != nil {
				return nil, fmt.Errorf("store: reminder stages of type %s: %w", row.Code, err)
			}
		}
		out[row.Code] = st
	}
	return out, nil
}

// reminderConflict is SQLite's spelling of INSERT IGNORE for the outbox's
// unique key (migration 0007).
const reminderConflict = " ON CONFLICT (licence_id, stage, expiry_date, event_id, notice_to) DO NOTHING"

// sweepSQL is the INSERT … SELECT of one stage window. The SELECT walks
// ix_licences_valid_until over the window's expiry range; duplicates of an
// existing (licence, stage, expiry) are ignored, not errors.
func (r *Reminders) sweepSQL(cond string) string {
	insert := "INSERT IGNORE INTO"
	conflict := ""
	if r.s.driver == DriverSQLite {
		insert = "INSERT INTO"
		conflict = reminderConflict
	}
	return insert + ` reminders (licence_id, stage, expiry_date, licence_version, openid, state, attempts, next_attempt_at, created_at, updated_at, reason)
SELECT l.id, ?, l.valid_until, l.version, a.openid, ?, 0, ?, ?, ?, ?
FROM licences l
JOIN accounts a ON a.holder_id = l.holder_id AND a.subscribed = 1
WHERE l.valid_until >= ? AND l.valid_until <= ? AND l.status = 'valid' AND l.type_code IN ?` + cond + `
  AND NOT EXISTS (SELECT 1 FROM reminder_optouts o WHERE o.licence_id = l.id AND o.holder_id = l.holder_id)` + conflict
}

// SweepSelectSQL returns the SELECT the sweep runs for a window (with its
// arguments) so tests can EXPLAIN it.
func (r *Reminders) SweepSelectSQL(w reminder.StageWindow) (string, []any) {
	q := r.sweepSQL("")
	q = q[strings.Index(q, "SELECT"):]
	if i := strings.Index(q, " ON CONFLICT"); i >= 0 {
		q = q[:i]
	}
	return q, []any{w.Stage, string(reminder.StatePending), time.Time{}, time.Time{}, time.Time{}, nil, dayParam(w.From), dayParam(w.To), w.TypeCodes}
}

// Sweep inserts the plan's rows and skips pending rows superseded by a
// nearer stage.
func (r *Reminders) Sweep(ctx context.Context, plan reminder.SweepPlan) (reminder.SweepResult, error) {
	var res reminder.SweepResult
	now := utc(plan.Now)
	exec := func(q string, args ...any) (int64, error) {
		var n int64
		err := r.retry(ctx, func() error {
			tx := r.s.q(ctx).Exec(q, args...)
			n = tx.RowsAffected
			return tx.Error
		})
		return n, err
	}
	for _, w := range plan.Windows {
		if len(w.TypeCodes) == 0 {
			continue
		}
		base := []any{w.Stage}
		tail := []any{dayParam(w.From), dayParam(w.To), w.TypeCodes}
		pendingArgs := append(append(append([]any{}, base...), string(reminder.StatePending), now, now, now, nil), tail...)
		if !w.HasSplit {
			n, err := exec(r.sweepSQL(""), pendingArgs...)
			if err != nil {
				return res, fmt.Errorf("store: sweep stage %d: %w", w.Stage, err)
			}
			res.Pending += n
			continue
		}
		n, err := exec(r.sweepSQL(" AND l.valid_until > ?"), append(pendingArgs, dayParam(w.Split))...)
		if err != nil {
			return res, fmt.Errorf("store: sweep stage %d: %w", w.Stage, err)
		}
		res.Pending += n
		skippedArgs := append(append(append([]any{}, base...), string(reminder.StateSkipped), now, now, now, reminder.ReasonStagesAtOnce), tail...)
		n, err = exec(r.sweepSQL(" AND l.valid_until <= ?"), append(skippedArgs, dayParam(w.Split))...)
		if err != nil {
			return res, fmt.Errorf("store: sweep stage %d (skipped): %w", w.Stage, err)
		}
		res.Skipped += n
	}

	supersede := `UPDATE reminders r JOIN reminders n
  ON n.licence_id = r.licence_id AND n.expiry_date = r.expiry_date AND n.stage < r.stage AND n.kind = 'expiry'
SET r.state = ?, r.reason = ?, r.updated_at = ?
WHERE r.state = ?`
	if r.s.driver == DriverSQLite {
		supersede = `UPDATE reminders SET state = ?, reason = ?, updated_at = ?
WHERE state = ? AND EXISTS (SELECT 1 FROM reminders n
  WHERE n.licence_id = reminders.licence_id AND n.expiry_date = reminders.expiry_date AND n.stage < reminders.stage AND n.kind = 'expiry')`
	}
	n, err := exec(supersede, string(reminder.StateSkipped), reminder.ReasonSuperseded, now, string(reminder.StatePending))
	if err != nil {
		return res, fmt.Errorf("store: sweep superseded: %w", err)
	}
	res.Superseded = n

	if _, err := exec("DELETE FROM reminder_receipts WHERE received_at < ?", now.Add(-receiptRetention)); err != nil {
		return res, fmt.Errorf("store: sweep old receipts: %w", err)
	}
	return res, nil
}

// BeginSweep records the start of a sweep run.
func (r *Reminders) BeginSweep(ctx context.Context, day, at time.Time, worker string) (int64, error) {
	// day is already a calendar day (midnight UTC); keep its date as is.
	sweepDay := civilDate{Time: time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, dateLoc), Valid: true}
	row := reminderSweepRow{SweepDay: sweepDay, Worker: worker, StartedAt: utc(at)}
	if err := r.s.q(ctx).Create(&row).Error; err != nil {
		return 0, fmt.Errorf("store: begin sweep: %w", err)
	}
	return row.ID, nil
}

// FinishSweep records a sweep's end and counts.
func (r *Reminders) FinishSweep(ctx context.Context, id int64, at time.Time, res reminder.SweepResult) error {
	err := r.s.q(ctx).Model(&reminderSweepRow{}).Where("id = ?", id).Updates(map[string]any{
		"finished_at": utc(at), "pending": res.Pending, "skipped": res.Skipped, "superseded": res.Superseded,
	}).Error
	if err != nil {
		return fmt.Errorf("store: finish sweep: %w", err)
	}
	return nil
}

// LastSweepDay is the latest day a sweep finished for.
func (r *Reminders) LastSweepDay(ctx context.Context) (time.Time, error) {
	var rows []struct {
		Day civilDate `gorm:"column:sweep_day"`
	}
	err := r.s.q(ctx).Raw("SELECT sweep_day FROM reminder_sweeps WHERE finished_at IS NOT NULL ORDER BY sweep_day DESC LIMIT 1").Scan(&rows).Error
	if err != nil {
		return time.Time{}, fmt.Errorf("store: last sweep: %w", err)
	}
	if len(rows) == 0 || !rows[0].Day.Valid {
		return time.Time{}, nil
	}
	d := rows[0].Day.Time
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC), nil
}

// Claim leases up to req.Limit due rows to req.Worker. Rows whose lease
// expired (a dispatcher died mid-send) come first and are marked InFlight.
// On MySQL the SELECTs lock with FOR UPDATE SKIP LOCKED, so concurrent
// claimers split the queue without waiting on each other; on SQLite the
// transaction starts IMMEDIATE and holds the only write lock.
func (r *Reminders) Claim(ctx context.Context, req reminder.ClaimRequest) ([]reminder.Row, error) {
	if req.Limit < 1 || req.Worker == "" || req.Lease <= 0 {
		return nil, errors.New("store: claim: bad request")
	}
	now := utc(req.Now)
	until := utc(req.Now.Add(req.Lease))
	lock := ""
	if r.s.driver == DriverMySQL {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	const cols = "SELECT id, kind, licence_id, stage, expiry_date, action, licence_status, openid, state, attempts, leased_by FROM reminders"
	var claimed []reminderClaimRow
	err := r.retry(ctx, func() error {
		claimed = claimed[:0]
		return r.s.InTx(ctx, func(tx *Store) error {
			var expired, due []reminderClaimRow
			q := cols + " WHERE state = ? AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?" + lock
			if err := tx.q(ctx).Raw(q, string(reminder.StateSending), now, req.Limit).Scan(&expired).Error; err != nil {
				return err
			}
			if left := req.Limit - len(expired); left > 0 {
				if err := tx.q(ctx).Raw(q, string(reminder.StatePending), now, left).Scan(&due).Error; err != nil {
					return err
				}
			}
			claimed = append(append(claimed, expired...), due...)
			if len(claimed) == 0 {
				return nil
			}
			ids := make([]int64, len(claimed))
			for i, c := range claimed {
				ids[i] = c.ID
			}
			return tx.q(ctx).Exec(`UPDATE reminders SET state = ?, attempts = attempts + 1, lease_until = ?,
  next_attempt_at = ?, leased_by = ?, updated_at = ? WHERE id IN ?`,
				string(reminder.StateSending), until, until, req.Worker, now, ids).Error
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim reminders: %w", err)
	}
	out := make([]reminder.Row, len(claimed))
	for i, c := range claimed {
		row := reminder.Row{
			ID: c.ID, Kind: reminder.Kind(c.Kind), LicenceID: c.LicenceID, Stage: c.Stage, ExpiryDate: c.ExpiryDate.Time,
			Action: c.Action, OpenID: c.OpenID, State: reminder.StateSending,
			Attempts: c.Attempts + 1, LeaseUntil: until,
		}
		if c.LicenceStatus != nil {
			row.LicenceStatus = *c.LicenceStatus
		}
		if c.State == string(reminder.StateSending) {
			row.InFlight = true
			if c.LeasedBy != nil {
				row.PrevLeasedBy = *c.LeasedBy
			}
		}
		out[i] = row
	}
	return out, nil
}

// Finish applies an outcome to a row still leased by worker. A sent row
// then picks up a delivery report that arrived before it was recorded.
func (r *Reminders) Finish(ctx context.Context, id int64, worker string, o reminder.Outcome) (bool, error) {
	at := utc(o.At)
	set := map[string]any{"state": string(o.State), "lease_until": nil, "updated_at": at}
	switch o.State {
	case reminder.StatePending:
		set["next_attempt_at"] = utc(o.NextAttempt)
		if o.Refund {
			set["attempts"] = gorm.Expr("attempts - 1")
		}
		if o.LastError != "" {
			set["last_error"] = o.LastError
		}
	case reminder.StateSent:
		set["msgid"] = o.MsgID
		set["sent_at"] = at
		set["last_error"] = nil
		set["reason"] = nil
	case reminder.StateFailed, reminder.StateDead, reminder.StateCancelled, reminder.StateSkipped:
		set["reason"] = nullIfEmpty(o.Reason)
		if o.LastError != "" {
			set["last_error"] = o.LastError
		}
	default:
		return false, fmt.Errorf("store: finish reminder %d: unexpected state %q", id, o.State)
	}
	var n int64
	err := r.retry(ctx, func() error {
		tx := r.s.q(ctx).Table("reminders").
			Where("id = ? AND state = ? AND leased_by = ?", id, string(reminder.StateSending), worker).Updates(set)
		n = tx.RowsAffected
		return tx.Error
	})
	if err != nil {
		return false, fmt.Errorf("store: finish reminder %d: %w", id, err)
	}
	if n == 0 {
		return false, nil
	}
	if o.State == reminder.StateSent && o.MsgID != 0 {
		if err := r.applyEarlyReceipt(ctx, id, o.MsgID, at); err != nil {
			return true, err
		}
	}
	return true, nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// applyEarlyReceipt applies a delivery report recorded before the row had
// its msgid. RecordReceipt writes the report and then updates by msgid;
// this runs after the msgid is written and then reads the report: whichever
// of the two runs second sees the other's write.
func (r *Reminders) applyEarlyReceipt(ctx context.Context, id, msgID int64, at time.Time) error {
	var rec []struct {
		Status string  `gorm:"column:status"`
		State  string  `gorm:"column:state"`
		Reason *string `gorm:"column:reason"`
	}
	if err := r.s.q(ctx).Raw("SELECT status, state, reason FROM reminder_receipts WHERE msgid = ?", msgID).Scan(&rec).Error; err != nil {
		return fmt.Errorf("store: reminder %d receipt: %w", id, err)
	}
	if len(rec) == 0 {
		return nil
	}
	err := r.s.q(ctx).Table("reminders").Where("id = ? AND state = ?", id, string(reminder.StateSent)).
		Updates(map[string]any{"state": rec[0].State, "delivery": rec[0].Status, "reason": rec[0].Reason, "updated_at": at}).Error
	if err != nil {
		return fmt.Errorf("store: reminder %d receipt: %w", id, err)
	}
	return nil
}

// RecordReceipt stores a TEMPLATESENDJOBFINISH report and applies it to the
// sent row with its msgid. Repeated pushes change nothing.
func (r *Reminders) RecordReceipt(ctx context.Context, rc reminder.Receipt, state reminder.State, reason string) error {
	at := utc(rc.At)
	insert := "INSERT IGNORE INTO reminder_receipts (msgid, status, state, reason, received_at) VALUES (?, ?, ?, ?, ?)"
	if r.s.driver == DriverSQLite {
		insert = "INSERT INTO reminder_receipts (msgid, status, state, reason, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (msgid) DO NOTHING"
	}
	err := r.retry(ctx, func() error {
		return r.s.q(ctx).Exec(insert, rc.MsgID, rc.Status, string(state), nullIfEmpty(reason), at).Error
	})
	if err != nil {
		return fmt.Errorf("store: record receipt: %w", err)
	}
	err = r.retry(ctx, func() error {
		return r.s.q(ctx).Table("reminders").Where("msgid = ? AND state = ?", rc.MsgID, string(reminder.StateSent)).
			Updates(map[string]any{"state": string(state), "delivery": rc.Status, "reason": nullIfEmpty(reason), "updated_at": at}).Error
	})
	if err != nil {
		return fmt.Errorf("store: apply receipt: %w", err)
	}
	return nil
}

// Target reads what the dispatcher re-checks before sending a row: the
// licence as it is now, its holder, type and issuer, the row's account,
// the holder's switch, and whether a nearer stage has a row.
func (r *Reminders) Target(ctx context.Context, row reminder.Row) (reminder.Target, error) {
	var rows []reminderTargetRow
	err := r.s.q(ctx).Raw(`SELECT l.status, l.valid_until, l.holder_id,
  h.kind AS holder_kind, h.name AS holder_name, t.name AS type_name, t.reminder_stages AS type_stages, d.name AS issuer_name,
  a.openid AS account_openid, a.holder_id AS account_holder, a.subscribed,
  EXISTS (SELECT 1 FROM reminder_optouts o WHERE o.licence_id = l.id AND o.holder_id = l.holder_id) AS opted_out,
  EXISTS (SELECT 1 FROM reminders n WHERE n.licence_id = l.id AND n.expiry_date = ? AND n.stage < ? AND n.kind = 'expiry') AS nearer
FROM licences l
JOIN holders h ON h.id = l.holder_id
JOIN licence_types t ON t.code = l.type_code
JOIN departments d ON d.id = l.issuer_id
LEFT JOIN accounts a ON a.openid = ?
WHERE l.id = ?`, dayParam(row.ExpiryDate), row.Stage, row.OpenID, row.LicenceID).Scan(&rows).Error
	if err != nil {
		return reminder.Target{}, fmt.Errorf("store: reminder target %d: %w", row.ID, err)
	}
	if len(rows) == 0 {
		return reminder.Target{}, nil
	}
	x := rows[0]
	var stages []int
	if st := strings.TrimSpace(x.TypeStages); st != "" {
		if err := json.Unmarshal([]byte(st), &stages); err != nil {
			return reminder.Target{}, fmt.Errorf("store: reminder target %d: stages of its type: %w", row.ID, err)
		}
	}
	t := reminder.Target{
		LicenceFound: true, Status: x.Status, ValidUntil: x.ValidUntil.ptr(),
		HolderID: x.HolderID, HolderKind: x.HolderKind, HolderName: x.HolderName,
		TypeName: x.TypeName, IssuerName: x.IssuerName,
		OptedOut: x.OptedOut, NearerStage: x.Nearer, Stages: stages,
	}
	if x.AccountOpenID != nil {
		t.AccountFound = true
		if x.AccountHolder != nil {
			t.AccountHolderID = *x.AccountHolder
		}
		t.Subscribed = x.Subscribed != nil && *x.Subscribed
	}
	return t, nil
}

// PausedUntil returns the end of the sending pause; zero when none was set.
func (r *Reminders) PausedUntil(ctx context.Context) (time.Time, error) {
	var rows []struct {
		Until time.Time `gorm:"column:paused_until"`
	}
	if err := r.s.q(ctx).Raw("SELECT paused_until FROM reminder_pauses WHERE name = ?", pauseName).Scan(&rows).Error; err != nil {
		return time.Time{}, fmt.Errorf("store: reminder pause: %w", err)
	}
	if len(rows) == 0 {
		return time.Time{}, nil
	}
	return rows[0].Until, nil
}

// Pause stops sending until until, keeping a later end already recorded.
func (r *Reminders) Pause(ctx context.Context, until time.Time, reason string, at time.Time) error {
	q := `INSERT INTO reminder_pauses (name, paused_until, reason, updated_at) VALUES (?, ?, ?, ?)
ON DUPLICATE KEY UPDATE reason = IF(VALUES(paused_until) > paused_until, VALUES(reason), reason),
  paused_until = GREATEST(paused_until, VALUES(paused_until)), updated_at = VALUES(updated_at)`
	if r.s.driver == DriverSQLite {
		q = `INSERT INTO reminder_pauses (name, paused_until, reason, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET
  reason = CASE WHEN excluded.paused_until > paused_until THEN excluded.reason ELSE reason END,
  paused_until = MAX(paused_until, excluded.paused_until), updated_at = excluded.updated_at`
	}
	err := r.retry(ctx, func() error {
		return r.s.q(ctx).Exec(q, pauseName, utc(until), truncate(reason, 250), utc(at)).Error
	})
	if err != nil {
		return fmt.Errorf("store: pause reminders: %w", err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n]
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// CancelPending cancels the pending rows of an account or a licence.
func (r *Reminders) CancelPending(ctx context.Context, openid string, licenceID int64, reason string, at time.Time) (int64, error) {
	q := r.s.q(ctx).Table("reminders").Where("state = ?", string(reminder.StatePending))
	switch {
	case openid != "":
		q = q.Where("openid = ?", openid)
	case licenceID != 0:
		q = q.Where("licence_id = ?", licenceID)
	default:
		return 0, errors.New("store: cancel reminders: no account or licence")
	}
	var n int64
	err := r.retry(ctx, func() error {
		tx := q.Session(&gorm.Session{}).Updates(map[string]any{"state": string(reminder.StateCancelled), "reason": reason, "updated_at": utc(at)})
		n = tx.RowsAffected
		return tx.Error
	})
	if err != nil {
		return 0, fmt.Errorf("store: cancel reminders: %w", err)
	}
	return n, nil
}

// Revive turns expiry rows cancelled for reason back to pending, due at
// once, when their expiry date is on or after day. A cancelled notice
// stays cancelled: the holder who followed again sees the licence's state
// on its page, and a notice of a change days old would read as news.
func (r *Reminders) Revive(ctx context.Context, openid string, licenceID int64, reason string, day, at time.Time) (int64, error) {
	q := r.s.q(ctx).Table("reminders").Where("state = ? AND reason = ? AND expiry_date >= ? AND kind = ?",
		string(reminder.StateCancelled), reason, dayParam(day), string(reminder.KindExpiry))
	switch {
	case openid != "":
		q = q.Where("openid = ?", openid)
	case licenceID != 0:
		q = q.Where("licence_id = ?", licenceID)
	default:
		return 0, errors.New("store: revive reminders: no account or licence")
	}
	var n int64
	err := r.retry(ctx, func() error {
		tx := q.Session(&gorm.Session{}).Updates(map[string]any{
			"state": string(reminder.StatePending), "reason": nil, "next_attempt_at": utc(at), "updated_at": utc(at),
		})
		n = tx.RowsAffected
		return tx.Error
	})
	if err != nil {
		return 0, fmt.Errorf("store: revive reminders: %w", err)
	}
	return n, nil
}

// LicenceHolder returns the holder of a licence, or reminder.ErrNotFound.
func (r *Reminders) LicenceHolder(ctx context.Context, licenceID int64) (int64, error) {
	var ids []int64
	if err := r.s.q(ctx).Raw("SELECT holder_id FROM licences WHERE id = ?", licenceID).Scan(&ids).Error; err != nil {
		return 0, fmt.Errorf("store: licence holder %d: %w", licenceID, err)
	}
	if len(ids) == 0 {
		return 0, reminder.ErrNotFound
	}
	return ids[0], nil
}

// OptedOut reports whether the holder turned reminders off for the licence.
func (r *Reminders) OptedOut(ctx context.Context, holderID, licenceID int64) (bool, error) {
	var n int64
	err := r.s.q(ctx).Raw("SELECT COUNT(*) FROM reminder_optouts WHERE licence_id = ? AND holder_id = ?", licenceID, holderID).Scan(&n).Error
	if err != nil {
		return false, fmt.Errorf("store: reminder opt-out: %w", err)
	}
	return n > 0, nil
}

// SetOptOut records or removes the holder's switch for the licence. An
// INSERT IGNORE and a DELETE of the same key racing (the switch flipped on
// two phones) can deadlock on InnoDB's gap locks; the loser runs again.
func (r *Reminders) SetOptOut(ctx context.Context, holderID, licenceID int64, optOut bool, at time.Time) error {
	q, args := "DELETE FROM reminder_optouts WHERE licence_id = ? AND holder_id = ?", []any{licenceID, holderID}
	if optOut {
		q = "INSERT IGNORE INTO reminder_optouts (licence_id, holder_id, created_at) VALUES (?, ?, ?)"
		if r.s.driver == DriverSQLite {
			q = "INSERT INTO reminder_optouts (licence_id, holder_id, created_at) VALUES (?, ?, ?) ON CONFLICT (licence_id, holder_id) DO NOTHING"
		}
		args = append(args, utc(at))
	}
	if err := r.retry(ctx, func() error { return r.s.q(ctx).Exec(q, args...).Error }); err != nil {
		return fmt.Errorf("store: set reminder opt-out: %w", err)
	}
	return nil
}

// Counts returns the number of rows per state.
func (r *Reminders) Counts(ctx context.Context) (map[reminder.State]int64, error) {
	var rows []struct {
		State string `gorm:"column:state"`
		N     int64  `gorm:"column:n"`
	}
	if err := r.s.q(ctx).Raw("SELECT state, COUNT(*) AS n FROM reminders GROUP BY state").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: reminder counts: %w", err)
	}
	out := make(map[reminder.State]int64, len(rows))
	for _, row := range rows {
		out[reminder.State(row.State)] = row.N
	}
	return out, nil
}

// QueueStats counts the queue and finds the oldest due row; both queries
// are ranges of ix_reminders_due.
func (r *Reminders) QueueStats(ctx context.Context, now time.Time) (reminder.QueueStats, error) {
	var qs reminder.QueueStats
	err := r.s.q(ctx).Raw("SELECT COUNT(*) FROM reminders WHERE state IN ?",
		[]string{string(reminder.StatePending), string(reminder.StateSending)}).Scan(&qs.Depth).Error
	if err != nil {
		return qs, fmt.Errorf("store: reminder queue: %w", err)
	}
	for _, st := range []reminder.State{reminder.StatePending, reminder.StateSending} {
		var rows []struct {
			At time.Time `gorm:"column:next_attempt_at"`
		}
		err := r.s.q(ctx).Raw("SELECT next_attempt_at FROM reminders WHERE state = ? AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT 1",
			string(st), utc(now)).Scan(&rows).Error
		if err != nil {
			return qs, fmt.Errorf("store: reminder queue: %w", err)
		}
		if len(rows) > 0 && (qs.OldestDue.IsZero() || rows[0].At.Before(qs.OldestDue)) {
			qs.OldestDue = rows[0].At
		}
	}
	return qs, nil
}
