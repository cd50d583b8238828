package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/yangcheng-county/elicence/internal/audit"
)

// A verification's usage record reaches the audit chain after it is
// written: RecordUsage inserts the row alone, so the officer's request
// neither waits for nor queues on the chain's head lock, and ChainPending
// appends it later, marking the row with its entry (audit_id; migration
// 0008). The entry holds every column of the row, so VerifyAudit can tell
// a chained record that was changed, deleted or unmarked afterwards.

// Compile-time check that Store is where deferred events wait.
var _ audit.Pending = (*Store)(nil)

// usageDetail is the detail of a chained usage record's entry: the
// columns the entry's own fields (time, actor, action, object) do not
// hold. JSON, so no free-text purpose can make two records read alike.
type usageDetail struct {
	Usage      int64  `json:"usage"`
	Department int64  `json:"department"`
	Purpose    string `json:"purpose"`
	Scope      string `json:"scope"`
	Reason     string `json:"reason"`
	IP         string `json:"ip"`
}

// usageDetailPrefix starts every chained usage record's detail.
const usageDetailPrefix = `{"usage":`

// usageEvent is the audit event that holds usage record r.
func usageEvent(r usageRecordRow) audit.Event {
	// Marshalling integers and strings cannot fail.
	d, _ := json.Marshal(usageDetail{Usage: r.ID, Department: r.DepartmentID, Purpose: r.Purpose, Scope: r.Scope, Reason: r.ReasonCode, IP: r.ClientIP})
	return audit.Event{
		At: utc(r.At), Actor: audit.ActorOfficer(r.OfficerOpenID), Action: "verification." + r.Result,
		Object: "licence:" + strconv.FormatInt(r.LicenceID, 10), Detail: string(d),
	}
}

// ownTxUsageEvent is the entry earlier builds wrote in the record's own
// transaction (audit_id 0). Its detail leaves out the client IP.
func ownTxUsageEvent(r usageRecordRow) audit.Event {
	e := usageEvent(r)
	e.Detail = fmt.Sprintf("department=%d purpose=%s scope=%s reason=%s usage=%d", r.DepartmentID, r.Purpose, r.Scope, r.ReasonCode, r.ID)
	return e
}

func sameEvent(a, b audit.Event) bool {
	return a.At.Equal(b.At) && a.Actor == b.Actor && a.Action == b.Action && a.Object == b.Object && a.Detail == b.Detail
}

// usageClaim is the usage record an entry says it holds: id, and whether
// the entry was written in the record's own transaction (ownTxUsageEvent).
type usageClaim struct {
	id    int64
	ownTx bool
}

// claimOf reads the usage record an entry names, if it names one. Entries
// of attempts that reached no licence (verification.code_invalid) name
// none.
func claimOf(e audit.Entry) (usageClaim, bool) {
	if !strings.HasPrefix(e.Action, "verification.") {
		return usageClaim{}, false
	}
	if strings.HasPrefix(e.Detail, usageDetailPrefix) {
		var d usageDetail
		// The hash check has passed, so this is what usageEvent wrote; a
		// detail that did not decode would name record 0, which is missing.
		_ = json.Unmarshal([]byte(e.Detail), &d)
		return usageClaim{id: d.Usage}, true
	}
	i := strings.LastIndex(e.Detail, " usage=")
	if !strings.HasPrefix(e.Detail, "department=") || i < 0 {
		return usageClaim{}, false
	}
	id, err := strconv.ParseInt(e.Detail[i+len(" usage="):], 10, 64)
	if err != nil {
		return usageClaim{}, false
	}
	return usageClaim{id: id, ownTx: true}, true
}

