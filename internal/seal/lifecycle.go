package seal

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emmansun/gmsm/smx509"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/licence"
)

// Actions on a seal (docs/SEALS.md, "Lifecycle").
const (
	ActionApprove    = "approve"     // review passed (Art. 4)
	ActionRefuse     = "refuse"      // review refused, with reason (Art. 4(三))
	ActionIssue      = "issue"       // certificate bound (Art. 6)
	ActionActivate   = "activate"    // in use
	ActionRenew      = "renew"       // new certificate (Art. 7)
	ActionCancel     = "cancel"      // 注销 (Art. 14)
	ActionReportLost = "report_lost" // 挂失 (Art. 15)
)

// transition is one row of the seal lifecycle: the states an action
// leaves from, the state it leads to, and what it needs.
type transition struct {
	from   []State
	to     State
	reason bool // must say why
	cert   bool // binds a new certificate
}

var (
	signing = []State{StateActive, StateRenewed}
	living  = []State{StateApplied, StateReviewed, StateIssued, StateActive, StateRenewed}
)

// transitions is the whole seal lifecycle. Refused, cancelled and lost are
// terminal: a lost seal is replaced by a new application, never revived.
var transitions = map[string]transition{
	ActionApprove:    {from: []State{StateApplied}, to: StateReviewed},
	ActionRefuse:     {from: []State{StateApplied}, to: StateRefused, reason: true},
	ActionIssue:      {from: []State{StateReviewed}, to: StateIssued, cert: true},
	ActionActivate:   {from: []State{StateIssued}, to: StateActive},
	ActionRenew:      {from: signing, to: StateRenewed, cert: true},
	ActionCancel:     {from: living, to: StateCancelled, reason: true},
	ActionReportLost: {from: []State{StateIssued, StateActive, StateRenewed}, to: StateLost},
}

