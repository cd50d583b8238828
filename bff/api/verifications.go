package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/verify"
)

// verificationHandlers serve the officer's scan (扫码核验).
type verificationHandlers struct {
	verifier *verify.Service
}

type verificationRequest struct {
	Code    string `json:"code" binding:"required,max=1024"`
	Purpose string `json:"purpose" binding:"max=256"`
}

type verificationResponse struct {
	Result     string          `json:"result"`
	Colour     string          `json:"colour"`
	ReasonCode string          `json:"reason_code"`
	Status     string          `json:"status"`
	Licence    verifiedLicence `json:"licence"`
	Holder     verifiedHolder  `json:"holder"`
	VerifiedAt string          `json:"verified_at"`
	// Replayed: this officer had verified this code before; verified_at
	// is that first time and no second usage record was written.
	Replayed bool `json:"replayed"`
	// Seal is the issuer's electronic seal on the licence version and
	// whether its signature checked out; absent when none was checked.
	Seal *verifiedSeal `json:"seal,omitempty"`
}

type verifiedSeal struct {
	Name     string `json:"name"`
	Verified bool   `json:"verified"`
}

type verifiedLicence struct {
	TypeCode   string          `json:"type_code"`
	TypeName   string          `json:"type_name"`
	Number     string          `json:"number"`
	Fields     []verifiedField `json:"fields"`
	Issuer     string          `json:"issuer"`
	ValidUntil *string         `json:"valid_until"`
}

type verifiedField struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

type verifiedHolder struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
}

// verify answers POST /api/v1/verifications. Unknown, expired and used
// codes share one 404 body; a refusal by the usage list is 403 with a
// reason_code; a dependency failure is 503, never a result.
func (h *verificationHandlers) verify(c *gin.Context) {
	var req verificationRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		respondError(c, errBadRequest)
		return
	}
	p, _ := principalFrom(c)
	res, err := h.verifier.Verify(c.Request.Context(), verify.Request{
		OfficerOpenID: p.OpenID, DepartmentID: p.OfficerDept,
		Code: req.Code, Purpose: req.Purpose, ClientIP: c.ClientIP(),
	})
	if err != nil {
		respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, toVerificationResponse(res))
}

func toVerificationResponse(res verify.Result) verificationResponse {
	out := verificationResponse{
		Result: verify.ResultInvalid, Colour: string(res.Colour), ReasonCode: res.ReasonCode, Status: string(res.Status),
		Licence: verifiedLicence{
			TypeCode: res.Licence.TypeCode, TypeName: res.Licence.TypeName, Number: res.Licence.Number,
			Fields: make([]verifiedField, 0, len(res.Licence.Fields)), Issuer: res.Licence.Issuer,
		},
		Holder:     verifiedHolder{Name: res.Holder.Name, IDNumber: res.Holder.IDNumber},
		VerifiedAt: res.VerifiedAt.UTC().Format(instantFormat),
		Replayed:   res.Replay,
	}
	if res.Valid {
		out.Result = verify.ResultValid
	}
	if res.Seal.Name != "" {
		out.Seal = &verifiedSeal{Name: res.Seal.Name, Verified: res.Seal.Verified}
	}
	for _, f := range res.Licence.Fields {
		out.Licence.Fields = append(out.Licence.Fields, verifiedField{Key: f.Key, Label: f.Label, Type: f.Type, Value: f.Value})
	}
	if res.Licence.ValidUntil != nil {
		s := formatDate(*res.Licence.ValidUntil)
		out.Licence.ValidUntil = &s
	}
	return out
}
