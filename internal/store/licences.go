package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/yangcheng-county/elicence/internal/ident"
	"github.com/yangcheng-county/elicence/internal/licence"
)

// Field names bound into sealed values and blind indexes. Changing one
// makes every stored value unreadable or unfindable: they are part of the
// storage format.
const (
	sealHolderIDNumber = "holder.id_number"
	sealHolderPhone    = "holder.phone"
	sealLicenceNumber  = "licence.number"
	sealLicenceFace    = "licence.face"
)

// ID type codes (GB/T 36903 Annex A) the store validates on write.
const (
	IDTypeResident = "111" // 居民身份证
	IDTypeUSCC     = "001" // 统一社会信用代码
)

// fieldDoc is the JSON form of a catalogue field in licence_types.fields.
// It is a storage format, kept apart from licence.Field for the same reason
// rows are.
type fieldDoc struct {
	Key       string `json:"key"`
	Label     string `json:"label"`
	Type      string `json:"type"`
	Required  bool   `json:"required,omitempty"`
	Sensitive bool   `json:"sensitive,omitempty"`
	Mask      string `json:"mask,omitempty"`
	Basic     bool   `json:"basic,omitempty"`
}

// --- departments -----------------------------------------------------------

func departmentFromRow(r departmentRow) licence.Department {
	return licence.Department{ID: r.ID, Name: r.Name, USCC: r.USCC, Kind: licence.DepartmentKind(r.Kind), AreaCode: r.AreaCode}
}

// CreateDepartment inserts a department and returns it with its id. The
// USCC must pass the GB 32100 check.
func (s *Store) CreateDepartment(ctx context.Context, d licence.Department) (licence.Department, error) {
	if d.Name == "" || !ident.ValidUSCC(d.USCC) {
		return licence.Department{}, fmt.Errorf("store: create department %q: name empty or USCC invalid", d.Name)
	}
	r := departmentRow{Name: d.Name, USCC: d.USCC, Kind: string(d.Kind), AreaCode: d.AreaCode, CreatedAt: utc(time.Now())}
	if err := s.q(ctx).Create(&r).Error; err != nil {
		return licence.Department{}, fmt.Errorf("store: create department %s: %w", d.USCC, mapErr(err, licence.ErrNotFound))
	}
	return departmentFromRow(r), nil
}

// Department implements licence.Repository.
func (s *Store) Department(ctx context.Context, id int64) (licence.Department, error) {
	var r departmentRow
	if err := s.q(ctx).Where("id = ?", id).First(&r).Error; err != nil {
		return licence.Department{}, fmt.Errorf("store: department %d: %w", id, mapErr(err, licence.ErrNotFound))
	}
	return departmentFromRow(r), nil
}

// DepartmentByUSCC implements licence.Repository.
func (s *Store) DepartmentByUSCC(ctx context.Context, uscc string) (licence.Department, error) {
	var r departmentRow
	if err := s.q(ctx).Where("uscc = ?", uscc).First(&r).Error; err != nil {
		return licence.Department{}, fmt.Errorf("store: department by uscc: %w", mapErr(err, licence.ErrNotFound))
	}
	return departmentFromRow(r), nil
}

// Departments lists all departments by id.
func (s *Store) Departments(ctx context.Context) ([]licence.Department, error) {
	var rows []departmentRow
	if err := s.q(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: departments: %w", err)
	}
	out := make([]licence.Department, len(rows))
	for i, r := range rows {
		out[i] = departmentFromRow(r)
	}
	return out, nil
}

// --- licence types ---------------------------------------------------------

func typeToRow(t licence.Type) (licenceTypeRow, error) {
	docs := make([]fieldDoc, len(t.Fields))
	for i, f := range t.Fields {
		docs[i] = fieldDoc{Key: f.Key, Label: f.Label, Type: f.Type, Required: f.Required, Sensitive: f.Sensitive, Mask: string(f.Mask), Basic: f.Basic}
	}
	fields, err := json.Marshal(docs)
	if err != nil {
		return licenceTypeRow{}, err
	}
	stages := t.ReminderStages
	if stages == nil {
		stages = []int{}
	}
	st, err := json.Marshal(stages)
	if err != nil {
		return licenceTypeRow{}, err
	}
	return licenceTypeRow{
		Code: t.Code, Name: t.Name, HolderKind: string(t.HolderKind), Fields: string(fields),
		ValidityYears: t.ValidityYears, ReminderStages: string(st), FaceTemplate: t.FaceTemplate, CreatedAt: utc(time.Now()),
	}, nil
}

