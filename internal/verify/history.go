package verify

import (
	"context"
	"errors"
	"time"

	"github.com/yangcheng-county/elicence/internal/licence"
)

// HistoryLimit is how many usage records a listing returns.
const HistoryLimit = 50

// ColourOf is the colour a usage record was read with. The record keeps
// result and reason code only; the colour follows from them exactly as in
// licence.Assess. A refusal never read the licence, so it has no colour.
func ColourOf(result, reasonCode string) licence.Colour {
	switch result {
	case ResultValid:
		if reasonCode == licence.ReasonOK {
			return licence.Green
		}
		return licence.Amber
	case ResultInvalid:
		return licence.Red
	}
	return ""
}

// UsageItem is one verification of a holder's licence, as the holder sees it.
type UsageItem struct {
	Department string
	Purpose    string
	Result     string
	Colour     licence.Colour
	ReasonCode string
	At         time.Time
}

// LicenceUsage lists the verifications of one of holderID's licences,
// newest first. Someone else's licence reads as licence.ErrNotFound, the
// same as a licence that does not exist.
func (s *Service) LicenceUsage(ctx context.Context, holderID, licenceID int64) ([]UsageItem, error) {
	l, err := s.licences.Licence(ctx, licenceID)
	if err != nil {
		return nil, readErr("licence", err)
	}
	if l.HolderID != holderID || holderID == 0 {
		return nil, licence.ErrNotFound
	}
	recs, err := s.usage.UsageByLicence(ctx, licenceID, HistoryLimit)
	if err != nil {
		return nil, readErr("usage", err)
	}
	depts := map[int64]string{}
	out := make([]UsageItem, 0, len(recs))
	for _, r := range recs {
		name, ok := depts[r.DepartmentID]
		if !ok {
			d, err := s.licences.Department(ctx, r.DepartmentID)
			if err != nil && !errors.Is(err, licence.ErrNotFound) {
				return nil, readErr("department", err)
			}
			name = d.Name
			depts[r.DepartmentID] = name
		}
		out = append(out, UsageItem{
			Department: name, Purpose: r.Purpose, Result: r.Result,
			Colour: ColourOf(r.Result, r.ReasonCode), ReasonCode: r.ReasonCode, At: r.At,
		})
	}
	return out, nil
}

// TypeRef names a licence type.
type TypeRef struct {
	Code string
	Name string
}

// OfficerContext is what an officer's scan page shows before a scan: whom
// they verify for, the purposes on their usage list and the types they may
// verify.
type OfficerContext struct {
	Department licence.Department
	Purposes   []string
	Types      []TypeRef
}

// Context loads an officer's department and usage list. Purposes are the
// union over the list's types, in list order, without repeats.
func (s *Service) Context(ctx context.Context, departmentID int64) (OfficerContext, error) {
	if departmentID == 0 {
		return OfficerContext{}, ErrNotOfficer
	}
	d, err := s.licences.Department(ctx, departmentID)
	if err != nil {
		return OfficerContext{}, readErr("department", err)
	}
	codes, err := s.usage.UsageTypes(ctx, departmentID)
	if err != nil {
		return OfficerContext{}, readErr("usage list", err)
	}
	oc := OfficerContext{Department: d, Purposes: []string{}, Types: make([]TypeRef, 0, len(codes))}
	seen := map[string]bool{}
	for _, code := range codes {
		t, err := s.licences.Type(ctx, code)
		if err != nil {
			return OfficerContext{}, readErr("licence type", err)
		}
		oc.Types = append(oc.Types, TypeRef{Code: t.Code, Name: t.Name})
		purposes, _, err := s.usage.UsagePurposes(ctx, departmentID, code)
		if err != nil {
			return OfficerContext{}, readErr("usage list", err)
		}
		for _, p := range purposes {
			if !seen[p] {
				seen[p] = true
				oc.Purposes = append(oc.Purposes, p)
			}
		}
	}
	return oc, nil
}

// HistoryItem is one of an officer's own verifications.
type HistoryItem struct {
	LicenceType      string // the type's name
	Result           string
	Colour           licence.Colour
	ReasonCode       string
	Purpose          string
	HolderNameMasked string
	At               time.Time
}

// History lists an officer's recent verifications, newest first, with the
// holder's name masked as on the verification screen.
func (s *Service) History(ctx context.Context, openid string) ([]HistoryItem, error) {
	if openid == "" {
		return nil, ErrNotOfficer
	}
	recs, err := s.usage.UsageByOfficer(ctx, openid, HistoryLimit)
	if err != nil {
		return nil, readErr("usage", err)
	}
	types := map[string]string{}
	holders := map[int64]string{}
	out := make([]HistoryItem, 0, len(recs))
	for _, r := range recs {
		item := HistoryItem{
			Result: r.Result, Colour: ColourOf(r.Result, r.ReasonCode), ReasonCode: r.ReasonCode,
			Purpose: r.Purpose, At: r.At,
		}
		l, err := s.licences.Licence(ctx, r.LicenceID)
		if err != nil && !errors.Is(err, licence.ErrNotFound) {
			return nil, readErr("licence", err)
		}
		if err == nil {
			name, ok := types[l.TypeCode]
			if !ok {
				t, err := s.licences.Type(ctx, l.TypeCode)
				if err != nil && !errors.Is(err, licence.ErrNotFound) {
					return nil, readErr("licence type", err)
				}
				name = t.Name
				types[l.TypeCode] = name
			}
			item.LicenceType = name
			if r.Result == ResultRefused {
				// The officer was not allowed to read this licence: its
				// holder stays unknown to them here too.
				out = append(out, item)
				continue
			}
			masked, ok := holders[l.HolderID]
			if !ok {
				h, err := s.licences.Holder(ctx, l.HolderID)
				if err != nil && !errors.Is(err, licence.ErrNotFound) {
					return nil, readErr("holder", err)
				}
				masked = MaskHolder(h).Name
				holders[l.HolderID] = masked
			}
			item.HolderNameMasked = masked
		}
		out = append(out, item)
	}
	return out, nil
}

// readErr passes licence.ErrNotFound through and marks anything else as a
// dependency failure.
func readErr(what string, err error) error {
	if errors.Is(err, licence.ErrNotFound) {
		return err
	}
	return dbErr(what, err)
}
