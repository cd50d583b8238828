package api

import (
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/staff"
)

// consoleCookie holds the raw console session id. It is its own cookie,
// sent only to the console API (Path), never with the citizens' requests,
// and SameSite=Strict: no request from another site carries it.
const (
	consoleCookie     = "elic_console"
	consoleCookiePath = "/api/v1/console"
	// csrfHeader carries the session's CSRF token on every unsafe console
	// request (docs/CONSOLE.md, "CSRF").
	csrfHeader = "X-CSRF-Token"
	ctxStaff   = "staff_session"
)

// consoleSessions resolves the console cookie into a staff session on
// every console request and runs login and logout.
type consoleSessions struct {
	staff  *staff.Service
	secure bool // the cookie gets Secure when the public URL is https
}

// resolve reads the console cookie. A missing, expired or revoked session
// leaves the caller anonymous (the guards refuse what needs a login); a
// session store that does not answer fails the request closed.
func (h *consoleSessions) resolve(c *gin.Context) {
	id, err := c.Cookie(consoleCookie)
	if err != nil || id == "" {
		c.Next()
		return
	}
	sess, err := h.staff.Resolve(c.Request.Context(), id)
	if errors.Is(err, staff.ErrNoSession) {
		h.setCookie(c, "", -1)
		c.Next()
		return
	}
	if err != nil {
		respondError(c, dependencyFailure("staff session store", err))
		return
	}
	c.Set(ctxStaff, sess)
	c.Next()
}

func (h *consoleSessions) setCookie(c *gin.Context, id string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: consoleCookie, Value: id, Path: consoleCookiePath, MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteStrictMode,
	})
}

func staffFrom(c *gin.Context) (staff.Session, bool) {
	v, ok := c.Get(ctxStaff)
	if !ok {
		return staff.Session{}, false
	}
	s, ok := v.(staff.Session)
	return s, ok
}

// mustStaff is the session of a handler behind requireStaff.
func mustStaff(c *gin.Context) staff.Session {
	s, _ := staffFrom(c)
	return s
}

// requireStaff refuses console requests without a live staff session, and
// unsafe ones whose CSRF header is not the session's token. A cross-site
// page can make the browser send the cookie (were it not SameSite=Strict)
// but cannot read the token to put it in a header.
func requireStaff(c *gin.Context) {
	sess, ok := staffFrom(c)
	if !ok {
		respondError(c, errNotLoggedIn)
		return
	}
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return
	}
	if !sess.CSRFValid(c.GetHeader(csrfHeader)) {
		respondError(c, errCSRF)
	}
}

// requirePermission refuses a member whose role does not grant p.
func requirePermission(p staff.Permission) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !mustStaff(c).Member.May(p) {
			respondError(c, errForbidden)
		}
	}
}

// loginBody is POST /api/v1/console/session.
type loginBody struct {
	Username string `json:"username"`
	Password string `json:"password"`
	OTP      string `json:"otp"`
}

// meDTO is the logged-in member as the console sees them, with the CSRF
// token its unsafe requests must carry.
type meDTO struct {
	ID           int64          `json:"id"`
	Username     string         `json:"username"`
	Role         string         `json:"role"`
	Department   *departmentDTO `json:"department"`
	TOTPEnrolled bool           `json:"totp_enrolled"`
	Permissions  []string       `json:"permissions"`
	CSRFToken    string         `json:"csrf_token"`
	IdleSeconds  int            `json:"idle_timeout_seconds"`
}

type departmentDTO struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	USCC string `json:"uscc"`
}

// enrolmentDTO is the 202 answer of a first login: the secret to enrol.
type enrolmentDTO struct {
	TOTPEnrolment struct {
		URI   string `json:"otpauth_uri"`
		QRPNG string `json:"qr_png"` // data: URI
	} `json:"totp_enrolment"`
}

func (h *consoleSessions) login(c *gin.Context) {
	var in loginBody
	if err := decodeStrict(c, &in); err != nil {
		respondError(c, err)
		return
	}
	id, sess, err := h.staff.Login(c.Request.Context(), staff.Credentials{Username: in.Username, Password: in.Password, OTP: in.OTP})
	var enrol *staff.EnrolmentRequired
	if errors.As(err, &enrol) {
		var out enrolmentDTO
		out.TOTPEnrolment.URI = enrol.URI
		out.TOTPEnrolment.QRPNG = "data:image/png;base64," + base64.StdEncoding.EncodeToString(enrol.QR)
		c.JSON(http.StatusAccepted, out)
		return
	}
	if err != nil {
		respondError(c, dependencyFailure("staff store", err))
		return
	}
	// A session cookie (no Max-Age): it goes with the browser, and the
	// server ends the session on idle or absolute timeout anyway.
	h.setCookie(c, id, 0)
	c.JSON(http.StatusCreated, h.me(sess))
}

func (h *consoleSessions) logout(c *gin.Context) {
	if err := h.staff.Logout(c.Request.Context(), mustStaff(c)); err != nil {
		respondError(c, dependencyFailure("staff session store", err))
		return
	}
	h.setCookie(c, "", -1)
	c.Status(http.StatusNoContent)
}

func (h *consoleSessions) getMe(c *gin.Context) {
	c.JSON(http.StatusOK, h.me(mustStaff(c)))
}

func (h *consoleSessions) me(s staff.Session) meDTO {
	m := s.Member
	out := meDTO{ID: m.ID, Username: m.Username, Role: string(m.Role), TOTPEnrolled: m.TOTPEnrolled,
		Permissions: []string{}, CSRFToken: s.CSRF, IdleSeconds: int(h.staff.Idle().Seconds())}
	if m.Department.ID != 0 {
		out.Department = &departmentDTO{ID: m.Department.ID, Name: m.Department.Name, USCC: m.Department.USCC}
	}
	for _, p := range m.Permissions() {
		out.Permissions = append(out.Permissions, string(p))
	}
	return out
}
