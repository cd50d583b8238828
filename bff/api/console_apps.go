package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/openapi"
)

// consoleAppHandlers let a department admin run the department's Open API
// apps (docs/OPENAPI.md): list, create and rotate (the secret is shown
// once, in that answer), disable. They call what `bff app add` and `bff
// app disable` call, scoped to the admin's department.
type consoleAppHandlers struct {
	apps openapi.AppRepository
	now  func() time.Time
}

type appDTO struct {
	AppID      string  `json:"app_id"`
	Name       string  `json:"name"`
	Disabled   bool    `json:"disabled"`
	DisabledAt *string `json:"disabled_at"`
	CreatedAt  string  `json:"created_at"`
}

func toAppDTO(a openapi.App) appDTO {
	out := appDTO{AppID: a.ID, Name: a.Name, Disabled: a.DisabledAt != nil, CreatedAt: a.CreatedAt.Format(instantFormat)}
	if a.DisabledAt != nil {
		s := a.DisabledAt.Format(instantFormat)
		out.DisabledAt = &s
	}
	return out
}

func (h *consoleAppHandlers) list(c *gin.Context) {
	apps, err := h.apps.AppsByDepartment(c.Request.Context(), mustStaff(c).Member.Department.ID)
	if err != nil {
		respondError(c, dependencyFailure("app store", err))
		return
	}
	items := make([]appDTO, 0, len(apps))
	for _, a := range apps {
		items = append(items, toAppDTO(a))
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

// add answers 201 {"app", "app_id", "app_secret"}: the only time the
// secret is shown.
func (h *consoleAppHandlers) add(c *gin.Context) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeStrict(c, &in); err != nil {
		respondError(c, err)
		return
	}
	m := mustStaff(c).Member
	cred, err := openapi.AddApp(c.Request.Context(), h.apps, m.Department, in.Name, m.Actor(), h.now())
	if err != nil {
		respondError(c, dependencyFailure("app store", err))
		return
	}
	h.respondCredentials(c, http.StatusCreated, cred)
}

// rotate gives the app a new secret, shown once; the old one stops working
// at once.
func (h *consoleAppHandlers) rotate(c *gin.Context) {
	m := mustStaff(c).Member
	cred, err := openapi.RotateSecret(c.Request.Context(), h.apps, m.Department, c.Param("app_id"), m.Actor(), h.now())
	if err != nil {
		respondError(c, dependencyFailure("app store", err))
		return
	}
	h.respondCredentials(c, http.StatusOK, cred)
}

func (h *consoleAppHandlers) respondCredentials(c *gin.Context, status int, cred openapi.Credentials) {
	app, err := h.apps.App(c.Request.Context(), cred.AppID)
	if err != nil {
		respondError(c, dependencyFailure("app store", err))
		return
	}
	// A secret must not linger in a cache between the server and the page.
	c.Header("Cache-Control", "no-store")
	c.JSON(status, gin.H{"app": toAppDTO(app), "app_id": cred.AppID, "app_secret": cred.AppSecret})
}

func (h *consoleAppHandlers) disable(c *gin.Context) {
	m := mustStaff(c).Member
	if err := openapi.DisableApp(c.Request.Context(), h.apps, m.Department, c.Param("app_id"), m.Actor(), h.now()); err != nil {
		respondError(c, dependencyFailure("app store", err))
		return
	}
	c.Status(http.StatusNoContent)
}
