package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/yangcheng-county/elicence/internal/licence"
)

// Default and maximum page sizes for usage listings.
const (
	defaultUsageLimit = 50
	maxUsageLimit     = 500
)

// SetUsageList puts a licence type and its purposes on a department's usage
// list (用证清单), replacing the purposes if the type is already there.
func (s *Store) SetUsageList(ctx context.Context, departmentID int64, typeCode string, purposes []string) error {
	if purposes == nil {
		purposes = []string{}
	}
	pj, err := json.Marshal(purposes)
	if err != nil {
		return fmt.Errorf("store: set usage list: %w", err)
	}
	r := usageListRow{DepartmentID: departmentID, TypeCode: typeCode, Purposes: string(pj)}
	err = s.q(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "department_id"}, {Name: "type_code"}},
		DoUpdates: clause.AssignmentColumns([]string{"purposes"}),
	}).Create(&r).Error
	if err != nil {
		return fmt.Errorf("store: set usage list %d/%s: %w", departmentID, typeCode, mapErr(err, licence.ErrNotFound))
	}
	return nil
}

// RemoveFromUsageList takes a licence type off a department's usage list.
func (s *Store) RemoveFromUsageList(ctx context.Context, departmentID int64, typeCode string) error {
	if err := s.q(ctx).Where("department_id = ? AND type_code = ?", departmentID, typeCode).Delete(&usageListRow{}).Error; err != nil {
		return fmt.Errorf("store: remove from usage list: %w", err)
	}
	return nil
}

// UsagePurposes implements licence.UsageRepository.
func (s *Store) UsagePurposes(ctx context.Context, departmentID int64, typeCode string) ([]string, bool, error) {
	var rows []usageListRow
	if err := s.q(ctx).Where("department_id = ? AND type_code = ?", departmentID, typeCode).Limit(1).Find(&rows).Error; err != nil {
		return nil, false, fmt.Errorf("store: usage purposes: %w", err)
	}
	if len(rows) == 0 {
		return nil, false, nil
	}
	var purposes []string
	if err := json.Unmarshal([]byte(rows[0].Purposes), &purposes); err != nil {
		return nil, false, fmt.Errorf("store: usage purposes %d/%s: %w", departmentID, typeCode, err)
	}
	return purposes, true, nil
}

// UsageTypes implements licence.UsageRepository: type codes in code order.
func (s *Store) UsageTypes(ctx context.Context, departmentID int64) ([]string, error) {
	var codes []string
	if err := s.q(ctx).Model(&usageListRow{}).Where("department_id = ?", departmentID).Order("type_code").Pluck("type_code", &codes).Error; err != nil {
		return nil, fmt.Errorf("store: usage types: %w", err)
	}
	if codes == nil {
		codes = []string{}
	}
	return codes, nil
}

// RecordUsage implements licence.UsageRepository in one autocommitted
// INSERT: the usage record is itself the durable record of the
// verification, and ChainPending appends it to the audit chain later, off
// the officer's request. A zero At is stamped with the current time.
func (s *Store) RecordUsage(ctx context.Context, u licence.UsageRecord) error {
	at := u.At
	if at.IsZero() {
		at = time.Now()
	}
	r := usageRecordRow{
		LicenceID: u.LicenceID, OfficerOpenID: u.OfficerOpenID, DepartmentID: u.DepartmentID,
		Purpose: u.Purpose, Scope: u.Scope, Result: u.Result, ReasonCode: u.ReasonCode, ClientIP: u.ClientIP,
		At: utc(at),
	}
	if err := s.q(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("store: record usage of licence %d: %w", u.LicenceID, mapErr(err, licence.ErrNotFound))
	}
	return nil
}

// UsageByLicence implements licence.UsageRepository: newest first.
func (s *Store) UsageByLicence(ctx context.Context, licenceID int64, limit int) ([]licence.UsageRecord, error) {
	var rows []usageRecordRow
	if err := s.q(ctx).Where("licence_id = ?", licenceID).Order("at DESC, id DESC").Limit(clampLimit(limit)).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: usage of licence %d: %w", licenceID, err)
	}
	return usageFromRows(rows), nil
}

// UsageByOfficer implements licence.UsageRepository: newest first.
func (s *Store) UsageByOfficer(ctx context.Context, openid string, limit int) ([]licence.UsageRecord, error) {
	var rows []usageRecordRow
	if err := s.q(ctx).Where("officer_openid = ?", openid).Order("at DESC, id DESC").Limit(clampLimit(limit)).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: usage by officer: %w", err)
	}
	return usageFromRows(rows), nil
}

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return defaultUsageLimit
	case n > maxUsageLimit:
		return maxUsageLimit
	}
	return n
}

func usageFromRows(rows []usageRecordRow) []licence.UsageRecord {
	out := make([]licence.UsageRecord, len(rows))
	for i, r := range rows {
		out[i] = licence.UsageRecord{
			ID: r.ID, LicenceID: r.LicenceID, OfficerOpenID: r.OfficerOpenID, DepartmentID: r.DepartmentID,
			Purpose: r.Purpose, Scope: r.Scope, Result: r.Result, ReasonCode: r.ReasonCode, ClientIP: r.ClientIP,
			At: r.At.UTC(),
		}
	}
	return out
}
