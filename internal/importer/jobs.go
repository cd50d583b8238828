package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/licence"
)

// JobState is where an import started from the console stands.
type JobState string

// States of an import job.
const (
	JobRunning JobState = "running"
	JobDone    JobState = "done"
	// JobFailed: the file could not be read to its end, or storage failed;
	// rows written before stay written (running the file again finishes).
	JobFailed JobState = "failed"
	// JobInterrupted is never stored: it is a running job whose heartbeat
	// stopped, because the instance running it went away.
	JobInterrupted JobState = "interrupted"
)

// StaleAfter is how long a running job may go without a heartbeat before
// it reads as interrupted. A batch of DefaultBatchSize rows takes seconds;
// minutes without one mean its instance is gone.
const StaleAfter = 5 * time.Minute

// Errors of import jobs.
var (
	// ErrJobNotFound is an unknown job or one of another department.
	ErrJobNotFound = errors.New("importer: job not found")
	// ErrJobRunning is a start while the department's previous import is
	// still running: two imports of one department would race for the
	// same licence numbers.
	ErrJobRunning = errors.New("importer: an import of the department is running")
)

// Job is one import started from the console: its file, its progress and,
// once finished, its counts. The error file is kept beside it.
type Job struct {
	ID           int64
	DepartmentID int64
	Actor        string
	FileName     string
	DryRun       bool
	State        JobState
	Total, Done  int // rows: Total is 0 until counted
	Summary      Summary
	// Failure says why a failed job stopped, in words for the clerk.
	Failure    string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt *time.Time
}

// StateAt is the job's state as a reader at now sees it: a running job
// without a heartbeat for StaleAfter is interrupted.
func (j Job) StateAt(now time.Time) JobState {
	if j.State == JobRunning && now.Sub(j.UpdatedAt) > StaleAfter {
		return JobInterrupted
	}
	return j.State
}

// JobStore keeps import jobs where every instance reads them (the store).
type JobStore interface {
	// StartImportJob inserts j and appends the event ev names for its id,
	// in one transaction; ErrJobRunning when the department has a running
	// job with a heartbeat after liveSince.
	StartImportJob(ctx context.Context, j Job, liveSince time.Time, ev func(id int64) audit.Event) (Job, error)
	// ImportProgress records rows counted and done, and the heartbeat.
	ImportProgress(ctx context.Context, id int64, total, done int, at time.Time) error
	// FinishImportJob records j's final state, counts and error file and
	// appends ev, in one transaction.
	FinishImportJob(ctx context.Context, j Job, errorsCSV []byte, ev audit.Event) error
	// ImportJob returns one job, or ErrJobNotFound.
	ImportJob(ctx context.Context, id int64) (Job, error)
	// ImportJobs lists the department's latest jobs, newest first.
	ImportJobs(ctx context.Context, departmentID int64, limit int) ([]Job, error)
	// ImportJobErrors returns a job's error file (nil when no row was
	// rejected), or ErrJobNotFound.
	ImportJobErrors(ctx context.Context, id int64) ([]byte, error)
}

// Jobs runs imports uploaded through the console in the background, with
// the rules and the error file of `bff import licences` (ImportFile), and
// keeps their progress in a JobStore so any instance can report it.
type Jobs struct {
	im    *Importer
	store JobStore
	now   func() time.Time
	log   *slog.Logger
}

// NewJobs returns the runner. It rejects nil dependencies.
func NewJobs(im *Importer, st JobStore, now func() time.Time, log *slog.Logger) (*Jobs, error) {
	if im == nil || st == nil || now == nil || log == nil {
		return nil, errors.New("importer: NewJobs needs an importer, a job store, a clock and a logger")
	}
	return &Jobs{im: im, store: st, now: now, log: log}, nil
}

// Start checks the uploaded file's name and header, records the job and
// imports the file in the background; it returns the running job at once.
// A file that cannot be imported at all is ErrBadFile, and no job.
func (js *Jobs) Start(ctx context.Context, dept licence.Department, actor, fileName string, data io.Reader, dryRun bool) (Job, error) {
	fileName = filepath.Base(strings.ReplaceAll(fileName, "\\", "/"))
	if fileName == "." || fileName == "/" || fileName == ".." {
		return Job{}, fmt.Errorf("%w: the upload has no file name", ErrBadFile)
	}
	dir, err := os.MkdirTemp("", "elicence-import-")
	if err != nil {
		return Job{}, fmt.Errorf("importer: upload: %w", err)
	}
	keep := false
	defer func() {
		if !keep {
			os.RemoveAll(dir)
		}
	}()
	// The copy keeps the upload's name: its extension says how to read it,
	// and errors about the file name the file the clerk chose.
	path := filepath.Join(dir, fileName)
	if err := writeFile(path, data); err != nil {
		return Job{}, err
	}
	src, err := openSource(path)
	if err != nil {
		return Job{}, err
	}
	src.Close()
	now := js.now().UTC()
	job := Job{DepartmentID: dept.ID, Actor: actor, FileName: fileName, DryRun: dryRun, State: JobRunning, CreatedAt: now, UpdatedAt: now}
	job, err = js.store.StartImportJob(ctx, job, now.Add(-StaleAfter), func(id int64) audit.Event {
		return audit.Event{At: now, Actor: actor, Action: "import.start", Object: importObject(id),
			Detail: fmt.Sprintf("department %s, file %q, dry run %t", dept.USCC, fileName, dryRun)}
	})
	if err != nil {
		return Job{}, err
	}
	keep = true
	// The import outlives the request that started it, and keeps its
	// values (the storage time budget) but not its cancellation.
	go js.run(context.WithoutCancel(ctx), dept, job, dir, path)
	return job, nil
}

