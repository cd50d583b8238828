package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/ident"
	"github.com/yangcheng-county/elicence/internal/realname"
)

type meHandlers struct {
	realname *realname.Service
	holders  HolderReader
}

type meResponse struct {
	OpenIDHint       string   `json:"openid_hint"`
	RealnameVerified bool     `json:"realname_verified"`
	Roles            []string `json:"roles"`
	// NameMasked is null until real-name binding succeeds.
	NameMasked *string `json:"name_masked"`
}

// me tells the H5 who is logged in and what they may do. The holder's
// name is read here, not by the session middleware, because no other
// endpoint needs it.
func (h *meHandlers) me(c *gin.Context) {
	p, _ := principalFrom(c)
	resp := meResponse{OpenIDHint: openIDHint(p.OpenID), RealnameVerified: p.HolderID != 0, Roles: []string{}}
	if p.HolderID != 0 {
		holder, err := h.holders.Holder(c.Request.Context(), p.HolderID)
		if err != nil {
			respondError(c, dependencyFailure("holder store", err))
			return
		}
		resp.Roles = append(resp.Roles, "holder")
		masked := ident.MaskName(holder.Name)
		resp.NameMasked = &masked
	}
	if p.OfficerDept != 0 {
		resp.Roles = append(resp.Roles, "officer")
	}
	c.JSON(http.StatusOK, resp)
}

// openIDHint shows enough of an openid to tell accounts apart on a support
// call: the first and last 4 characters.
func openIDHint(openid string) string {
	r := []rune(openid)
	if len(r) <= 8 {
		return ident.MaskIDNumber(openid)
	}
	return string(r[:4]) + "…" + string(r[len(r)-4:])
}

type realnameStartRequest struct {
	Name     string `json:"name" binding:"required,max=64"`
	IDNumber string `json:"id_number" binding:"required,max=32"`
}

type realnameStartResponse struct {
	ChallengeID string `json:"challenge_id"`
	PhoneHint   string `json:"phone_hint"`
}

// startRealname checks name and ID number and sends a code to the phone on
// record.
func (h *meHandlers) startRealname(c *gin.Context) {
	var req realnameStartRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		respondError(c, errBadRequest)
		return
	}
	p, _ := principalFrom(c)
	id, hint, err := h.realname.Start(c.Request.Context(), p.OpenID, c.ClientIP(), req.Name, req.IDNumber)
	if err != nil {
		respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, realnameStartResponse{ChallengeID: id, PhoneHint: hint})
}

type realnameConfirmRequest struct {
	ChallengeID string `json:"challenge_id" binding:"required,max=64"`
	Code        string `json:"code" binding:"required,max=16"`
}

// confirmRealname checks the SMS code and binds the account.
func (h *meHandlers) confirmRealname(c *gin.Context) {
	var req realnameConfirmRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		respondError(c, errBadRequest)
		return
	}
	p, _ := principalFrom(c)
	if err := h.realname.Confirm(c.Request.Context(), p.OpenID, c.ClientIP(), req.ChallengeID, req.Code); err != nil {
		respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"realname_verified": true})
}
