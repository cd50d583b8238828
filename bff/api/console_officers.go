package api

import (
	"encoding/base64"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/officer"
)

// consoleOfficerHandlers let a department admin list, invite and remove
// the department's verifying officers (docs/CONSOLE.md, "Officers").
type consoleOfficerHandlers struct {
	officers *officer.Service
}

type officerDTO struct {
	OpenID    string `json:"openid"`
	Name      string `json:"name"`
	CreatedAt string `json:"created_at"`
}

type inviteDTO struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	CreatedBy string `json:"created_by"`
	CreatedAt string `json:"created_at"`
	ExpiresAt string `json:"expires_at"`
}

func toInviteDTO(inv officer.Invite) inviteDTO {
	return inviteDTO{ID: inv.ID, Name: inv.Name, CreatedBy: inv.CreatedBy,
		CreatedAt: inv.CreatedAt.Format(instantFormat), ExpiresAt: inv.ExpiresAt.Format(instantFormat)}
}

// list answers the officers and the invitations still open.
func (h *consoleOfficerHandlers) list(c *gin.Context) {
	ctx, dept := c.Request.Context(), mustStaff(c).Member.Department
	officers, err := h.officers.List(ctx, dept)
	if err != nil {
		respondError(c, dependencyFailure("officer store", err))
		return
	}
	pending, err := h.officers.Pending(ctx, dept)
	if err != nil {
		respondError(c, dependencyFailure("officer store", err))
		return
	}
	out := struct {
		Items   []officerDTO `json:"items"`
		Invites []inviteDTO  `json:"invites"`
	}{make([]officerDTO, 0, len(officers)), make([]inviteDTO, 0, len(pending))}
	for _, o := range officers {
		out.Items = append(out.Items, officerDTO{OpenID: o.OpenID, Name: o.Name, CreatedAt: o.CreatedAt.Format(instantFormat)})
	}
	for _, inv := range pending {
		out.Invites = append(out.Invites, toInviteDTO(inv))
	}
	c.JSON(http.StatusOK, out)
}

// invite answers the new invitation with its link and QR: shown only in
// this answer, as only the token's hash is kept.
func (h *consoleOfficerHandlers) invite(c *gin.Context) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeStrict(c, &in); err != nil {
		respondError(c, err)
		return
	}
	m := mustStaff(c).Member
	inv, err := h.officers.Invite(c.Request.Context(), m.Department, m.Actor(), in.Name)
	if err != nil {
		respondError(c, dependencyFailure("officer store", err))
		return
	}
	c.JSON(http.StatusCreated, gin.H{"invite": toInviteDTO(inv.Invite), "url": inv.URL,
		"qr_png": "data:image/png;base64," + base64.StdEncoding.EncodeToString(inv.QR)})
}

// remove ends the binding at once: the officer's next scan is refused.
func (h *consoleOfficerHandlers) remove(c *gin.Context) {
	m := mustStaff(c).Member
	if err := h.officers.Remove(c.Request.Context(), m.Department, m.Actor(), c.Param("openid")); err != nil {
		respondError(c, dependencyFailure("officer store", err))
		return
	}
	c.Status(http.StatusNoContent)
}

// officerInviteHandlers are the invitation's side in the H5: the officer
// opens the link in WeChat, logs in, and accepts.
type officerInviteHandlers struct {
	officers *officer.Service
}

// peek shows which department invites, before the officer accepts.
func (h *officerInviteHandlers) peek(c *gin.Context) {
	inv, err := h.officers.Peek(c.Request.Context(), c.Param("token"))
	if err != nil {
		respondError(c, dependencyFailure("officer store", err))
		return
	}
	c.JSON(http.StatusOK, gin.H{"department": inv.Department.Name, "name": inv.Name, "expires_at": inv.ExpiresAt.Format(instantFormat)})
}

// accept binds the logged-in WeChat account as an officer of the
// inviting department; the link is spent.
func (h *officerInviteHandlers) accept(c *gin.Context) {
	p, _ := principalFrom(c)
	inv, err := h.officers.Accept(c.Request.Context(), c.Param("token"), p.OpenID)
	if err != nil {
		respondError(c, dependencyFailure("officer store", err))
		return
	}
	c.JSON(http.StatusOK, gin.H{"department": inv.Department.Name, "name": inv.Name})
}
