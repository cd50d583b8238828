// Package catalogue is the licence catalogue (证照目录) as data: the
// departments, the licence types with their field schema and issuers, and
// the departments' usage lists (用证清单) with purposes, read from a YAML
// file (docs/CATALOGUE.md), validated as a whole, and applied to storage
// idempotently in one transaction with one audit event.
package catalogue

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/yangcheng-county/elicence/internal/ident"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/verify"
)

// The YAML document. These structs are the file format only; Parse turns
// them into a Catalogue of domain values, Write the other way round. Empty
// optional values are left out when writing.
type fileDoc struct {
	Departments []departmentDoc `yaml:"departments"`
	Types       []typeDoc       `yaml:"types"`
	UsageLists  []usageListDoc  `yaml:"usage_lists"`
}

type departmentDoc struct {
	Name     string `yaml:"name"`
	USCC     string `yaml:"uscc"`
	Kind     string `yaml:"kind"`
	AreaCode string `yaml:"area_code"`
}

type typeDoc struct {
	Code           string     `yaml:"code"`
	Name           string     `yaml:"name"`
	HolderKind     string     `yaml:"holder_kind"`
	ValidityYears  int        `yaml:"validity_years,omitempty"`
	ReminderStages []int      `yaml:"reminder_stages,flow,omitempty"`
	FaceTemplate   string     `yaml:"face_template,omitempty"`
	Issuers        []string   `yaml:"issuers,flow"`
	Fields         []fieldDoc `yaml:"fields"`
}

type fieldDoc struct {
	Key       string `yaml:"key"`
	Label     string `yaml:"label"`
	Type      string `yaml:"type"`
	Required  bool   `yaml:"required,omitempty"`
	Sensitive bool   `yaml:"sensitive,omitempty"`
	Mask      string `yaml:"mask,omitempty"`
	Basic     bool   `yaml:"basic,omitempty"`
}

type usageListDoc struct {
	Department string          `yaml:"department"`
	Types      []usageEntryDoc `yaml:"types"`
}

type usageEntryDoc struct {
	Type     string   `yaml:"type"`
	Purposes []string `yaml:"purposes,flow"`
}

// Catalogue is a parsed, validated catalogue file.
type Catalogue struct {
	Departments []licence.Department
	Types       []TypeEntry
	UsageLists  []UsageList
}

// TypeEntry is a licence type with the USCCs of the departments that may
// issue it (at least its defining department unless the file says
// otherwise).
type TypeEntry struct {
	licence.Type
	Issuers []string
}

// UsageList is one department's whole usage list: applying it makes the
// department's list exactly these types with these purposes.
type UsageList struct {
	DepartmentUSCC string
	Entries        []UsageEntry
}

// UsageEntry is one licence type on a usage list.
type UsageEntry struct {
	TypeCode string
	Purposes []string
}

// Problem is one reason a catalogue is refused: which entry, which field.
type Problem struct {
	Entry   string // "types[3] 机动车驾驶证 (11140500011970328E001)"
	Field   string // "fields[2].mask"; empty for the entry as a whole
	Message string
}

func (p Problem) String() string {
	if p.Field == "" {
		return p.Entry + ": " + p.Message
	}
	return p.Entry + "." + p.Field + ": " + p.Message
}

// Error lists every problem found in a catalogue; nothing is written when
// Apply returns one.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return fmt.Sprintf("catalogue: %d problem(s):\n  %s", len(lines), strings.Join(lines, "\n  "))
}

// FormatError is a file that is not YAML of the catalogue's shape (a
// syntax error, an unknown key, a list where a value belongs); nothing of
// it was checked further.
type FormatError struct{ Err error }

func (e *FormatError) Error() string { return "catalogue: " + e.Err.Error() }
func (e *FormatError) Unwrap() error { return e.Err }

// Allowed values of the format.
var (
	departmentKinds = []string{string(licence.DeptIssuer), string(licence.DeptRelying), string(licence.DeptAdmin)}
	holderKinds     = []string{string(licence.HolderPerson), string(licence.HolderOrganisation)}
	fieldTypes      = []string{"text", "date", licence.FieldTypeIDNumber, licence.FieldTypePhone, "address", "photo"}
	maskRules       = []string{string(licence.MaskName), string(licence.MaskID), string(licence.MaskPhone), string(licence.MaskMiddle), string(licence.MaskAll)}

	areaCodeRe = regexp.MustCompile(`^[0-9]{6}$`)
	fieldKeyRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	templateRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
)

// Limits of the format.
const (
	maxNameLen       = 64
	maxValidityYears = 100
	maxStageDays     = 3650
)

// Parse reads and validates a catalogue file. Unknown keys are refused (a
// misspelt key must not silently drop a rule). Every problem the
// file alone shows is reported at once; references to departments and
// types not in the file are checked against storage by Apply.
func Parse(r io.Reader) (Catalogue, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return Catalogue{}, fmt.Errorf("catalogue: read: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var doc fileDoc
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return Catalogue{}, &FormatError{Err: err}
	}
	v := &validator{}
	c := v.catalogue(doc)
	if len(v.problems) > 0 {
		return Catalogue{}, &Error{Problems: v.problems}
	}
	return c, nil
}

