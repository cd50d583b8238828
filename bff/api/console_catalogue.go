package api

import (
	"bytes"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/catalogue"
	"github.com/yangcheng-county/elicence/internal/licence"
)

// consoleCatalogueHandlers let a platform admin keep the catalogue:
// departments, licence types with their field schema, and usage lists.
// Every edit is a small catalogue applied exactly as `bff catalogue apply`
// applies a file (internal/catalogue): the same checks, the same refusal
// of a schema change that would break licences on file, and the change
// and its audit event in one transaction.
type consoleCatalogueHandlers struct {
	tx    catalogue.TxFunc
	store ConsoleStore
	now   func() time.Time
}

type catalogueDepartmentDTO struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	USCC     string `json:"uscc"`
	Kind     string `json:"kind"`
	AreaCode string `json:"area_code"`
}

// departmentBody is PUT /catalogue/departments/:uscc; the USCC is the
// department's identity and never changes.
type departmentBody struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	AreaCode string `json:"area_code"`
}

// newDepartmentBody is POST /catalogue/departments.
type newDepartmentBody struct {
	USCC string `json:"uscc"`
	departmentBody
}

type catalogueFieldDTO struct {
	Key       string `json:"key"`
	Label     string `json:"label"`
	Type      string `json:"type"`
	Required  bool   `json:"required"`
	Sensitive bool   `json:"sensitive"`
	Mask      string `json:"mask"`
	Basic     bool   `json:"basic"`
}

// typeBody is PUT /catalogue/types/:code: the whole type, fields in order.
type typeBody struct {
	Name           string              `json:"name"`
	HolderKind     string              `json:"holder_kind"`
	ValidityYears  int                 `json:"validity_years"`
	ReminderStages []int               `json:"reminder_stages"`
	FaceTemplate   string              `json:"face_template"`
	Issuers        []string            `json:"issuers"`
	Fields         []catalogueFieldDTO `json:"fields"`
}

// newTypeBody is POST /catalogue/types.
type newTypeBody struct {
	Code string `json:"code"`
	typeBody
}

// catalogueTypeDTO is a type with how many licences of it are on file:
// with any, the schema may only grow (docs/CATALOGUE.md).
type catalogueTypeDTO struct {
	Code string `json:"code"`
	typeBody
	Licences int64 `json:"licences"`
}

type usageEntryDTO struct {
	TypeCode string   `json:"type_code"`
	Purposes []string `json:"purposes"`
}

// usageListBody is PUT /catalogue/usage-lists/:uscc: the department's
// whole list.
type usageListBody struct {
	Types []usageEntryDTO `json:"types"`
}

type usageListDTO struct {
	DepartmentUSCC string          `json:"department_uscc"`
	Types          []usageEntryDTO `json:"types"`
}

type catalogueDTO struct {
	Departments []catalogueDepartmentDTO `json:"departments"`
	Types       []catalogueTypeDTO       `json:"types"`
	UsageLists  []usageListDTO           `json:"usage_lists"`
}

type planChangeDTO struct {
	Kind   string   `json:"kind"`
	Key    string   `json:"key"`
	Name   string   `json:"name"`
	Action string   `json:"action"`
	What   []string `json:"what"`
}

// planDTO is what an apply did, or what a dry run would do; Digest is what
// the apply of an import must repeat.
type planDTO struct {
	Changes []planChangeDTO `json:"changes"`
	Summary string          `json:"summary"`
	Changed bool            `json:"changed"`
	Digest  string          `json:"digest"`
}

func toPlanDTO(p catalogue.Plan) planDTO {
	out := planDTO{Changes: []planChangeDTO{}, Summary: p.Summary(), Changed: p.Changed(), Digest: p.Digest()}
	for _, c := range p.Changes {
		what := c.What
		if what == nil {
			what = []string{}
		}
		out.Changes = append(out.Changes, planChangeDTO{Kind: c.Kind, Key: c.Key, Name: c.Name, Action: string(c.Action), What: what})
	}
	return out
}

