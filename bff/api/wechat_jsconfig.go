package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/wechat"
)

// JSSigner signs page URLs for the WeChat JS-SDK; *wechat.Client implements it.
type JSSigner interface {
	JSConfig(ctx context.Context, pageURL string) (wechat.JSConfig, error)
}

type jsConfigHandlers struct {
	signer JSSigner
	origin *url.URL // scheme and host of the public URL
}

type jsConfigResponse struct {
	AppID     string `json:"app_id"`
	Timestamp int64  `json:"timestamp"`
	NonceStr  string `json:"nonce_str"`
	Signature string `json:"signature"`
}

// jsConfig signs one of our own pages for wx.config. Other origins are
// refused: the signature would let any site use our account's JS-SDK.
func (h *jsConfigHandlers) jsConfig(c *gin.Context) {
	raw := c.Query("url")
	u, err := url.Parse(raw)
	if raw == "" || err != nil || u.Scheme != h.origin.Scheme || u.Host != h.origin.Host || u.User != nil {
		respondError(c, errBadRequest)
		return
	}
	cfg, err := h.signer.JSConfig(c.Request.Context(), raw)
	if err != nil {
		respondError(c, err)
		return
	}
	c.JSON(http.StatusOK, jsConfigResponse{AppID: cfg.AppID, Timestamp: cfg.Timestamp, NonceStr: cfg.NonceStr, Signature: cfg.Signature})
}
