package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/licence"
)

// Issuing is the licence write side as the Open API calls it
// (licence.Lifecycle): every call names the department acting and who
// did it, and a licence of another department reads as not found.
type Issuing interface {
	Issue(ctx context.Context, issuer licence.Department, actor string, req licence.IssueRequest) (licence.Record, error)
	Apply(ctx context.Context, issuer licence.Department, actor string, id int64, ev licence.EventRequest) (licence.Record, error)
	Get(ctx context.Context, issuer licence.Department, id int64) (licence.Record, error)
	Find(ctx context.Context, issuer licence.Department, typeCode, number string) ([]licence.Record, error)
}

// openAPILicenceHandlers translate the Open API's licence resources to
// the lifecycle service; the calling app's department is the issuer.
type openAPILicenceHandlers struct {
	issuing    Issuing
	signatures LicenceSignatures
	now        func() time.Time
}

// issueBody is POST /openapi/v1/licences.
type issueBody struct {
	TypeCode      string `json:"type_code"`
	LicenceNumber string `json:"licence_number"`
	Holder        struct {
		Name     string `json:"name"`
		IDType   string `json:"id_type"`
		IDNumber string `json:"id_number"`
		Phone    string `json:"phone"`
	} `json:"holder"`
	IssueDate  string            `json:"issue_date"`
	ValidFrom  string            `json:"valid_from"`
	ValidUntil *string           `json:"valid_until"`
	Fields     map[string]string `json:"fields"`
}

// eventBody is POST /openapi/v1/licences/{id}/events.
type eventBody struct {
	Action      string            `json:"action"`
	Reason      string            `json:"reason"`
	EffectiveAt *string           `json:"effective_at"`
	Fields      map[string]string `json:"fields"`
	ValidUntil  *string           `json:"valid_until"`
}

// recordDTO is a licence version as its issuer sees it.
type recordDTO struct {
	ID            int64             `json:"id"`
	Identifier    string            `json:"identifier"`
	TypeCode      string            `json:"type_code"`
	TypeName      string            `json:"type_name"`
	LicenceNumber string            `json:"licence_number"`
	Version       int               `json:"version"`
	Status        string            `json:"status"`
	Annotations   []string          `json:"annotations"`
	IssueDate     string            `json:"issue_date"`
	ValidFrom     string            `json:"valid_from"`
	ValidUntil    *string           `json:"valid_until"`
	Fields        map[string]string `json:"fields"`
	History       []historyDTO      `json:"history"`
}

type historyDTO struct {
	Version     int      `json:"version"`
	Action      string   `json:"action"`
	FromStatus  *string  `json:"from_status"`
	ToStatus    string   `json:"to_status"`
	Annotations []string `json:"annotations"`
	Reason      string   `json:"reason"`
	Actor       string   `json:"actor"`
	EffectiveAt string   `json:"effective_at"`
	At          string   `json:"at"`
}

func (h *openAPILicenceHandlers) issue(c *gin.Context) {
	var in issueBody
	if err := decodeStrict(c, &in); err != nil {
		respondError(c, err)
		return
	}
	req, err := in.request()
	if err != nil {
		respondError(c, err)
		return
	}
	app := appFrom(c)
	rec, err := h.issuing.Issue(c.Request.Context(), app.Department, audit.ActorApp(app.ID), req)
	if err != nil {
		respondError(c, dependencyFailure("licence store", err))
		return
	}
	c.JSON(http.StatusCreated, h.record(rec))
}

func (h *openAPILicenceHandlers) get(c *gin.Context) {
	if rec, ok := h.load(c); ok {
		c.JSON(http.StatusOK, h.record(rec))
	}
}

// load reads the licence {id} of the calling app's department; it has
// answered when ok is false.
func (h *openAPILicenceHandlers) load(c *gin.Context) (licence.Record, bool) {
	id, ok := pathID(c)
	if !ok {
		return licence.Record{}, false
	}
	rec, err := h.issuing.Get(c.Request.Context(), appFrom(c).Department, id)
	if err != nil {
		respondError(c, dependencyFailure("licence store", err))
		return licence.Record{}, false
	}
	return rec, true
}

func (h *openAPILicenceHandlers) find(c *gin.Context) {
	typeCode, number := c.Query("type_code"), c.Query("licence_number")
	var details []licence.FieldError
	if typeCode == "" {
		details = append(details, licence.FieldError{Field: "type_code", Code: licence.CodeRequired, Message: "type_code is required"})
	}
	if number == "" {
		details = append(details, licence.FieldError{Field: "licence_number", Code: licence.CodeRequired, Message: "licence_number is required"})
	}
	if details != nil {
		respondError(c, &licence.ValidationError{Details: details})
		return
	}
	recs, err := h.issuing.Find(c.Request.Context(), appFrom(c).Department, typeCode, number)
	if err != nil {
		respondError(c, dependencyFailure("licence store", err))
		return
	}
	items := make([]recordDTO, 0, len(recs))
	for _, r := range recs {
		items = append(items, h.record(r))
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

func (h *openAPILicenceHandlers) event(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	var in eventBody
	if err := decodeStrict(c, &in); err != nil {
		respondError(c, err)
		return
	}
	ev, err := in.request()
	if err != nil {
		respondError(c, err)
		return
	}
	app := appFrom(c)
	rec, err := h.issuing.Apply(c.Request.Context(), app.Department, audit.ActorApp(app.ID), id, ev)
	if err != nil {
		respondError(c, dependencyFailure("licence store", err))
		return
	}
	c.JSON(http.StatusOK, h.record(rec))
}

// request turns the body into the domain's lifecycle event; effective_at
// is an RFC 3339 instant, valid_until a calendar day.
func (in eventBody) request() (licence.EventRequest, error) {
	ev := licence.EventRequest{Action: in.Action, Reason: in.Reason, Fields: in.Fields}
	if in.EffectiveAt != nil {
		at, err := time.Parse(time.RFC3339, *in.EffectiveAt)
		if err != nil {
			return licence.EventRequest{}, &licence.ValidationError{Details: []licence.FieldError{{Field: "effective_at", Code: licence.CodeInvalidDate,
				Message: "effective_at must be an RFC 3339 instant, e.g. 2026-11-29T09:30:00+08:00"}}}
		}
		ev.EffectiveAt = &at
	}
	if in.ValidUntil != nil {
		d, err := parseDate("valid_until", *in.ValidUntil)
		if err != nil {
			return licence.EventRequest{}, err
		}
		ev.ValidUntil = &d
	}
	return ev, nil
}

// pathID reads {id}; anything but a positive integer is a licence that
// does not exist.
func pathID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		respondError(c, errNotFound)
		return 0, false
	}
	return id, true
}

