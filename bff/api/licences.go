package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/ident"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/showcode"
	"github.com/yangcheng-county/elicence/internal/verify"
)

// Formats of dates and instants in JSON. Licence dates are calendar days;
// instants carry milliseconds and a zone.
const (
	dateFormat    = "2006-01-02"
	instantFormat = "2006-01-02T15:04:05.000Z07:00"
)

// licenceHandlers serve the holder's wallet: their licences, show codes and
// usage records. Every route runs behind requireHolder and checks that the
// licence is the caller's; someone else's licence is 404, like a missing one.
type licenceHandlers struct {
	licences licence.Repository
	codes    *showcode.Service
	verifier *verify.Service
	now      func() time.Time
}

type licenceItem struct {
	ID           string   `json:"id"`
	TypeCode     string   `json:"type_code"`
	TypeName     string   `json:"type_name"`
	NumberMasked string   `json:"number_masked"`
	Issuer       string   `json:"issuer"`
	Status       string   `json:"status"`
	Annotations  []string `json:"annotations"`
	Colour       string   `json:"colour"`
	ValidFrom    string   `json:"valid_from"`
	ValidUntil   *string  `json:"valid_until"`
	DaysLeft     *int     `json:"days_left"`
}

type licenceDetail struct {
	licenceItem
	Fields           []faceField `json:"fields"`
	Identifier       string      `json:"identifier"`
	IssuedOn         string      `json:"issued_on"`
	HolderNameMasked string      `json:"holder_name_masked"`
}

type faceField struct {
	Key    string `json:"key"`
	Label  string `json:"label"`
	Type   string `json:"type"` // text, date, id_number, address, photo (a data: URI)
	Value  string `json:"value"`
	Masked bool   `json:"masked"`
}

