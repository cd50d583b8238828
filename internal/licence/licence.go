// Package licence holds the e-licence domain: departments, the licence-type
// catalogue, holders, licences, their status and how a verification reads them.
// It knows nothing of HTTP, SQL or Redis; adapters implement its Repository.
package licence

import (
	"context"
	"errors"
	"strings"
	"time"
)

// ErrNotFound is returned by repositories when a record does not exist.
// Callers map it to 404 so that "not yours" and "does not exist" look the same.
var ErrNotFound = errors.New("licence: not found")

// DepartmentKind says what a department does on the platform (e-licence rules Art. 3).
type DepartmentKind string

const (
	DeptIssuer  DepartmentKind = "issuer"  // 制发单位
	DeptRelying DepartmentKind = "relying" // 应用单位
	DeptAdmin   DepartmentKind = "admin"   // 管理单位
)

// Department is an issuing, relying or administering unit (单位).
type Department struct {
	ID       int64
	Name     string
	USCC     string // unified social credit code, GB 32100
	Kind     DepartmentKind
	AreaCode string // GB/T 2260, e.g. 140522
}

// HolderKind tells a natural person from an organisation.
type HolderKind string

const (
	HolderPerson       HolderKind = "person"
	HolderOrganisation HolderKind = "organisation"
)

// MaskRule names how a sensitive value is shown when it is not disclosed in full.
type MaskRule string

const (
	MaskNone   MaskRule = ""       // shown as is
	MaskName   MaskRule = "name"   // 张* / 欧*** (first rune kept)
	MaskID     MaskRule = "id"     // 1405**********0016 (first 4, last 4)
	MaskPhone  MaskRule = "phone"  // 138****0000
	MaskMiddle MaskRule = "middle" // keep a third at each end
	MaskAll    MaskRule = "all"    // ****
)

// Field types of the catalogue whose values are personal identifiers. A
// field of one of these types is masked whether or not the catalogue marks
// it sensitive (see Field.EffectiveMask).
const (
	FieldTypeIDNumber = "id_number"
	FieldTypePhone    = "phone"
)

// Field describes one face field of a licence type (照面信息项).
type Field struct {
	Key       string
	Label     string
	Type      string // text, date, id_number, phone, address, photo
	Required  bool   // an issue request without it is refused (ValidateIssue)
	Sensitive bool   // masked unless the holder looks at it unmasked
	Mask      MaskRule
	Basic     bool // disclosed under the "basic" show scope
}

// EffectiveMask is the rule a field's value is shown through, the one place
// that decides it for every screen (an officer's verification and the
// holder's own detail), so the two cannot drift apart. It fails closed: a
// catalogue entry that forgets to mark an ID number or a phone number
// sensitive still gets it masked by its type.
//
// In order: a sensitive field with its own rule keeps that rule; a field
// typed id_number is masked with MaskID and one typed phone with MaskPhone;
// any other sensitive field without a rule is hidden completely (MaskAll);
// everything else is shown as is (MaskNone).
func (f Field) EffectiveMask() MaskRule {
	if f.Sensitive && f.Mask != MaskNone {
		return f.Mask
	}
	switch strings.ToLower(strings.TrimSpace(f.Type)) {
	case FieldTypeIDNumber:
		return MaskID
	case FieldTypePhone:
		return MaskPhone
	}
	if f.Sensitive {
		return MaskAll
	}
	return MaskNone
}

// Type is an entry of the licence catalogue (证照目录).
type Type struct {
	Code           string // 21 chars: definer USCC (18) + 3 digits
	Name           string
	HolderKind     HolderKind
	Fields         []Field
	ValidityYears  int    // 0 = long-term unless the licence says otherwise
	ReminderStages []int  // days before expiry, e.g. 90, 30, 7
	FaceTemplate   string // name of the face layout the licence is drawn with; "" = generic
}

// Holder is the subject a licence is issued to (持证主体).
type Holder struct {
	ID       int64
	Kind     HolderKind
	Name     string
	IDType   string // GB/T 36903 Annex A: 111 resident ID, 001 USCC, 414 passport
	IDNumber string // plain only in memory; encrypted at rest
	Phone    string // phone on record, used for real-name confirmation
}

// Status is the legal state of a licence (证照状态).
type Status string

const (
	StatusValid     Status = "valid"     // 有效
	StatusSuspended Status = "suspended" // 暂扣
	StatusRevoked   Status = "revoked"   // 吊销
	StatusWithdrawn Status = "withdrawn" // 撤销
	StatusCancelled Status = "cancelled" // 注销
	StatusExpired   Status = "expired"   // 过期失效
	StatusLost      Status = "lost"      // 挂失
)

// Annotation marks a licence that stays valid but must be shown to a verifier.
type Annotation string

const (
	AnnotPledged        Annotation = "pledged"         // 质押
	AnnotMortgaged      Annotation = "mortgaged"       // 抵押
	AnnotInspectionDue  Annotation = "inspection_due"  // 待年检
	AnnotUnderObjection Annotation = "under_objection" // 异议中
)

// Licence is one electronic licence (电子证照).
type Licence struct {
	ID          int64
	Identifier  string // GB/T 36904, see ident.LicenceIdentifier
	Number      string // 证照编号
	TypeCode    string
	HolderID    int64
	IssuerID    int64
	IssuedOn    time.Time
	ValidFrom   time.Time
	ValidUntil  *time.Time // nil = long-term (长期)
	Status      Status
	Annotations []Annotation
	Version     int
	Face        map[string]string // field key → value
	// Signature is the issuer's seal over this version (Signature.Signed
	// is false only on versions from before seals).
	Signature Signature
	// LineageID is the id of the licence's first version, shared by all
	// its versions (equal to ID on version 1).
	LineageID int64
}

// Officer is a WeChat account bound to a relying department (核验人员).
type Officer struct {
	OpenID       string
	DepartmentID int64
}

// UsageRecord is one verification that reached a licence (用证记录).
type UsageRecord struct {
	ID            int64
	LicenceID     int64
	OfficerOpenID string
	DepartmentID  int64
	Purpose       string
	Scope         string
	Result        string // valid | invalid | refused
	ReasonCode    string
	ClientIP      string
	At            time.Time
}

// Repository is what the domain needs from durable storage for the
// catalogue, holders and licences. Every method returns ErrNotFound for a
// missing record.
type Repository interface {
	Licence(ctx context.Context, id int64) (Licence, error)
	LicencesByHolder(ctx context.Context, holderID int64) ([]Licence, error)
	Type(ctx context.Context, code string) (Type, error)
	Department(ctx context.Context, id int64) (Department, error)
	DepartmentByUSCC(ctx context.Context, uscc string) (Department, error)
	Holder(ctx context.Context, id int64) (Holder, error)
	// HolderByIDNumber finds a holder through the keyed blind index.
	HolderByIDNumber(ctx context.Context, idType, idNumber string) (Holder, error)
}

// UsageRepository records and lists verifications and the usage lists (用证清单).
type UsageRepository interface {
	// UsagePurposes returns the purposes a department may verify a licence type
	// for; ok is false when the type is not in its usage list.
	UsagePurposes(ctx context.Context, departmentID int64, typeCode string) (purposes []string, ok bool, err error)
	// UsageTypes lists the licence-type codes in a department's usage list.
	UsageTypes(ctx context.Context, departmentID int64) ([]string, error)
	RecordUsage(ctx context.Context, r UsageRecord) error
	UsageByLicence(ctx context.Context, licenceID int64, limit int) ([]UsageRecord, error)
	UsageByOfficer(ctx context.Context, openid string, limit int) ([]UsageRecord, error)
}
