package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm/clause"

	"github.com/yangcheng-county/elicence/internal/audit"
)

// genesisHash is the prev_hash of the first audit event.
var genesisHash = strings.Repeat("0", 64)

// ErrAuditTampered is returned by VerifyAudit when the chain does not
// verify: a row was edited, removed or inserted outside AppendAudit, or a
// chained usage record no longer matches its entry.
var ErrAuditTampered = errors.New("store: audit chain broken")

// Compile-time check that Store is the domain's audit appender.
var _ audit.Appender = (*Store)(nil)

// auditHash commits to every field of the event and to its predecessor.
// JSON of a fixed array is unambiguous: no field can bleed into the next.
func auditHash(e audit.Entry) string {
	b, _ := json.Marshal([]any{"v1", e.Seq, e.At.UTC().Format("2006-01-02T15:04:05.000000Z"), e.Actor, e.Action, e.Object, e.Detail, e.PrevHash})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// AppendAudit implements audit.Appender: it adds ev to the hash chain and
// returns the entry with its sequence number and hashes. Call it on the
// Store given by InTx so the event commits with the change it records;
// outside a transaction it opens its own. Appenders are serialised on the
// chain's head row, so the chain never forks.
func (s *Store) AppendAudit(ctx context.Context, ev audit.Event) (audit.Entry, error) {
	if !s.inTx {
		var out audit.Entry
		err := s.InTx(ctx, func(tx *Store) error {
			var err error
			out, err = tx.AppendAudit(ctx, ev)
			return err
		})
		return out, err
	}
	if ev.Action == "" || ev.Actor == "" {
		return audit.Entry{}, errors.New("store: append audit: actor and action are required")
	}
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	head, err := s.lockAuditHead(ctx)
	if err != nil {
		return audit.Entry{}, fmt.Errorf("store: append audit: %w", err)
	}
	es, err := s.extendChain(ctx, head, []audit.Event{ev})
	if err != nil {
		return audit.Entry{}, fmt.Errorf("store: append audit: %w", err)
	}
	return es[0], nil
}

// lockAuditHead reads the chain's head row under a row lock, which every
// writer of the chain takes first: it serialises them for the rest of
// their transaction.
func (s *Store) lockAuditHead(ctx context.Context) (auditHeadRow, error) {
	var head auditHeadRow
	if err := s.q(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = 1").First(&head).Error; err != nil {
		return auditHeadRow{}, fmt.Errorf("read head: %w", err)
	}
	return head, nil
}

// extendChain appends evs after head, which the transaction has locked, in
// one INSERT, and moves the head to the last of them.
func (s *Store) extendChain(ctx context.Context, head auditHeadRow, evs []audit.Event) ([]audit.Entry, error) {
	entries := make([]audit.Entry, len(evs))
	rows := make([]auditEventRow, len(evs))
	prevID, prevHash := head.LastID, head.LastHash
	for i, ev := range evs {
		ev.At = utc(ev.At)
		e := audit.Entry{Seq: prevID + 1, Event: ev, PrevHash: prevHash}
		e.Hash = auditHash(e)
		entries[i] = e
		rows[i] = auditEventRow{ID: e.Seq, At: e.At, Actor: e.Actor, Action: e.Action, Object: e.Object, Detail: e.Detail, PrevHash: e.PrevHash, Hash: e.Hash}
		prevID, prevHash = e.Seq, e.Hash
	}
	if err := s.q(ctx).Create(&rows).Error; err != nil {
		return nil, err
	}
	res := s.q(ctx).Model(&auditHeadRow{}).Where("id = 1 AND last_id = ?", head.LastID).
		Updates(map[string]any{"last_id": prevID, "last_hash": prevHash})
	if res.Error != nil {
		return nil, fmt.Errorf("move head: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return nil, errors.New("head moved concurrently")
	}
	return entries, nil
}

// AuditEvents returns events with id > afterID in chain order, at most
// limit (default 100, at most 1000).
func (s *Store) AuditEvents(ctx context.Context, afterID int64, limit int) ([]audit.Entry, error) {
	if limit <= 0 {
		limit = 100
	}
	if limit > 1000 {
		limit = 1000
	}
	var rows []auditEventRow
	if err := s.q(ctx).Where("id > ?", afterID).Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: audit events: %w", err)
	}
	return entriesFromRows(rows), nil
}

func entriesFromRows(rows []auditEventRow) []audit.Entry {
	out := make([]audit.Entry, len(rows))
	for i, r := range rows {
		out[i] = audit.Entry{Seq: r.ID, Event: audit.Event{At: r.At.UTC(), Actor: r.Actor, Action: r.Action, Object: r.Object, Detail: r.Detail},
			PrevHash: r.PrevHash, Hash: r.Hash}
	}
	return out
}

// auditPage is how many entries VerifyAudit reads at a time.
const auditPage = 1000

// VerifyAudit walks the whole chain and returns an error wrapping
// ErrAuditTampered at the first event whose hash, link or position is
// wrong, when the head does not point at the last event, or when a chained
// usage record no longer matches its entry (verifyUsage). It returns the
// number of events checked. Usage records not chained yet are not counted
// (PendingAudit). Deleting the newest events and rewinding the head is not
// detectable from inside the database; exporting the head hash elsewhere
// from time to time closes that gap.
func (s *Store) VerifyAudit(ctx context.Context) (int64, error) {
	prevID, prevHash := int64(0), genesisHash
	var ownTx int64
	for {
		evs, err := s.AuditEvents(ctx, prevID, auditPage)
		if err != nil {
			return prevID, err
		}
		before := prevID
		var broken *TamperError
		for i, e := range evs {
			switch {
			case e.Seq != prevID+1:
				broken = &TamperError{Seq: prevID + 1, Why: fmt.Sprintf("missing: the next entry is %d", e.Seq)}
			case e.PrevHash != prevHash:
				broken = &TamperError{Seq: e.Seq, Why: "does not link to its predecessor"}
			case auditHash(e) != e.Hash:
				broken = &TamperError{Seq: e.Seq, Why: "content does not match its hash"}
			}
			if broken != nil {
				evs = evs[:i]
				break
			}
			prevID, prevHash = e.Seq, e.Hash
		}
		// The entries that link are checked against their usage records
		// before a break after them is reported: the first bad entry wins.
		n, err := s.verifyUsage(ctx, evs)
		var te *TamperError
		switch {
		case errors.As(err, &te):
			return te.Seq - 1, err
		case err != nil:
			return before, err
		case broken != nil:
			return prevID, broken
		}
		ownTx += n
		if len(evs) < auditPage {
			break
		}
	}
	var head auditHeadRow
	if err := s.q(ctx).Where("id = 1").First(&head).Error; err != nil {
		return prevID, fmt.Errorf("store: audit head: %w", err)
	}
	if head.LastID != prevID || head.LastHash != prevHash {
		return prevID, &TamperError{Seq: prevID + 1, Why: fmt.Sprintf("the head points at %d, the chain ends at %d", head.LastID, prevID)}
	}
	if err := s.verifyUsageMarks(ctx, prevID, ownTx); err != nil {
		return prevID, err
	}
	return prevID, nil
}

// TamperError names the first chain position that does not verify. It
// wraps ErrAuditTampered.
type TamperError struct {
	Seq int64
	Why string
}

func (e *TamperError) Error() string {
	return fmt.Sprintf("store: audit entry %d %s: %s", e.Seq, e.Why, ErrAuditTampered)
}

func (e *TamperError) Unwrap() error { return ErrAuditTampered }
