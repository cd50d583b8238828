package licence

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/ident"
)

// StatusSuperseded is the status of a version that a newer version
// (update, renew) replaced. It verifies red with ReasonSuperseded and is
// never shown in a wallet.
const StatusSuperseded Status = "superseded"

// Lifecycle actions (docs/DOMAIN.md, "Lifecycle"). issue and import create
// version 1; update and renew create the next version; the others change
// the status or an annotation of the current version.
const (
	ActionIssue            = "issue"
	ActionImport           = "import"
	ActionUpdate           = "update"
	ActionRenew            = "renew"
	ActionSuspend          = "suspend"
	ActionRestore          = "restore"
	ActionReportLost       = "report_lost"
	ActionRecover          = "recover"
	ActionPledge           = "pledge"
	ActionReleasePledge    = "release_pledge"
	ActionInspectionDue    = "inspection_due"
	ActionInspectionPassed = "inspection_passed"
	ActionCancel           = "cancel"
	ActionWithdraw         = "withdraw"
	ActionRevoke           = "revoke"
	// ActionSign records that a version from before seals was signed
	// afterwards (docs/SEALS.md); it changes nothing else.
	ActionSign = "sign"
)

// transition is one row of the lifecycle table: from which effective
// statuses an action is allowed and what it does.
type transition struct {
	from []Status
	// to is the status after the action; "" keeps it.
	to Status
	// add / remove is the annotation the action sets or clears; the action
	// is refused when it is already set / not set.
	add, remove Annotation
	// reason: the action must say why (a legal decision the holder may
	// contest).
	reason bool
	// version: the action makes the next version of the licence.
	version bool
	// notify: the holder is told by template message.
	notify bool
}

var (
	live    = []Status{StatusValid}
	notDead = []Status{StatusValid, StatusSuspended, StatusLost, StatusExpired}
)

// transitions is the whole lifecycle (e-licence rules Art. 7–8). Revoked,
// withdrawn, cancelled and superseded are terminal: nothing leaves them.
// An expired licence can only be renewed, cancelled or withdrawn.
var transitions = map[string]transition{
	ActionUpdate:           {from: live, version: true, reason: true},
	ActionRenew:            {from: []Status{StatusValid, StatusExpired}, version: true, notify: true},
	ActionSuspend:          {from: live, to: StatusSuspended, reason: true, notify: true},
	ActionRestore:          {from: []Status{StatusSuspended}, to: StatusValid, reason: true},
	ActionReportLost:       {from: []Status{StatusValid, StatusSuspended}, to: StatusLost},
	ActionRecover:          {from: []Status{StatusLost}, to: StatusValid},
	ActionPledge:           {from: live, add: AnnotPledged},
	ActionReleasePledge:    {from: notDead, remove: AnnotPledged},
	ActionInspectionDue:    {from: live, add: AnnotInspectionDue},
	ActionInspectionPassed: {from: notDead, remove: AnnotInspectionDue},
	ActionCancel:           {from: notDead, to: StatusCancelled, reason: true, notify: true},
	ActionWithdraw:         {from: notDead, to: StatusWithdrawn, reason: true, notify: true},
	ActionRevoke:           {from: []Status{StatusValid, StatusSuspended, StatusLost}, to: StatusRevoked, reason: true, notify: true},
}

