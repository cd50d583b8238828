package licence

import (
	"context"
	"time"
)

// Page sizes of a licence search.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// SearchQuery finds the current versions of one department's licences.
// Every set criterion must match. Number and HolderIDNumber are looked up
// through their blind indexes, never compared in plain text, so they match
// whole values only.
type SearchQuery struct {
	IssuerID       int64
	Number         string
	HolderIDNumber string
	TypeCode       string
	// Status is an effective status ("" for any): valid and expired are
	// told apart by Today, the county's calendar day.
	Status Status
	Today  time.Time
	// Page counts from 1; PageSize is clamped to 1..MaxPageSize.
	Page, PageSize int
}

// Normalise clamps the page and its size to what a search serves.
func (q SearchQuery) Normalise() SearchQuery {
	if q.Page < 1 {
		q.Page = 1
	}
	switch {
	case q.PageSize <= 0:
		q.PageSize = DefaultPageSize
	case q.PageSize > MaxPageSize:
		q.PageSize = MaxPageSize
	}
	return q
}

// SearchPage is one page of a search, newest licence first, and the
// number of licences that match in all.
type SearchPage struct {
	Items []View
	Total int64
}

// Searcher runs licence searches (the store).
type Searcher interface {
	SearchLicences(ctx context.Context, q SearchQuery) (SearchPage, error)
}
