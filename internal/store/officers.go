package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/yangcheng-county/elicence/internal/account"
	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/officer"
)

var _ officer.Repository = (*Store)(nil)

// officerInviteRow is one invitation; the token is kept only as its hash.
type officerInviteRow struct {
	ID           int64      `gorm:"column:id;primaryKey"`
	TokenHash    string     `gorm:"column:token_hash"`
	DepartmentID int64      `gorm:"column:department_id"`
	Name         string     `gorm:"column:name"`
	CreatedBy    string     `gorm:"column:created_by"`
	CreatedAt    time.Time  `gorm:"column:created_at"`
	ExpiresAt    time.Time  `gorm:"column:expires_at"`
	UsedAt       *time.Time `gorm:"column:used_at"`
	UsedBy       *string    `gorm:"column:used_by"`
}

func (officerInviteRow) TableName() string { return "officer_invites" }

func (s *Store) inviteFromRow(ctx context.Context, r officerInviteRow) (officer.Invite, error) {
	dept, err := s.Department(ctx, r.DepartmentID)
	if err != nil {
		return officer.Invite{}, err
	}
	inv := officer.Invite{ID: r.ID, Department: dept, Name: r.Name, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()}
	if r.UsedAt != nil {
		t := r.UsedAt.UTC()
		inv.UsedAt = &t
	}
	if r.UsedBy != nil {
		inv.UsedBy = *r.UsedBy
	}
	return inv, nil
}

// CreateInvite implements officer.Repository.
func (s *Store) CreateInvite(ctx context.Context, inv officer.Invite, tokenHash string, ev audit.Event) (officer.Invite, error) {
	r := officerInviteRow{TokenHash: tokenHash, DepartmentID: inv.Department.ID, Name: inv.Name, CreatedBy: inv.CreatedBy,
		CreatedAt: utc(inv.CreatedAt), ExpiresAt: utc(inv.ExpiresAt)}
	err := s.InTx(ctx, func(tx *Store) error {
		if err := tx.q(ctx).Create(&r).Error; err != nil {
			return fmt.Errorf("store: create invite: %w", err)
		}
		_, err := tx.AppendAudit(ctx, ev)
		return err
	})
	inv.ID = r.ID
	return inv, err
}

// Invite implements officer.Repository.
func (s *Store) Invite(ctx context.Context, tokenHash string) (officer.Invite, error) {
	var r officerInviteRow
	if err := s.q(ctx).Where("token_hash = ?", tokenHash).First(&r).Error; err != nil {
		return officer.Invite{}, fmt.Errorf("store: invite: %w", mapErr(err, officer.ErrNotFound))
	}
	return s.inviteFromRow(ctx, r)
}

// AcceptInvite implements officer.Repository. The invitation is marked
// used by a conditional update, so of two acceptances racing for one link
// exactly one binds.
func (s *Store) AcceptInvite(ctx context.Context, tokenHash, openid string, at time.Time,
	decide func(inv officer.Invite, boundTo int64) (audit.Event, error)) (officer.Invite, error) {
	var inv officer.Invite
	err := s.InTx(ctx, func(tx *Store) error {
		var err error
		if inv, err = tx.Invite(ctx, tokenHash); err != nil {
			return err
		}
		boundTo, err := tx.Officer(ctx, openid)
		if err != nil && !errors.Is(err, account.ErrNotFound) {
			return err
		}
		ev, err := decide(inv, boundTo)
		if err != nil {
			return err
		}
		res := tx.q(ctx).Model(&officerInviteRow{}).Where("id = ? AND used_at IS NULL", inv.ID).
			Updates(map[string]any{"used_at": utc(at), "used_by": openid})
		if res.Error != nil {
			return fmt.Errorf("store: accept invite: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return officer.ErrInviteUsed
		}
		if _, err := tx.Ensure(ctx, openid); err != nil {
			return err
		}
		r := officerRow{OpenID: openid, DepartmentID: inv.Department.ID, Name: inv.Name, CreatedAt: utc(at)}
		if err := tx.q(ctx).Create(&r).Error; err != nil {
			return fmt.Errorf("store: accept invite: %w", err)
		}
		_, err = tx.AppendAudit(ctx, ev)
		return err
	})
	return inv, err
}

// PendingInvites implements officer.Repository.
func (s *Store) PendingInvites(ctx context.Context, departmentID int64, now time.Time) ([]officer.Invite, error) {
	var rows []officerInviteRow
	if err := s.q(ctx).Where("department_id = ? AND used_at IS NULL AND expires_at > ?", departmentID, utc(now)).
		Order("id DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: pending invites: %w", err)
	}
	out := make([]officer.Invite, 0, len(rows))
	for _, r := range rows {
		inv, err := s.inviteFromRow(ctx, r)
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, nil
}

// Officers implements officer.Repository.
func (s *Store) Officers(ctx context.Context, departmentID int64) ([]officer.Officer, error) {
	var rows []officerRow
	if err := s.q(ctx).Where("department_id = ?", departmentID).Order("created_at, openid").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: officers: %w", err)
	}
	out := make([]officer.Officer, 0, len(rows))
	for _, r := range rows {
		out = append(out, officer.Officer{OpenID: r.OpenID, Name: r.Name, Department: r.DepartmentID, CreatedAt: r.CreatedAt.UTC()})
	}
	return out, nil
}

// UnbindOfficer implements officer.Repository.
func (s *Store) UnbindOfficer(ctx context.Context, openid string, decide func(dept licence.Department) (audit.Event, error)) error {
	return s.InTx(ctx, func(tx *Store) error {
		deptID, err := tx.Officer(ctx, openid)
		if errors.Is(err, account.ErrNotFound) {
			return fmt.Errorf("store: unbind officer: %w", officer.ErrNotFound)
		}
		if err != nil {
			return err
		}
		dept, err := tx.Department(ctx, deptID)
		if err != nil {
			return err
		}
		ev, err := decide(dept)
		if err != nil {
			return err
		}
		if err := tx.RemoveOfficer(ctx, openid); err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, ev)
		return err
	})
}