type validator struct{ problems []Problem }

func (v *validator) add(entry, field, format string, args ...any) {
	v.problems = append(v.problems, Problem{Entry: entry, Field: field, Message: fmt.Sprintf(format, args...)})
}

// oneOf reports value when it is not one of allowed.
func (v *validator) oneOf(entry, field, value string, allowed []string) {
	if !slices.Contains(allowed, value) {
		v.add(entry, field, "%q is not one of %s", value, strings.Join(allowed, ", "))
	}
}

// repeated records key in seen and reports whether it was there already.
func repeated(seen map[string]bool, key string) bool {
	if seen[key] {
		return true
	}
	seen[key] = true
	return false
}

func (v *validator) catalogue(doc fileDoc) Catalogue {
	var c Catalogue
	seenDept := map[string]bool{}
	for i, d := range doc.Departments {
		entry := fmt.Sprintf("departments[%d] %s (%s)", i, d.Name, d.USCC)
		if repeated(seenDept, d.USCC) {
			v.add(entry, "uscc", "department listed twice")
		}
		c.Departments = append(c.Departments, v.department(entry, d))
	}
	seenType, seenName := map[string]bool{}, map[string]bool{}
	for i, t := range doc.Types {
		entry := fmt.Sprintf("types[%d] %s (%s)", i, t.Name, t.Code)
		if repeated(seenType, t.Code) {
			v.add(entry, "code", "licence type listed twice")
		}
		if repeated(seenName, t.Name) {
			v.add(entry, "name", "another type in the file has this name")
		}
		c.Types = append(c.Types, v.licenceType(entry, t))
	}
	seenList := map[string]bool{}
	for i, u := range doc.UsageLists {
		entry := fmt.Sprintf("usage_lists[%d] (department %s)", i, u.Department)
		if repeated(seenList, u.Department) {
			v.add(entry, "department", "department has two usage lists; merge them")
		}
		c.UsageLists = append(c.UsageLists, v.usageList(entry, u))
	}
	return c
}

func (v *validator) department(entry string, d departmentDoc) licence.Department {
	if strings.TrimSpace(d.Name) == "" || utf8.RuneCountInString(d.Name) > 128 {
		v.add(entry, "name", "required, at most 128 characters")
	}
	if !ident.ValidUSCC(d.USCC) {
		v.add(entry, "uscc", "%q is not a valid unified social credit code (GB 32100 check failed)", d.USCC)
	}
	v.oneOf(entry, "kind", d.Kind, departmentKinds)
	if !areaCodeRe.MatchString(d.AreaCode) {
		v.add(entry, "area_code", "%q is not a 6-digit area code (GB/T 2260)", d.AreaCode)
	}
	return licence.Department{Name: strings.TrimSpace(d.Name), USCC: d.USCC, Kind: licence.DepartmentKind(d.Kind), AreaCode: d.AreaCode}
}

