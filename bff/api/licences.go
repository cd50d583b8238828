package api

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/showcode"
	"github.com/yangcheng-county/elicence/internal/verify"
	"github.com/yangcheng-county/elicence/internal/wallet"
)

// Formats of dates and instants in JSON. Licence dates are calendar days;
// instants carry milliseconds and a zone.
const (
	dateFormat    = "2006-01-02"
	instantFormat = "2006-01-02T15:04:05.000Z07:00"
)

// licenceHandlers serve the holder's wallet: their licences, show codes and
// usage records. Every route runs behind requireHolder; the wallet service
// answers someone else's licence with not found, like a missing one.
type licenceHandlers struct {
	wallet   *wallet.Service
	codes    *showcode.Service
	verifier *verify.Service
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
	Fields           []faceField    `json:"fields"`
	Identifier       string         `json:"identifier"`
	Version          int            `json:"version"`
	IssuedOn         string         `json:"issued_on"`
	HolderNameMasked string         `json:"holder_name_masked"`
	History          []historyEntry `json:"history"`
	// Seal is the issuer's electronic seal on the version and whether its
	// signature checks out; absent when the version names none.
	Seal *verifiedSeal `json:"seal,omitempty"`
}

// historyEntry is one lifecycle event as the holder reads it.
type historyEntry struct {
	Version     int      `json:"version"`
	Action      string   `json:"action"`
	FromStatus  string   `json:"from_status"`
	ToStatus    string   `json:"to_status"`
	Annotations []string `json:"annotations"`
	Reason      string   `json:"reason"`
	EffectiveAt string   `json:"effective_at"`
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
	cards, err := h.wallet.List(c.Request.Context(), p.HolderID)
	if err != nil {
		respondError(c, dependencyFailure("database", err))
		return
	}
	items := make([]licenceItem, 0, len(cards))
	for _, card := range cards {
		items = append(items, itemOf(card))
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

// detail answers GET /api/v1/licences/:id: the face fields masked under
// the full scope, each through its licence.Field.EffectiveMask (the same
// rule an officer's verification uses), and the lifecycle history.
func (h *licenceHandlers) detail(c *gin.Context) {
	holderID, id, ok := licenceParam(c)
	if !ok {
		return
	}
	d, err := h.wallet.Detail(c.Request.Context(), holderID, id)
	if err != nil {
		respondError(c, dependencyFailure("database", err))
		return
	}
	out := licenceDetail{licenceItem: itemOf(d.Card), Identifier: d.Identifier, Version: d.Version,
		IssuedOn: formatDate(d.IssuedOn), HolderNameMasked: d.HolderNameMasked,
		Fields: make([]faceField, 0, len(d.Fields)), History: make([]historyEntry, 0, len(d.History))}
	if d.Seal.Name != "" {
		out.Seal = &verifiedSeal{Name: d.Seal.Name, Verified: d.Seal.Verified}
	}
	for _, f := range d.Fields {
		out.Fields = append(out.Fields, faceField{Key: f.Key, Label: f.Label, Type: f.Type, Value: f.Value, Masked: f.Masked})
	}
	for _, e := range d.History {
		out.History = append(out.History, historyEntry{Version: e.Version, Action: e.Action, FromStatus: string(e.FromStatus),
			ToStatus: string(e.ToStatus), Annotations: annotationStrings(e.Annotations), Reason: e.Reason,
			EffectiveAt: e.EffectiveAt.UTC().Format(instantFormat)})
	}
	c.JSON(http.StatusOK, out)
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
	holderID, id, ok := licenceParam(c)
	if !ok {
		return
	}
	l, err := h.wallet.Own(c.Request.Context(), holderID, id)
	if err != nil {
		respondError(c, dependencyFailure("database", err))
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

// itemOf maps a wallet card to its JSON list item.
func itemOf(c wallet.Card) licenceItem {
	item := licenceItem{
		ID: strconv.FormatInt(c.ID, 10), TypeCode: c.TypeCode, TypeName: c.Type.Name,
		NumberMasked: c.NumberMasked, Issuer: c.Issuer.Name, Status: string(c.Status),
		Annotations: annotationStrings(c.Annotations), Colour: string(c.Colour),
		ValidFrom: formatDate(c.ValidFrom), DaysLeft: c.DaysLeft,
	}
	if c.ValidUntil != nil {
		s := formatDate(*c.ValidUntil)
		item.ValidUntil = &s
	}
	return item
}

func annotationStrings(as []licence.Annotation) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, string(a))
	}
	return out
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
