package storetest

import (
	"context"

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
	fields := make([]licence.Field, len(t.Fields))
	for i, f := range t.Fields {
		if f.Type == licence.FieldTypeIDNumber {
			f.Sensitive, f.Mask = false, licence.MaskNone
		}
		fields[i] = f
	}
	t.Fields = fields
	return t, err
}