func (v *validator) licenceType(entry string, t typeDoc) TypeEntry {
	if !ident.ValidTypeCode(t.Code) {
		v.add(entry, "code", "%q is not a licence type code (GB/T 36904: the defining department's USCC and 3 digits)", t.Code)
	}
	if strings.TrimSpace(t.Name) == "" || utf8.RuneCountInString(t.Name) > maxNameLen {
		v.add(entry, "name", "required, at most %d characters", maxNameLen)
	}
	v.oneOf(entry, "holder_kind", t.HolderKind, holderKinds)
	if t.ValidityYears < 0 || t.ValidityYears > maxValidityYears {
		v.add(entry, "validity_years", "must be 0 (long-term) to %d", maxValidityYears)
	}
	stages := slices.Clone(t.ReminderStages)
	slices.SortFunc(stages, func(a, b int) int { return b - a })
	for i, d := range stages {
		if d < 1 || d > maxStageDays {
			v.add(entry, "reminder_stages", "%d is not 1 to %d days", d, maxStageDays)
		}
		if i > 0 && stages[i-1] == d {
			v.add(entry, "reminder_stages", "%d days listed twice", d)
		}
	}
	if t.FaceTemplate != "" && !templateRe.MatchString(t.FaceTemplate) {
		v.add(entry, "face_template", "%q is not a template name (lower-case letters, digits, - and _)", t.FaceTemplate)
	}
	issuers := slices.Clone(t.Issuers)
	if len(issuers) == 0 && len(t.Code) >= 18 {
		issuers = []string{t.Code[:18]}
	}
	slices.Sort(issuers)
	for i, u := range issuers {
		if !ident.ValidUSCC(u) {
			v.add(entry, fmt.Sprintf("issuers[%d]", i), "%q is not a valid unified social credit code", u)
		}
		if i > 0 && issuers[i-1] == u {
			v.add(entry, "issuers", "%s listed twice", u)
		}
	}
	if len(t.Fields) == 0 {
		v.add(entry, "fields", "a licence type needs at least one field")
	}
	fields := make([]licence.Field, 0, len(t.Fields))
	seen := map[string]bool{}
	for i, f := range t.Fields {
		at := fmt.Sprintf("fields[%d]", i)
		if !fieldKeyRe.MatchString(f.Key) {
			v.add(entry, at+".key", "%q is not a field key (lower-case letter, then letters, digits or _)", f.Key)
		}
		if repeated(seen, f.Key) {
			v.add(entry, at+".key", "%q listed twice", f.Key)
		}
		if strings.TrimSpace(f.Label) == "" {
			v.add(entry, at+".label", "required")
		}
		v.oneOf(entry, at+".type", f.Type, fieldTypes)
		if f.Mask != "" {
			v.oneOf(entry, at+".mask", f.Mask, maskRules)
		}
		if f.Mask != "" && !f.Sensitive {
			v.add(entry, at+".mask", "a mask rule only applies to a sensitive field; add sensitive: true")
		}
		fields = append(fields, licence.Field{Key: f.Key, Label: strings.TrimSpace(f.Label), Type: f.Type, Required: f.Required,
			Sensitive: f.Sensitive, Mask: licence.MaskRule(f.Mask), Basic: f.Basic})
	}
	if len(stages) == 0 {
		stages = []int{}
	}
	return TypeEntry{
		Type: licence.Type{Code: t.Code, Name: strings.TrimSpace(t.Name), HolderKind: licence.HolderKind(t.HolderKind), Fields: fields,
			ValidityYears: t.ValidityYears, ReminderStages: stages, FaceTemplate: t.FaceTemplate},
		Issuers: issuers,
	}
}

func (v *validator) usageList(entry string, u usageListDoc) UsageList {
	if !ident.ValidUSCC(u.Department) {
		v.add(entry, "department", "%q is not a valid unified social credit code", u.Department)
	}
	out := UsageList{DepartmentUSCC: u.Department}
	seen := map[string]bool{}
	for i, e := range u.Types {
		at := fmt.Sprintf("types[%d]", i)
		if !ident.ValidTypeCode(e.Type) {
			v.add(entry, at+".type", "%q is not a licence type code", e.Type)
		}
		if repeated(seen, e.Type) {
			v.add(entry, at+".type", "%s listed twice", e.Type)
		}
		if len(e.Purposes) == 0 {
			v.add(entry, at+".purposes", "at least one purpose is required: verification refuses any purpose not listed")
		}
		purposes := make([]string, 0, len(e.Purposes))
		for j, p := range e.Purposes {
			n, ok := verify.NormalisePurpose(p)
			switch {
			case !ok:
				v.add(entry, fmt.Sprintf("%s.purposes[%d]", at, j), "%q must be 1 to %d characters of text", p, verify.MaxPurposeLen)
			case slices.Contains(purposes, n):
				v.add(entry, fmt.Sprintf("%s.purposes[%d]", at, j), "%q listed twice", n)
			default:
				purposes = append(purposes, n)
			}
		}
		out.Entries = append(out.Entries, UsageEntry{TypeCode: e.Type, Purposes: purposes})
	}
	return out
}

// Write writes c in the file format Parse reads, so an exported catalogue
// can be edited and applied again.
func Write(w io.Writer, c Catalogue) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(docOf(c)); err != nil {
		return fmt.Errorf("catalogue: write: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("catalogue: write: %w", err)
	}
	return nil
}

// docOf is c as the file would give it.
func docOf(c Catalogue) fileDoc {
	var doc fileDoc
	for _, d := range c.Departments {
		doc.Departments = append(doc.Departments, departmentDoc{Name: d.Name, USCC: d.USCC, Kind: string(d.Kind), AreaCode: d.AreaCode})
	}
	for _, t := range c.Types {
		td := typeDoc{Code: t.Code, Name: t.Name, HolderKind: string(t.HolderKind), ValidityYears: t.ValidityYears,
			ReminderStages: t.ReminderStages, FaceTemplate: t.FaceTemplate, Issuers: t.Issuers}
		for _, f := range t.Fields {
			td.Fields = append(td.Fields, fieldDoc{Key: f.Key, Label: f.Label, Type: f.Type, Required: f.Required,
				Sensitive: f.Sensitive, Mask: string(f.Mask), Basic: f.Basic})
		}
		doc.Types = append(doc.Types, td)
	}
	for _, u := range c.UsageLists {
		ud := usageListDoc{Department: u.DepartmentUSCC, Types: []usageEntryDoc{}}
		for _, e := range u.Entries {
			ud.Types = append(ud.Types, usageEntryDoc{Type: e.TypeCode, Purposes: e.Purposes})
		}
		doc.UsageLists = append(doc.UsageLists, ud)
	}
	return doc
}
