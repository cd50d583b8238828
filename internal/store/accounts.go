package store

import (
	"strconv"

	"github.com/yangcheng-county/elicence/internal/audit"

	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/yangcheng-county/elicence/internal/account"
)

func accountFromRow(r accountRow) account.Account {
	a := account.Account{OpenID: r.OpenID, Subscribed: r.Subscribed, CreatedAt: r.CreatedAt.UTC()}
	if r.HolderID != nil {
		a.HolderID = *r.HolderID
	}
	if r.BoundAt != nil {
		a.BoundAt = r.BoundAt.UTC()
	}
	return a
}

// Ensure implements account.Repository. Two first logins racing for the
// same openid both end up with the one row.
func (s *Store) Ensure(ctx context.Context, openid string) (account.Account, error) {
	return s.ensureAccount(ctx, openid, false)
}

func (s *Store) ensureAccount(ctx context.Context, openid string, subscribed bool) (account.Account, error) {
	if openid == "" {
		return account.Account{}, errors.New("store: ensure account: empty openid")
	}
	r := accountRow{OpenID: openid, Subscribed: subscribed, CreatedAt: utc(time.Now())}
	if err := s.q(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&r).Error; err != nil {
		return account.Account{}, fmt.Errorf("store: ensure account: %w", err)
	}
	return s.Get(ctx, openid)
}

// Get implements account.Repository.
func (s *Store) Get(ctx context.Context, openid string) (account.Account, error) {
	var r accountRow
	if err := s.q(ctx).Where("openid = ?", openid).First(&r).Error; err != nil {
		return account.Account{}, fmt.Errorf("store: account: %w", mapErr(err, account.ErrNotFound))
	}
	return accountFromRow(r), nil
}

// BindHolder implements account.Repository. The binding and its audit
// event (realname.bind) commit together.
func (s *Store) BindHolder(ctx context.Context, openid string, holderID int64, at time.Time) error {
	bound := utc(at)
	return s.InTx(ctx, func(tx *Store) error {
		res := tx.q(ctx).Model(&accountRow{}).Where("openid = ?", openid).
			Updates(map[string]any{"holder_id": holderID, "bound_at": bound})
		if res.Error != nil {
			return fmt.Errorf("store: bind holder: %w", mapErr(res.Error, account.ErrNotFound))
		}
		if res.RowsAffected == 0 {
			if err := tx.mustExist(ctx, &accountRow{}, "openid = ?", openid); err != nil {
				return fmt.Errorf("store: bind holder: %w", mapErr(err, account.ErrNotFound))
			}
		}
		_, err := tx.AppendAudit(ctx, audit.Event{At: bound, Actor: audit.ActorAccount(openid), Action: "realname.bind",
			Object: "holder:" + strconv.FormatInt(holderID, 10)})
		return err
	})
}

// UnbindHolder clears a real-name binding (the user unbinds, or an
// administrator revokes it).
func (s *Store) UnbindHolder(ctx context.Context, openid string) error {
	res := s.q(ctx).Model(&accountRow{}).Where("openid = ?", openid).
		Updates(map[string]any{"holder_id": nil, "bound_at": nil})
	if res.Error != nil {
		return fmt.Errorf("store: unbind holder: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		if err := s.mustExist(ctx, &accountRow{}, "openid = ?", openid); err != nil {
			return fmt.Errorf("store: unbind holder: %w", mapErr(err, account.ErrNotFound))
		}
	}
	return nil
}

// AccountsByHolder lists the accounts bound to a holder, for reminders
// addressed to every WeChat account of a person.
func (s *Store) AccountsByHolder(ctx context.Context, holderID int64) ([]account.Account, error) {
	var rows []accountRow
	if err := s.q(ctx).Where("holder_id = ?", holderID).Order("openid").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: accounts of holder %d: %w", holderID, err)
	}
	out := make([]account.Account, len(rows))
	for i, r := range rows {
		out[i] = accountFromRow(r)
	}
	return out, nil
}

// SetSubscribed implements account.Repository.
func (s *Store) SetSubscribed(ctx context.Context, openid string, subscribed bool) error {
	res := s.q(ctx).Model(&accountRow{}).Where("openid = ?", openid).Update("subscribed", subscribed)
	if res.Error != nil {
		return fmt.Errorf("store: set subscribed: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		if err := s.mustExist(ctx, &accountRow{}, "openid = ?", openid); err != nil {
			return fmt.Errorf("store: set subscribed: %w", mapErr(err, account.ErrNotFound))
		}
	}
	return nil
}

// Officer implements account.Repository.
func (s *Store) Officer(ctx context.Context, openid string) (int64, error) {
	var r officerRow
	if err := s.q(ctx).Where("openid = ?", openid).First(&r).Error; err != nil {
		return 0, fmt.Errorf("store: officer: %w", mapErr(err, account.ErrNotFound))
	}
	return r.DepartmentID, nil
}

// AddOfficer implements account.Repository. The department must exist.
func (s *Store) AddOfficer(ctx context.Context, openid string, departmentID int64) error {
	if openid == "" {
		return errors.New("store: add officer: empty openid")
	}
	r := officerRow{OpenID: openid, DepartmentID: departmentID, CreatedAt: utc(time.Now())}
	err := s.q(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "openid"}},
		DoUpdates: clause.AssignmentColumns([]string{"department_id"}),
	}).Create(&r).Error
	if err != nil {
		return fmt.Errorf("store: add officer: %w", err)
	}
	return nil
}

// RemoveOfficer ends an officer binding.
func (s *Store) RemoveOfficer(ctx context.Context, openid string) error {
	res := s.q(ctx).Where("openid = ?", openid).Delete(&officerRow{})
	if res.Error != nil {
		return fmt.Errorf("store: remove officer: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: remove officer: %w", account.ErrNotFound)
	}
	return nil
}
