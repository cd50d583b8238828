// Package wallet is the holder's side of their licences (我的证照): which
// licences they hold, how each reads today, and the face of one with its
// fields masked. It owns the rules a wallet screen follows — ownership (a
// licence that is not yours does not exist), the status and colour of
// today, the days left, what is masked — so the HTTP layer only translates.
package wallet

import (
	"context"
	"errors"
	"time"

	"github.com/yangcheng-county/elicence/internal/ident"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/showcode"
	"github.com/yangcheng-county/elicence/internal/verify"
)

// Card is one licence as the wallet list shows it.
type Card struct {
	licence.View
	// Status is today's status: a valid licence past its last day reads
	// as expired before any job rewrites it.
	Status       licence.Status
	Colour       licence.Colour
	NumberMasked string
	// daysLeft counts calendar days to the last valid day (0 on it,
	// negative after); nil for a long-term licence.
	DaysLeft *int
}

// Detail is one licence's face as its holder sees it.
type Detail struct {
	Card
	// Fields are the face fields under the full scope, each masked by its
	// catalogue rule: the holder's own screen may be looked at by others.
	Fields           []verify.Field
	HolderNameMasked string
	// History is the licence's lifecycle, oldest first, without who acted.
	History []licence.HistoryEntry
	// Seal is the issuer's seal on the version, checked as a scan checks
	// it; zero when the version carries no signature that names one.
	Seal verify.SealMark
}

// HistoryReader reads a licence's lifecycle history (the store).
type HistoryReader interface {
	History(ctx context.Context, id int64) ([]licence.HistoryEntry, error)
}

// Service reads the wallet.
type Service struct {
	views   licence.Views
	history HistoryReader
	seals   verify.SealCheck
	now     func() time.Time
}

// New checks its dependencies.
func New(views licence.Views, history HistoryReader, seals verify.SealCheck, now func() time.Time) (*Service, error) {
	if views == nil || history == nil || seals == nil || now == nil {
		return nil, errors.New("wallet: nil dependency")
	}
	return &Service{views: views, history: history, seals: seals, now: now}, nil
}

// List returns the holder's current licences in issue order.
func (s *Service) List(ctx context.Context, holderID int64) ([]Card, error) {
	vs, err := s.views.ViewsByHolder(ctx, holderID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]Card, 0, len(vs))
	for _, v := range vs {
		out = append(out, card(v, now))
	}
	return out, nil
}

// Detail returns one of the holder's licences. Someone else's licence, a
// missing one and a superseded version all read as licence.ErrNotFound.
func (s *Service) Detail(ctx context.Context, holderID, id int64) (Detail, error) {
	v, err := s.Own(ctx, holderID, id)
	if err != nil {
		return Detail{}, err
	}
	h, err := s.history.History(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	for i := range h {
		h[i].Actor = ""
	}
	verdict, err := s.seals.Check(ctx, v)
	if err != nil {
		return Detail{}, err
	}
	return Detail{
		Card:             card(v, s.now()),
		Fields:           verify.Disclose(v.Type, v.Licence, showcode.ScopeFull),
		HolderNameMasked: verify.MaskHolder(v.Holder).Name,
		History:          h,
		Seal:             verify.SealMark{Name: verdict.Seal.Name, Verified: verdict.OK},
	}, nil
}

// Own loads licence id if holderID holds its current version.
func (s *Service) Own(ctx context.Context, holderID, id int64) (licence.View, error) {
	v, err := s.views.View(ctx, id)
	if err != nil {
		return licence.View{}, err
	}
	if holderID == 0 || v.HolderID != holderID || v.Status == licence.StatusSuperseded {
		return licence.View{}, licence.ErrNotFound
	}
	return v, nil
}

func card(v licence.View, now time.Time) Card {
	c := Card{
		View:         v,
		Status:       licence.EffectiveStatus(v.Licence, now),
		Colour:       licence.Assess(v.Licence, now).Colour,
		NumberMasked: ident.MaskIDNumber(v.Number),
	}
	if v.ValidUntil != nil {
		d := daysLeft(*v.ValidUntil, now)
		c.DaysLeft = &d
	}
	return c
}

// daysLeft counts calendar days from today to the last valid day in the
// licence date's zone (Asia/Shanghai): 0 on the last day, negative after.
func daysLeft(until, now time.Time) int {
	y, m, d := now.In(until.Location()).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	uy, um, ud := until.Date()
	last := time.Date(uy, um, ud, 0, 0, 0, 0, time.UTC)
	return int(last.Sub(today).Hours() / 24)
}
