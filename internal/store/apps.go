package store

import (
	"context"
	"fmt"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/openapi"
)

var _ openapi.AppRepository = (*Store)(nil)

// appRow is one Open API app; the secret is sealed.
type appRow struct {
	AppID        string     `gorm:"column:app_id;primaryKey"`
	DepartmentID int64      `gorm:"column:department_id"`
	Name         string     `gorm:"column:name"`
	SecretEnc    string     `gorm:"column:secret_enc"`
	DisabledAt   *time.Time `gorm:"column:disabled_at"`
	CreatedAt    time.Time  `gorm:"column:created_at"`
}

func (appRow) TableName() string { return "apps" }

// appSecretField is the sealing context of an app secret: bound to the app
// id, so a secret copied onto another app's row does not decrypt.
func appSecretField(appID string) string { return "apps.secret:" + appID }

// AddApp implements openapi.AppRepository: the app and its audit event
// commit together.
func (s *Store) AddApp(ctx context.Context, app openapi.App, secret string, ev audit.Event) error {
	sealed, err := s.sealer.Encrypt(appSecretField(app.ID), secret)
	if err != nil {
		return fmt.Errorf("store: add app: %w", err)
	}
	r := appRow{AppID: app.ID, DepartmentID: app.Department.ID, Name: app.Name, SecretEnc: sealed, CreatedAt: utc(app.CreatedAt)}
	return s.InTx(ctx, func(tx *Store) error {
		if err := tx.q(ctx).Create(&r).Error; err != nil {
			return fmt.Errorf("store: add app: %w", err)
		}
		_, err := tx.AppendAudit(ctx, ev)
		return err
	})
}

// DisableApp implements openapi.AppRepository.
func (s *Store) DisableApp(ctx context.Context, appID string, at time.Time, ev audit.Event) error {
	return s.InTx(ctx, func(tx *Store) error {
		res := tx.q(ctx).Model(&appRow{}).Where("app_id = ? AND disabled_at IS NULL", appID).Update("disabled_at", utc(at))
		if res.Error != nil {
			return fmt.Errorf("store: disable app: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("store: disable app %s: %w", appID, openapi.ErrAppNotFound)
		}
		_, err := tx.AppendAudit(ctx, ev)
		return err
	})
}

// RotateAppSecret implements openapi.AppRepository.
func (s *Store) RotateAppSecret(ctx context.Context, appID, secret string, ev audit.Event) error {
	sealed, err := s.sealer.Encrypt(appSecretField(appID), secret)
	if err != nil {
		return fmt.Errorf("store: rotate app secret: %w", err)
	}
	return s.InTx(ctx, func(tx *Store) error {
		res := tx.q(ctx).Model(&appRow{}).Where("app_id = ? AND disabled_at IS NULL", appID).Update("secret_enc", sealed)
		if res.Error != nil {
			return fmt.Errorf("store: rotate app secret: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("store: rotate app secret %s: %w", appID, openapi.ErrAppNotFound)
		}
		_, err := tx.AppendAudit(ctx, ev)
		return err
	})
}

// App implements openapi.AppRepository.
func (s *Store) App(ctx context.Context, appID string) (openapi.App, error) {
	var r appRow
	if err := s.q(ctx).Where("app_id = ?", appID).First(&r).Error; err != nil {
		return openapi.App{}, fmt.Errorf("store: app: %w", mapErr(err, openapi.ErrAppNotFound))
	}
	return s.appFromRow(ctx, r)
}

// AppsByDepartment implements openapi.AppRepository.
func (s *Store) AppsByDepartment(ctx context.Context, departmentID int64) ([]openapi.App, error) {
	var rows []appRow
	if err := s.q(ctx).Where("department_id = ?", departmentID).Order("created_at, app_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: apps: %w", err)
	}
	out := make([]openapi.App, 0, len(rows))
	for _, r := range rows {
		app, err := s.appFromRow(ctx, r)
		if err != nil {
			return nil, err
		}
		out = append(out, app)
	}
	return out, nil
}

func (s *Store) appFromRow(ctx context.Context, r appRow) (openapi.App, error) {
	dept, err := s.Department(ctx, r.DepartmentID)
	if err != nil {
		return openapi.App{}, fmt.Errorf("store: app %s: %w", r.AppID, err)
	}
	app := openapi.App{ID: r.AppID, Name: r.Name, Department: dept, CreatedAt: r.CreatedAt.UTC()}
	if r.DisabledAt != nil {
		t := r.DisabledAt.UTC()
		app.DisabledAt = &t
	}
	return app, nil
}

// AppSecret implements openapi.AppRepository: the app with its department
// and its unsealed secret.
func (s *Store) AppSecret(ctx context.Context, appID string) (openapi.App, string, error) {
	var r appRow
	if err := s.q(ctx).Where("app_id = ?", appID).First(&r).Error; err != nil {
		return openapi.App{}, "", fmt.Errorf("store: app: %w", mapErr(err, openapi.ErrAppNotFound))
	}
	app, err := s.appFromRow(ctx, r)
	if err != nil {
		return openapi.App{}, "", err
	}
	secret, err := s.sealer.Decrypt(appSecretField(r.AppID), r.SecretEnc)
	if err != nil {
		return openapi.App{}, "", fmt.Errorf("store: app %s secret: %w", appID, err)
	}
	return app, secret, nil
}
