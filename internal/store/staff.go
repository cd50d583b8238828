package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/staff"
)

var _ staff.Repository = (*Store)(nil)

// staffRow is one console staff account; the TOTP secret is sealed.
type staffRow struct {
	ID              int64      `gorm:"column:id;primaryKey"`
	Username        string     `gorm:"column:username"`
	Role            string     `gorm:"column:role"`
	DepartmentID    *int64     `gorm:"column:department_id"`
	PasswordHash    string     `gorm:"column:password_hash"`
	TOTPSecretEnc   string     `gorm:"column:totp_secret_enc"`
	TOTPConfirmedAt *time.Time `gorm:"column:totp_confirmed_at"`
	DisabledAt      *time.Time `gorm:"column:disabled_at"`
	CreatedAt       time.Time  `gorm:"column:created_at"`
}

func (staffRow) TableName() string { return "staff" }

// staffTOTPField is the sealing context of a TOTP secret: bound to the
// username, so a secret copied onto another row does not decrypt.
func staffTOTPField(username string) string { return "staff.totp:" + username }

func (s *Store) memberFromRow(ctx context.Context, r staffRow) (staff.Member, error) {
	m := staff.Member{ID: r.ID, Username: r.Username, Role: staff.Role(r.Role), TOTPEnrolled: r.TOTPConfirmedAt != nil, CreatedAt: r.CreatedAt.UTC()}
	if r.DisabledAt != nil {
		t := r.DisabledAt.UTC()
		m.DisabledAt = &t
	}
	if r.DepartmentID != nil {
		d, err := s.Department(ctx, *r.DepartmentID)
		if err != nil {
			return staff.Member{}, fmt.Errorf("store: staff %s: %w", r.Username, err)
		}
		m.Department = d
	}
	return m, nil
}

// AddStaff implements staff.Repository: the account and its audit event
// commit together.
func (s *Store) AddStaff(ctx context.Context, m staff.Member, passwordHash string, ev audit.Event) (staff.Member, error) {
	r := staffRow{Username: m.Username, Role: string(m.Role), PasswordHash: passwordHash, CreatedAt: utc(m.CreatedAt)}
	if m.Department.ID != 0 {
		id := m.Department.ID
		r.DepartmentID = &id
	}
	err := s.InTx(ctx, func(tx *Store) error {
		if err := tx.q(ctx).Create(&r).Error; err != nil {
			if err = mapErr(err, staff.ErrNotFound); errors.Is(err, ErrDuplicate) {
				return staff.ErrUsernameTaken
			}
			return fmt.Errorf("store: add staff: %w", err)
		}
		_, err := tx.AppendAudit(ctx, ev)
		return err
	})
	if err != nil {
		return staff.Member{}, err
	}
	m.ID = r.ID
	return m, nil
}

// StaffByUsername implements staff.Repository.
func (s *Store) StaffByUsername(ctx context.Context, username string) (staff.Member, staff.Secrets, error) {
	var r staffRow
	if err := s.q(ctx).Where("username = ?", username).First(&r).Error; err != nil {
		return staff.Member{}, staff.Secrets{}, fmt.Errorf("store: staff by username: %w", mapErr(err, staff.ErrNotFound))
	}
	m, err := s.memberFromRow(ctx, r)
	if err != nil {
		return staff.Member{}, staff.Secrets{}, err
	}
	sec := staff.Secrets{PasswordHash: r.PasswordHash, TOTPConfirmed: r.TOTPConfirmedAt != nil}
	if r.TOTPSecretEnc != "" {
		if sec.TOTPSecret, err = s.sealer.Decrypt(staffTOTPField(r.Username), r.TOTPSecretEnc); err != nil {
			return staff.Member{}, staff.Secrets{}, fmt.Errorf("store: staff %s totp secret: %w", r.Username, err)
		}
	}
	return m, sec, nil
}

// Staff implements staff.Repository.
func (s *Store) Staff(ctx context.Context, id int64) (staff.Member, error) {
	var r staffRow
	if err := s.q(ctx).Where("id = ?", id).First(&r).Error; err != nil {
		return staff.Member{}, fmt.Errorf("store: staff %d: %w", id, mapErr(err, staff.ErrNotFound))
	}
	return s.memberFromRow(ctx, r)
}

// ListStaff implements staff.Repository: every member by id, with the
// departments read in one query.
func (s *Store) ListStaff(ctx context.Context) ([]staff.Member, error) {
	var rows []staffRow
	if err := s.q(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list staff: %w", err)
	}
	depts, err := s.Departments(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]licence.Department, len(depts))
	for _, d := range depts {
		byID[d.ID] = d
	}
	out := make([]staff.Member, 0, len(rows))
	for _, r := range rows {
		dept := r.DepartmentID
		r.DepartmentID = nil
		m, err := s.memberFromRow(ctx, r)
		if err != nil {
			return nil, err
		}
		if dept != nil {
			m.Department = byID[*dept]
		}
		out = append(out, m)
	}
	return out, nil
}

// SetTOTP implements staff.Repository.
func (s *Store) SetTOTP(ctx context.Context, id int64, secret string, confirmed bool, ev *audit.Event) error {
	return s.InTx(ctx, func(tx *Store) error {
		var r staffRow
		if err := tx.q(ctx).Where("id = ?", id).First(&r).Error; err != nil {
			return fmt.Errorf("store: set totp of staff %d: %w", id, mapErr(err, staff.ErrNotFound))
		}
		sealed, err := tx.sealer.Encrypt(staffTOTPField(r.Username), secret)
		if err != nil {
			return fmt.Errorf("store: set totp of %s: %w", r.Username, err)
		}
		var at *time.Time
		if confirmed {
			now := utc(time.Now())
			at = &now
		}
		if err := tx.q(ctx).Model(&staffRow{}).Where("id = ?", id).
			Updates(map[string]any{"totp_secret_enc": sealed, "totp_confirmed_at": at}).Error; err != nil {
			return fmt.Errorf("store: set totp of %s: %w", r.Username, err)
		}
		if ev == nil {
			return nil
		}
		_, err = tx.AppendAudit(ctx, *ev)
		return err
	})
}

// DisableStaff implements staff.Repository.
func (s *Store) DisableStaff(ctx context.Context, id int64, at time.Time, ev audit.Event) error {
	return s.InTx(ctx, func(tx *Store) error {
		res := tx.q(ctx).Model(&staffRow{}).Where("id = ? AND disabled_at IS NULL", id).Update("disabled_at", utc(at))
		if res.Error != nil {
			return fmt.Errorf("store: disable staff %d: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			if err := tx.mustExist(ctx, &staffRow{}, "id = ?", id); err != nil {
				return fmt.Errorf("store: disable staff %d: %w", id, mapErr(err, staff.ErrNotFound))
			}
			return staff.ErrAlreadyDisabled
		}
		_, err := tx.AppendAudit(ctx, ev)
		return err
	})
}