func importObject(id int64) string { return fmt.Sprintf("import:%d", id) }

// run imports the file and records the outcome.
func (js *Jobs) run(ctx context.Context, dept licence.Department, job Job, dir, path string) {
	defer os.RemoveAll(dir)
	progress := &jobProgress{js: js, ctx: ctx, id: job.ID}
	sum, err := js.im.ImportFile(ctx, dept.USCC, path, Options{DryRun: job.DryRun, Actor: job.Actor, Source: job.FileName, Progress: progress})
	job.Summary, job.Total, job.Done = sum, progress.total, progress.done
	job.State = JobDone
	if err != nil {
		job.State = JobFailed
		job.Failure = "导入未完成，请稍后用同一文件再次导入：已导入的行会计为未变更"
		if errors.Is(err, ErrBadFile) {
			job.Failure = BadFileReason(err)
		}
		js.log.ErrorContext(ctx, "import job failed", "job", job.ID, "err", err)
	}
	var errorsCSV []byte
	if sum.ErrorFile != "" {
		if errorsCSV, err = os.ReadFile(sum.ErrorFile); err != nil {
			js.log.ErrorContext(ctx, "import job error file", "job", job.ID, "err", err)
		}
	}
	finished := js.now().UTC()
	job.UpdatedAt, job.FinishedAt = finished, &finished
	ev := audit.Event{At: finished, Actor: job.Actor, Action: "import.finish", Object: importObject(job.ID),
		Detail: fmt.Sprintf("%s: %s", job.State, sum)}
	if err := js.store.FinishImportJob(ctx, job, errorsCSV, ev); err != nil {
		js.log.ErrorContext(ctx, "import job finish", "job", job.ID, "err", err)
	}
}

// Job returns the job when it is the department's, else ErrJobNotFound.
func (js *Jobs) Job(ctx context.Context, dept licence.Department, id int64) (Job, error) {
	j, err := js.store.ImportJob(ctx, id)
	if err != nil {
		return Job{}, err
	}
	if j.DepartmentID != dept.ID {
		return Job{}, ErrJobNotFound
	}
	return j, nil
}

// Errors returns the error file of the department's job (nil: no row
// rejected), in the format of `bff import licences`.
func (js *Jobs) Errors(ctx context.Context, dept licence.Department, id int64) (Job, []byte, error) {
	j, err := js.Job(ctx, dept, id)
	if err != nil {
		return Job{}, nil, err
	}
	b, err := js.store.ImportJobErrors(ctx, id)
	return j, b, err
}

// List returns the department's latest jobs, newest first.
func (js *Jobs) List(ctx context.Context, dept licence.Department, limit int) ([]Job, error) {
	return js.store.ImportJobs(ctx, dept.ID, limit)
}

// Now is the runner's clock, for StateAt.
func (js *Jobs) Now() time.Time { return js.now() }

// jobProgress writes the progress of a job to the store, at most a few
// times a second: often enough for a smooth bar, rarely enough that the
// writes cost nothing beside the import's own.
type jobProgress struct {
	js          *Jobs
	ctx         context.Context
	id          int64
	total, done int
	last        time.Time
}

const progressEvery = 300 * time.Millisecond

func (p *jobProgress) Start(total int) { p.total = total; p.write() }

func (p *jobProgress) Update(done int) {
	p.done = done
	if time.Since(p.last) >= progressEvery {
		p.write()
	}
}

func (p *jobProgress) Finish() {}

func (p *jobProgress) write() {
	p.last = time.Now()
	if err := p.js.store.ImportProgress(p.ctx, p.id, p.total, p.done, p.js.now().UTC()); err != nil {
		p.js.log.WarnContext(p.ctx, "import job progress", "job", p.id, "err", err)
	}
}

// writeFile copies the upload to path.
func writeFile(path string, data io.Reader) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("importer: upload: %w", err)
	}
	if _, err := io.Copy(f, data); err != nil {
		f.Close()
		return fmt.Errorf("importer: upload: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("importer: upload: %w", err)
	}
	return nil
}

// BadFileReason is what is wrong with a file that cannot be imported at
// all (an ErrBadFile), in words for the person who chose it.
func BadFileReason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ErrBadFile.Error()+": "); i >= 0 {
		return msg[i+len(ErrBadFile.Error())+2:]
	}
	return msg
}
