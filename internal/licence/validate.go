package licence

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/yangcheng-county/elicence/internal/ident"
)

// IssueRequest is one licence to issue: the body of an Open API issue call
// or one row of a stock import. Dates are calendar days; the caller parses
// them, so a malformed date is reported where it was read.
type IssueRequest struct {
	TypeCode   string
	Number     string // 证照编号
	Holder     Holder // Name, IDType, IDNumber, Phone; Kind follows the type
	IssuedOn   time.Time
	ValidFrom  time.Time
	ValidUntil *time.Time        // nil = long-term
	Fields     map[string]string // face fields by key
}

// FieldError is one reason a request is refused. Field is the JSON path of
// the offending value ("holder.id_number", "fields.name", "valid_until"),
// Code a stable snake_case word a department system can act on, Message a
// sentence for a person. The message never repeats an ID number.
type FieldError struct {
	Field, Code, Message string
}

// ValidationError carries every FieldError of a request, so a clerk fixes
// all of them in one round instead of one per attempt.
type ValidationError struct {
	Details []FieldError
}

// Error lists the fields and codes, never the values.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Details))
	for i, d := range e.Details {
		parts[i] = d.Field + ": " + d.Code
	}
	return "licence: validation failed: " + strings.Join(parts, ", ")
}

// Codes of FieldError.
const (
	CodeRequired           = "required"             // a required value is empty
	CodeTooLong            = "too_long"             // longer than allowed
	CodeTypeMismatch       = "type_mismatch"        // request names another type than the one checked against
	CodeUnknownField       = "unknown_field"        // a face field the type does not define
	CodeInvalidDate        = "invalid_date"         // not a YYYY-MM-DD calendar day
	CodeInvalidIDNumber    = "invalid_id_number"    // fails GB 11643 / GB 32100 (shape or check character)
	CodeInvalidPhone       = "invalid_phone"        // not a mainland mobile or landline number
	CodeUnsupportedIDType  = "unsupported_id_type"  // an ID type code the platform does not know
	CodeHolderKindMismatch = "holder_kind_mismatch" // a person's ID for an organisation's licence, or the reverse
	CodeDateOrder          = "date_order"           // valid_until before valid_from
)

// Limits on free text, in characters, so one stray paste cannot fill a column.
const (
	MaxNumberLen     = 64
	MaxHolderNameLen = 100
	MaxFieldLen      = 1000
)

// ID type codes of GB/T 36903 Annex A that holders may carry.
const (
	IDTypeUSCC       = "001" // 统一社会信用代码 (organisations)
	IDTypeResident   = "111" // 居民身份证
	IDTypePassport   = "414" // 普通护照
	IDTypeTaiwan     = "511" // 台湾居民来往大陆通行证
	IDTypeHKMacao    = "516" // 港澳居民来往内地通行证
	IDTypeForeignPRC = "553" // 外国人永久居留身份证
)

// idTypeKinds says which kind of holder each supported ID type identifies:
// the ID type is how a request shows whether its holder is a person or an
// organisation.
var idTypeKinds = map[string]HolderKind{
	IDTypeUSCC:       HolderOrganisation,
	IDTypeResident:   HolderPerson,
	IDTypePassport:   HolderPerson,
	IDTypeTaiwan:     HolderPerson,
	IDTypeHKMacao:    HolderPerson,
	IDTypeForeignPRC: HolderPerson,
}

// HolderKindOf returns the kind of holder an ID type identifies; ok is
// false for an ID type the platform does not support.
func HolderKindOf(idType string) (kind HolderKind, ok bool) {
	kind, ok = idTypeKinds[idType]
	return kind, ok
}

// NormaliseIDNumber gives the canonical form of an ID number of a type:
// surrounding space trimmed and letters upper-cased (a resident ID's x, a
// USCC typed in lower case). Validation, storage and blind indexes all use
// this form, so the same holder is always found again.
func NormaliseIDNumber(idType, n string) string {
	if idType == IDTypeResident {
		return ident.NormaliseResidentID(n)
	}
	return strings.ToUpper(strings.TrimSpace(n))
}

// ValidIDNumber checks a normalised number by the standard of its type;
// numbers of other ID types have no public check and need only be present
// and short.
func ValidIDNumber(idType, n string) bool {
	switch idType {
	case IDTypeResident:
		return ident.ValidResidentID(n)
	case IDTypeUSCC:
		return ident.ValidUSCC(n)
	}
	return n != "" && utf8.RuneCountInString(n) <= 32
}

// phonePattern accepts a mainland mobile number (11 digits from 13–19) or a
// landline with area code (0 + 2–3 digits, optional hyphen, 7–8 digits).
var phonePattern = regexp.MustCompile(`^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$`)

