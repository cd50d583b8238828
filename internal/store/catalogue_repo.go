package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/yangcheng-county/elicence/internal/ident"
	"github.com/yangcheng-county/elicence/internal/licence"
)

// The catalogue's storage: departments, licence types with their issuer
// lists, and usage lists. What goes into them is decided by
// internal/catalogue (a YAML file applied by `bff catalogue apply`); these
// are plain reads and writes.

var _ licence.IssuerPolicy = (*Store)(nil)

// UpdateDepartment rewrites the name, kind and area code of the department
// with d's USCC.
func (s *Store) UpdateDepartment(ctx context.Context, d licence.Department) error {
	if d.Name == "" || !ident.ValidUSCC(d.USCC) {
		return fmt.Errorf("store: update department %q: name empty or USCC invalid", d.Name)
	}
	err := s.q(ctx).Model(&departmentRow{}).Where("uscc = ?", d.USCC).
		Updates(map[string]any{"name": d.Name, "kind": string(d.Kind), "area_code": d.AreaCode}).Error
	if err == nil {
		err = s.mustExist(ctx, &departmentRow{}, "uscc = ?", d.USCC)
	}
	if err != nil {
		return fmt.Errorf("store: update department %s: %w", d.USCC, mapErr(err, licence.ErrNotFound))
	}
	return nil
}

// UpdateType rewrites every attribute of the catalogue entry with t's code.
// Whether the change is safe for licences already issued is the caller's
// decision (catalogue.Plan refuses the breaking ones).
func (s *Store) UpdateType(ctx context.Context, t licence.Type) error {
	if t.Name == "" {
		return fmt.Errorf("store: update type %q: empty name", t.Code)
	}
	r, err := typeToRow(t)
	if err != nil {
		return fmt.Errorf("store: update type %s: %w", t.Code, err)
	}
	err = s.q(ctx).Model(&licenceTypeRow{}).Where("code = ?", t.Code).Updates(map[string]any{
		"name": r.Name, "holder_kind": r.HolderKind, "fields": r.Fields, "validity_years": r.ValidityYears,
		"reminder_stages": r.ReminderStages, "face_template": r.FaceTemplate,
	}).Error
	if err == nil {
		err = s.mustExist(ctx, &licenceTypeRow{}, "code = ?", t.Code)
	}
	if err != nil {
		return fmt.Errorf("store: update type %s: %w", t.Code, mapErr(err, licence.ErrNotFound))
	}
	return nil
}

// TypeIssuers maps each licence type code to the USCCs of the departments
// that may issue it, sorted. Types nobody may issue are absent.
func (s *Store) TypeIssuers(ctx context.Context) (map[string][]string, error) {
	var rows []struct {
		TypeCode string
		USCC     string
	}
	err := s.q(ctx).Table("licence_type_issuers AS i").Select("i.type_code AS type_code, d.uscc AS uscc").
		Joins("JOIN departments d ON d.id = i.department_id").Order("i.type_code, d.uscc").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: type issuers: %w", err)
	}
	out := map[string][]string{}
	for _, r := range rows {
		out[r.TypeCode] = append(out[r.TypeCode], r.USCC)
	}
	return out, nil
}

// SetTypeIssuers replaces the list of departments that may issue a type.
func (s *Store) SetTypeIssuers(ctx context.Context, typeCode string, departmentIDs []int64) error {
	if err := s.q(ctx).Where("type_code = ?", typeCode).Delete(&licenceTypeIssuerRow{}).Error; err != nil {
		return fmt.Errorf("store: set issuers of %s: %w", typeCode, err)
	}
	if len(departmentIDs) == 0 {
		return nil
	}
	rows := make([]licenceTypeIssuerRow, len(departmentIDs))
	for i, id := range sortedIDs(departmentIDs) {
		rows[i] = licenceTypeIssuerRow{TypeCode: typeCode, DepartmentID: id}
	}
	if err := s.q(ctx).Create(&rows).Error; err != nil {
		return fmt.Errorf("store: set issuers of %s: %w", typeCode, mapErr(err, licence.ErrNotFound))
	}
	return nil
}

// addDefiningIssuer lets the department whose USCC opens the type code
// issue the type, when that department is on record.
func (s *Store) addDefiningIssuer(ctx context.Context, typeCode string) error {
	var depts []departmentRow
	if err := s.q(ctx).Where("uscc = ?", typeCode[:18]).Limit(1).Find(&depts).Error; err != nil || len(depts) == 0 {
		return err
	}
	return s.q(ctx).Create(&licenceTypeIssuerRow{TypeCode: typeCode, DepartmentID: depts[0].ID}).Error
}

// MayIssue implements licence.IssuerPolicy: whether the type's issuer list
// in the catalogue names the department. The list starts as the type's
// defining department (migration 0004, catalogue files without issuers).
func (s *Store) MayIssue(ctx context.Context, departmentID int64, typeCode string) (bool, error) {
	var n int64
	if err := s.q(ctx).Model(&licenceTypeIssuerRow{}).Where("type_code = ? AND department_id = ?", typeCode, departmentID).
		Count(&n).Error; err != nil {
		return false, fmt.Errorf("store: may issue: %w", err)
	}
	return n > 0, nil
}

// UsageLists returns every department's usage list, by department id and
// type code.
func (s *Store) UsageLists(ctx context.Context) ([]licence.UsageListEntry, error) {
	var rows []usageListRow
	if err := s.q(ctx).Order("department_id, type_code").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: usage lists: %w", err)
	}
	out := make([]licence.UsageListEntry, len(rows))
	for i, r := range rows {
		var purposes []string
		if err := json.Unmarshal([]byte(r.Purposes), &purposes); err != nil {
			return nil, fmt.Errorf("store: usage list %d/%s: %w", r.DepartmentID, r.TypeCode, err)
		}
		if purposes == nil {
			purposes = []string{}
		}
		out[i] = licence.UsageListEntry{DepartmentID: r.DepartmentID, TypeCode: r.TypeCode, Purposes: purposes}
	}
	return out, nil
}

// LicenceCountsByType counts the licences on file per type code (every
// version, every status): a type with licences must not change its schema
// in a way that breaks them.
func (s *Store) LicenceCountsByType(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		TypeCode string
		N        int64
	}
	if err := s.q(ctx).Model(&licenceRow{}).Select("type_code, COUNT(*) AS n").Group("type_code").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: licence counts: %w", err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.TypeCode] = r.N
	}
	return out, nil
}

// sortedIDs returns ids sorted ascending, for deterministic writes.
func sortedIDs(ids []int64) []int64 {
	out := append([]int64(nil), ids...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
