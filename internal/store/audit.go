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

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/yangcheng-county/elicence/internal/audit"
)

// genesisHash is the prev_hash of the first audit event.
var genesisHash = strings.Repeat("0", 64)

// ErrAuditTampered is returned by VerifyAudit when the chain does not
// verify: a row was edited, removed or inserted outside AppendAudit, or a
// chained usage record no longer matches its entry.
var ErrAuditTampered = audit.ErrTampered

// TamperError names the first chain position that does not verify; the
// type lives in the domain so the console's chain check can read it.
type TamperError = audit.TamperError

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

// VerifyAudit walks the whole chain and returns an error wrapping
// ErrAuditTampered at the first event whose hash, link or position is
// wrong, when the head does not point at the last event, or when a chained
// usage record no longer matches its entry (verifyUsage). It returns the
// number of events checked. Usage records not chained yet are not counted
// (PendingAudit). Deleting the newest events and rewinding the head is not
// detectable from inside the database, nor is a table rewritten with every
// hash recomputed: the signed checkpoints exported outside it close that
// gap (CheckpointAudit, docs/SECURITY.md "Audit checkpoints").
func (s *Store) VerifyAudit(ctx context.Context) (int64, error) {
	return s.VerifyAuditProgress(ctx, nil)
}

// verifyBatch is how many entries VerifyAuditProgress reads at a time.
const verifyBatch = 1000

// VerifyAuditProgress is VerifyAudit calling progress (when not nil) after
// every batch with the entries checked so far and the chain's length as
// the head last gave it. It is safe on a live chain: the head is read
// before the entries it must match, so an event appended meanwhile is
// walked on to, never taken for a break. The walk ends when the head read
// before a walk's last batch points at the entry it ended on.
func (s *Store) VerifyAuditProgress(ctx context.Context, progress func(checked, total int64)) (int64, error) {
	prevID, prevHash := int64(0), genesisHash
	var ownTx int64
	for {
		var head auditHeadRow
		if err := s.q(ctx).Where("id = 1").First(&head).Error; err != nil {
			return prevID, fmt.Errorf("store: audit head: %w", err)
		}
		if head.LastID < prevID {
			// Every append moves the head in its own transaction, so an
			// entry already read lies beyond the head only if rows were
			// inserted or the head rewound by hand.
			return prevID, &TamperError{Seq: head.LastID + 1, Why: fmt.Sprintf("the head points at %d, the chain ends at %d or later", head.LastID, prevID)}
		}
		for {
			evs, err := s.AuditEvents(ctx, prevID, verifyBatch)
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
			// The entries that link are checked against their usage
			// records before a break after them is reported: the first
			// bad entry wins.
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
			if progress != nil {
				progress(prevID, max(head.LastID, prevID))
			}
			if len(evs) < verifyBatch {
				break
			}
		}
		switch {
		case prevID < head.LastID:
			// The head was read first: every entry up to it had committed.
			return prevID, &TamperError{Seq: prevID + 1, Why: fmt.Sprintf("the head points at %d, the chain ends at %d", head.LastID, prevID)}
		case prevID == head.LastID && prevHash != head.LastHash:
			return prevID, &TamperError{Seq: prevID, Why: "is not the entry the head points at"}
		case prevID == head.LastID:
			if err := s.verifyUsageMarks(ctx, prevID, ownTx); err != nil {
				return prevID, err
			}
			return prevID, nil
		}
		// Entries were appended during the walk: read the head again.
	}
}

// SearchAudit returns the entries q selects, newest first (the console's
// audit viewer). Each filter alone reads an index in id order: actor and
// action (migration 0021), object (ix_audit_events_object), time
// (ix_audit_events_at).
func (s *Store) SearchAudit(ctx context.Context, q audit.Query) ([]audit.Entry, error) {
	var rows []auditEventRow
	if err := s.auditSearch(s.q(ctx), q).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: search audit: %w", err)
	}
	return entriesFromRows(rows), nil
}

// auditSearch is SearchAudit's query on db.
func (s *Store) auditSearch(db *gorm.DB, q audit.Query) *gorm.DB {
	q = q.Normalise()
	db = db.Model(&auditEventRow{})
	if q.Actor != "" {
		db = db.Where("actor = ?", q.Actor)
	}
	if q.Action != "" {
		db = db.Where("action = ?", q.Action)
	}
	if len(q.Objects) > 0 {
		db = db.Where("object IN ?", q.Objects)
	}
	if !q.From.IsZero() {
		db = db.Where("at >= ?", utc(q.From))
	}
	if !q.To.IsZero() {
		db = db.Where("at < ?", utc(q.To))
	}
	if q.Before > 0 {
		db = db.Where("id < ?", q.Before)
	}
	if q.DepartmentID > 0 {
		db = db.Where(s.auditScope(), auditScopeArgs(q.DepartmentID)...)
	}
	return db.Order("id DESC").Limit(q.Limit)
}

// concat joins two SQL string expressions in the database's own way.
func (s *Store) concat(a, b string) string {
	if s.driver == DriverMySQL {
		return "CONCAT(" + a + ", " + b + ")"
	}
	return a + " || " + b
}

// auditScope is the condition that keeps entries to one department's
// (docs/CONSOLE.md, "Audit"): about its objects — the licences it issued,
// the department itself, its staff and officers — or made by its staff or
// officers, matched by the names the appenders write (licence:<id>,
// department:<id> or department:<uscc>, staff:<username>,
// officer:<openid>). Each subquery reads one department's rows by index.
func (s *Store) auditScope() string {
	people := "SELECT " + s.concat("'staff:'", "username") + " FROM staff WHERE department_id = ?" +
		" UNION ALL SELECT " + s.concat("'officer:'", "openid") + " FROM officers WHERE department_id = ?"
	return "(actor IN (" + people + ") OR object IN (" + people +
		" UNION ALL SELECT " + s.concat("'licence:'", "id") + " FROM licences WHERE issuer_id = ?" +
		" UNION ALL SELECT " + s.concat("'department:'", "uscc") + " FROM departments WHERE id = ?" +
		" UNION ALL SELECT " + s.concat("'department:'", "id") + " FROM departments WHERE id = ?))"
}

// auditScopeArgs are auditScope's arguments for department id.
func auditScopeArgs(id int64) []any { return []any{id, id, id, id, id, id, id} }
