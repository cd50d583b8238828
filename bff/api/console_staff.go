package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/staff"
)

// consoleStaffHandlers let a platform admin list, add and disable staff.
type consoleStaffHandlers struct {
	staff       *staff.Service
	departments interface {
		DepartmentByUSCC(ctx context.Context, uscc string) (licence.Department, error)
	}
}

// staffDTO is a staff member as an admin sees them: never a secret.
type staffDTO struct {
	ID           int64          `json:"id"`
	Username     string         `json:"username"`
	Role         string         `json:"role"`
	Department   *departmentDTO `json:"department"`
	TOTPEnrolled bool           `json:"totp_enrolled"`
	Disabled     bool           `json:"disabled"`
	CreatedAt    string         `json:"created_at"`
}

func toStaffDTO(m staff.Member) staffDTO {
	out := staffDTO{ID: m.ID, Username: m.Username, Role: string(m.Role), TOTPEnrolled: m.TOTPEnrolled,
		Disabled: m.DisabledAt != nil, CreatedAt: m.CreatedAt.UTC().Format(instantFormat)}
	if m.Department.ID != 0 {
		out.Department = &departmentDTO{ID: m.Department.ID, Name: m.Department.Name, USCC: m.Department.USCC}
	}
	return out
}

func (h *consoleStaffHandlers) list(c *gin.Context) {
	members, err := h.staff.List(c.Request.Context())
	if err != nil {
		respondError(c, dependencyFailure("staff store", err))
		return
	}
	items := make([]staffDTO, 0, len(members))
	for _, m := range members {
		items = append(items, toStaffDTO(m))
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

// addStaffBody is POST /api/v1/console/staff.
type addStaffBody struct {
	Username       string `json:"username"`
	Role           string `json:"role"`
	DepartmentUSCC string `json:"department_uscc"`
}

// add creates an account and answers with its one-time password, shown
// only in this answer.
func (h *consoleStaffHandlers) add(c *gin.Context) {
	var in addStaffBody
	if err := decodeStrict(c, &in); err != nil {
		respondError(c, err)
		return
	}
	ctx := c.Request.Context()
	var dept licence.Department
	if uscc := strings.TrimSpace(in.DepartmentUSCC); uscc != "" {
		var err error
		if dept, err = h.departments.DepartmentByUSCC(ctx, uscc); err != nil {
			respondError(c, dependencyFailure("licence store", unknownDepartment(err)))
			return
		}
	}
	m, password, err := h.staff.Add(ctx, mustStaff(c).Member.Actor(), in.Username, staff.Role(in.Role), dept)
	if err != nil {
		respondError(c, dependencyFailure("staff store", err))
		return
	}
	c.JSON(http.StatusCreated, gin.H{"staff": toStaffDTO(m), "password": password})
}

// unknownDepartment reads a department that is not on record as a bad
// request field rather than a missing resource.
func unknownDepartment(err error) error {
	if mapError(err) == errNotFound {
		return &licence.ValidationError{Details: []licence.FieldError{{Field: "department_uscc", Code: "unknown_department", Message: "no department with this USCC"}}}
	}
	return err
}

func (h *consoleStaffHandlers) disable(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		respondError(c, errNotFound)
		return
	}
	if err := h.staff.Disable(c.Request.Context(), mustStaff(c).Member.Actor(), id); err != nil {
		respondError(c, dependencyFailure("staff store", err))
		return
	}
	c.Status(http.StatusNoContent)
}
