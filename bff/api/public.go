package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/catalogue"
)

// publicHandlers serve the public notices (公示): no login, nothing
// personal, the same answer for everyone.
type publicHandlers struct {
	usage    catalogue.UsageListReader
	sealList SealRegistry
}

type publicUsageList struct {
	Department publicDepartment `json:"department"`
	Types      []publicUsage    `json:"types"`
}

type publicDepartment struct {
	Name string `json:"name"`
	USCC string `json:"uscc"`
}

type publicUsage struct {
	Code     string   `json:"code"`
	Name     string   `json:"name"`
	Purposes []string `json:"purposes"`
}

// usageLists answers GET /api/v1/public/usage-lists: which department may
// verify which licence types, for which purposes.
func (h *publicHandlers) usageLists(c *gin.Context) {
	lists, err := catalogue.Published(c.Request.Context(), h.usage)
	if err != nil {
		respondError(c, dependencyFailure("usage lists", err))
		return
	}
	items := make([]publicUsageList, 0, len(lists))
	for _, l := range lists {
		item := publicUsageList{Department: publicDepartment{Name: l.Department.Name, USCC: l.Department.USCC},
			Types: make([]publicUsage, 0, len(l.Entries))}
		for _, e := range l.Entries {
			item.Types = append(item.Types, publicUsage{Code: e.TypeCode, Name: e.TypeName, Purposes: e.Purposes})
		}
		items = append(items, item)
	}
	// A published notice: caches may keep it for a few minutes.
	c.Header("Cache-Control", "public, max-age=300")
	c.JSON(http.StatusOK, gin.H{"items": items})
}