// Actions lists the lifecycle actions.
func Actions() []string {
	out := make([]string, 0, len(transitions))
	for a := range transitions {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// TransitionError says which action was refused from which state; it
// wraps ErrIllegalTransition.
type TransitionError struct {
	Action string
	From   State
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("seal: %s is not allowed from %s", e.Action, e.From)
}

func (e *TransitionError) Unwrap() error { return ErrIllegalTransition }

// Application is a department's request for a seal (Art. 4). Types are
// the licence types it asks to sign; none is a seal that signs no licence
// (the platform's own seal, which signs audit checkpoints).
type Application struct {
	Name       string
	Kind       Kind
	Department licence.Department
	Types      []string
}

// Request is one lifecycle action on a seal.
type Request struct {
	Action string
	Reason string
	// Cert is the DER certificate bound at issue or renewal.
	Cert []byte
	// LostAt is when the seal was lost (report_lost); default now, never
	// in the future.
	LostAt *time.Time
}

// MaxNameLen and MaxReasonLen bound names and reasons, in characters.
const (
	MaxNameLen   = 64
	MaxReasonLen = 200
)

// Options configure a Registry.
type Options struct {
	// Roots are the CAs whose certificates a seal may be bound to: the
	// local CA in embedded mode, the provincial CA in production.
	Roots []*smx509.Certificate
	// Maker signs each seal's SESeal (制章者). Nil: the seal's own key.
	Maker Signer
	Now   func() time.Time
}

// Registry runs the seal lifecycle. Every change it makes is audited in
// the same transaction.
type Registry struct {
	repo   Repository
	policy licence.IssuerPolicy
	keys   Keyring
	opts   Options
}

// NewRegistry checks its dependencies.
func NewRegistry(repo Repository, policy licence.IssuerPolicy, keys Keyring, opts Options) (*Registry, error) {
	if repo == nil || policy == nil || keys == nil {
		return nil, errors.New("seal: registry: nil repository, issuer policy or keyring")
	}
	if len(opts.Roots) == 0 {
		return nil, errors.New("seal: registry: no trusted CA certificate")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Registry{repo: repo, policy: policy, keys: keys, opts: opts}, nil
}

// Apply records a department's application for a seal approved for types.
func (r *Registry) Apply(ctx context.Context, actor string, a Application) (Seal, error) {
	a.Name = strings.TrimSpace(a.Name)
	switch {
	case a.Name == "" || utf8.RuneCountInString(a.Name) > MaxNameLen:
		return Seal{}, fmt.Errorf("%w: name must be 1 to %d characters", ErrInvalid, MaxNameLen)
	case !slices.Contains(Kinds(), a.Kind):
		return Seal{}, fmt.Errorf("%w: kind must be one of %v", ErrInvalid, Kinds())
	}
	types := slices.Clone(a.Types)
	slices.Sort(types)
	types = slices.Compact(types)
	for _, t := range types {
		ok, err := r.policy.MayIssue(ctx, a.Department.ID, t)
		if err != nil {
			return Seal{}, err
		}
		if !ok {
			return Seal{}, fmt.Errorf("%w: %s", ErrTypeNotIssued, t)
		}
	}
	now := r.opts.Now()
	s := Seal{Name: a.Name, Kind: a.Kind, DepartmentID: a.Department.ID, Department: a.Department.Name,
		State: StateApplied, Types: types, CreatedAt: now, UpdatedAt: now}
	return r.repo.CreateSeal(ctx, s, audit.Event{At: now, Actor: actor, Action: "seal.apply",
		Detail: fmt.Sprintf("name=%s kind=%s department=%s types=%s", s.Name, s.Kind, a.Department.USCC, strings.Join(types, ","))})
}

// Transition runs one lifecycle action on seal id.
func (r *Registry) Transition(ctx context.Context, actor string, id int64, req Request) (Seal, error) {
	tr, ok := transitions[req.Action]
	if !ok {
		return Seal{}, fmt.Errorf("%w: action must be one of %s", ErrInvalid, strings.Join(Actions(), ", "))
	}
	reason := strings.TrimSpace(req.Reason)
	if tr.reason && reason == "" {
		return Seal{}, ErrReasonRequired
	}
	if utf8.RuneCountInString(reason) > MaxReasonLen {
		return Seal{}, fmt.Errorf("%w: reason is at most %d characters", ErrInvalid, MaxReasonLen)
	}
	// Times of a seal's life are kept to the second, as signing times
	// are, so that "signed at or after activation" compares like with like.
	now := r.opts.Now().UTC().Truncate(time.Second)
	lostAt := now
	if req.LostAt != nil {
		if req.LostAt.After(now.Add(time.Second)) {
			return Seal{}, fmt.Errorf("%w: the loss time is in the future", ErrInvalid)
		}
		lostAt = req.LostAt.UTC().Truncate(time.Second)
	}
	return r.repo.UpdateSeal(ctx, id, func(s *Seal) (Change, error) {
		if !slices.Contains(tr.from, s.State) {
			return Change{}, &TransitionError{Action: req.Action, From: s.State}
		}
		var ch Change
		if tr.cert {
			c, err := r.bind(*s, req.Action, req.Cert, now)
			if err != nil {
				return Change{}, err
			}
			ch.NewCert = &c
			s.Cert = &c
		}
		from := s.State
		s.State = tr.to
		s.UpdatedAt = now
		switch req.Action {
		case ActionRefuse, ActionCancel:
			s.Reason = reason
		}
		switch tr.to {
		case StateActive:
			s.ActivatedAt = &now
		case StateCancelled:
			s.CancelledAt = &now
		case StateLost:
			s.LostAt = &lostAt
		}
		detail := fmt.Sprintf("name=%s from=%s to=%s", s.Name, from, s.State)
		if ch.NewCert != nil {
			detail += " certificate=" + ch.NewCert.Serial + " not_after=" + ch.NewCert.NotAfter.UTC().Format(time.RFC3339)
		}
		if tr.to == StateLost {
			detail += " lost_at=" + lostAt.UTC().Format(time.RFC3339)
		}
		if reason != "" {
			detail += " reason=" + reason
		}
		ch.Audit = audit.Event{At: now, Actor: actor, Action: "seal." + req.Action,
			Object: "seal:" + strconv.FormatInt(s.ID, 10), Detail: detail}
		return ch, nil
	})
}

// bind checks a certificate for seal s (trusted SM2 certificate, subject
// equal to the seal's name, valid now, key in the keyring; for a renewal
// also inside the renewal window and lasting longer) and makes its SESeal.
func (r *Registry) bind(s Seal, action string, der []byte, now time.Time) (Certificate, error) {
	if action == ActionRenew && s.Cert != nil && now.Before(s.Cert.NotAfter.Add(-RenewalWindow)) {
		return Certificate{}, fmt.Errorf("%w: the certificate expires %s", ErrRenewalWindow, s.Cert.NotAfter.UTC().Format(time.DateOnly))
	}
	c, err := checkCertificate(der, r.opts.Roots, s.Name, now)
	if err != nil {
		return Certificate{}, err
	}
	if action == ActionRenew && s.Cert != nil && !c.NotAfter.After(s.Cert.NotAfter) {
		return Certificate{}, fmt.Errorf("%w: the new certificate must outlast the current one", ErrCertificate)
	}
	signer, err := r.keys.Signer(c)
	if err != nil {
		return Certificate{}, err
	}
	maker := r.opts.Maker
	if maker == nil {
		maker = signer
	}
	eseal, err := MakeESeal(s, c, maker, now)
	if err != nil {
		return Certificate{}, err
	}
	return Certificate{SealID: s.ID, DER: c.Raw, Serial: c.SerialNumber.Text(16),
		NotBefore: c.NotBefore, NotAfter: c.NotAfter, ESeal: eseal}, nil
}

// Seal returns one seal.
func (r *Registry) Seal(ctx context.Context, id int64) (Seal, error) { return r.repo.Seal(ctx, id) }

// Seals lists every seal, for publication (公示).
func (r *Registry) Seals(ctx context.Context) ([]Seal, error) { return r.repo.Seals(ctx) }

// PlatformSeal returns the platform's own seal: the signing seal, with a
// certificate, approved for no licence type (the lowest id if several).
func (r *Registry) PlatformSeal(ctx context.Context) (Seal, error) {
	seals, err := r.repo.Seals(ctx)
	if err != nil {
		return Seal{}, err
	}
	for _, s := range seals {
		if s.State.Signs() && s.Cert != nil && len(s.Types) == 0 {
			return s, nil
		}
	}
	return Seal{}, fmt.Errorf("no platform seal: %w", ErrCannotSign)
}

// VerifyBytes checks that sig is an SM2 signature of msg by the key of
// certificate der, which a trusted CA issued and which was valid at at:
// how a record the platform seal signed is checked without the database.
func (r *Registry) VerifyBytes(der, msg, sig []byte, at time.Time) error {
	c, err := smx509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCertificate, err)
	}
	if c, err = checkCertificate(der, r.opts.Roots, c.Subject.CommonName, at); err != nil {
		return err
	}
	if !Verify(c.PublicKey.(*ecdsa.PublicKey), msg, sig) {
		return ErrBadSignature
	}
	return nil
}
