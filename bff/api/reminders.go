package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
)

// ReminderSwitch is the holder's per-licence reminder switch
// (reminder.Preferences). Both methods return reminder.ErrNotFound when the
// licence is not the holder's.
type ReminderSwitch interface {
	Enabled(ctx context.Context, holderID, licenceID int64) (bool, error)
	SetEnabled(ctx context.Context, holderID, licenceID int64, enabled bool) error
}

// reminderHandlers serve GET/PUT /api/v1/licences/:id/reminders.
type reminderHandlers struct {
	prefs ReminderSwitch
}

type reminderSwitchDTO struct {
	Enabled bool `json:"enabled"`
}

// reminderSwitchRequest uses a pointer so a body without "enabled" is a
// validation error rather than a silent "off".
type reminderSwitchRequest struct {
	Enabled *bool `json:"enabled" binding:"required"`
}

func (h *reminderHandlers) get(c *gin.Context) {
	holderID, id, ok := licenceParam(c)
	if !ok {
		return
	}
	enabled, err := h.prefs.Enabled(c.Request.Context(), holderID, id)
	if err != nil {
		respondError(c, dependencyFailure("database", err))
		return
	}
	c.JSON(http.StatusOK, reminderSwitchDTO{Enabled: enabled})
}

func (h *reminderHandlers) put(c *gin.Context) {
	holderID, id, ok := licenceParam(c)
	if !ok {
		return
	}
	var req reminderSwitchRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		respondError(c, errBadRequest)
		return
	}
	if err := h.prefs.SetEnabled(c.Request.Context(), holderID, id, *req.Enabled); err != nil {
		respondError(c, dependencyFailure("database", err))
		return
	}
	c.JSON(http.StatusOK, reminderSwitchDTO{Enabled: *req.Enabled})
}