// ValidateIssue checks a request against its licence type and returns
// every problem found, in a stable order (number, holder, dates, then face
// fields in catalogue order, unknown keys last). It is pure: whether the
// department may issue the type, and whether the number exists already,
// are questions for the caller, which has the store.
//
// The rules: the number is present and at most MaxNumberLen characters;
// the holder has a name, a supported ID type whose holder kind matches the
// type's, and an ID number that passes GB 11643 (resident ID) or GB 32100
// (USCC); a phone, when given, is a mobile or landline number; the issue
// date and valid-from are present and valid-until (when not long-term) is
// not before valid-from; required face fields are present, no unknown key
// is given, date fields are YYYY-MM-DD, id_number fields pass the check of
// the holder's ID type, phone fields are phone numbers.
func ValidateIssue(t Type, req IssueRequest) []FieldError {
	var errs []FieldError
	add := func(field, code, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
	}

	if req.TypeCode != t.Code {
		add("type_code", CodeTypeMismatch, "type code %q is not the type %s checked against", req.TypeCode, t.Code)
	}
	switch n := strings.TrimSpace(req.Number); {
	case n == "":
		add("licence_number", CodeRequired, "licence number is required")
	case utf8.RuneCountInString(n) > MaxNumberLen:
		add("licence_number", CodeTooLong, "licence number is longer than %d characters", MaxNumberLen)
	}

	h := req.Holder
	switch name := strings.TrimSpace(h.Name); {
	case name == "":
		add("holder.name", CodeRequired, "holder name is required")
	case utf8.RuneCountInString(name) > MaxHolderNameLen:
		add("holder.name", CodeTooLong, "holder name is longer than %d characters", MaxHolderNameLen)
	}
	idType := strings.TrimSpace(h.IDType)
	kind, known := HolderKindOf(idType)
	switch {
	case idType == "":
		add("holder.id_type", CodeRequired, "holder ID type is required")
	case !known:
		add("holder.id_type", CodeUnsupportedIDType, "holder ID type %q is not supported (use 111, 001, 414, 511, 516 or 553)", idType)
	case kind != t.HolderKind:
		add("holder.id_type", CodeHolderKindMismatch, "ID type %s identifies a %s, but %s is issued to a %s", idType, kind, t.Name, t.HolderKind)
	}
	if h.Kind != "" && h.Kind != t.HolderKind {
		add("holder.kind", CodeHolderKindMismatch, "holder is a %s, but %s is issued to a %s", h.Kind, t.Name, t.HolderKind)
	}
	switch idn := NormaliseIDNumber(idType, h.IDNumber); {
	case idn == "":
		add("holder.id_number", CodeRequired, "holder ID number is required")
	case known && !ValidIDNumber(idType, idn):
		add("holder.id_number", CodeInvalidIDNumber, "holder ID number fails the %s check", idCheckName(idType))
	}
	if p := strings.TrimSpace(h.Phone); p != "" && !phonePattern.MatchString(p) {
		add("holder.phone", CodeInvalidPhone, "holder phone is not a mobile or landline number")
	}

	if req.IssuedOn.IsZero() {
		add("issue_date", CodeRequired, "issue date is required")
	}
	if req.ValidFrom.IsZero() {
		add("valid_from", CodeRequired, "valid-from date is required")
	} else if req.ValidUntil != nil && req.ValidUntil.Before(req.ValidFrom) {
		add("valid_until", CodeDateOrder, "valid-until %s is before valid-from %s",
			req.ValidUntil.Format(time.DateOnly), req.ValidFrom.Format(time.DateOnly))
	}

	defined := make(map[string]bool, len(t.Fields))
	for _, f := range t.Fields {
		defined[f.Key] = true
		path := "fields." + f.Key
		v := strings.TrimSpace(req.Fields[f.Key])
		if v == "" {
			if f.Required {
				add(path, CodeRequired, "%s (%s) is required", f.Label, f.Key)
			}
			continue
		}
		if utf8.RuneCountInString(v) > MaxFieldLen {
			add(path, CodeTooLong, "%s is longer than %d characters", f.Label, MaxFieldLen)
			continue
		}
		switch strings.ToLower(strings.TrimSpace(f.Type)) {
		case "date":
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				add(path, CodeInvalidDate, "%s must be a date YYYY-MM-DD", f.Label)
			}
		case FieldTypeIDNumber:
			if known && !ValidIDNumber(idType, NormaliseIDNumber(idType, v)) {
				add(path, CodeInvalidIDNumber, "%s fails the %s check", f.Label, idCheckName(idType))
			}
		case FieldTypePhone:
			if !phonePattern.MatchString(v) {
				add(path, CodeInvalidPhone, "%s is not a mobile or landline number", f.Label)
			}
		}
	}
	var unknown []string
	for k := range req.Fields {
		if !defined[k] {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		add("fields."+k, CodeUnknownField, "%s has no face field %q", t.Name, k)
	}
	return errs
}

// idCheckName names the standard an ID number of a type is checked by.
func idCheckName(idType string) string {
	switch idType {
	case IDTypeResident:
		return "GB 11643"
	case IDTypeUSCC:
		return "GB 32100"
	}
	return "format"
}