// decodeStrict decodes the JSON body into v, refusing unknown members: a
// misspelt member name (valid_until with one letter too many) must not
// silently issue a long-term licence. The body is the one the Open API's
// signature check read, or else the request's own.
func decodeStrict(c *gin.Context, v any) error {
	var (
		raw []byte
		err error
	)
	if body, ok := c.Get(ctxBody); ok {
		raw = body.([]byte)
	} else if raw, err = io.ReadAll(c.Request.Body); err != nil {
		raw = nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("trailing data")
	}
	if err == nil {
		return nil
	}
	fe := licence.FieldError{Field: "body", Code: "invalid_json", Message: "the body is not one JSON object of the documented shape"}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		fe = licence.FieldError{Field: te.Field, Code: "invalid_type", Message: fmt.Sprintf("%s must be a %s", te.Field, jsonKind(te.Type.Kind().String()))}
	} else if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		fe = licence.FieldError{Field: name, Code: licence.CodeUnknownField, Message: fmt.Sprintf("%s is not a member of this request", name)}
	}
	return &licence.ValidationError{Details: []licence.FieldError{fe}}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string", "ptr":
		return "string"
	case "map", "struct":
		return "object"
	}
	return goKind
}

// request turns the body into the domain's request; dates are calendar
// days (YYYY-MM-DD). Every bad date is reported, not just the first.
func (in issueBody) request() (licence.IssueRequest, error) {
	req := licence.IssueRequest{
		TypeCode: in.TypeCode, Number: in.LicenceNumber, Fields: in.Fields,
		Holder: licence.Holder{Name: in.Holder.Name, IDType: in.Holder.IDType, IDNumber: in.Holder.IDNumber, Phone: in.Holder.Phone},
	}
	var details []licence.FieldError
	date := func(field, s string) time.Time {
		if s == "" {
			return time.Time{} // "required" is the domain's to say
		}
		d, err := parseDate(field, s)
		if err != nil {
			var ve *licence.ValidationError
			errors.As(err, &ve)
			details = append(details, ve.Details...)
		}
		return d
	}
	req.IssuedOn = date("issue_date", in.IssueDate)
	req.ValidFrom = date("valid_from", in.ValidFrom)
	if in.ValidUntil != nil {
		d := date("valid_until", *in.ValidUntil)
		req.ValidUntil = &d
	}
	if details != nil {
		return licence.IssueRequest{}, &licence.ValidationError{Details: details}
	}
	return req, nil
}

func parseDate(field, s string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, &licence.ValidationError{Details: []licence.FieldError{{Field: field, Code: licence.CodeInvalidDate, Message: field + " must be a date YYYY-MM-DD"}}}
	}
	return d, nil
}

func (h *openAPILicenceHandlers) record(r licence.Record) recordDTO {
	l := r.Licence
	out := recordDTO{
		ID: l.ID, Identifier: l.Identifier, TypeCode: l.TypeCode, TypeName: r.TypeName, LicenceNumber: l.Number,
		Version: l.Version, Status: string(licence.EffectiveStatus(l, h.now())), Annotations: annotationStrings(l.Annotations),
		IssueDate: formatDate(l.IssuedOn), ValidFrom: formatDate(l.ValidFrom), Fields: l.Face,
		History: historyDTOs(r.History),
	}
	if out.Fields == nil {
		out.Fields = map[string]string{}
	}
	if l.ValidUntil != nil {
		s := formatDate(*l.ValidUntil)
		out.ValidUntil = &s
	}
	return out
}

// historyDTOs is a licence's history as its issuer sees it.
func historyDTOs(entries []licence.HistoryEntry) []historyDTO {
	out := make([]historyDTO, 0, len(entries))
	for _, e := range entries {
		hd := historyDTO{Version: e.Version, Action: e.Action, ToStatus: string(e.ToStatus), Annotations: annotationStrings(e.Annotations),
			Reason: e.Reason, Actor: e.Actor, EffectiveAt: e.EffectiveAt.UTC().Format(instantFormat), At: e.At.UTC().Format(instantFormat)}
		if e.FromStatus != "" {
			s := string(e.FromStatus)
			hd.FromStatus = &s
		}
		out = append(out, hd)
	}
	return out
}
