package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/licence"
)

var _ licence.Searcher = (*Store)(nil)

// SearchLicences implements licence.Searcher with one count and one
// joined page query over indexed columns: the issuer, the number's and
// the holder's blind indexes, the type and the status.
func (s *Store) SearchLicences(ctx context.Context, q licence.SearchQuery) (licence.SearchPage, error) {
	q = q.Normalise()
	where := []string{"l.issuer_id = ?", "l.superseded_by IS NULL"}
	args := []any{q.IssuerID}
	if q.TypeCode != "" {
		where, args = append(where, "l.type_code = ?"), append(args, q.TypeCode)
	}
	if n := strings.TrimSpace(q.Number); n != "" {
		// The number's index is keyed by its type: look it up under each
		// type the department holds licences of.
		codes := []string{q.TypeCode}
		if q.TypeCode == "" {
			if err := s.q(ctx).Model(&licenceRow{}).Where("issuer_id = ?", q.IssuerID).Distinct().Pluck("type_code", &codes).Error; err != nil {
				return licence.SearchPage{}, fmt.Errorf("store: search licences: types: %w", err)
			}
		}
		if len(codes) == 0 {
			return licence.SearchPage{Items: []licence.View{}}, nil
		}
		idx := make([]string, len(codes))
		for i, c := range codes {
			idx[i] = s.licenceNumberIndex(c, n)
		}
		where, args = append(where, "l.number_idx IN ?"), append(args, idx)
	}
	if n := strings.TrimSpace(q.HolderIDNumber); n != "" {
		// Either kind of holder: the number is normalised as each kind
		// would store it.
		idx := []string{
			s.sealer.BlindIndex(sealHolderIDNumber, licence.NormaliseIDNumber(licence.IDTypeResident, n)),
			s.sealer.BlindIndex(sealHolderIDNumber, licence.NormaliseIDNumber(licence.IDTypeUSCC, n)),
		}
		where, args = append(where, "l.holder_id IN (SELECT id FROM holders WHERE id_number_idx IN ?)"), append(args, idx)
	}
	today := dateOf(q.Today)
	switch q.Status {
	case "":
	case licence.StatusValid:
		where = append(where, "l.status = ?", "(l.valid_until IS NULL OR l.valid_until >= ?)")
		args = append(args, string(licence.StatusValid), today)
	case licence.StatusExpired:
		where = append(where, "l.status = ?", "l.valid_until < ?")
		args = append(args, string(licence.StatusValid), today)
	default:
		where, args = append(where, "l.status = ?"), append(args, string(q.Status))
	}
	cond := strings.Join(where, " AND ")

	var total int64
	if err := s.q(ctx).Raw("SELECT COUNT(*) FROM licences l WHERE "+cond, args...).Scan(&total).Error; err != nil {
		return licence.SearchPage{}, fmt.Errorf("store: search licences: count: %w", err)
	}
	var rows []viewRow
	pageArgs := append(append([]any{0}, args...), q.PageSize, (q.Page-1)*q.PageSize)
	if err := s.q(ctx).Raw(viewSelect+"WHERE "+cond+" ORDER BY l.id DESC LIMIT ? OFFSET ?", pageArgs...).Scan(&rows).Error; err != nil {
		return licence.SearchPage{}, fmt.Errorf("store: search licences: %w", err)
	}
	out := licence.SearchPage{Items: make([]licence.View, 0, len(rows)), Total: total}
	for _, r := range rows {
		v, err := s.viewFromRow(r)
		if err != nil {
			return licence.SearchPage{}, err
		}
		out.Items = append(out.Items, v)
	}
	return out, nil
}

// AuditByObjects returns the audit entries about any of objects
// ("licence:12", …), newest first, at most limit (1..1000).
func (s *Store) AuditByObjects(ctx context.Context, objects []string, limit int) ([]audit.Entry, error) {
	if len(objects) == 0 {
		return []audit.Entry{}, nil
	}
	limit = max(1, min(limit, 1000))
	var rows []auditEventRow
	if err := s.q(ctx).Where("object IN ?", objects).Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: audit by objects: %w", err)
	}
	return entriesFromRows(rows), nil
}
