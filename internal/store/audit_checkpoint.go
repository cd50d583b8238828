package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/yangcheng-county/elicence/internal/audit"
)

// Compile-time check that Store keeps the chain's checkpoints.
var _ audit.CheckpointStore = (*Store)(nil)

// CheckpointAudit implements audit.CheckpointStore. It looks without a
// lock first, so a tick with nothing due never queues on the head; when
// one is due it takes the head lock, looks again, and signs, exports and
// records the checkpoint before the lock is released, so the export's
// lines are in chain order and no head is checkpointed twice.
func (s *Store) CheckpointAudit(ctx context.Context, p audit.CheckpointPolicy, now time.Time,
	mk func(ctx context.Context, count int64, hash string, at time.Time) (audit.Checkpoint, error),
	export func(audit.Checkpoint) error) (audit.Checkpoint, bool, error) {
	due := func(st *Store, head auditHeadRow) (bool, error) {
		last, err := st.lastCheckpoint(ctx)
		if err != nil {
			return false, err
		}
		return p.Due(last, head.LastID, now), nil
	}
	var head auditHeadRow
	if err := s.q(ctx).Where("id = 1").First(&head).Error; err != nil {
		return audit.Checkpoint{}, false, fmt.Errorf("store: audit checkpoint: %w", err)
	}
	if ok, err := due(s, head); err != nil || !ok {
		return audit.Checkpoint{}, false, err
	}
	var cp audit.Checkpoint
	made := false
	err := s.InTx(ctx, func(tx *Store) error {
		head, err := tx.lockAuditHead(ctx)
		if err != nil {
			return err
		}
		if ok, err := due(tx, head); err != nil || !ok {
			return err
		}
		if cp, err = mk(ctx, head.LastID, head.LastHash, now); err != nil {
			return err
		}
		// The export comes first: a checkpoint in the file and not in the
		// table still states the chain truly, the reverse would not help.
		if err := export(cp); err != nil {
			return err
		}
		made = true
		return tx.q(ctx).Create(&auditCheckpointRow{Count: cp.Count, Hash: cp.Hash, At: utc(cp.At), SealID: cp.SealID, Cert: cp.Cert, Sig: cp.Sig}).Error
	})
	if err != nil {
		return audit.Checkpoint{}, false, fmt.Errorf("store: audit checkpoint: %w", err)
	}
	return cp, made, nil
}

// lastCheckpoint is the newest checkpoint recorded, zero if none.
func (s *Store) lastCheckpoint(ctx context.Context) (audit.Checkpoint, error) {
	var r auditCheckpointRow
	err := s.q(ctx).Order("count DESC").Limit(1).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return audit.Checkpoint{}, nil
	}
	if err != nil {
		return audit.Checkpoint{}, fmt.Errorf("last checkpoint: %w", err)
	}
	return audit.Checkpoint{Count: r.Count, Hash: r.Hash, At: r.At.UTC(), SealID: r.SealID, Cert: r.Cert, Sig: r.Sig}, nil
}

// AuditHashAt returns the hash of chain entry seq; ok is false when the
// chain has no such entry.
func (s *Store) AuditHashAt(ctx context.Context, seq int64) (hash string, ok bool, err error) {
	var r auditEventRow
	err = s.q(ctx).Select("hash").Where("id = ?", seq).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: audit entry %d: %w", seq, err)
	}
	return r.Hash, true, nil
}
