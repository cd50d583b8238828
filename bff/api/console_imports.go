package api

import (
	"errors"
	"mime"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/importer"
	"github.com/yangcheng-county/elicence/internal/licence"
)

// consoleUploadPath is the one console route that takes a file: a
// multipart form, not JSON, and a larger body (see limitBody and
// requireJSONWrites). The CSRF header guards it like every console write.
const consoleUploadPath = "/api/v1/console/imports"

// maxUploadBody bounds an uploaded import file with its form: some 100,000
// rows of CSV, more than a county department holds on paper.
const maxUploadBody = 20 << 20

// consoleImportHandlers run a department's stock imports from the console
// (docs/IMPORT.md): the same rules and error file as `bff import
// licences`, in the background, with the progress kept in the database.
type consoleImportHandlers struct {
	jobs *importer.Jobs
}

// importJobDTO is one import as the console's progress bar reads it.
type importJobDTO struct {
	ID         int64   `json:"id"`
	FileName   string  `json:"file_name"`
	DryRun     bool    `json:"dry_run"`
	State      string  `json:"state"`
	Total      int     `json:"total"`
	Done       int     `json:"done"`
	Imported   int     `json:"imported"`
	Unchanged  int     `json:"unchanged"`
	Rejected   int     `json:"rejected"`
	Failure    string  `json:"failure"`
	Actor      string  `json:"actor"`
	CreatedAt  string  `json:"created_at"`
	FinishedAt *string `json:"finished_at"`
}

func (h *consoleImportHandlers) dto(j importer.Job) importJobDTO {
	out := importJobDTO{ID: j.ID, FileName: j.FileName, DryRun: j.DryRun, State: string(j.StateAt(h.jobs.Now())),
		Total: j.Total, Done: j.Done, Imported: j.Summary.Imported, Unchanged: j.Summary.Unchanged, Rejected: j.Summary.Rejected,
		Failure: j.Failure, Actor: j.Actor, CreatedAt: j.CreatedAt.Format(instantFormat)}
	if j.FinishedAt != nil {
		s := j.FinishedAt.Format(instantFormat)
		out.FinishedAt = &s
	}
	return out
}

// start takes the form fields file and dry_run ("true" or "false") and
// answers 202 with the running job; the page polls it.
func (h *consoleImportHandlers) start(c *gin.Context) {
	fh, err := c.FormFile("file")
	if err != nil {
		respondError(c, badFile("choose a .csv or .xlsx file to upload"))
		return
	}
	dryRun, err := strconv.ParseBool(c.DefaultPostForm("dry_run", "false"))
	if err != nil {
		respondError(c, &licence.ValidationError{Details: []licence.FieldError{{Field: "dry_run", Code: "invalid", Message: "dry_run must be true or false"}}})
		return
	}
	f, err := fh.Open()
	if err != nil {
		respondError(c, err)
		return
	}
	defer f.Close()
	m := mustStaff(c).Member
	job, err := h.jobs.Start(c.Request.Context(), m.Department, m.Actor(), fh.Filename, f, dryRun)
	if errors.Is(err, importer.ErrBadFile) {
		respondError(c, badFile(importer.BadFileReason(err)))
		return
	}
	if err != nil {
		respondError(c, dependencyFailure("import store", err))
		return
	}
	c.JSON(http.StatusAccepted, h.dto(job))
}

// badFile is a file that cannot be imported at all, with the reason.
func badFile(reason string) error {
	return &licence.ValidationError{Details: []licence.FieldError{{Field: "file", Code: "bad_file", Message: reason}}}
}

func (h *consoleImportHandlers) list(c *gin.Context) {
	jobs, err := h.jobs.List(c.Request.Context(), mustStaff(c).Member.Department, 20)
	if err != nil {
		respondError(c, dependencyFailure("import store", err))
		return
	}
	items := make([]importJobDTO, 0, len(jobs))
	for _, j := range jobs {
		items = append(items, h.dto(j))
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

func (h *consoleImportHandlers) get(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	j, err := h.jobs.Job(c.Request.Context(), mustStaff(c).Member.Department, id)
	if err != nil {
		respondError(c, dependencyFailure("import store", err))
		return
	}
	c.JSON(http.StatusOK, h.dto(j))
}

// errors downloads the job's error file, the one `bff import licences`
// writes beside its input; a job that rejected no row has none (404).
func (h *consoleImportHandlers) errors(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	j, body, err := h.jobs.Errors(c.Request.Context(), mustStaff(c).Member.Department, id)
	if err != nil {
		respondError(c, dependencyFailure("import store", err))
		return
	}
	if len(body) == 0 {
		respondError(c, errNotFound)
		return
	}
	// mime encodes a non-ASCII name (RFC 2231), which browsers read.
	c.Header("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": j.FileName + importer.ErrorFileSuffix}))
	c.Data(http.StatusOK, "text/csv; charset=utf-8", body)
}