// list answers GET /api/v1/licences: the caller's licences.
func (h *licenceHandlers) list(c *gin.Context) {
	p, _ := principalFrom(c)
	ctx := c.Request.Context()
	ls, err := h.licences.LicencesByHolder(ctx, p.HolderID)
	if err != nil {
		respondError(c, dependencyFailure("database", err))
		return
	}
	names := newNameCache(h.licences)
	items := make([]licenceItem, 0, len(ls))
	now := h.now()
	for _, l := range ls {
		item, err := h.item(ctx, names, l, now)
		if err != nil {
			respondError(c, err)
			return
		}
		items = append(items, item)
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

// detail answers GET /api/v1/licences/:id with the face fields masked by
// verify.Disclose under the full scope: each field through its
// licence.Field.EffectiveMask, the same rule an officer's verification uses.
func (h *licenceHandlers) detail(c *gin.Context) {
	l, ok := h.own(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	names := newNameCache(h.licences)
	item, err := h.item(ctx, names, l, h.now())
	if err != nil {
		respondError(c, err)
		return
	}
	t, err := names.typ(ctx, l.TypeCode)
	if err != nil {
		respondError(c, err)
		return
	}
	holder, err := h.licences.Holder(ctx, l.HolderID)
	if err != nil {
		respondError(c, dependencyFailure("database", err))
		return
	}
	d := licenceDetail{licenceItem: item, Identifier: l.Identifier, IssuedOn: formatDate(l.IssuedOn),
		HolderNameMasked: verify.MaskHolder(holder).Name, Fields: []faceField{}}
	for _, f := range verify.Disclose(t, l, showcode.ScopeFull) {
		d.Fields = append(d.Fields, faceField{Key: f.Key, Label: f.Label, Type: f.Type, Value: f.Value, Masked: f.Masked})
	}
	c.JSON(http.StatusOK, d)
}

type showCodeRequest struct {
	Scope string `json:"scope"`
}

type showCodeResponse struct {
	Token     string `json:"token"`
	ShortCode string `json:"short_code"`
	Content   string `json:"content"`
	QRPNG     string `json:"qr_png"`
	ExpiresAt string `json:"expires_at"`
}

// mintShowCode answers POST /api/v1/licences/:id/show-codes. A licence that
// is not valid can still be shown: the officer must be able to see it red.
func (h *licenceHandlers) mintShowCode(c *gin.Context) {
	var req showCodeRequest
	if err := c.ShouldBindJSON(&req); err != nil && !errors.Is(err, io.EOF) {
		respondError(c, errBadRequest)
		return
	}
	scope, err := showcode.ParseScope(req.Scope)
	if err != nil {
		respondError(c, err)
		return
	}
	l, ok := h.own(c)
	if !ok {
		return
	}
	code, err := h.codes.Mint(c.Request.Context(), l.HolderID, l.ID, scope)
	if err != nil {
		respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, showCodeResponse{Token: code.Token, ShortCode: code.ShortCode, Content: code.Content, QRPNG: code.QRPNG,
		ExpiresAt: code.ExpiresAt.UTC().Format(instantFormat)})
}

type usageItem struct {
	Department string  `json:"department"`
	Purpose    string  `json:"purpose"`
	Result     string  `json:"result"`
	Colour     *string `json:"colour"` // null for a refusal: the licence was not read
	ReasonCode string  `json:"reason_code"`
	At         string  `json:"at"`
}

// usage answers GET /api/v1/licences/:id/usage: who verified the licence,
// newest first.
func (h *licenceHandlers) usage(c *gin.Context) {
	holderID, id, ok := licenceParam(c)
	if !ok {
		return
	}
	recs, err := h.verifier.LicenceUsage(c.Request.Context(), holderID, id)
	if err != nil {
		respondError(c, err)
		return
	}
	items := make([]usageItem, 0, len(recs))
	for _, r := range recs {
		items = append(items, usageItem{Department: r.Department, Purpose: r.Purpose, Result: r.Result,
			Colour: colourOrNull(r.Colour), ReasonCode: r.ReasonCode, At: r.At.UTC().Format(instantFormat)})
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

// own loads the licence named in the path if the caller holds it, and
// answers 404 otherwise.
func (h *licenceHandlers) own(c *gin.Context) (licence.Licence, bool) {
	holderID, id, ok := licenceParam(c)
	if !ok {
		return licence.Licence{}, false
	}
	l, err := h.licences.Licence(c.Request.Context(), id)
	if err != nil {
		respondError(c, dependencyFailure("database", err))
		return licence.Licence{}, false
	}
	if holderID == 0 || l.HolderID != holderID {
		respondError(c, errNotFound)
		return licence.Licence{}, false
	}
	return l, true
}

func (h *licenceHandlers) item(ctx context.Context, names *nameCache, l licence.Licence, now time.Time) (licenceItem, error) {
	t, err := names.typ(ctx, l.TypeCode)
	if err != nil {
		return licenceItem{}, err
	}
	issuer, err := names.department(ctx, l.IssuerID)
	if err != nil {
		return licenceItem{}, err
	}
	item := licenceItem{
		ID: strconv.FormatInt(l.ID, 10), TypeCode: l.TypeCode, TypeName: t.Name,
		NumberMasked: ident.MaskIDNumber(l.Number), Issuer: issuer,
		Status:      string(licence.EffectiveStatus(l, now)),
		Annotations: make([]string, 0, len(l.Annotations)),
		Colour:      string(licence.Assess(l, now).Colour),
		ValidFrom:   formatDate(l.ValidFrom),
	}
	for _, a := range l.Annotations {
		item.Annotations = append(item.Annotations, string(a))
	}
	if l.ValidUntil != nil {
		s := formatDate(*l.ValidUntil)
		days := daysLeft(*l.ValidUntil, now)
		item.ValidUntil, item.DaysLeft = &s, &days
	}
	return item, nil
}

// daysLeft counts calendar days from today to the last valid day in the
// licence date's zone (Asia/Shanghai): 0 on the last day, negative after.
func daysLeft(until, now time.Time) int {
	y, m, d := now.In(until.Location()).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	uy, um, ud := until.Date()
	last := time.Date(uy, um, ud, 0, 0, 0, 0, time.UTC)
	return int(last.Sub(today).Hours() / 24)
}

// formatDate writes a calendar day as it was recorded, without shifting
// it into another zone.
func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(dateFormat)
}

func colourOrNull(c licence.Colour) *string {
	if c == "" {
		return nil
	}
	s := string(c)
	return &s
}

// parseID accepts the canonical decimal form of a positive int64 only, so
// "012", "+12" or "12abc" name nothing rather than licence 12.
// licenceParam is the caller's holder id and the licence id in the path. A
// malformed id answers 404, exactly as someone else's licence does.
func licenceParam(c *gin.Context) (holderID, licenceID int64, ok bool) {
	p, _ := principalFrom(c)
	id, ok := parseID(c.Param("id"))
	if !ok {
		respondError(c, errNotFound)
	}
	return p.HolderID, id, ok
}

func parseID(s string) (int64, bool) {
	if s == "" || len(s) > 19 || s[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// nameCache looks up type and department names once per request.
type nameCache struct {
	repo  licence.Repository
	types map[string]licence.Type
	depts map[int64]string
}

func newNameCache(repo licence.Repository) *nameCache {
	return &nameCache{repo: repo, types: map[string]licence.Type{}, depts: map[int64]string{}}
}

func (n *nameCache) typ(ctx context.Context, code string) (licence.Type, error) {
	if t, ok := n.types[code]; ok {
		return t, nil
	}
	t, err := n.repo.Type(ctx, code)
	if errors.Is(err, licence.ErrNotFound) {
		// A licence whose type is missing is broken data, not a 404.
		return licence.Type{}, fmt.Errorf("api: licence type %s is not in the catalogue", code)
	}
	if err != nil {
		return licence.Type{}, dependencyFailure("database", err)
	}
	n.types[code] = t
	return t, nil
}

func (n *nameCache) department(ctx context.Context, id int64) (string, error) {
	if name, ok := n.depts[id]; ok {
		return name, nil
	}
	d, err := n.repo.Department(ctx, id)
	if errors.Is(err, licence.ErrNotFound) {
		return "", fmt.Errorf("api: issuer %d is not a department", id)
	}
	if err != nil {
		return "", dependencyFailure("database", err)
	}
	n.depts[id] = d.Name
	return d.Name, nil
}
