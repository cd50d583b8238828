package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm/clause"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/seal"
)

// Compile-time check: the store is the seal registry's repository.
var _ seal.Repository = (*Store)(nil)

type sealRow struct {
	ID           int64      `gorm:"column:id;primaryKey"`
	Name         string     `gorm:"column:name"`
	Kind         string     `gorm:"column:kind"`
	DepartmentID int64      `gorm:"column:department_id"`
	State        string     `gorm:"column:state"`
	Types        string     `gorm:"column:types"` // JSON array of type codes
	Reason       string     `gorm:"column:reason"`
	CertID       *int64     `gorm:"column:cert_id"`
	ActivatedAt  *time.Time `gorm:"column:activated_at"`
	CancelledAt  *time.Time `gorm:"column:cancelled_at"`
	LostAt       *time.Time `gorm:"column:lost_at"`
	CreatedAt    time.Time  `gorm:"column:created_at"`
	UpdatedAt    time.Time  `gorm:"column:updated_at"`
}

func (sealRow) TableName() string { return "seals" }

type sealCertRow struct {
	ID        int64     `gorm:"column:id;primaryKey"`
	SealID    int64     `gorm:"column:seal_id"`
	DER       []byte    `gorm:"column:der"`
	Serial    string    `gorm:"column:serial"`
	NotBefore time.Time `gorm:"column:not_before"`
	NotAfter  time.Time `gorm:"column:not_after"`
	ESeal     []byte    `gorm:"column:eseal"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

func (sealCertRow) TableName() string { return "seal_certificates" }

// sealView is a seal joined with its department's name and its current
// certificate (all NULL before issue).
type sealView struct {
	S          sealRow    `gorm:"embedded"`
	DName      string     `gorm:"column:d_name"`
	CSealID    *int64     `gorm:"column:c_seal_id"`
	CDER       []byte     `gorm:"column:c_der"`
	CSerial    *string    `gorm:"column:c_serial"`
	CNotBefore *time.Time `gorm:"column:c_not_before"`
	CNotAfter  *time.Time `gorm:"column:c_not_after"`
	CESeal     []byte     `gorm:"column:c_eseal"`
}

const sealSelect = `SELECT s.*, d.name AS d_name,
  c.seal_id AS c_seal_id, c.der AS c_der, c.serial AS c_serial, c.not_before AS c_not_before,
  c.not_after AS c_not_after, c.eseal AS c_eseal
FROM seals s
JOIN departments d ON d.id = s.department_id
LEFT JOIN seal_certificates c ON c.id = s.cert_id
`

func sealFromView(sv sealView) (seal.Seal, error) {
	v := sv.S
	var types []string
	if err := json.Unmarshal([]byte(v.Types), &types); err != nil {
		return seal.Seal{}, fmt.Errorf("store: seal %d types: %w", v.ID, err)
	}
	s := seal.Seal{
		ID: v.ID, Name: v.Name, Kind: seal.Kind(v.Kind), DepartmentID: v.DepartmentID, Department: sv.DName,
		State: seal.State(v.State), Types: types, Reason: v.Reason,
		ActivatedAt: utcPtr(v.ActivatedAt), CancelledAt: utcPtr(v.CancelledAt), LostAt: utcPtr(v.LostAt),
		CreatedAt: v.CreatedAt.UTC(), UpdatedAt: v.UpdatedAt.UTC(),
	}
	if v.CertID != nil && sv.CSealID != nil {
		s.Cert = &seal.Certificate{ID: *v.CertID, SealID: *sv.CSealID, DER: sv.CDER, Serial: *sv.CSerial,
			NotBefore: sv.CNotBefore.UTC(), NotAfter: sv.CNotAfter.UTC(), ESeal: sv.CESeal}
	}
	return s, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func utcOrNil(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := utc(*t)
	return &u
}

func (s *Store) seals(ctx context.Context, where string, args ...any) ([]seal.Seal, error) {
	var rows []sealView
	if err := s.q(ctx).Raw(sealSelect+where+" ORDER BY s.id", args...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: seals: %w", err)
	}
	out := make([]seal.Seal, 0, len(rows))
	for _, r := range rows {
		se, err := sealFromView(r)
		if err != nil {
			return nil, err
		}
		out = append(out, se)
	}
	return out, nil
}

// Seal implements seal.Repository.
func (s *Store) Seal(ctx context.Context, id int64) (seal.Seal, error) {
	out, err := s.seals(ctx, "WHERE s.id = ?", id)
	if err != nil {
		return seal.Seal{}, err
	}
	if len(out) == 0 {
		return seal.Seal{}, fmt.Errorf("store: seal %d: %w", id, seal.ErrNotFound)
	}
	return out[0], nil
}

// Seals implements seal.Repository.
func (s *Store) Seals(ctx context.Context) ([]seal.Seal, error) { return s.seals(ctx, "") }

// SigningSeals implements seal.Repository.
func (s *Store) SigningSeals(ctx context.Context, departmentID int64) ([]seal.Seal, error) {
	return s.seals(ctx, "WHERE s.department_id = ? AND s.state IN ?", departmentID,
		[]string{string(seal.StateActive), string(seal.StateRenewed)})
}

// Certificate implements seal.Repository.
func (s *Store) Certificate(ctx context.Context, id int64) (seal.Certificate, error) {
	var r sealCertRow
	if err := s.q(ctx).Where("id = ?", id).First(&r).Error; err != nil {
		return seal.Certificate{}, fmt.Errorf("store: seal certificate %d: %w", id, mapErr(err, seal.ErrNotFound))
	}
	return seal.Certificate{ID: r.ID, SealID: r.SealID, DER: r.DER, Serial: r.Serial,
		NotBefore: r.NotBefore.UTC(), NotAfter: r.NotAfter.UTC(), ESeal: r.ESeal}, nil
}

// CreateSeal implements seal.Repository: the seal and its audit event in
// one transaction.
func (s *Store) CreateSeal(ctx context.Context, se seal.Seal, ev audit.Event) (seal.Seal, error) {
	types := se.Types
	if types == nil {
		types = []string{}
	}
	tj, err := json.Marshal(types)
	if err != nil {
		return seal.Seal{}, err
	}
	var id int64
	err = s.InTx(ctx, func(tx *Store) error {
		r := sealRow{Name: se.Name, Kind: string(se.Kind), DepartmentID: se.DepartmentID, State: string(se.State),
			Types: string(tj), Reason: se.Reason, CreatedAt: utc(se.CreatedAt), UpdatedAt: utc(se.UpdatedAt)}
		if err := tx.q(ctx).Create(&r).Error; err != nil {
			return fmt.Errorf("store: create seal: %w", err)
		}
		id = r.ID
		ev.Object = "seal:" + strconv.FormatInt(r.ID, 10)
		_, err := tx.AppendAudit(ctx, ev)
		return err
	})
	if err != nil {
		return seal.Seal{}, err
	}
	return s.Seal(ctx, id)
}

// UpdateSeal implements seal.Repository: the seal row is locked, fn
// changes it, and the new state, a new certificate and the audit event
// commit together.
func (s *Store) UpdateSeal(ctx context.Context, id int64, fn func(*seal.Seal) (seal.Change, error)) (seal.Seal, error) {
	err := s.InTx(ctx, func(tx *Store) error {
		q := tx.q(ctx)
		if tx.driver == DriverMySQL {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var locked sealRow
		if err := q.Where("id = ?", id).First(&locked).Error; err != nil {
			return fmt.Errorf("store: lock seal %d: %w", id, mapErr(err, seal.ErrNotFound))
		}
		cur, err := tx.Seal(ctx, id)
		if err != nil {
			return err
		}
		ch, err := fn(&cur)
		if err != nil {
			return err
		}
		updates := map[string]any{
			"state": string(cur.State), "reason": cur.Reason, "updated_at": utc(cur.UpdatedAt),
			"activated_at": utcOrNil(cur.ActivatedAt), "cancelled_at": utcOrNil(cur.CancelledAt), "lost_at": utcOrNil(cur.LostAt),
		}
		if c := ch.NewCert; c != nil {
			r := sealCertRow{SealID: id, DER: c.DER, Serial: c.Serial, NotBefore: utc(c.NotBefore), NotAfter: utc(c.NotAfter),
				ESeal: c.ESeal, CreatedAt: utc(time.Now())}
			if err := tx.q(ctx).Create(&r).Error; err != nil {
				return fmt.Errorf("store: seal %d certificate: %w", id, err)
			}
			updates["cert_id"] = r.ID
		}
		if err := tx.q(ctx).Model(&sealRow{}).Where("id = ?", id).Updates(updates).Error; err != nil {
			return fmt.Errorf("store: update seal %d: %w", id, err)
		}
		_, err = tx.AppendAudit(ctx, ch.Audit)
		return err
	})
	if err != nil {
		return seal.Seal{}, err
	}
	return s.Seal(ctx, id)
}
