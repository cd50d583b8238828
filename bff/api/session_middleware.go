package api

import (
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/account"
	"github.com/yangcheng-county/elicence/internal/auth"
)

// sessionCookie holds the raw session id; only its hash is stored.
const sessionCookie = "elic_session"

// oauthCookie ties a login's OAuth state to the browser that started it;
// it is sent only to the callback.
const oauthCookie = "elic_oauth"

// errJSONRequired answers state-changing API calls that are not JSON.
var errJSONRequired = &publicError{Status: http.StatusUnsupportedMediaType, Code: "json_required", Message: "请求必须是 JSON 格式"}

// sessions resolves the session cookie into a Principal on every API
// request. The account's holder binding and officer department are read
// fresh each time, so binding, unbinding or removing an officer takes
// effect on the next request rather than at the next login.
type sessions struct {
	auth     *auth.Service
	accounts account.Repository
	secure   bool // cookies get Secure when the public URL is https
}

func (s *sessions) middleware(c *gin.Context) {
	if !strings.HasPrefix(c.Request.URL.Path, "/api/") {
		c.Next()
		return
	}
	id, err := c.Cookie(sessionCookie)
	if err != nil || id == "" {
		c.Next()
		return
	}
	ctx := c.Request.Context()
	sess, err := s.auth.Resolve(ctx, id)
	if errors.Is(err, auth.ErrNoSession) {
		// Expired or logged out elsewhere: anonymous, and the stale
		// cookie is dropped.
		s.clearCookie(c)
		c.Next()
		return
	}
	if err != nil {
		// Fail closed: never treat a caller as anonymous (or as someone
		// else) because the session store did not answer.
		respondError(c, dependencyFailure("session store", err))
		return
	}
	p := Principal{SessionID: sess.IDHash, OpenID: sess.OpenID}
	acct, err := s.accounts.Get(ctx, sess.OpenID)
	if err != nil && !errors.Is(err, account.ErrNotFound) {
		respondError(c, dependencyFailure("account store", err))
		return
	}
	p.HolderID = acct.HolderID
	dept, err := s.accounts.Officer(ctx, sess.OpenID)
	if err != nil && !errors.Is(err, account.ErrNotFound) {
		respondError(c, dependencyFailure("account store", err))
		return
	}
	p.OfficerDept = dept
	c.Set(ctxPrincipal, p)
	c.Next()
}

func (s *sessions) setCookie(c *gin.Context, id string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: sessionCookie, Value: id, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (s *sessions) clearCookie(c *gin.Context) { s.setCookie(c, "", -1) }

// setOAuthCookie sets (maxAge > 0) or drops (maxAge < 0) the login binding
// cookie. SameSite=Lax still sends it on WeChat's top-level redirect back.
func (s *sessions) setOAuthCookie(c *gin.Context, state string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: oauthCookie, Value: state, Path: CallbackPath, MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

// requireJSONWrites is the CSRF guard of the API: a state-changing request
// must say Content-Type: application/json. A cross-site HTML form can only
// send form or text types, and a cross-site script cannot set this type
// without a CORS preflight, which the API never grants; together with the
// SameSite=Lax cookie this keeps other sites from acting for a user.
func requireJSONWrites(c *gin.Context) {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		c.Next()
		return
	}
	if !strings.HasPrefix(c.Request.URL.Path, "/api/") {
		c.Next()
		return
	}
	ct := c.GetHeader("Content-Type")
	if ct == "" && c.Request.ContentLength == 0 {
		// A body-less call (logout) carries nothing a form could forge:
		// every cross-site form sends a Content-Type, and the SameSite=Lax
		// cookie is not sent on cross-site POSTs anyway.
		c.Next()
		return
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && mt == "multipart/form-data" && c.Request.URL.Path == consoleUploadPath {
		// The console's file upload: a form, which the CSRF header of
		// requireStaff guards instead (a cross-site form cannot set it).
		c.Next()
		return
	}
	if err != nil || mt != "application/json" {
		respondError(c, errJSONRequired)
		return
	}
	c.Next()
}
