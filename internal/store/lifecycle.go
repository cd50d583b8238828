package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm/clause"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/seal"
)

// Compile-time check: the store is the licence write side.
var _ licence.Writer = (*Store)(nil)

// IssueLicence implements licence.Writer in one transaction: holder matched
// or created, no current licence of the same type and number (the check
// locks the number's index range on MySQL; SQLite's immediate transactions
// serialise writers anyway), the licence inserted with its history line and
// audit event.
func (s *Store) IssueLicence(ctx context.Context, h licence.Holder, typeCode, number string, fn func(licence.Holder) (licence.Licence, licence.Change, error)) (licence.Licence, error) {
	var out licence.Licence
	err := s.InTx(ctx, func(tx *Store) error {
		holder, err := tx.HolderByIDNumber(ctx, h.IDType, h.IDNumber)
		if errors.Is(err, licence.ErrNotFound) {
			holder, err = tx.CreateHolder(ctx, h)
		}
		if err != nil {
			return err
		}
		var n int64
		if err := tx.q(ctx).Model(&licenceRow{}).Clauses(clause.Locking{Strength: "UPDATE"}).
			Where("type_code = ? AND number_idx IN ? AND superseded_by IS NULL", typeCode, tx.licenceNumberIndexes(typeCode, number)).
			Count(&n).Error; err != nil {
			return fmt.Errorf("store: issue licence: %w", err)
		}
		if n > 0 {
			return licence.ErrDuplicate
		}
		l, ch, err := fn(holder)
		if err != nil {
			return err
		}
		if out, err = tx.CreateLicence(ctx, l); err != nil {
			return err
		}
		return tx.record(ctx, out, ch)
	})
	return out, err
}

// UpdateLicence implements licence.Writer: the row is locked, fn changes
// it, status and annotations are saved with fn's history line and audit
// event. Concurrent changes to one licence queue on the lock, so none is
// lost.
func (s *Store) UpdateLicence(ctx context.Context, id int64, fn func(*licence.Licence) (licence.Change, error)) (licence.Licence, error) {
	var out licence.Licence
	err := s.InTx(ctx, func(tx *Store) error {
		l, err := tx.lockLicence(ctx, id)
		if err != nil {
			return err
		}
		ch, err := fn(&l)
		if err != nil {
			return err
		}
		aj, err := json.Marshal(nonNil(l.Annotations))
		if err != nil {
			return err
		}
		if err := tx.q(ctx).Model(&licenceRow{}).Where("id = ?", id).Updates(map[string]any{
			"status": string(l.Status), "annotations": string(aj), "updated_at": utc(time.Now()),
		}).Error; err != nil {
			return fmt.Errorf("store: update licence %d: %w", id, err)
		}
		out = l
		return tx.record(ctx, l, ch)
	})
	return out, err
}

// ReviseLicence implements licence.Writer: the old version is locked, the
// next one inserted in its lineage, and the old one marked superseded.
func (s *Store) ReviseLicence(ctx context.Context, id int64, fn func(licence.Licence) (licence.Licence, licence.Change, error)) (licence.Licence, error) {
	var out licence.Licence
	err := s.InTx(ctx, func(tx *Store) error {
		old, err := tx.lockLicence(ctx, id)
		if err != nil {
			return err
		}
		next, ch, err := fn(old)
		if err != nil {
			return err
		}
		next.LineageID = old.LineageID
		if out, err = tx.createLicence(ctx, next, ch.History.Action); err != nil {
			return err
		}
		if err := tx.q(ctx).Model(&licenceRow{}).Where("id = ?", id).Updates(map[string]any{
			"status": string(licence.StatusSuperseded), "superseded_by": out.ID, "updated_at": utc(time.Now()),
		}).Error; err != nil {
			return fmt.Errorf("store: supersede licence %d: %w", id, err)
		}
		return tx.record(ctx, out, ch)
	})
	return out, err
}