// Actions lists the actions of POST …/events, for documentation and errors.
func Actions() []string {
	out := make([]string, 0, len(transitions))
	for a := range transitions {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// Notifies reports whether the holder is told of the action.
func Notifies(action string) bool { return transitions[action].notify }

// MaxReasonLen bounds a reason, in characters.
const MaxReasonLen = 200

// EventRequest is one lifecycle action on a licence.
type EventRequest struct {
	Action      string
	Reason      string
	EffectiveAt *time.Time        // default now; may not be in the future
	Fields      map[string]string // update: the changed face fields
	ValidUntil  *time.Time        // renew: the new last valid day
}

// HistoryEntry is one line of a licence's history (licence_events).
type HistoryEntry struct {
	LicenceID   int64
	Version     int
	Action      string
	FromStatus  Status
	ToStatus    Status
	Annotations []Annotation
	Reason      string
	Actor       string
	EffectiveAt time.Time
	At          time.Time
}

// Change is what a write records beside the new state: a history line and
// an audit event, committed in the same transaction. Notify asks the store
// to queue, in that transaction too, a template message to the holder
// (Notifies): a change that commits is announced, one that rolls back is
// not.
type Change struct {
	History HistoryEntry
	Audit   audit.Event
	Notify  bool
}

// Record is a licence as its issuer sees it: the version, its type's name
// and the history of the whole lineage, oldest first.
type Record struct {
	Licence
	TypeName string
	History  []HistoryEntry
}

// Writer is the write side of the licence store. Each method is one
// transaction: the store locks what it changes, calls fn, writes fn's
// result with the Change fn returns, or nothing at all when fn (or a write)
// fails. No other path writes licence state.
type Writer interface {
	// IssueLicence matches or creates the holder by the blind index of
	// their ID number, then inserts the licence fn builds for that holder
	// (as found or created) with its Change. A current licence of the same
	// type and number is ErrDuplicate.
	IssueLicence(ctx context.Context, h Holder, typeCode, number string, fn func(h Holder) (Licence, Change, error)) (Licence, error)
	// UpdateLicence locks licence id, lets fn change it in place and saves it.
	UpdateLicence(ctx context.Context, id int64, fn func(l *Licence) (Change, error)) (Licence, error)
	// ReviseLicence locks licence id, inserts the next version fn builds from
	// it, and marks the old one superseded.
	ReviseLicence(ctx context.Context, id int64, fn func(old Licence) (Licence, Change, error)) (Licence, error)
	// History lists the events of the lineage licence id belongs to.
	History(ctx context.Context, id int64) ([]HistoryEntry, error)
	// CurrentByNumber finds the current version of a type's licence number.
	CurrentByNumber(ctx context.Context, typeCode, number string) ([]Licence, error)
}

// IssuerPolicy says which department may issue which licence type (the
// catalogue's issuers).
type IssuerPolicy interface {
	MayIssue(ctx context.Context, departmentID int64, typeCode string) (bool, error)
}

// Lifecycle issues licences and moves them through their lifecycle. It is
// the only writer of licence state; every change it makes is audited in
// the same transaction.
type Lifecycle struct {
	repo   Repository
	writer Writer
	policy IssuerPolicy
	signer VersionSigner
	now    func() time.Time
}

// NewLifecycle checks its dependencies. Every version it writes is signed
// by signer, in the transaction that writes it.
func NewLifecycle(repo Repository, writer Writer, policy IssuerPolicy, signer VersionSigner, now func() time.Time) (*Lifecycle, error) {
	if repo == nil || writer == nil || policy == nil || signer == nil {
		return nil, errors.New("licence: lifecycle: nil repository, writer, issuer policy or signer")
	}
	if now == nil {
		now = time.Now
	}
	return &Lifecycle{repo: repo, writer: writer, policy: policy, signer: signer, now: now}, nil
}

// Issue validates req against its type, checks the department issues it,
// and creates version 1 with a fresh GB/T 36904 identifier.
func (s *Lifecycle) Issue(ctx context.Context, issuer Department, actor string, req IssueRequest) (Record, error) {
	return s.issue(ctx, issuer, actor, ActionIssue, req)
}

func (s *Lifecycle) issue(ctx context.Context, issuer Department, actor, action string, req IssueRequest) (Record, error) {
	t, err := s.repo.Type(ctx, strings.TrimSpace(req.TypeCode))
	if errors.Is(err, ErrNotFound) {
		return Record{}, &ValidationError{Details: []FieldError{{Field: "type_code", Code: "unknown_type", Message: "no licence type with this code in the catalogue"}}}
	}
	if err != nil {
		return Record{}, err
	}
	ok, err := s.policy.MayIssue(ctx, issuer.ID, t.Code)
	if err != nil {
		return Record{}, err
	}
	if !ok {
		return Record{}, ErrTypeNotIssued
	}
	req.TypeCode = t.Code
	if errs := ValidateIssue(t, req); len(errs) > 0 {
		return Record{}, &ValidationError{Details: errs}
	}
	req.Number = strings.TrimSpace(req.Number)
	req.Holder.Kind = t.HolderKind
	req.Holder.Name = strings.TrimSpace(req.Holder.Name)
	req.Holder.IDType = strings.TrimSpace(req.Holder.IDType)
	req.Holder.IDNumber = NormaliseIDNumber(req.Holder.IDType, req.Holder.IDNumber)
	req.Holder.Phone = strings.TrimSpace(req.Holder.Phone)
	sign, err := s.signer.SignerFor(ctx, issuer, t.Code)
	if err != nil {
		return Record{}, err
	}
	now := s.now()
	serial := newSerial()
	l, err := s.writer.IssueLicence(ctx, req.Holder, t.Code, req.Number, func(h Holder) (Licence, Change, error) {
		if h.Name != req.Holder.Name {
			// The ID number is on record under another name: a typo in one
			// of them, which a clerk must resolve, not the platform.
			return Licence{}, Change{}, &ValidationError{Details: []FieldError{{Field: "holder.name", Code: "holder_mismatch",
				Message: "the holder on record with this ID number has another name"}}}
		}
		id, err := ident.LicenceIdentifier(t.Code, issuer.USCC, serial, 1)
		if err != nil {
			return Licence{}, Change{}, err
		}
		l := Licence{
			Identifier: id, Number: req.Number, TypeCode: t.Code, HolderID: h.ID, IssuerID: issuer.ID,
			IssuedOn: req.IssuedOn, ValidFrom: req.ValidFrom, ValidUntil: req.ValidUntil,
			Status: StatusValid, Version: 1, Face: req.Fields,
		}
		if l.Signature, err = sign(l, h); err != nil {
			return Licence{}, Change{}, err
		}
		return l, change(l, action, "", StatusValid, "", actor, now, now), nil
	})
	if err != nil {
		return Record{}, err
	}
	return s.record(ctx, l, t)
}

// Apply runs one lifecycle action on the current version of a licence of
// the issuer's. A licence of another department reads as ErrNotFound.
func (s *Lifecycle) Apply(ctx context.Context, issuer Department, actor string, id int64, req EventRequest) (Record, error) {
	tr, ok := transitions[req.Action]
	if !ok {
		return Record{}, &ValidationError{Details: []FieldError{{Field: "action", Code: "unknown_action",
			Message: "action must be one of " + strings.Join(Actions(), ", ")}}}
	}
	reason := strings.TrimSpace(req.Reason)
	if tr.reason && reason == "" {
		return Record{}, ErrReasonRequired
	}
	if utf8.RuneCountInString(reason) > MaxReasonLen {
		return Record{}, &ValidationError{Details: []FieldError{{Field: "reason", Code: "too_long", Message: fmt.Sprintf("at most %d characters", MaxReasonLen)}}}
	}
	now := s.now()
	effective := now
	if req.EffectiveAt != nil {
		if req.EffectiveAt.After(now.Add(time.Minute)) {
			return Record{}, &ValidationError{Details: []FieldError{{Field: "effective_at", Code: "in_future", Message: "a change takes effect now or in the past; schedule future changes in the department's system"}}}
		}
		effective = *req.EffectiveAt
	}
	cur, err := s.repo.Licence(ctx, id)
	if err != nil {
		return Record{}, err
	}
	if cur.IssuerID != issuer.ID {
		return Record{}, ErrNotFound
	}
	t, err := s.repo.Type(ctx, cur.TypeCode)
	if err != nil {
		return Record{}, err
	}

	var l Licence
	if tr.version {
		var holder Holder
		if holder, err = s.repo.Holder(ctx, cur.HolderID); err != nil {
			return Record{}, err
		}
		var sign SignFunc
		if sign, err = s.signer.SignerFor(ctx, issuer, cur.TypeCode); err != nil {
			return Record{}, err
		}
		l, err = s.writer.ReviseLicence(ctx, id, func(old Licence) (Licence, Change, error) {
			if err := tr.allows(req.Action, old, now); err != nil {
				return Licence{}, Change{}, err
			}
			next, err := nextVersion(t, holder, old, req, issuer)
			if err != nil {
				return Licence{}, Change{}, err
			}
			if next.Signature, err = sign(next, holder); err != nil {
				return Licence{}, Change{}, err
			}
			return next, change(next, req.Action, EffectiveStatus(old, now), StatusValid, reason, actor, effective, now), nil
		})
	} else {
		l, err = s.writer.UpdateLicence(ctx, id, func(l *Licence) (Change, error) {
			from := EffectiveStatus(*l, now)
			if err := tr.allows(req.Action, *l, now); err != nil {
				return Change{}, err
			}
			if tr.to != "" {
				l.Status = tr.to
			}
			if tr.add != "" {
				l.Annotations = append(l.Annotations, tr.add)
			}
			if tr.remove != "" {
				l.Annotations = slices.DeleteFunc(slices.Clone(l.Annotations), func(a Annotation) bool { return a == tr.remove })
			}
			return change(*l, req.Action, from, EffectiveStatus(*l, now), reason, actor, effective, now), nil
		})
	}
	if err != nil {
		return Record{}, err
	}
	return s.record(ctx, l, t)
}

// allows checks the action against the licence's effective status and
// annotations.
func (tr transition) allows(action string, l Licence, now time.Time) error {
	from := EffectiveStatus(l, now)
	to := tr.to
	if to == "" {
		to = from
	}
	if !slices.Contains(tr.from, from) {
		return &TransitionError{Action: action, From: from, To: to}
	}
	if tr.add != "" && l.HasAnnotation(tr.add) {
		return &TransitionError{Action: action, From: from, To: to, Why: "the licence is already " + string(tr.add)}
	}
	if tr.remove != "" && !l.HasAnnotation(tr.remove) {
		return &TransitionError{Action: action, From: from, To: to, Why: "the licence is not " + string(tr.remove)}
	}
	return nil
}

// nextVersion builds the version after old: update merges changed face
// fields, renew moves the last valid day. Identifier, version part and
// dates follow; annotations carry over.
func nextVersion(t Type, holder Holder, old Licence, req EventRequest, issuer Department) (Licence, error) {
	next := old
	next.ID = 0
	next.Version = old.Version + 1
	next.Status = StatusValid
	next.Face = map[string]string{}
	for k, v := range old.Face {
		next.Face[k] = v
	}
	next.Annotations = slices.Clone(old.Annotations)
	switch req.Action {
	case ActionUpdate:
		if len(req.Fields) == 0 {
			return Licence{}, &ValidationError{Details: []FieldError{{Field: "fields", Code: "required", Message: "update needs the changed face fields"}}}
		}
		for k, v := range req.Fields {
			next.Face[k] = v
		}
	case ActionRenew:
		if req.ValidUntil == nil {
			return Licence{}, &ValidationError{Details: []FieldError{{Field: "valid_until", Code: "required", Message: "renew needs the new last valid day"}}}
		}
		if old.ValidUntil != nil && !req.ValidUntil.After(*old.ValidUntil) {
			return Licence{}, &ValidationError{Details: []FieldError{{Field: "valid_until", Code: "not_later", Message: "a renewal must end after the current validity"}}}
		}
		next.ValidUntil = req.ValidUntil
	}
	errs := ValidateIssue(t, IssueRequest{TypeCode: t.Code, Number: next.Number, Holder: holder,
		IssuedOn: next.IssuedOn, ValidFrom: next.ValidFrom, ValidUntil: next.ValidUntil, Fields: next.Face})
	if len(errs) > 0 {
		return Licence{}, &ValidationError{Details: errs}
	}
	parts, err := ident.ParseLicenceIdentifier(old.Identifier)
	if err != nil {
		return Licence{}, fmt.Errorf("licence: version of %d: %w", old.ID, err)
	}
	if next.Identifier, err = ident.LicenceIdentifier(old.TypeCode, issuer.USCC, parts.Serial, next.Version); err != nil {
		return Licence{}, err
	}
	return next, nil
}

// change describes a write for the history and the audit chain. The audit
// detail names the licence by id and identifier, never by its number or
// holder (the number may be an ID number).
func change(l Licence, action string, from, to Status, reason, actor string, effective, at time.Time) Change {
	return Change{
		History: HistoryEntry{Version: l.Version, Action: action, FromStatus: from, ToStatus: to,
			Annotations: l.Annotations, Reason: reason, Actor: actor, EffectiveAt: effective, At: at},
		Audit: audit.Event{At: at, Actor: actor, Action: "licence." + action,
			Detail: fmt.Sprintf("identifier=%s version=%d from=%s to=%s", l.Identifier, l.Version, from, to)},
		Notify: Notifies(action),
	}
}

// Get returns one licence version of the issuer's with its history.
func (s *Lifecycle) Get(ctx context.Context, issuer Department, id int64) (Record, error) {
	l, err := s.repo.Licence(ctx, id)
	if err != nil {
		return Record{}, err
	}
	if l.IssuerID != issuer.ID {
		return Record{}, ErrNotFound
	}
	t, err := s.repo.Type(ctx, l.TypeCode)
	if err != nil {
		return Record{}, err
	}
	return s.record(ctx, l, t)
}

// Find returns the current version of the issuer's licence with this type
// and number (none or one item).
func (s *Lifecycle) Find(ctx context.Context, issuer Department, typeCode, number string) ([]Record, error) {
	ls, err := s.writer.CurrentByNumber(ctx, strings.TrimSpace(typeCode), strings.TrimSpace(number))
	if err != nil {
		return nil, err
	}
	out := []Record{}
	for _, l := range ls {
		if l.IssuerID != issuer.ID {
			continue
		}
		t, err := s.repo.Type(ctx, l.TypeCode)
		if err != nil {
			return nil, err
		}
		r, err := s.record(ctx, l, t)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (s *Lifecycle) record(ctx context.Context, l Licence, t Type) (Record, error) {
	h, err := s.writer.History(ctx, l.ID)
	if err != nil {
		return Record{}, err
	}
	return Record{Licence: l, TypeName: t.Name, History: h}, nil
}

// newSerial draws a 16-character serial from crypto/rand's base32 text
// (A–Z, 2–7: inside GB/T 36904's [0-9A-Z], 80 bits): issuing needs no
// counter shared between instances, and the identifier's unique key turns
// a collision into an error rather than a duplicate.
func newSerial() string { return rand.Text()[:16] }
