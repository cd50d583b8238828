package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/licence"
)

// AuditSearcher finds audit entries for the viewer (the store).
type AuditSearcher interface {
	SearchAudit(ctx context.Context, q audit.Query) ([]audit.Entry, error)
}

// consoleAuditHandlers are the audit viewer and the chain check
// (docs/CONSOLE.md, "Audit"). A department's staff see only their
// department's entries; the chain check covers the whole chain for anyone
// allowed to run it, since it shows no entry, only whether all verify.
type consoleAuditHandlers struct {
	search AuditSearcher
	checks *audit.Checker
}

type auditCheckDTO struct {
	ID        string `json:"id"`
	State     string `json:"state"`
	Checked   int64  `json:"checked"`
	Total     int64  `json:"total"`
	BadSeq    *int64 `json:"bad_seq"`
	Why       string `json:"why"`
	StartedBy string `json:"started_by"`
	StartedAt string `json:"started_at"`
	UpdatedAt string `json:"updated_at"`
}

// auditEntry is an entry as the viewer and a licence's detail show it.
func auditEntry(e audit.Entry) consoleAuditDTO {
	return consoleAuditDTO{Seq: e.Seq, At: e.At.UTC().Format(instantFormat), Actor: e.Actor, Action: e.Action, Object: e.Object, Detail: e.Detail}
}

func auditCheck(ck audit.Check) auditCheckDTO {
	out := auditCheckDTO{ID: ck.ID, State: string(ck.State), Checked: ck.Checked, Total: ck.Total, Why: ck.Why, StartedBy: ck.StartedBy,
		StartedAt: ck.StartedAt.UTC().Format(instantFormat), UpdatedAt: ck.UpdatedAt.UTC().Format(instantFormat)}
	if ck.State == audit.CheckBroken {
		out.BadSeq = &ck.BadSeq
	}
	return out
}

// list is GET /audit: the filters of audit.Query from the query string,
// newest first; next_before pages on.
func (h *consoleAuditHandlers) list(c *gin.Context) {
	q := audit.Query{Actor: strings.TrimSpace(c.Query("actor")), Action: strings.TrimSpace(c.Query("action"))}
	var details []licence.FieldError
	bad := func(field, msg string) {
		details = append(details, licence.FieldError{Field: field, Code: "invalid", Message: msg})
	}
	if v := c.Query("licence"); v != "" {
		if id, err := strconv.ParseInt(v, 10, 64); err != nil || id < 1 {
			bad("licence", "licence must be a licence id")
		} else {
			q.Objects = []string{"licence:" + v}
		}
	}
	for _, p := range []struct {
		name string
		into *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if v := c.Query(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				bad(p.name, p.name+" must be an RFC 3339 time")
			}
			*p.into = t
		}
	}
	positive := func(name string, max int64) int64 {
		v := c.Query(name)
		if v == "" {
			return 0
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > max {
			bad(name, name+" must be a positive integer, at most "+strconv.FormatInt(max, 10))
		}
		return n
	}
	q.Before = positive("before", 1<<63-1)
	q.Limit = int(positive("page_size", audit.MaxPage))
	if details != nil {
		respondError(c, &licence.ValidationError{Details: details})
		return
	}
	if m := mustStaff(c).Member; m.Role.Scoped() {
		q.DepartmentID = m.Department.ID
	}
	q = q.Normalise()
	entries, err := h.search.SearchAudit(c.Request.Context(), q)
	if err != nil {
		respondError(c, dependencyFailure("audit store", err))
		return
	}
	items := make([]consoleAuditDTO, 0, len(entries))
	for _, e := range entries {
		items = append(items, auditEntry(e))
	}
	var next *int64
	if len(entries) == q.Limit {
		next = &entries[len(entries)-1].Seq
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "next_before": next, "page_size": q.Limit})
}

// startCheck starts the chain check, or answers the one already running.
func (h *consoleAuditHandlers) startCheck(c *gin.Context) {
	ck, err := h.checks.Start(c.Request.Context(), mustStaff(c).Member.Actor())
	if err != nil {
		respondError(c, dependencyFailure("audit check store", err))
		return
	}
	c.JSON(http.StatusAccepted, auditCheck(ck))
}

func (h *consoleAuditHandlers) getCheck(c *gin.Context) {
	ck, err := h.checks.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		respondError(c, dependencyFailure("audit check store", err))
		return
	}
	c.JSON(http.StatusOK, auditCheck(ck))
}