func (h *consoleCatalogueHandlers) get(c *gin.Context) {
	ctx := c.Request.Context()
	cat, err := catalogue.Export(ctx, h.store)
	if err != nil {
		respondError(c, dependencyFailure("catalogue", err))
		return
	}
	counts, err := h.store.LicenceCountsByType(ctx)
	if err != nil {
		respondError(c, dependencyFailure("catalogue", err))
		return
	}
	out := catalogueDTO{Departments: []catalogueDepartmentDTO{}, Types: []catalogueTypeDTO{}, UsageLists: []usageListDTO{}}
	for _, d := range cat.Departments {
		out.Departments = append(out.Departments, catalogueDepartmentDTO{ID: d.ID, Name: d.Name, USCC: d.USCC, Kind: string(d.Kind), AreaCode: d.AreaCode})
	}
	for _, t := range cat.Types {
		out.Types = append(out.Types, catalogueTypeDTO{Code: t.Code, typeBody: toTypeBody(t), Licences: counts[t.Code]})
	}
	for _, u := range cat.UsageLists {
		entries := make([]usageEntryDTO, 0, len(u.Entries))
		for _, e := range u.Entries {
			entries = append(entries, usageEntryDTO{TypeCode: e.TypeCode, Purposes: e.Purposes})
		}
		out.UsageLists = append(out.UsageLists, usageListDTO{DepartmentUSCC: u.DepartmentUSCC, Types: entries})
	}
	c.JSON(http.StatusOK, out)
}

func toTypeBody(t catalogue.TypeEntry) typeBody {
	b := typeBody{Name: t.Name, HolderKind: string(t.HolderKind), ValidityYears: t.ValidityYears, ReminderStages: t.ReminderStages,
		FaceTemplate: t.FaceTemplate, Issuers: t.Issuers, Fields: make([]catalogueFieldDTO, 0, len(t.Fields))}
	if b.ReminderStages == nil {
		b.ReminderStages = []int{}
	}
	if b.Issuers == nil {
		b.Issuers = []string{}
	}
	for _, f := range t.Fields {
		b.Fields = append(b.Fields, catalogueFieldDTO{Key: f.Key, Label: f.Label, Type: f.Type, Required: f.Required,
			Sensitive: f.Sensitive, Mask: string(f.Mask), Basic: f.Basic})
	}
	return b
}

func (b typeBody) entry(code string) catalogue.TypeEntry {
	t := licence.Type{Code: code, Name: b.Name, HolderKind: licence.HolderKind(b.HolderKind), ValidityYears: b.ValidityYears,
		ReminderStages: b.ReminderStages, FaceTemplate: b.FaceTemplate}
	for _, f := range b.Fields {
		t.Fields = append(t.Fields, licence.Field{Key: f.Key, Label: f.Label, Type: f.Type, Required: f.Required,
			Sensitive: f.Sensitive, Mask: licence.MaskRule(f.Mask), Basic: f.Basic})
	}
	return catalogue.TypeEntry{Type: t, Issuers: b.Issuers}
}