// lockLicence reads a licence under a row lock (FOR UPDATE on MySQL; the
// immediate transaction holds SQLite's write lock already).
func (s *Store) lockLicence(ctx context.Context, id int64) (licence.Licence, error) {
	var r licenceRow
	q := s.q(ctx)
	if s.driver == DriverMySQL {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.Where("id = ?", id).First(&r).Error; err != nil {
		return licence.Licence{}, fmt.Errorf("store: lock licence %d: %w", id, mapErr(err, licence.ErrNotFound))
	}
	return s.licenceFromRow(r)
}

// record writes a change's history line, its notices to the holder and
// its audit event for licence l.
func (s *Store) record(ctx context.Context, l licence.Licence, ch licence.Change) error {
	h := ch.History
	aj, err := json.Marshal(nonNil(h.Annotations))
	if err != nil {
		return err
	}
	lineage := l.LineageID
	if lineage == 0 {
		lineage = l.ID
	}
	row := licenceEventRow{
		LineageID: lineage, LicenceID: l.ID, Version: l.Version, Action: h.Action,
		FromStatus: string(h.FromStatus), ToStatus: string(h.ToStatus), Annotations: string(aj),
		Reason: h.Reason, Actor: h.Actor, EffectiveAt: utc(h.EffectiveAt), At: utc(h.At),
	}
	if err := s.q(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: licence %d history: %w", l.ID, err)
	}
	if ch.Notify {
		if err := s.enqueueNotices(ctx, l, lineage, row.ID, h); err != nil {
			return err
		}
	}
	ev := ch.Audit
	ev.Object = "licence:" + strconv.FormatInt(l.ID, 10)
	_, err = s.AppendAudit(ctx, ev)
	return err
}

// History implements licence.Writer: the events of the lineage of licence
// id, oldest first.
func (s *Store) History(ctx context.Context, id int64) ([]licence.HistoryEntry, error) {
	var rows []licenceEventRow
	err := s.q(ctx).Raw(`SELECT e.* FROM licence_events e
WHERE e.lineage_id = (SELECT COALESCE(l.lineage_id, l.id) FROM licences l WHERE l.id = ?)
ORDER BY e.id`, id).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: history of licence %d: %w", id, err)
	}
	out := make([]licence.HistoryEntry, 0, len(rows))
	for _, r := range rows {
		var ann []licence.Annotation
		if err := json.Unmarshal([]byte(r.Annotations), &ann); err != nil {
			return nil, fmt.Errorf("store: history of licence %d: %w", id, err)
		}
		out = append(out, licence.HistoryEntry{
			LicenceID: r.LicenceID, Version: r.Version, Action: r.Action,
			FromStatus: licence.Status(r.FromStatus), ToStatus: licence.Status(r.ToStatus), Annotations: ann,
			Reason: r.Reason, Actor: r.Actor, EffectiveAt: r.EffectiveAt.UTC(), At: r.At.UTC(),
		})
	}
	return out, nil
}

// CurrentByNumber implements licence.Writer.
func (s *Store) CurrentByNumber(ctx context.Context, typeCode, number string) ([]licence.Licence, error) {
	var rows []licenceRow
	if err := s.q(ctx).Where("type_code = ? AND number_idx IN ? AND superseded_by IS NULL", typeCode, s.licenceNumberIndexes(typeCode, number)).
		Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: licences by number: %w", err)
	}
	return s.licencesFromRows(rows)
}

func nonNil(a []licence.Annotation) []licence.Annotation {
	if a == nil {
		return []licence.Annotation{}
	}
	return a
}

// SignUnsigned signs the current versions that carry no signature yet
// (licences from before seals, the demo data), each in its own
// transaction with a history line and an audit event, and returns how many
// it signed. A version whose issuer has no seal for its type is left
// unsigned and counted in skipped: it stays red at verification until its
// department has one and this runs again.
func (s *Store) SignUnsigned(ctx context.Context, signer licence.VersionSigner, actor string, now time.Time) (signed, skipped int, err error) {
	var ids []int64
	if err := s.q(ctx).Model(&licenceRow{}).Where("signature = '' AND superseded_by IS NULL").Order("id").Pluck("id", &ids).Error; err != nil {
		return 0, 0, fmt.Errorf("store: unsigned licences: %w", err)
	}
	for _, id := range ids {
		v, err := s.View(ctx, id)
		if err != nil {
			return signed, skipped, err
		}
		sign, err := signer.SignerFor(ctx, v.Issuer, v.TypeCode)
		if errors.Is(err, seal.ErrNoSigningSeal) || errors.Is(err, seal.ErrNotApproved) {
			skipped++
			continue
		}
		if err != nil {
			return signed, skipped, err
		}
		sig, err := sign(v.Licence, v.Holder)
		if err != nil {
			return signed, skipped, err
		}
		err = s.InTx(ctx, func(tx *Store) error {
			r := licenceRow{}.withSignature(sig)
			res := tx.q(ctx).Model(&licenceRow{}).Where("id = ? AND signature = ''", id).Updates(map[string]any{
				"seal": r.Seal, "seal_id": r.SealID, "seal_cert_id": r.SealCertID, "signed_at": r.SignedAt, "signature": r.Signature,
			})
			if res.Error != nil {
				return fmt.Errorf("store: sign licence %d: %w", id, res.Error)
			}
			if res.RowsAffected == 0 {
				return nil // signed meanwhile by another run
			}
			signed++
			l := v.Licence
			l.Signature = sig
			st := licence.EffectiveStatus(l, now)
			return tx.record(ctx, l, licence.Change{
				History: licence.HistoryEntry{Version: l.Version, Action: licence.ActionSign, FromStatus: st, ToStatus: st,
					Annotations: l.Annotations, Actor: actor, EffectiveAt: now, At: now},
				Audit: audit.Event{At: now, Actor: actor, Action: "licence." + licence.ActionSign,
					Detail: fmt.Sprintf("identifier=%s version=%d seal=%d", l.Identifier, l.Version, sig.SealID)},
			})
		})
		if err != nil {
			return signed, skipped, err
		}
	}
	return signed, skipped, nil
}
