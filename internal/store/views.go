package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/yangcheng-county/elicence/internal/licence"
)

// Compile-time check: the store loads licence views.
var _ licence.Views = (*Store)(nil)

// viewRow is one licence joined with its type, issuer and holder, and
// (for a verification) the department's usage-list entry of its type.
type viewRow struct {
	L           licenceRow `gorm:"embedded"`
	TName       string     `gorm:"column:t_name"`
	THolderKind string     `gorm:"column:t_holder_kind"`
	TFields     string     `gorm:"column:t_fields"`
	TValidity   int        `gorm:"column:t_validity_years"`
	TStages     string     `gorm:"column:t_reminder_stages"`
	DName       string     `gorm:"column:d_name"`
	DUSCC       string     `gorm:"column:d_uscc"`
	DKind       string     `gorm:"column:d_kind"`
	DArea       string     `gorm:"column:d_area_code"`
	HKind       string     `gorm:"column:h_kind"`
	HName       string     `gorm:"column:h_name"`
	HIDType     string     `gorm:"column:h_id_type"`
	HIDEnc      string     `gorm:"column:h_id_number_enc"`
	HPhoneEnc   string     `gorm:"column:h_phone_enc"`
	UPurposes   *string    `gorm:"column:u_purposes"` // NULL: not on the usage list
}

// viewSelect joins the four tables; the usage list is joined for the
// department in the first argument (0 matches no department).
const viewSelect = `SELECT l.*,
  t.name AS t_name, t.holder_kind AS t_holder_kind, t.fields AS t_fields,
  t.validity_years AS t_validity_years, t.reminder_stages AS t_reminder_stages,
  d.name AS d_name, d.uscc AS d_uscc, d.kind AS d_kind, d.area_code AS d_area_code,
  h.kind AS h_kind, h.name AS h_name, h.id_type AS h_id_type, h.id_number_enc AS h_id_number_enc, h.phone_enc AS h_phone_enc,
  u.purposes AS u_purposes
FROM licences l
JOIN licence_types t ON t.code = l.type_code
JOIN departments d ON d.id = l.issuer_id
JOIN holders h ON h.id = l.holder_id
LEFT JOIN usage_lists u ON u.department_id = ? AND u.type_code = l.type_code
`

// View implements licence.Views.
func (s *Store) View(ctx context.Context, id int64) (licence.View, error) {
	v, _, _, err := s.VerificationView(ctx, id, 0)
	return v, err
}

// VerificationView implements licence.Views in one query.
func (s *Store) VerificationView(ctx context.Context, id, departmentID int64) (licence.View, []string, bool, error) {
	var rows []viewRow
	if err := s.q(ctx).Raw(viewSelect+"WHERE l.id = ?", departmentID, id).Scan(&rows).Error; err != nil {
		return licence.View{}, nil, false, fmt.Errorf("store: licence view %d: %w", id, err)
	}
	if len(rows) == 0 {
		return licence.View{}, nil, false, fmt.Errorf("store: licence view %d: %w", id, licence.ErrNotFound)
	}
	v, err := s.viewFromRow(rows[0])
	if err != nil {
		return licence.View{}, nil, false, err
	}
	if rows[0].UPurposes == nil {
		return v, nil, false, nil
	}
	var purposes []string
	if err := json.Unmarshal([]byte(*rows[0].UPurposes), &purposes); err != nil {
		return licence.View{}, nil, false, fmt.Errorf("store: licence view %d: usage list: %w", id, err)
	}
	return v, purposes, true, nil
}

// ViewsByHolder implements licence.Views in one query.
func (s *Store) ViewsByHolder(ctx context.Context, holderID int64) ([]licence.View, error) {
	var rows []viewRow
	if err := s.q(ctx).Raw(viewSelect+"WHERE l.holder_id = ? AND l.superseded_by IS NULL ORDER BY l.id", 0, holderID).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: licence views of holder %d: %w", holderID, err)
	}
	out := make([]licence.View, 0, len(rows))
	for _, r := range rows {
		v, err := s.viewFromRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (s *Store) viewFromRow(r viewRow) (licence.View, error) {
	l, err := s.licenceFromRow(r.L)
	if err != nil {
		return licence.View{}, err
	}
	t, err := typeFromRow(licenceTypeRow{Code: r.L.TypeCode, Name: r.TName, HolderKind: r.THolderKind, Fields: r.TFields,
		ValidityYears: r.TValidity, ReminderStages: r.TStages})
	if err != nil {
		return licence.View{}, err
	}
	h, err := s.holderFromRow(holderRow{ID: r.L.HolderID, Kind: r.HKind, Name: r.HName, IDType: r.HIDType,
		IDNumberEnc: r.HIDEnc, PhoneEnc: r.HPhoneEnc})
	if err != nil {
		return licence.View{}, err
	}
	d := departmentFromRow(departmentRow{ID: r.L.IssuerID, Name: r.DName, USCC: r.DUSCC, Kind: r.DKind, AreaCode: r.DArea, CreatedAt: time.Time{}})
	return licence.View{Licence: l, Type: t, Issuer: d, Holder: h}, nil
}