func typeFromRow(r licenceTypeRow) (licence.Type, error) {
	var docs []fieldDoc
	if err := json.Unmarshal([]byte(r.Fields), &docs); err != nil {
		return licence.Type{}, fmt.Errorf("store: type %s fields: %w", r.Code, err)
	}
	var stages []int
	if err := json.Unmarshal([]byte(r.ReminderStages), &stages); err != nil {
		return licence.Type{}, fmt.Errorf("store: type %s reminder stages: %w", r.Code, err)
	}
	fields := make([]licence.Field, len(docs))
	for i, d := range docs {
		fields[i] = licence.Field{Key: d.Key, Label: d.Label, Type: d.Type, Required: d.Required, Sensitive: d.Sensitive, Mask: licence.MaskRule(d.Mask), Basic: d.Basic}
	}
	return licence.Type{
		Code: r.Code, Name: r.Name, HolderKind: licence.HolderKind(r.HolderKind), Fields: fields,
		ValidityYears: r.ValidityYears, ReminderStages: stages, FaceTemplate: r.FaceTemplate,
	}, nil
}

// CreateType adds a catalogue entry. The code must be 21 characters: a
// valid USCC of the defining body followed by 3 digits. The defining
// department, when on record, starts as the type's only issuer
// (SetTypeIssuers changes that).
func (s *Store) CreateType(ctx context.Context, t licence.Type) error {
	if !ident.ValidTypeCode(t.Code) || t.Name == "" {
		return fmt.Errorf("store: create type %q: bad code or empty name", t.Code)
	}
	r, err := typeToRow(t)
	if err != nil {
		return fmt.Errorf("store: create type %s: %w", t.Code, err)
	}
	err = s.InTx(ctx, func(tx *Store) error {
		if err := tx.q(ctx).Create(&r).Error; err != nil {
			return err
		}
		return tx.addDefiningIssuer(ctx, t.Code)
	})
	if err != nil {
		return fmt.Errorf("store: create type %s: %w", t.Code, mapErr(err, licence.ErrNotFound))
	}
	return nil
}

// Type implements licence.Repository.
func (s *Store) Type(ctx context.Context, code string) (licence.Type, error) {
	var r licenceTypeRow
	if err := s.q(ctx).Where("code = ?", code).First(&r).Error; err != nil {
		return licence.Type{}, fmt.Errorf("store: type %s: %w", code, mapErr(err, licence.ErrNotFound))
	}
	return typeFromRow(r)
}