// ChainPending implements audit.Pending: under the chain's head lock it
// appends up to max usage records that wait (audit_id NULL), oldest first,
// one entry each, and marks each with its entry, in one transaction. It
// returns how many it chained. Any number of instances may run it at once:
// the head lock queues them, each reads what waits only once it holds the
// lock, and a mark is only ever set on a row that has none, so no record
// is chained twice (a row marked meanwhile rolls the batch back).
func (s *Store) ChainPending(ctx context.Context, max int) (int, error) {
	if max < 1 {
		return 0, fmt.Errorf("store: chain usage records: batch of %d", max)
	}
	// An idle instance asks without the lock: no transaction, no queue on
	// the head for the instances that have work.
	var probe []int64
	if err := s.q(ctx).Model(&usageRecordRow{}).Where("audit_id IS NULL").Limit(1).Pluck("id", &probe).Error; err != nil {
		return 0, fmt.Errorf("store: chain usage records: %w", err)
	}
	if len(probe) == 0 {
		return 0, nil
	}
	var n int
	err := s.InTx(ctx, func(tx *Store) error {
		head, err := tx.lockAuditHead(ctx)
		if err != nil {
			return err
		}
		// A plain read after the locking one: InnoDB takes a repeatable
		// read's snapshot at the transaction's first plain read, so this
		// one sees what the previous holder of the lock committed.
		var rows []usageRecordRow
		if err := tx.q(ctx).Where("audit_id IS NULL").Order("id").Limit(max).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		evs := make([]audit.Event, len(rows))
		for i, r := range rows {
			evs[i] = usageEvent(r)
		}
		entries, err := tx.extendChain(ctx, head, evs)
		if err != nil {
			return err
		}
		var set strings.Builder
		args := make([]any, 0, 2*len(rows)+1)
		ids := make([]int64, len(rows))
		set.WriteString("UPDATE usage_records SET audit_id = CASE id")
		for i, r := range rows {
			set.WriteString(" WHEN ? THEN ?")
			args = append(args, r.ID, entries[i].Seq)
			ids[i] = r.ID
		}
		set.WriteString(" END WHERE audit_id IS NULL AND id IN ?")
		res := tx.q(ctx).Exec(set.String(), append(args, ids)...)
		if res.Error != nil {
			return fmt.Errorf("mark: %w", res.Error)
		}
		if res.RowsAffected != int64(len(rows)) {
			return errors.New("a record was marked concurrently")
		}
		n = len(rows)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: chain usage records: %w", err)
	}
	return n, nil
}

// PendingAudit counts the usage records written but not chained yet.
func (s *Store) PendingAudit(ctx context.Context) (int64, error) {
	var n int64
	if err := s.q(ctx).Model(&usageRecordRow{}).Where("audit_id IS NULL").Count(&n).Error; err != nil {
		return 0, fmt.Errorf("store: pending audit: %w", err)
	}
	return n, nil
}

// verifyUsage checks the entries evs (consecutive, their hashes verified)
// against the usage records: each entry that names a record finds it,
// marked with that entry (or 0 for an entry of the record's own
// transaction) and matching it column for column; each record marked with
// one of these entries is the one that entry names. It returns how many
// entries of the records' own transactions it saw, for verifyUsageMarks.
func (s *Store) verifyUsage(ctx context.Context, evs []audit.Entry) (int64, error) {
	if len(evs) == 0 {
		return 0, nil
	}
	lo, hi := evs[0].Seq, evs[len(evs)-1].Seq
	claims := make(map[int64]usageClaim)
	var ids []int64
	for _, e := range evs {
		if c, ok := claimOf(e); ok {
			claims[e.Seq] = c
			ids = append(ids, c.id)
		}
	}
	q := s.q(ctx).Where("audit_id BETWEEN ? AND ?", lo, hi)
	if len(ids) > 0 {
		q = s.q(ctx).Where("id IN ? OR audit_id BETWEEN ? AND ?", ids, lo, hi)
	}
	var rows []usageRecordRow
	if err := q.Find(&rows).Error; err != nil {
		return 0, fmt.Errorf("store: audit usage records: %w", err)
	}
	byID := make(map[int64]usageRecordRow, len(rows))
	byEntry := make(map[int64][]usageRecordRow)
	for _, r := range rows {
		byID[r.ID] = r
		if r.AuditID != nil && *r.AuditID >= lo && *r.AuditID <= hi {
			byEntry[*r.AuditID] = append(byEntry[*r.AuditID], r)
		}
	}
	var ownTx int64
	for _, e := range evs {
		c, named := claims[e.Seq]
		for _, r := range byEntry[e.Seq] {
			if !named || c.ownTx || r.ID != c.id {
				return 0, &TamperError{Seq: e.Seq, Why: fmt.Sprintf("is claimed by usage record %d, which it does not name", r.ID)}
			}
		}
		if !named {
			continue
		}
		want, mark := usageEvent, e.Seq
		if c.ownTx {
			want, mark = ownTxUsageEvent, 0
			ownTx++
		}
		r, ok := byID[c.id]
		switch {
		case !ok:
			return 0, &TamperError{Seq: e.Seq, Why: fmt.Sprintf("names usage record %d, which is missing", c.id)}
		case r.AuditID == nil || *r.AuditID != mark:
			return 0, &TamperError{Seq: e.Seq, Why: fmt.Sprintf("names usage record %d, which is not marked with it", c.id)}
		case !sameEvent(e.Event, want(r)):
			return 0, &TamperError{Seq: e.Seq, Why: fmt.Sprintf("does not match usage record %d", c.id)}
		}
	}
	return ownTx, nil
}

// verifyUsageMarks checks the marks no entry was asked about: none points
// past the chain's last entry, and exactly as many records are marked as
// audited in their own transaction as such entries name (each of which
// verifyUsage found marked), so no waiting record was marked to hide it
// from the chain.
func (s *Store) verifyUsageMarks(ctx context.Context, last, ownTx int64) error {
	var past []usageRecordRow
	if err := s.q(ctx).Where("audit_id > ?", last).Order("audit_id").Limit(1).Find(&past).Error; err != nil {
		return fmt.Errorf("store: audit usage marks: %w", err)
	}
	if len(past) > 0 {
		return &TamperError{Seq: last + 1, Why: fmt.Sprintf("is missing: usage record %d is marked with entry %d", past[0].ID, *past[0].AuditID)}
	}
	var marked int64
	if err := s.q(ctx).Model(&usageRecordRow{}).Where("audit_id = 0").Count(&marked).Error; err != nil {
		return fmt.Errorf("store: audit usage marks: %w", err)
	}
	if marked != ownTx {
		return &TamperError{Seq: last + 1, Why: fmt.Sprintf("is missing: %d usage records are marked as audited in their own transaction, but %d entries name such records", marked, ownTx)}
	}
	return nil
}
