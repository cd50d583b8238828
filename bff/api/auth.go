package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/auth"
	"github.com/yangcheng-county/elicence/internal/fault"
	"github.com/yangcheng-county/elicence/internal/wechat"
)

// CallbackPath is the OAuth callback route; the redirect_uri given to
// auth.Options is PublicURL + CallbackPath.
const CallbackPath = "/api/v1/auth/wechat/callback"

type authHandlers struct {
	auth     *auth.Service
	sessions *sessions
}

// login sends the browser to WeChat's authorize page; next (a path on this
// site) is where the callback lands afterwards. The state also goes into a
// cookie scoped to the callback, so only this browser can complete the login.
// Failures of login and callback answer a browser with a readable page
// (respondLoginError), API clients with the usual JSON error.
func (h *authHandlers) login(c *gin.Context) {
	u, state, err := h.auth.BeginLogin(c.Request.Context(), c.Query("next"))
	if err != nil {
		respondLoginError(c, err)
		return
	}
	h.sessions.setOAuthCookie(c, state, int(auth.StateTTL.Seconds()))
	c.Redirect(http.StatusFound, u)
}

// callback is where WeChat sends the browser back with code and state.
func (h *authHandlers) callback(c *gin.Context) {
	ctx := c.Request.Context()
	bound, _ := c.Cookie(oauthCookie)
	h.sessions.setOAuthCookie(c, "", -1) // one try per login, whatever happens
	state := c.Query("state")
	if state != "" && c.Query("code") != "" && !auth.SameBrowser(bound, state) {
		// A callback URL opened by a browser that did not start this login:
		// someone else's code and state. The state is left for its owner.
		respondLoginError(c, auth.ErrStateInvalid)
		return
	}
	id, next, err := h.auth.CompleteLogin(ctx, c.Query("code"), state)
	if err != nil {
		respondLoginError(c, err)
		return
	}
	// A session the browser still carries is ended, so an id planted
	// before login (session fixation) never becomes a logged-in session.
	if old, err := c.Cookie(sessionCookie); err == nil && old != "" {
		if err := h.auth.Logout(ctx, old); err != nil {
			_ = c.Error(err)
		}
	}
	h.sessions.setCookie(c, id, int(h.auth.AbsoluteTimeout().Seconds()))
	c.Redirect(http.StatusFound, next)
}

// logout ends the session server-side and drops the cookie.
func (h *authHandlers) logout(c *gin.Context) {
	if id, err := c.Cookie(sessionCookie); err == nil && id != "" {
		if err := h.auth.Logout(c.Request.Context(), id); err != nil {
			respondError(c, err)
			return
		}
	}
	h.sessions.clearCookie(c)
	c.Status(http.StatusNoContent)
}

// WeChatLogin adapts the WeChat client to auth.Provider: a snapshot user
// becomes Identity.Snapshot, a refused code auth.ErrCodeInvalid, and any
// other failure to get an answer a dependency failure (503).
func WeChatLogin(c *wechat.Client) auth.Provider {
	return auth.ProviderFuncs{
		Authorize: c.AuthorizeURL,
		Redeem: func(ctx context.Context, code string) (auth.Identity, error) {
			u, err := c.ExchangeCode(ctx, code)
			switch ec, _ := wechat.Code(err); {
			case err == nil:
				return auth.Identity{OpenID: u.OpenID}, nil
			case errors.Is(err, wechat.ErrSnapshotUser):
				return auth.Identity{OpenID: u.OpenID, Snapshot: true}, nil
			case ec == wechat.CodeInvalidCode || ec == wechat.CodeCodeBeenUsed || ec == wechat.CodeMissingCode:
				return auth.Identity{}, errors.Join(auth.ErrCodeInvalid, err)
			default:
				return auth.Identity{}, fault.Unavailable("wechat", err)
			}
		},
	}
}
