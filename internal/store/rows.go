package store

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// Row structs mirror the tables one to one. They carry gorm tags only and
// never leave this package: repositories map them to the domain types, so
// a column change cannot leak into the API.

type departmentRow struct {
	ID        int64     `gorm:"column:id;primaryKey"`
	Name      string    `gorm:"column:name"`
	USCC      string    `gorm:"column:uscc"`
	Kind      string    `gorm:"column:kind"`
	AreaCode  string    `gorm:"column:area_code"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

func (departmentRow) TableName() string { return "departments" }

type licenceTypeRow struct {
	Code           string    `gorm:"column:code;primaryKey"`
	Name           string    `gorm:"column:name"`
	HolderKind     string    `gorm:"column:holder_kind"`
	Fields         string    `gorm:"column:fields"` // JSON, see fieldDoc
	ValidityYears  int       `gorm:"column:validity_years"`
	ReminderStages string    `gorm:"column:reminder_stages"` // JSON array of days
	FaceTemplate   string    `gorm:"column:face_template"`
	CreatedAt      time.Time `gorm:"column:created_at"`
}

type licenceTypeIssuerRow struct {
	TypeCode     string `gorm:"column:type_code;primaryKey"`
	DepartmentID int64  `gorm:"column:department_id;primaryKey;autoIncrement:false"`
}

func (licenceTypeIssuerRow) TableName() string { return "licence_type_issuers" }

func (licenceTypeRow) TableName() string { return "licence_types" }

type holderRow struct {
	ID          int64     `gorm:"column:id;primaryKey"`
	Kind        string    `gorm:"column:kind"`
	Name        string    `gorm:"column:name"`
	IDType      string    `gorm:"column:id_type"`
	IDNumberEnc string    `gorm:"column:id_number_enc"`
	IDNumberIdx string    `gorm:"column:id_number_idx"`
	PhoneEnc    string    `gorm:"column:phone_enc"`
	CreatedAt   time.Time `gorm:"column:created_at"`
}

func (holderRow) TableName() string { return "holders" }

type licenceRow struct {
	ID          int64      `gorm:"column:id;primaryKey"`
	Identifier  string     `gorm:"column:identifier"`
	NumberEnc   string     `gorm:"column:number_enc"`
	NumberIdx   string     `gorm:"column:number_idx"`
	TypeCode    string     `gorm:"column:type_code"`
	HolderID    int64      `gorm:"column:holder_id"`
	IssuerID    int64      `gorm:"column:issuer_id"`
	IssuedOn    civilDate  `gorm:"column:issued_on"`
	ValidFrom   civilDate  `gorm:"column:valid_from"`
	ValidUntil  civilDate  `gorm:"column:valid_until"` // Valid=false: long-term
	Status      string     `gorm:"column:status"`
	Annotations string     `gorm:"column:annotations"` // JSON array
	Version     int        `gorm:"column:version"`
	FaceEnc     string     `gorm:"column:face_enc"` // sealed JSON object
	Seal        string     `gorm:"column:seal"`     // base64 SES_Signature
	SealID      *int64     `gorm:"column:seal_id"`
	SealCertID  *int64     `gorm:"column:seal_cert_id"`
	SignedAt    *time.Time `gorm:"column:signed_at"`
	Signature   string     `gorm:"column:signature"`     // base64 DER SM2 signature
	LineageID   *int64     `gorm:"column:lineage_id"`    // nil on version 1
	Superseded  *int64     `gorm:"column:superseded_by"` // the version that replaced this one
	Origin      string     `gorm:"column:origin"`        // the action that made this version: issue, import, update, renew
	CreatedAt   time.Time  `gorm:"column:created_at"`
	UpdatedAt   time.Time  `gorm:"column:updated_at"`
}

func (licenceRow) TableName() string { return "licences" }

type licenceEventRow struct {
	ID          int64     `gorm:"column:id;primaryKey"`
	LineageID   int64     `gorm:"column:lineage_id"`
	LicenceID   int64     `gorm:"column:licence_id"`
	Version     int       `gorm:"column:version"`
	Action      string    `gorm:"column:action"`
	FromStatus  string    `gorm:"column:from_status"`
	ToStatus    string    `gorm:"column:to_status"`
	Annotations string    `gorm:"column:annotations"` // JSON array, after the event
	Reason      string    `gorm:"column:reason"`
	Actor       string    `gorm:"column:actor"`
	EffectiveAt time.Time `gorm:"column:effective_at"`
	At          time.Time `gorm:"column:at"`
}

func (licenceEventRow) TableName() string { return "licence_events" }

type accountRow struct {
	OpenID     string     `gorm:"column:openid;primaryKey"`
	HolderID   *int64     `gorm:"column:holder_id"`
	BoundAt    *time.Time `gorm:"column:bound_at"`
	Subscribed bool       `gorm:"column:subscribed"`
	CreatedAt  time.Time  `gorm:"column:created_at"`
}

func (accountRow) TableName() string { return "accounts" }

type officerRow struct {
	OpenID       string    `gorm:"column:openid;primaryKey"`
	DepartmentID int64     `gorm:"column:department_id"`
	Name         string    `gorm:"column:name"`
	CreatedAt    time.Time `gorm:"column:created_at"`
}

func (officerRow) TableName() string { return "officers" }

type usageListRow struct {
	DepartmentID int64  `gorm:"column:department_id;primaryKey;autoIncrement:false"`
	TypeCode     string `gorm:"column:type_code;primaryKey"`
	Purposes     string `gorm:"column:purposes"` // JSON array
}

func (usageListRow) TableName() string { return "usage_lists" }

type usageRecordRow struct {
	ID            int64     `gorm:"column:id;primaryKey"`
	LicenceID     int64     `gorm:"column:licence_id"`
	OfficerOpenID string    `gorm:"column:officer_openid"`
	DepartmentID  int64     `gorm:"column:department_id"`
	Purpose       string    `gorm:"column:purpose"`
	Scope         string    `gorm:"column:scope"`
	Result        string    `gorm:"column:result"`
	ReasonCode    string    `gorm:"column:reason_code"`
	ClientIP      string    `gorm:"column:client_ip"`
	At            time.Time `gorm:"column:at"`
	// AuditID is the chain entry that holds this record: nil until the
	// chainer appends it, 0 when an entry of the record's own transaction
	// holds it (rows of earlier builds); see migration 0008.
	AuditID *int64 `gorm:"column:audit_id"`
}

func (usageRecordRow) TableName() string { return "usage_records" }

type auditEventRow struct {
	ID       int64     `gorm:"column:id;primaryKey;autoIncrement:false"`
	At       time.Time `gorm:"column:at"`
	Actor    string    `gorm:"column:actor"`
	Action   string    `gorm:"column:action"`
	Object   string    `gorm:"column:object"`
	Detail   string    `gorm:"column:detail"`
	PrevHash string    `gorm:"column:prev_hash"`
	Hash     string    `gorm:"column:hash"`
}

func (auditEventRow) TableName() string { return "audit_events" }

type auditHeadRow struct {
	ID       int    `gorm:"column:id;primaryKey;autoIncrement:false"`
	LastID   int64  `gorm:"column:last_id"`
	LastHash string `gorm:"column:last_hash"`
}

func (auditHeadRow) TableName() string { return "audit_head" }

// dateLoc is the zone in which licence dates are calendar days. China has
// kept UTC+8 without daylight saving since 1991, so the fixed zone is a
// faithful fallback where the tz database is missing.
var dateLoc = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*60*60)
}()

// DateLocation returns Asia/Shanghai, the zone in which licence dates are
// calendar days: dates read from the store are midnight in this zone.
func DateLocation() *time.Location { return dateLoc }

// civilDate is a DATE column value. It is written as the calendar day of
// the time in Asia/Shanghai and read back as midnight Asia/Shanghai, so
// neither the server's zone nor the DSN's loc can shift a licence's last
// valid day. Valid=false is SQL NULL.
type civilDate struct {
	Time  time.Time
	Valid bool
}

func dateOf(t time.Time) civilDate {
	if t.IsZero() {
		return civilDate{}
	}
	y, m, d := t.In(dateLoc).Date()
	return civilDate{Time: time.Date(y, m, d, 0, 0, 0, 0, dateLoc), Valid: true}
}

func datePtr(t *time.Time) civilDate {
	if t == nil {
		return civilDate{}
	}
	return dateOf(*t)
}

// Value implements driver.Valuer.
func (d civilDate) Value() (driver.Value, error) {
	if !d.Valid {
		return nil, nil
	}
	return d.Time.In(dateLoc).Format(time.DateOnly), nil
}

// Scan implements sql.Scanner. Drivers return DATE as a time.Time (in the
// DSN's zone, at midnight of that zone) or as text; either way only the
// calendar day is kept.
func (d *civilDate) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = civilDate{}
		return nil
	case time.Time:
		y, m, dd := v.Date()
		*d = civilDate{Time: time.Date(y, m, dd, 0, 0, 0, 0, dateLoc), Valid: true}
		return nil
	case []byte:
		return d.parse(string(v))
	case string:
		return d.parse(v)
	}
	return fmt.Errorf("store: cannot scan %T into a date", src)
}

func (d *civilDate) parse(s string) error {
	if len(s) < len(time.DateOnly) {
		return fmt.Errorf("store: bad date %q", s)
	}
	t, err := time.ParseInLocation(time.DateOnly, s[:len(time.DateOnly)], dateLoc)
	if err != nil {
		return fmt.Errorf("store: bad date %q: %w", s, err)
	}
	*d = civilDate{Time: t, Valid: true}
	return nil
}

// ptr returns the date as *time.Time, nil for NULL.
func (d civilDate) ptr() *time.Time {
	if !d.Valid {
		return nil
	}
	t := d.Time
	return &t
}

// utc normalises a timestamp to what DATETIME(6) keeps.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

type auditCheckpointRow struct {
	Count  int64     `gorm:"column:count;primaryKey;autoIncrement:false"`
	Hash   string    `gorm:"column:hash"`
	At     time.Time `gorm:"column:at"`
	SealID int64     `gorm:"column:seal_id"`
	Cert   []byte    `gorm:"column:cert"`
	Sig    []byte    `gorm:"column:sig"`
}

func (auditCheckpointRow) TableName() string { return "audit_checkpoints" }