// Types lists the whole catalogue by code.
func (s *Store) Types(ctx context.Context) ([]licence.Type, error) {
	var rows []licenceTypeRow
	if err := s.q(ctx).Order("code").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: types: %w", err)
	}
	out := make([]licence.Type, 0, len(rows))
	for _, r := range rows {
		t, err := typeFromRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// --- holders ---------------------------------------------------------------

func (s *Store) holderFromRow(r holderRow) (licence.Holder, error) {
	idn, err := s.sealer.Decrypt(sealHolderIDNumber, r.IDNumberEnc)
	if err != nil {
		return licence.Holder{}, fmt.Errorf("store: holder %d id number: %w", r.ID, err)
	}
	var phone string
	if r.PhoneEnc != "" {
		if phone, err = s.sealer.Decrypt(sealHolderPhone, r.PhoneEnc); err != nil {
			return licence.Holder{}, fmt.Errorf("store: holder %d phone: %w", r.ID, err)
		}
	}
	return licence.Holder{ID: r.ID, Kind: licence.HolderKind(r.Kind), Name: r.Name, IDType: r.IDType, IDNumber: idn, Phone: phone}, nil
}

// CreateHolder inserts a holder. The ID number is checked (GB 11643 for
// resident IDs, GB 32100 for USCCs), sealed, and indexed for lookup; the
// phone is sealed. A second holder with the same ID type and number gets
// ErrDuplicate.
func (s *Store) CreateHolder(ctx context.Context, h licence.Holder) (licence.Holder, error) {
	h.IDNumber = licence.NormaliseIDNumber(h.IDType, h.IDNumber)
	if h.Name == "" || h.IDType == "" || !licence.ValidIDNumber(h.IDType, h.IDNumber) {
		return licence.Holder{}, errors.New("store: create holder: name, ID type or ID number invalid")
	}
	idEnc, err := s.sealer.Encrypt(sealHolderIDNumber, h.IDNumber)
	if err != nil {
		return licence.Holder{}, fmt.Errorf("store: create holder: %w", err)
	}
	var phoneEnc string
	if h.Phone != "" {
		if phoneEnc, err = s.sealer.Encrypt(sealHolderPhone, h.Phone); err != nil {
			return licence.Holder{}, fmt.Errorf("store: create holder: %w", err)
		}
	}
	idx := s.holderIndexes(h.IDNumber)
	// The unique key sees only the current index. While a rotation runs the
	// holder may still carry an older one, so look for that first: one ID
	// number must never become two holders.
	if older := idx[1:]; len(older) > 0 {
		var n int64
		if err := s.q(ctx).Model(&holderRow{}).Where("id_type = ? AND id_number_idx IN ?", h.IDType, older).Count(&n).Error; err != nil {
			return licence.Holder{}, fmt.Errorf("store: create holder: %w", err)
		}
		if n > 0 {
			return licence.Holder{}, fmt.Errorf("store: create holder: %w", ErrDuplicate)
		}
	}
	r := holderRow{
		Kind: string(h.Kind), Name: h.Name, IDType: h.IDType,
		IDNumberEnc: idEnc, IDNumberIdx: idx[0],
		PhoneEnc: phoneEnc, CreatedAt: utc(time.Now()),
	}
	if err := s.q(ctx).Create(&r).Error; err != nil {
		return licence.Holder{}, fmt.Errorf("store: create holder: %w", mapErr(err, licence.ErrNotFound))
	}
	h.ID = r.ID
	return h, nil
}

// Holder implements licence.Repository.
func (s *Store) Holder(ctx context.Context, id int64) (licence.Holder, error) {
	var r holderRow
	if err := s.q(ctx).Where("id = ?", id).First(&r).Error; err != nil {
		return licence.Holder{}, fmt.Errorf("store: holder %d: %w", id, mapErr(err, licence.ErrNotFound))
	}
	return s.holderFromRow(r)
}

// HolderByIDNumber implements licence.Repository: the number is normalised
// and looked up through its blind index, never compared in plain text.
// Every index the holder may carry is searched (secure.Sealer.BlindIndexes),
// so a lookup works before, while and after `bff keys rotate` re-indexes.
func (s *Store) HolderByIDNumber(ctx context.Context, idType, idNumber string) (licence.Holder, error) {
	n := licence.NormaliseIDNumber(idType, idNumber)
	var r holderRow
	err := s.q(ctx).Where("id_type = ? AND id_number_idx IN ?", idType, s.holderIndexes(n)).Order("id").First(&r).Error
	if err != nil {
		return licence.Holder{}, fmt.Errorf("store: holder by id number: %w", mapErr(err, licence.ErrNotFound))
	}
	return s.holderFromRow(r)
}

// --- licences --------------------------------------------------------------

func (s *Store) licenceToRow(l licence.Licence) (licenceRow, error) {
	numEnc, err := s.sealer.Encrypt(sealLicenceNumber, l.Number)
	if err != nil {
		return licenceRow{}, err
	}
	face := l.Face
	if face == nil {
		face = map[string]string{}
	}
	fj, err := json.Marshal(face)
	if err != nil {
		return licenceRow{}, err
	}
	faceEnc, err := s.sealer.Encrypt(sealLicenceFace, string(fj))
	if err != nil {
		return licenceRow{}, err
	}
	aj, err := json.Marshal(nonNil(l.Annotations))
	if err != nil {
		return licenceRow{}, err
	}
	now := utc(time.Now())
	var lineage *int64
	if l.LineageID != 0 && l.LineageID != l.ID {
		lineage = &l.LineageID
	}
	return licenceRow{
		LineageID: lineage,
		ID:        l.ID, Identifier: l.Identifier, NumberEnc: numEnc, NumberIdx: s.licenceNumberIndex(l.TypeCode, l.Number),
		TypeCode: l.TypeCode, HolderID: l.HolderID, IssuerID: l.IssuerID,
		IssuedOn: dateOf(l.IssuedOn), ValidFrom: dateOf(l.ValidFrom), ValidUntil: datePtr(l.ValidUntil),
		Status: string(l.Status), Annotations: string(aj), Version: l.Version, FaceEnc: faceEnc,
		CreatedAt: now, UpdatedAt: now,
	}.withSignature(l.Signature), nil
}

// withSignature sets the signature columns of r from sig; an unsigned
// version keeps them empty.
func (r licenceRow) withSignature(sig licence.Signature) licenceRow {
	if !sig.Signed() {
		return r
	}
	at := utc(sig.SignedAt)
	r.SealID, r.SealCertID, r.SignedAt = &sig.SealID, &sig.CertID, &at
	r.Signature = base64.StdEncoding.EncodeToString(sig.Value)
	r.Seal = base64.StdEncoding.EncodeToString(sig.SES)
	return r
}

// signatureFromRow reads the signature columns back.
func signatureFromRow(r licenceRow) (licence.Signature, error) {
	if r.Signature == "" || r.SealID == nil || r.SealCertID == nil || r.SignedAt == nil {
		return licence.Signature{}, nil
	}
	v, err := base64.StdEncoding.DecodeString(r.Signature)
	if err != nil {
		return licence.Signature{}, fmt.Errorf("store: licence %d signature: %w", r.ID, err)
	}
	ses, err := base64.StdEncoding.DecodeString(r.Seal)
	if err != nil {
		return licence.Signature{}, fmt.Errorf("store: licence %d seal: %w", r.ID, err)
	}
	return licence.Signature{SealID: *r.SealID, CertID: *r.SealCertID, SignedAt: r.SignedAt.UTC(), Value: v, SES: ses}, nil
}

// licenceNumberIndex is the index a licence number is written with.
func (s *Store) licenceNumberIndex(typeCode, number string) string {
	return s.licenceNumberIndexes(typeCode, number)[0]
}

// licenceNumberIndexes are the indexes a licence number may be stored
// under, the current one first: lookups search them all.
func (s *Store) licenceNumberIndexes(typeCode, number string) []string {
	return s.sealer.BlindIndexes(sealLicenceNumber, typeCode+"\x00"+strings.TrimSpace(number))
}

// holderIndexes are the indexes a normalised ID number may be stored
// under, the current one first.
func (s *Store) holderIndexes(idNumber string) []string {
	return s.sealer.BlindIndexes(sealHolderIDNumber, idNumber)
}

func (s *Store) licenceFromRow(r licenceRow) (licence.Licence, error) {
	num, err := s.sealer.Decrypt(sealLicenceNumber, r.NumberEnc)
	if err != nil {
		return licence.Licence{}, fmt.Errorf("store: licence %d number: %w", r.ID, err)
	}
	fj, err := s.sealer.Decrypt(sealLicenceFace, r.FaceEnc)
	if err != nil {
		return licence.Licence{}, fmt.Errorf("store: licence %d face: %w", r.ID, err)
	}
	face := map[string]string{}
	if err := json.Unmarshal([]byte(fj), &face); err != nil {
		return licence.Licence{}, fmt.Errorf("store: licence %d face: %w", r.ID, err)
	}
	var ann []licence.Annotation
	if err := json.Unmarshal([]byte(r.Annotations), &ann); err != nil {
		return licence.Licence{}, fmt.Errorf("store: licence %d annotations: %w", r.ID, err)
	}
	lineage := r.ID
	if r.LineageID != nil {
		lineage = *r.LineageID
	}
	sig, err := signatureFromRow(r)
	if err != nil {
		return licence.Licence{}, err
	}
	return licence.Licence{
		ID: r.ID, Identifier: r.Identifier, Number: num, TypeCode: r.TypeCode, HolderID: r.HolderID, IssuerID: r.IssuerID,
		IssuedOn: r.IssuedOn.Time, ValidFrom: r.ValidFrom.Time, ValidUntil: r.ValidUntil.ptr(),
		Status: licence.Status(r.Status), Annotations: ann, Version: r.Version, Face: face, Signature: sig, LineageID: lineage,
	}, nil
}

// CreateLicence inserts a licence and returns it with its id. The
// identifier must be a valid GB/T 36904 identifier (ident.LicenceIdentifier);
// issue and valid-from dates are required. Number and face are sealed.
// Its origin is issue: the lifecycle's revisions and the stock import
// record their own.
func (s *Store) CreateLicence(ctx context.Context, l licence.Licence) (licence.Licence, error) {
	return s.createLicence(ctx, l, licence.ActionIssue)
}

// createLicence inserts l, recording origin, the action that made this
// version (docs/STATISTICS.md counts licences by it).
func (s *Store) createLicence(ctx context.Context, l licence.Licence, origin string) (licence.Licence, error) {
	if _, err := ident.ParseLicenceIdentifier(l.Identifier); err != nil {
		return licence.Licence{}, fmt.Errorf("store: create licence: %w", err)
	}
	if l.IssuedOn.IsZero() || l.ValidFrom.IsZero() || l.Number == "" || l.HolderID == 0 || l.IssuerID == 0 {
		return licence.Licence{}, errors.New("store: create licence: number, holder, issuer, issue date and valid-from are required")
	}
	if l.Status == "" {
		l.Status = licence.StatusValid
	}
	if l.Version == 0 {
		l.Version = 1
	}
	l.ID = 0
	r, err := s.licenceToRow(l)
	if err != nil {
		return licence.Licence{}, fmt.Errorf("store: create licence: %w", err)
	}
	r.Origin = origin
	if err := s.q(ctx).Create(&r).Error; err != nil {
		return licence.Licence{}, fmt.Errorf("store: create licence: %w", mapErr(err, licence.ErrNotFound))
	}
	return s.licenceFromRow(r)
}

// Licence implements licence.Repository. It does not check ownership: the
// caller compares HolderID with the session's holder.
func (s *Store) Licence(ctx context.Context, id int64) (licence.Licence, error) {
	var r licenceRow
	if err := s.q(ctx).Where("id = ?", id).First(&r).Error; err != nil {
		return licence.Licence{}, fmt.Errorf("store: licence %d: %w", id, mapErr(err, licence.ErrNotFound))
	}
	return s.licenceFromRow(r)
}

// LicenceByIdentifier finds a licence by its GB/T 36904 identifier.
func (s *Store) LicenceByIdentifier(ctx context.Context, identifier string) (licence.Licence, error) {
	var r licenceRow
	if err := s.q(ctx).Where("identifier = ?", identifier).First(&r).Error; err != nil {
		return licence.Licence{}, fmt.Errorf("store: licence by identifier: %w", mapErr(err, licence.ErrNotFound))
	}
	return s.licenceFromRow(r)
}

// LicencesByHolder implements licence.Repository: the holder's licences in
// issue order (by id). A holder without licences gets an empty list.
func (s *Store) LicencesByHolder(ctx context.Context, holderID int64) ([]licence.Licence, error) {
	var rows []licenceRow
	if err := s.q(ctx).Where("holder_id = ? AND superseded_by IS NULL", holderID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: licences of holder %d: %w", holderID, err)
	}
	return s.licencesFromRows(rows)
}

func (s *Store) licencesFromRows(rows []licenceRow) ([]licence.Licence, error) {
	out := make([]licence.Licence, 0, len(rows))
	for _, r := range rows {
		l, err := s.licenceFromRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}
