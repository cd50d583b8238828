package store

import (
	"context"
	"fmt"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/importer"
)

var _ importer.JobStore = (*Store)(nil)

// importJobRow is one console import; errors_csv is read only for the
// download, never with the job.
type importJobRow struct {
	ID           int64      `gorm:"column:id;primaryKey"`
	DepartmentID int64      `gorm:"column:department_id"`
	Actor        string     `gorm:"column:actor"`
	FileName     string     `gorm:"column:file_name"`
	DryRun       bool       `gorm:"column:dry_run"`
	State        string     `gorm:"column:state"`
	TotalRows    int        `gorm:"column:total_rows"`
	DoneRows     int        `gorm:"column:done_rows"`
	Imported     int        `gorm:"column:imported"`
	Unchanged    int        `gorm:"column:unchanged"`
	Rejected     int        `gorm:"column:rejected"`
	Failure      string     `gorm:"column:failure"`
	ErrorsCSV    []byte     `gorm:"column:errors_csv"`
	CreatedAt    time.Time  `gorm:"column:created_at"`
	UpdatedAt    time.Time  `gorm:"column:updated_at"`
	FinishedAt   *time.Time `gorm:"column:finished_at"`
}

func (importJobRow) TableName() string { return "import_jobs" }

// importJobColumns are every column but the error file.
var importJobColumns = []string{"id", "department_id", "actor", "file_name", "dry_run", "state", "total_rows", "done_rows",
	"imported", "unchanged", "rejected", "failure", "created_at", "updated_at", "finished_at"}

func importJobFromRow(r importJobRow) importer.Job {
	j := importer.Job{ID: r.ID, DepartmentID: r.DepartmentID, Actor: r.Actor, FileName: r.FileName, DryRun: r.DryRun,
		State: importer.JobState(r.State), Total: r.TotalRows, Done: r.DoneRows,
		Summary: importer.Summary{Imported: r.Imported, Unchanged: r.Unchanged, Rejected: r.Rejected},
		Failure: r.Failure, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.FinishedAt != nil {
		t := r.FinishedAt.UTC()
		j.FinishedAt = &t
	}
	return j
}

// StartImportJob implements importer.JobStore.
func (s *Store) StartImportJob(ctx context.Context, j importer.Job, liveSince time.Time, ev func(id int64) audit.Event) (importer.Job, error) {
	r := importJobRow{DepartmentID: j.DepartmentID, Actor: j.Actor, FileName: j.FileName, DryRun: j.DryRun, State: string(j.State),
		CreatedAt: utc(j.CreatedAt), UpdatedAt: utc(j.UpdatedAt)}
	err := s.InTx(ctx, func(tx *Store) error {
		var running int64
		if err := tx.q(ctx).Model(&importJobRow{}).Where("department_id = ? AND state = ? AND updated_at > ?",
			j.DepartmentID, string(importer.JobRunning), utc(liveSince)).Count(&running).Error; err != nil {
			return fmt.Errorf("store: start import job: %w", err)
		}
		if running > 0 {
			return importer.ErrJobRunning
		}
		if err := tx.q(ctx).Create(&r).Error; err != nil {
			return fmt.Errorf("store: start import job: %w", err)
		}
		_, err := tx.AppendAudit(ctx, ev(r.ID))
		return err
	})
	if err != nil {
		return importer.Job{}, err
	}
	return importJobFromRow(r), nil
}

// ImportProgress implements importer.JobStore.
func (s *Store) ImportProgress(ctx context.Context, id int64, total, done int, at time.Time) error {
	err := s.q(ctx).Model(&importJobRow{}).Where("id = ? AND state = ?", id, string(importer.JobRunning)).
		Updates(map[string]any{"total_rows": total, "done_rows": done, "updated_at": utc(at)}).Error
	if err != nil {
		return fmt.Errorf("store: import progress %d: %w", id, err)
	}
	return nil
}

// FinishImportJob implements importer.JobStore.
func (s *Store) FinishImportJob(ctx context.Context, j importer.Job, errorsCSV []byte, ev audit.Event) error {
	return s.InTx(ctx, func(tx *Store) error {
		res := tx.q(ctx).Model(&importJobRow{}).Where("id = ?", j.ID).Updates(map[string]any{
			"state": string(j.State), "total_rows": j.Total, "done_rows": j.Done, "imported": j.Summary.Imported,
			"unchanged": j.Summary.Unchanged, "rejected": j.Summary.Rejected, "failure": j.Failure, "errors_csv": errorsCSV,
			"updated_at": utc(j.UpdatedAt), "finished_at": utc(*j.FinishedAt),
		})
		if res.Error != nil {
			return fmt.Errorf("store: finish import job %d: %w", j.ID, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("store: finish import job %d: %w", j.ID, importer.ErrJobNotFound)
		}
		_, err := tx.AppendAudit(ctx, ev)
		return err
	})
}

// ImportJob implements importer.JobStore.
func (s *Store) ImportJob(ctx context.Context, id int64) (importer.Job, error) {
	var r importJobRow
	if err := s.q(ctx).Select(importJobColumns).Where("id = ?", id).First(&r).Error; err != nil {
		return importer.Job{}, fmt.Errorf("store: import job: %w", mapErr(err, importer.ErrJobNotFound))
	}
	return importJobFromRow(r), nil
}

// ImportJobs implements importer.JobStore.
func (s *Store) ImportJobs(ctx context.Context, departmentID int64, limit int) ([]importer.Job, error) {
	var rows []importJobRow
	if err := s.q(ctx).Select(importJobColumns).Where("department_id = ?", departmentID).Order("id DESC").Limit(limit).
		Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: import jobs: %w", err)
	}
	out := make([]importer.Job, 0, len(rows))
	for _, r := range rows {
		out = append(out, importJobFromRow(r))
	}
	return out, nil
}

// ImportJobErrors implements importer.JobStore.
func (s *Store) ImportJobErrors(ctx context.Context, id int64) ([]byte, error) {
	var r importJobRow
	if err := s.q(ctx).Select("id", "errors_csv").Where("id = ?", id).First(&r).Error; err != nil {
		return nil, fmt.Errorf("store: import job errors: %w", mapErr(err, importer.ErrJobNotFound))
	}
	return r.ErrorsCSV, nil
}
