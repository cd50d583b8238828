package reminder

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Preferences is the holder's switch for a licence's reminders
// (GET/PUT /api/v1/licences/:id/reminders). The choice belongs to the
// holder, so it applies to every WeChat account bound to them.
type Preferences struct {
	store Store
	loc   *time.Location
	now   func() time.Time
}

// NewPreferences returns the service behind the reminders switch.
func NewPreferences(store Store, loc *time.Location, now func() time.Time) (*Preferences, error) {
	if store == nil || loc == nil || now == nil {
		return nil, errors.New("reminder: preferences: nil dependency")
	}
	return &Preferences{store: store, loc: loc, now: now}, nil
}

// owned returns ErrNotFound unless the licence exists and is holderID's.
func (p *Preferences) owned(ctx context.Context, holderID, licenceID int64) error {
	if holderID == 0 || licenceID <= 0 {
		return ErrNotFound
	}
	owner, err := p.store.LicenceHolder(ctx, licenceID)
	if err != nil {
		return fmt.Errorf("reminder: preferences: %w", err)
	}
	if owner != holderID {
		return ErrNotFound
	}
	return nil
}

// Enabled reports whether reminders are on for the holder's licence.
func (p *Preferences) Enabled(ctx context.Context, holderID, licenceID int64) (bool, error) {
	if err := p.owned(ctx, holderID, licenceID); err != nil {
		return false, err
	}
	out, err := p.store.OptedOut(ctx, holderID, licenceID)
	if err != nil {
		return false, fmt.Errorf("reminder: preferences: %w", err)
	}
	return !out, nil
}

// SetEnabled turns reminders for the holder's licence on or off. Off cancels
// the licence's pending rows at once; on revives rows cancelled by the
// switch whose expiry has not passed (and the next sweep adds due stages).
func (p *Preferences) SetEnabled(ctx context.Context, holderID, licenceID int64, enabled bool) error {
	if err := p.owned(ctx, holderID, licenceID); err != nil {
		return err
	}
	now := p.now()
	if err := p.store.SetOptOut(ctx, holderID, licenceID, !enabled, now.UTC()); err != nil {
		return fmt.Errorf("reminder: preferences: %w", err)
	}
	var err error
	if enabled {
		_, err = p.store.Revive(ctx, "", licenceID, ReasonOptedOut, civilDay(now, p.loc), now.UTC())
	} else {
		_, err = p.store.CancelPending(ctx, "", licenceID, ReasonOptedOut, now.UTC())
	}
	if err != nil {
		return fmt.Errorf("reminder: preferences: %w", err)
	}
	return nil
}
