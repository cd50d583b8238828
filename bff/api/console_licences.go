package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/catalogue"
	"github.com/yangcheng-county/elicence/internal/ident"
	"github.com/yangcheng-county/elicence/internal/licence"
)

// ConsoleStore is what the console reads beside the lifecycle (the
// store): searches, licence views, usage records, audit entries and the
// catalogue.
type ConsoleStore interface {
	licence.Searcher
	catalogue.Reader
	View(ctx context.Context, id int64) (licence.View, error)
	UsageByLicence(ctx context.Context, licenceID int64, limit int) ([]licence.UsageRecord, error)
	AuditByObjects(ctx context.Context, objects []string, limit int) ([]audit.Entry, error)
	Departments(ctx context.Context) ([]licence.Department, error)
	DepartmentByUSCC(ctx context.Context, uscc string) (licence.Department, error)
	Types(ctx context.Context) ([]licence.Type, error)
	MayIssue(ctx context.Context, departmentID int64, typeCode string) (bool, error)
}

// consoleLicenceHandlers are a department's licences in the console. The
// member's department is the issuer: a licence of another department is
// not found, exactly as for the Open API, and every change goes through
// the same lifecycle (Issuing).
type consoleLicenceHandlers struct {
	issuing Issuing
	store   ConsoleStore
	now     func() time.Time
}

// consoleLicenceDTO is one licence in the console's list and the head of
// its detail. ID numbers are masked: the holder's, and the licence number
// when it is the holder's ID number (a driving licence's).
type consoleLicenceDTO struct {
	ID             int64    `json:"id"`
	Identifier     string   `json:"identifier"`
	TypeCode       string   `json:"type_code"`
	TypeName       string   `json:"type_name"`
	LicenceNumber  string   `json:"licence_number"`
	HolderName     string   `json:"holder_name"`
	HolderIDType   string   `json:"holder_id_type"`
	HolderIDNumber string   `json:"holder_id_number"`
	Version        int      `json:"version"`
	Status         string   `json:"status"`
	Annotations    []string `json:"annotations"`
	IssueDate      string   `json:"issue_date"`
	ValidFrom      string   `json:"valid_from"`
	ValidUntil     *string  `json:"valid_until"`
}

type consoleFieldDTO struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

type consoleUsageDTO struct {
	At         string `json:"at"`
	Department string `json:"department"`
	Purpose    string `json:"purpose"`
	Scope      string `json:"scope"`
	Result     string `json:"result"`
	ReasonCode string `json:"reason_code"`
}

type consoleAuditDTO struct {
	Seq    int64  `json:"seq"`
	At     string `json:"at"`
	Actor  string `json:"actor"`
	Action string `json:"action"`
	Object string `json:"object"`
	Detail string `json:"detail"`
}

type consoleDetailDTO struct {
	consoleLicenceDTO
	Fields  []consoleFieldDTO `json:"fields"`
	History []historyDTO      `json:"history"`
	Usage   []consoleUsageDTO `json:"usage"`
	Audit   []consoleAuditDTO `json:"audit"`
	// Actions are the lifecycle actions, for the console's menu; the
	// lifecycle decides which one the licence's state allows.
	Actions []string `json:"actions"`
}

// searchStatuses are the statuses a search may filter by.
var searchStatuses = []licence.Status{licence.StatusValid, licence.StatusSuspended, licence.StatusLost, licence.StatusRevoked,
	licence.StatusWithdrawn, licence.StatusCancelled, licence.StatusExpired}

func (h *consoleLicenceHandlers) search(c *gin.Context) {
	q := licence.SearchQuery{
		IssuerID: mustStaff(c).Member.Department.ID, Number: c.Query("number"), HolderIDNumber: c.Query("holder_id_number"),
		TypeCode: strings.TrimSpace(c.Query("type_code")), Status: licence.Status(c.Query("status")), Today: h.now(),
	}
	var details []licence.FieldError
	if q.Status != "" && !slices.Contains(searchStatuses, q.Status) {
		details = append(details, licence.FieldError{Field: "status", Code: "invalid", Message: "status must be one of valid, suspended, lost, revoked, withdrawn, cancelled, expired"})
	}
	for _, p := range []struct {
		name string
		into *int
	}{{"page", &q.Page}, {"page_size", &q.PageSize}} {
		if v := c.Query(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				details = append(details, licence.FieldError{Field: p.name, Code: "invalid", Message: p.name + " must be a positive integer"})
			}
			*p.into = n
		}
	}
	if details != nil {
		respondError(c, &licence.ValidationError{Details: details})
		return
	}
	q = q.Normalise()
	page, err := h.store.SearchLicences(c.Request.Context(), q)
	if err != nil {
		respondError(c, dependencyFailure("licence store", err))
		return
	}
	items := make([]consoleLicenceDTO, 0, len(page.Items))
	for _, v := range page.Items {
		items = append(items, h.licence(v, v.Type.Name))
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "total": page.Total, "page": q.Page, "page_size": q.PageSize})
}

