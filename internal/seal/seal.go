// Package seal is the registry of the departments' electronic seals (the
// seal rules, 电子印章管理暂行办法 ch. 2–4) and what they sign: each seal has a kind, a state
// moved only through one transition table, the licence types its approval
// covers (用章审批) and an SM2 certificate whose subject is its name. A seal
// signs every version of a licence its department issues (canonical
// document, SM2 with SM3, wrapped as a GB/T 38540 SES_Signature), and a
// verification checks that signature. docs/SEALS.md is the contract.
//
// Private keys stay behind the Signer interface: the file keyring here keeps
// them in a directory, and a hardware or remote signing service can
// implement the same interface later.
package seal

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
)

// Errors of the registry. Each maps to one public error code
// (bff/api/errors.go) or one command message.
var (
	ErrNotFound = errors.New("seal: not found")
	// ErrIllegalTransition: the action is not allowed from the seal's state.
	ErrIllegalTransition = errors.New("seal: illegal transition")
	// ErrReasonRequired: a refusal or a cancellation must say why.
	ErrReasonRequired = errors.New("seal: a reason is required for this action")
	// ErrInvalid: the application or request is malformed.
	ErrInvalid = errors.New("seal: invalid request")
	// ErrTypeNotIssued: a seal may only be approved for types its
	// department issues.
	ErrTypeNotIssued = errors.New("seal: the department does not issue this licence type")
	// ErrCertificate: the certificate offered at issue or renewal is not
	// an SM2 certificate from a trusted CA, valid now.
	ErrCertificate = errors.New("seal: certificate not acceptable")
	// ErrCertNameMismatch: the certificate's subject is not the seal's
	// name (Art. 6).
	ErrCertNameMismatch = errors.New("seal: certificate subject does not match the seal name")
	// ErrRenewalWindow: renewal is allowed only in the last RenewalWindow
	// of the certificate's validity (Art. 7).
	ErrRenewalWindow = errors.New("seal: renewal is allowed only within 30 days before the certificate expires")
	// ErrKeyMissing: the keyring holds no private key for the certificate.
	ErrKeyMissing = errors.New("seal: no private key for this certificate")
	// ErrNoSigningSeal: the department has no active seal approved for the
	// licence type, so the version cannot be signed (Art. 11).
	ErrNoSigningSeal = errors.New("seal: no active seal approved for this licence type")
	// ErrNotApproved: the seal's approval does not cover the licence type.
	ErrNotApproved = errors.New("seal: the seal is not approved for this licence type")
	// ErrCannotSign: the seal is not in a state that signs.
	ErrCannotSign = errors.New("seal: the seal is not active")
	// ErrBadSignature: a signature does not verify with its certificate.
	ErrBadSignature = errors.New("seal: the signature does not verify")
)

// RenewalWindow is how long before its certificate expires a seal may be
// renewed (Art. 7).
const RenewalWindow = 30 * 24 * time.Hour

// Kind is the kind of a seal (Art. 2).
type Kind string

const (
	KindOfficial Kind = "official" // 法定名称章
	KindInternal Kind = "internal" // 内设机构章
	KindBusiness Kind = "business" // 业务专用章
	KindName     Kind = "name"     // 电子名章
)

// Kinds lists the kinds, for validation and help texts.
func Kinds() []Kind { return []Kind{KindOfficial, KindInternal, KindBusiness, KindName} }

// State is where a seal is in its life (Art. 4–15).
type State string

const (
	StateApplied   State = "applied"   // 申请
	StateReviewed  State = "reviewed"  // 审核通过
	StateRefused   State = "refused"   // 审核不通过 (with reason)
	StateIssued    State = "issued"    // 制作完成, certificate bound
	StateActive    State = "active"    // 启用
	StateRenewed   State = "renewed"   // 更新 (a new certificate, still signing)
	StateCancelled State = "cancelled" // 注销
	StateLost      State = "lost"      // 挂失 (reported lost or out of control)
)

// Signs reports whether a seal in this state may sign.
func (s State) Signs() bool { return s == StateActive || s == StateRenewed }

// Seal is one electronic seal with its current certificate.
type Seal struct {
	ID           int64
	Name         string // the name on the seal; the certificate's subject CN
	Kind         Kind
	DepartmentID int64
	Department   string // the department's name, for publication
	State        State
	Types        []string // licence type codes the seal may sign (用章审批)
	Reason       string   // why it was refused or cancelled
	Cert         *Certificate
	ActivatedAt  *time.Time
	CancelledAt  *time.Time
	LostAt       *time.Time // when it was lost, as reported (Art. 15)
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Approved reports whether the seal's approval covers a licence type.
func (s Seal) Approved(typeCode string) bool { return slices.Contains(s.Types, typeCode) }

// Certificate is one certificate a seal has been bound to. A renewal adds
// one; the old ones stay, since the versions they signed still verify.
type Certificate struct {
	ID        int64
	SealID    int64
	DER       []byte
	Serial    string // hex
	NotBefore time.Time
	NotAfter  time.Time
	// ESeal is the GB/T 38540 SESeal DER made for this certificate: the
	// seal's data (name, kind, validity, picture) signed by its maker.
	ESeal []byte
}

// ValidAt reports whether t is inside the certificate's validity.
func (c Certificate) ValidAt(t time.Time) bool { return !t.Before(c.NotBefore) && !t.After(c.NotAfter) }

// Change is what a registry write records beside the new state: the
// audit event and, at issue or renewal, the new certificate to store and
// bind. Both commit with the state or not at all.
type Change struct {
	Audit   audit.Event
	NewCert *Certificate
}

// Repository is the seal registry's storage.
type Repository interface {
	// CreateSeal inserts an applied seal with its audit event.
	CreateSeal(ctx context.Context, s Seal, ev audit.Event) (Seal, error)
	// UpdateSeal locks seal id, lets fn change it, and saves it with the
	// Change fn returns, in one transaction; nothing when fn fails.
	UpdateSeal(ctx context.Context, id int64, fn func(s *Seal) (Change, error)) (Seal, error)
	Seal(ctx context.Context, id int64) (Seal, error)
	// Seals lists every seal, by id.
	Seals(ctx context.Context) ([]Seal, error)
	// SigningSeals lists a department's seals in a signing state.
	SigningSeals(ctx context.Context, departmentID int64) ([]Seal, error)
	// Certificate loads one certificate by id.
	Certificate(ctx context.Context, id int64) (Certificate, error)
}
