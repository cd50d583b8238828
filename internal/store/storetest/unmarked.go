package storetest

import (
	"context"
	"testing"

	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/store"
)

// UnmarkedIDs is a store whose catalogue types ID-number fields id_number
// but forgot to mark them sensitive or give them a mask rule: what a careless
// catalogue entry would look like. Tests use it to prove masking falls back
// on the field type.
type UnmarkedIDs struct{ *store.Store }

// Type returns the catalogue entry with its id_number fields unmarked.
func (u UnmarkedIDs) Type(ctx context.Context, code string) (licence.Type, error) {
	t, err := u.Store.Type(ctx, code)
	return unmark(t), err
}

// View returns the licence view with its type's id_number fields unmarked.
func (u UnmarkedIDs) View(ctx context.Context, id int64) (licence.View, error) {
	v, err := u.Store.View(ctx, id)
	v.Type = unmark(v.Type)
	return v, err
}

// ViewsByHolder returns the views with their types' id_number fields unmarked.
func (u UnmarkedIDs) ViewsByHolder(ctx context.Context, holderID int64) ([]licence.View, error) {
	vs, err := u.Store.ViewsByHolder(ctx, holderID)
	for i := range vs {
		vs[i].Type = unmark(vs[i].Type)
	}
	return vs, err
}

// VerificationView returns the view with its type's id_number fields unmarked.
func (u UnmarkedIDs) VerificationView(ctx context.Context, id, departmentID int64) (licence.View, []string, bool, error) {
	v, purposes, listed, err := u.Store.VerificationView(ctx, id, departmentID)
	v.Type = unmark(v.Type)
	return v, purposes, listed, err
}

// UnmarkIDNumbers writes that careless entry into the store itself: the
// type's id_number fields lose their sensitive mark and mask rule, so a
// test of the whole service, wired as it is in production, reads it.
func UnmarkIDNumbers(t testing.TB, st *store.Store, typeCode string) {
	t.Helper()
	ctx := context.Background()
	typ, err := st.Type(ctx, typeCode)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateType(ctx, unmark(typ)); err != nil {
		t.Fatal(err)
	}
}

func unmark(t licence.Type) licence.Type {
	fields := make([]licence.Field, len(t.Fields))
	for i, f := range t.Fields {
		if f.Type == licence.FieldTypeIDNumber {
			f.Sensitive, f.Mask = false, licence.MaskNone
		}
		fields[i] = f
	}
	t.Fields = fields
	return t
}