func (h *consoleLicenceHandlers) detail(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	rec, err := h.issuing.Get(c.Request.Context(), mustStaff(c).Member.Department, id)
	if err != nil {
		respondError(c, dependencyFailure("licence store", err))
		return
	}
	h.respondDetail(c, http.StatusOK, rec)
}

func (h *consoleLicenceHandlers) event(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	var in eventBody
	if err := decodeStrict(c, &in); err != nil {
		respondError(c, err)
		return
	}
	// Every action taken in the console says why, also those the
	// lifecycle lets a department's system take without a reason.
	if strings.TrimSpace(in.Reason) == "" {
		respondError(c, licence.ErrReasonRequired)
		return
	}
	ev, err := in.request()
	if err != nil {
		respondError(c, err)
		return
	}
	m := mustStaff(c).Member
	rec, err := h.issuing.Apply(c.Request.Context(), m.Department, m.Actor(), id, ev)
	if err != nil {
		respondError(c, dependencyFailure("licence store", err))
		return
	}
	h.respondDetail(c, http.StatusOK, rec)
}

// respondDetail answers with the licence rec (already scoped to the
// member's department) with its face, history, usage and audit entries.
func (h *consoleLicenceHandlers) respondDetail(c *gin.Context, status int, rec licence.Record) {
	ctx := c.Request.Context()
	v, err := h.store.View(ctx, rec.ID)
	if err != nil {
		respondError(c, dependencyFailure("licence store", err))
		return
	}
	usage, err := h.store.UsageByLicence(ctx, rec.ID, 100)
	if err != nil {
		respondError(c, dependencyFailure("usage store", err))
		return
	}
	depts, err := h.store.Departments(ctx)
	if err != nil {
		respondError(c, dependencyFailure("licence store", err))
		return
	}
	// The audit entries of every version of the licence.
	objects := []string{}
	seen := map[int64]bool{}
	for _, e := range rec.History {
		if !seen[e.LicenceID] {
			seen[e.LicenceID] = true
			objects = append(objects, "licence:"+strconv.FormatInt(e.LicenceID, 10))
		}
	}
	entries, err := h.store.AuditByObjects(ctx, objects, 200)
	if err != nil {
		respondError(c, dependencyFailure("audit store", err))
		return
	}
	out := consoleDetailDTO{consoleLicenceDTO: h.licence(v, rec.TypeName), Fields: []consoleFieldDTO{},
		Usage: make([]consoleUsageDTO, 0, len(usage)), Audit: make([]consoleAuditDTO, 0, len(entries)), Actions: licence.Actions()}
	for _, f := range v.Type.Fields {
		val, ok := v.Face[f.Key]
		if !ok {
			continue
		}
		if f.Type == "id_number" {
			val = ident.MaskIDNumber(val)
		}
		out.Fields = append(out.Fields, consoleFieldDTO{Key: f.Key, Label: f.Label, Type: f.Type, Value: val})
	}
	out.History = historyDTOs(rec.History)
	names := make(map[int64]string, len(depts))
	for _, d := range depts {
		names[d.ID] = d.Name
	}
	for _, u := range usage {
		out.Usage = append(out.Usage, consoleUsageDTO{At: u.At.UTC().Format(instantFormat), Department: names[u.DepartmentID],
			Purpose: u.Purpose, Scope: u.Scope, Result: u.Result, ReasonCode: u.ReasonCode})
	}
	for _, e := range entries {
		out.Audit = append(out.Audit, auditEntry(e))
	}
	c.JSON(status, out)
}

// licence is the list form of a licence view.
func (h *consoleLicenceHandlers) licence(v licence.View, typeName string) consoleLicenceDTO {
	l := v.Licence
	number := l.Number
	if licence.NormaliseIDNumber(v.Holder.IDType, number) == v.Holder.IDNumber {
		number = ident.MaskIDNumber(number)
	}
	out := consoleLicenceDTO{
		ID: l.ID, Identifier: l.Identifier, TypeCode: l.TypeCode, TypeName: typeName, LicenceNumber: number,
		HolderName: v.Holder.Name, HolderIDType: v.Holder.IDType, HolderIDNumber: ident.MaskIDNumber(v.Holder.IDNumber),
		Version: l.Version, Status: string(licence.EffectiveStatus(l, h.now())), Annotations: annotationStrings(l.Annotations),
		IssueDate: formatDate(l.IssuedOn), ValidFrom: formatDate(l.ValidFrom),
	}
	if l.ValidUntil != nil {
		s := formatDate(*l.ValidUntil)
		out.ValidUntil = &s
	}
	return out
}

// types lists the licence types the member's department issues, for the
// search's type filter.
func (h *consoleLicenceHandlers) types(c *gin.Context) {
	ctx := c.Request.Context()
	all, err := h.store.Types(ctx)
	if err != nil {
		respondError(c, dependencyFailure("catalogue", err))
		return
	}
	dept := mustStaff(c).Member.Department.ID
	items := []gin.H{}
	for _, t := range all {
		ok, err := h.store.MayIssue(ctx, dept, t.Code)
		if err != nil {
			respondError(c, dependencyFailure("catalogue", err))
			return
		}
		if ok {
			items = append(items, gin.H{"code": t.Code, "name": t.Name})
		}
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}
