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
)

// genesisHash is the prev_hash of the first audit event.
var genesisHash = strings.Repeat("0", 64)

// ErrAuditTampered is returned by VerifyAudit when the chain does not
// verify: a row was edited, removed or inserted outside AppendAudit.
var ErrAuditTampered = errors.New("store: audit chain broken")

// AuditEvent is one tamper-evident audit record (e-licence rules: access
// and operation logs kept at least 3 years). Detail must not hold a full
// ID number, a token or a secret: the chain makes it impossible to scrub
// later.
type AuditEvent struct {
	ID       int64
	At       time.Time
	Actor    string // who: "officer:<openid>", "system", "admin:<name>"
	Action   string // what: "licence.suspend", "officer.add", …
	Object   string // on what: "licence:12", "department:<uscc>"
	Detail   string
	PrevHash string
	Hash     string
}

// auditHash commits to every field of the event and to its predecessor.
// JSON of a fixed array is unambiguous: no field can bleed into the next.
func auditHash(e AuditEvent) string {
	b, _ := json.Marshal([]any{"v1", e.ID, e.At.UTC().Format("2006-01-02T15:04:05.000000Z"), e.Actor, e.Action, e.Object, e.Detail, e.PrevHash})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// AppendAudit adds ev to the hash chain and returns it with its id and
// hashes. Call it on the Store given by InTx so the event commits with the
// change it records; outside a transaction it opens its own. Appenders are
// serialised on the chain's head row, so the chain never forks.
func (s *Store) AppendAudit(ctx context.Context, ev AuditEvent) (AuditEvent, error) {
	if !s.inTx {
		var out AuditEvent
		err := s.InTx(ctx, func(tx *Store) error {
			var err error
			out, err = tx.AppendAudit(ctx, ev)
			return err
		})
		return out, err
	}
	if ev.Action == "" || ev.Actor == "" {
		return AuditEvent{}, errors.New("store: append audit: actor and action are required")
	}
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	var head auditHeadRow
	if err := s.q(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = 1").First(&head).Error; err != nil {
		return AuditEvent{}, fmt.Errorf("store: append audit: read head: %w", err)
	}
	ev.ID = head.LastID + 1
	ev.At = utc(ev.At)
	ev.PrevHash = head.LastHash
	ev.Hash = auditHash(ev)
	r := auditEventRow{ID: ev.ID, At: ev.At, Actor: ev.Actor, Action: ev.Action, Object: ev.Object, Detail: ev.Detail, PrevHash: ev.PrevHash, Hash: ev.Hash}
	if err := s.q(ctx).Create(&r).Error; err != nil {
		return AuditEvent{}, fmt.Errorf("store: append audit: %w", err)
	}
	res := s.q(ctx).Model(&auditHeadRow{}).Where("id = 1 AND last_id = ?", head.LastID).
		Updates(map[string]any{"last_id": ev.ID, "last_hash": ev.Hash})
	if res.Error != nil {
		return AuditEvent{}, fmt.Errorf("store: append audit: move head: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return AuditEvent{}, errors.New("store: append audit: head moved concurrently")
	}
	return ev, nil
}

// AuditEvents returns events with id > afterID in chain order, at most
// limit (default 100, at most 1000).
func (s *Store) AuditEvents(ctx context.Context, afterID int64, limit int) ([]AuditEvent, error) {
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
	out := make([]AuditEvent, len(rows))
	for i, r := range rows {
		out[i] = AuditEvent{ID: r.ID, At: r.At.UTC(), Actor: r.Actor, Action: r.Action, Object: r.Object, Detail: r.Detail, PrevHash: r.PrevHash, Hash: r.Hash}
	}
	return out, nil
}

// VerifyAudit walks the whole chain and returns an error wrapping
// ErrAuditTampered at the first event whose hash, link or position is
// wrong, or when the head does not point at the last event. It returns the
// number of events checked. Deleting the newest events and rewinding the
// head is not detectable from inside the database; exporting the head hash
// elsewhere from time to time closes that gap.
func (s *Store) VerifyAudit(ctx context.Context) (int64, error) {
	prevID, prevHash := int64(0), genesisHash
	for {
		evs, err := s.AuditEvents(ctx, prevID, 1000)
		if err != nil {
			return prevID, err
		}
		for _, e := range evs {
			switch {
			case e.ID != prevID+1:
				return prevID, fmt.Errorf("store: audit event %d follows %d: %w", e.ID, prevID, ErrAuditTampered)
			case e.PrevHash != prevHash:
				return prevID, fmt.Errorf("store: audit event %d does not link to its predecessor: %w", e.ID, ErrAuditTampered)
			case auditHash(e) != e.Hash:
				return prevID, fmt.Errorf("store: audit event %d content does not match its hash: %w", e.ID, ErrAuditTampered)
			}
			prevID, prevHash = e.ID, e.Hash
		}
		if len(evs) < 1000 {
			break
		}
	}
	var head auditHeadRow
	if err := s.q(ctx).Where("id = 1").First(&head).Error; err != nil {
		return prevID, fmt.Errorf("store: audit head: %w", err)
	}
	if head.LastID != prevID || head.LastHash != prevHash {
		return prevID, fmt.Errorf("store: audit head points at %d, chain ends at %d: %w", head.LastID, prevID, ErrAuditTampered)
	}
	return prevID, nil
}
