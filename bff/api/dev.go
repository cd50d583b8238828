package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/sms"
)

// devHandlers serve developer-only endpoints. They are registered only in
// dev mode: in production the routes do not exist at all.
type devHandlers struct {
	outbox *sms.DevOutbox
}

type devSMSItem struct {
	Phone  string `json:"phone"`
	Code   string `json:"code"`
	Text   string `json:"text"`
	SentAt string `json:"sent_at"`
}

// sms lists the messages the dev SMS gateway "sent", newest first, so a
// developer can complete real-name binding without a phone.
func (h *devHandlers) sms(c *gin.Context) {
	msgs := h.outbox.List()
	items := make([]devSMSItem, 0, len(msgs))
	for _, m := range msgs {
		items = append(items, devSMSItem{Phone: m.Phone, Code: m.Code, Text: m.Text, SentAt: m.SentAt.Format(time.RFC3339Nano)})
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}