// export downloads the whole catalogue in the format `bff catalogue
// apply` reads.
func (h *consoleCatalogueHandlers) export(c *gin.Context) {
	cat, err := catalogue.Export(c.Request.Context(), h.store)
	if err != nil {
		respondError(c, dependencyFailure("catalogue", err))
		return
	}
	var buf bytes.Buffer
	if err := catalogue.Write(&buf, cat); err != nil {
		respondError(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="catalogue.yaml"`)
	c.Data(http.StatusOK, "application/yaml; charset=utf-8", buf.Bytes())
}

// importBody is POST /catalogue/plan and /catalogue/apply: a catalogue
// file, and for the apply the digest of the plan the admin was shown.
type importBody struct {
	YAML   string `json:"yaml"`
	Digest string `json:"digest"`
}

// plan is the dry run of an import: what applying the file would do.
func (h *consoleCatalogueHandlers) plan(c *gin.Context) {
	h.importFile(c, true)
}

// apply writes an import whose plan is still the one shown by the dry run;
// anything else (the file or the catalogue changed since) is 409.
func (h *consoleCatalogueHandlers) apply(c *gin.Context) {
	h.importFile(c, false)
}

func (h *consoleCatalogueHandlers) importFile(c *gin.Context, dryRun bool) {
	var in importBody
	if err := decodeStrict(c, &in); err != nil {
		respondError(c, err)
		return
	}
	cat, err := catalogue.Parse(bytes.NewReader([]byte(in.YAML)))
	if err != nil {
		respondError(c, err)
		return
	}
	opts := catalogue.Options{DryRun: dryRun}
	if !dryRun {
		opts.Confirm = catalogue.ExpectDigest(in.Digest)
	}
	h.write(c, http.StatusOK, cat, opts)
}

func (h *consoleCatalogueHandlers) addDepartment(c *gin.Context) {
	var in newDepartmentBody
	if err := decodeStrict(c, &in); err != nil {
		respondError(c, err)
		return
	}
	h.check(c, http.StatusCreated, catalogue.Catalogue{Departments: []licence.Department{in.department(in.USCC)}},
		catalogue.Options{Object: "department:" + in.USCC, Confirm: catalogue.ExpectCreated(catalogue.KindDepartment, in.USCC)})
}

func (h *consoleCatalogueHandlers) updateDepartment(c *gin.Context) {
	var in departmentBody
	if err := decodeStrict(c, &in); err != nil {
		respondError(c, err)
		return
	}
	uscc := c.Param("uscc")
	h.check(c, http.StatusOK, catalogue.Catalogue{Departments: []licence.Department{in.department(uscc)}},
		catalogue.Options{Object: "department:" + uscc, Confirm: catalogue.ExpectOnRecord(catalogue.KindDepartment, uscc)})
}

func (b departmentBody) department(uscc string) licence.Department {
	return licence.Department{Name: b.Name, USCC: uscc, Kind: licence.DepartmentKind(b.Kind), AreaCode: b.AreaCode}
}

func (h *consoleCatalogueHandlers) addType(c *gin.Context) {
	var in newTypeBody
	if err := decodeStrict(c, &in); err != nil {
		respondError(c, err)
		return
	}
	h.check(c, http.StatusCreated, catalogue.Catalogue{Types: []catalogue.TypeEntry{in.entry(in.Code)}},
		catalogue.Options{Object: "licence_type:" + in.Code, Confirm: catalogue.ExpectCreated(catalogue.KindType, in.Code)})
}

func (h *consoleCatalogueHandlers) updateType(c *gin.Context) {
	var in typeBody
	if err := decodeStrict(c, &in); err != nil {
		respondError(c, err)
		return
	}
	code := c.Param("code")
	h.check(c, http.StatusOK, catalogue.Catalogue{Types: []catalogue.TypeEntry{in.entry(code)}},
		catalogue.Options{Object: "licence_type:" + code, Confirm: catalogue.ExpectOnRecord(catalogue.KindType, code)})
}

// putUsageList makes the department's usage list exactly the body's.
func (h *consoleCatalogueHandlers) putUsageList(c *gin.Context) {
	var in usageListBody
	if err := decodeStrict(c, &in); err != nil {
		respondError(c, err)
		return
	}
	uscc := c.Param("uscc")
	if _, err := h.store.DepartmentByUSCC(c.Request.Context(), uscc); err != nil {
		respondError(c, dependencyFailure("catalogue", err))
		return
	}
	list := catalogue.UsageList{DepartmentUSCC: uscc}
	for _, e := range in.Types {
		list.Entries = append(list.Entries, catalogue.UsageEntry{TypeCode: e.TypeCode, Purposes: e.Purposes})
	}
	h.check(c, http.StatusOK, catalogue.Catalogue{UsageLists: []catalogue.UsageList{list}}, catalogue.Options{Object: "usage_list:" + uscc})
}

// check validates a catalogue built from a form by the file's rules, then
// writes it.
func (h *consoleCatalogueHandlers) check(c *gin.Context, status int, cat catalogue.Catalogue, opts catalogue.Options) {
	checked, err := catalogue.Check(cat)
	if err != nil {
		respondError(c, err)
		return
	}
	h.write(c, status, checked, opts)
}

// write applies cat as the member and answers the plan.
func (h *consoleCatalogueHandlers) write(c *gin.Context, status int, cat catalogue.Catalogue, opts catalogue.Options) {
	opts.Actor, opts.Now = mustStaff(c).Member.Actor(), h.now
	plan, err := catalogue.Apply(c.Request.Context(), h.tx, cat, opts)
	if err != nil {
		respondError(c, dependencyFailure("catalogue", err))
		return
	}
	c.JSON(status, toPlanDTO(plan))
}
