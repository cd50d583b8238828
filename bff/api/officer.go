package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/verify"
)

// officerHandlers serve the officer's scan page: whom they verify for and
// what they verified recently.
type officerHandlers struct {
	verifier *verify.Service
}

type officerContextResponse struct {
	Department officerDepartment `json:"department"`
	Purposes   []string          `json:"purposes"`
	Types      []officerType     `json:"types"`
}

type officerDepartment struct {
	Name string `json:"name"`
}

type officerType struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// context answers GET /api/v1/officer/context.
func (h *officerHandlers) context(c *gin.Context) {
	p, _ := principalFrom(c)
	oc, err := h.verifier.Context(c.Request.Context(), p.OfficerDept)
	if err != nil {
		respondError(c, err)
		return
	}
	resp := officerContextResponse{Department: officerDepartment{Name: oc.Department.Name},
		Purposes: oc.Purposes, Types: make([]officerType, 0, len(oc.Types))}
	for _, t := range oc.Types {
		resp.Types = append(resp.Types, officerType{Code: t.Code, Name: t.Name})
	}
	c.JSON(http.StatusOK, resp)
}

type officerVerification struct {
	LicenceType      string  `json:"licence_type"`
	Result           string  `json:"result"`
	Colour           *string `json:"colour"` // null for a refusal
	ReasonCode       string  `json:"reason_code"`
	Purpose          string  `json:"purpose"`
	HolderNameMasked string  `json:"holder_name_masked"`
	At               string  `json:"at"`
}

// verifications answers GET /api/v1/officer/verifications: the caller's own
// recent verifications, newest first.
func (h *officerHandlers) verifications(c *gin.Context) {
	p, _ := principalFrom(c)
	hist, err := h.verifier.History(c.Request.Context(), p.OpenID)
	if err != nil {
		respondError(c, err)
		return
	}
	items := make([]officerVerification, 0, len(hist))
	for _, v := range hist {
		items = append(items, officerVerification{LicenceType: v.LicenceType, Result: v.Result,
			Colour: colourOrNull(v.Colour), ReasonCode: v.ReasonCode, Purpose: v.Purpose,
			HolderNameMasked: v.HolderNameMasked, At: v.At.UTC().Format(instantFormat)})
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}
