// Package importer brings a department's existing paper-era licences onto
// the platform in bulk (存量电子化): it reads a CSV or XLSX file, checks every
// row against its licence type as an Open API issue would be checked,
// writes the good rows in batches (one transaction and one audit event per
// batch) and reports every rejected row with its file row number, column and
// reason, so a clerk can fix the file and run it again. Running the same
// file twice changes nothing: rows already on the platform are counted as
// unchanged.
package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/seal"
)

// Outcome is what happened to one valid row of a batch.
type Outcome int

const (
	// Imported: a new licence (and holder, if new) was written.
	Imported Outcome = iota + 1
	// Unchanged: the current version of the licence already says the same.
	Unchanged
	// Conflict: a licence with this type and number exists with other
	// content or from another department; an import never overwrites it.
	Conflict
)

// Item is one valid row, ready to be written.
type Item struct {
	Row int // row number in the file (the header is row 1)
	Req licence.IssueRequest
}

// Batch is a slice of valid rows the store writes in one transaction,
// together with one audit event. DryRun asks the store to classify the
// rows (imported / unchanged / conflict) without writing anything.
type Batch struct {
	Issuer licence.Department
	Actor  string // audit actor, e.g. cli:import
	Source string // file name (without directory) for the audit detail
	Items  []Item
	DryRun bool
	// Sign signs version 1 of each imported licence for its holder as on
	// record (the issuer's seal approved for the item's type).
	Sign licence.SignFunc
}

// Store is what an import needs from durable storage.
type Store interface {
	DepartmentByUSCC(ctx context.Context, uscc string) (licence.Department, error)
	Types(ctx context.Context) ([]licence.Type, error)
	// MayIssue is the catalogue's rule of who issues which type.
	licence.IssuerPolicy
	// ImportBatch writes a batch atomically and returns one outcome per item,
	// in order. On error nothing of the batch is written.
	ImportBatch(ctx context.Context, b Batch) ([]Outcome, error)
}

// Error codes of the error file beyond those of licence.ValidateIssue.
const (
	CodeUnknownType       = "unknown_type"
	CodeTypeNotIssued     = "type_not_issued_by_department"
	CodeDuplicateInFile   = "duplicate_in_file"
	CodeConflictsExisting = "conflicts_with_existing"
	CodeInvalidFields     = "invalid_fields"
	// CodeNoSigningSeal: the department has no active seal approved for
	// the type, so its licences cannot be signed (docs/SEALS.md).
	CodeNoSigningSeal = "no_signing_seal"
)

const (
	// DefaultBatchSize is the number of rows per transaction: large enough
	// that round trips do not dominate, small enough that a batch's
	// multi-row INSERT stays far below the drivers' placeholder limits.
	DefaultBatchSize = 500
	// ErrorFileSuffix is appended to the input's path for the error file.
	ErrorFileSuffix = ".errors.csv"
	defaultActor    = "cli:import"
)

// ErrDepartmentNotFound is returned when --department names no department.
var ErrDepartmentNotFound = errors.New("importer: department not found")

// Options tune one import run.
type Options struct {
	DryRun    bool
	BatchSize int      // rows per transaction, DefaultBatchSize when 0
	Actor     string   // audit actor, cli:import when empty
	Progress  Progress // nil: no progress output
	// Source names the file in the audit detail; the path's base name
	// when empty (an upload is imported from a temporary copy).
	Source string
}

// Summary counts the rows of a run; Imported + Unchanged + Rejected is the
// number of non-empty data rows. ErrorFile is the path written when
// Rejected > 0.
type Summary struct {
	Imported, Unchanged, Rejected int
	ErrorFile                     string
}

// String is the last line the command prints.
func (s Summary) String() string {
	return fmt.Sprintf("imported %d, unchanged %d, rejected %d", s.Imported, s.Unchanged, s.Rejected)
}

// Importer runs imports against a store.
type Importer struct {
	store  Store
	signer licence.VersionSigner
	now    func() time.Time
}

// New returns an Importer. It rejects a nil store or signer so a wiring
// mistake fails at start-up.
func New(st Store, signer licence.VersionSigner) (*Importer, error) {
	if st == nil || signer == nil {
		return nil, errors.New("importer: nil store or signer")
	}
	return &Importer{store: st, signer: signer, now: time.Now}, nil
}

// ImportFile imports the licences in path (.csv or .xlsx) for the
// department with the USCC. Rejected rows are written to path +
// ErrorFileSuffix (also in a dry run: that file is what a clerk works
// from); a stale error file from an earlier run is removed when no row is
// rejected. Rows written before a failing batch stay written; running the
// file again finishes the job, as written rows then count as unchanged.
func (im *Importer) ImportFile(ctx context.Context, uscc, path string, opts Options) (Summary, error) {
	src, err := openSource(path)
	if err != nil {
		return Summary{}, err
	}
	defer src.Close()
	dept, err := im.store.DepartmentByUSCC(ctx, uscc)
	if errors.Is(err, licence.ErrNotFound) {
		return Summary{}, fmt.Errorf("%w: %s", ErrDepartmentNotFound, uscc)
	}
	if err != nil {
		return Summary{}, fmt.Errorf("importer: department: %w", err)
	}
	source := opts.Source
	if source == "" {
		source = filepath.Base(path)
	}
	run, err := im.newRun(ctx, dept, source, opts)
	if err != nil {
		return Summary{}, err
	}
	if err := run.consume(ctx, src); err != nil {
		return run.sum, err
	}
	errPath := path + ErrorFileSuffix
	if run.sum.Rejected == 0 {
		if err := removeStale(errPath); err != nil {
			return run.sum, err
		}
		return run.sum, nil
	}
	if err := writeErrorFile(errPath, run.rejects); err != nil {
		return run.sum, err
	}
	run.sum.ErrorFile = errPath
	return run.sum, nil
}

// run is the state of one import: the catalogue, the rows seen, the batch
// being filled and the rejections so far.
type run struct {
	im       *Importer
	dept     licence.Department
	source   string
	opts     Options
	types    map[string]licence.Type
	mayIssue map[string]bool
	signers  map[string]licence.SignFunc // nil: no seal signs the type
	seen     map[string]int              // type code + "\x00" + number → first row
	batch    []Item
	rejects  []Reject
	sum      Summary
	done     int
}

func (im *Importer) newRun(ctx context.Context, dept licence.Department, source string, opts Options) (*run, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Actor == "" {
		opts.Actor = defaultActor
	}
	types, err := im.store.Types(ctx)
	if err != nil {
		return nil, fmt.Errorf("importer: catalogue: %w", err)
	}
	r := &run{im: im, dept: dept, source: source, opts: opts,
		types: make(map[string]licence.Type, len(types)), mayIssue: map[string]bool{},
		signers: map[string]licence.SignFunc{}, seen: map[string]int{}}
	for _, t := range types {
		r.types[t.Code] = t
		ok, err := im.store.MayIssue(ctx, dept.ID, t.Code)
		if err != nil {
			return nil, fmt.Errorf("importer: may issue %s: %w", t.Code, err)
		}
		r.mayIssue[t.Code] = ok
		if !ok {
			continue
		}
		switch sign, err := im.signer.SignerFor(ctx, dept, t.Code); {
		case err == nil:
			r.signers[t.Code] = sign
		case !errors.Is(err, seal.ErrNoSigningSeal) && !errors.Is(err, seal.ErrNotApproved):
			return nil, fmt.Errorf("importer: seal for %s: %w", t.Code, err)
		}
	}
	return r, nil
}

// sign signs with the seal of the licence's type.
func (r *run) sign(l licence.Licence, h licence.Holder) (licence.Signature, error) {
	sign := r.signers[l.TypeCode]
	if sign == nil {
		return licence.Signature{}, fmt.Errorf("importer: %w: %s", seal.ErrNoSigningSeal, l.TypeCode)
	}
	return sign(l, h)
}

// consume reads every row of src, validates it and writes the valid ones
// batch by batch.
func (r *run) consume(ctx context.Context, src source) error {
	if r.opts.Progress != nil {
		r.opts.Progress.Start(src.Total())
		defer r.opts.Progress.Finish()
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if rec.blank() {
			continue
		}
		r.row(rec)
		if len(r.batch) >= r.opts.BatchSize {
			if err := r.flush(ctx); err != nil {
				return err
			}
		}
	}
	return r.flush(ctx)
}

// row checks one record and either queues it or records why it is rejected.
func (r *run) row(rec record) {
	req, errs, covered := parseRecord(rec)
	t, known := r.types[req.TypeCode]
	switch {
	case req.TypeCode == "":
		errs = append(errs, licence.FieldError{Field: "type_code", Code: licence.CodeRequired, Message: "type code is required"})
	case !known:
		errs = append(errs, licence.FieldError{Field: "type_code", Code: CodeUnknownType, Message: fmt.Sprintf("type %s is not in the catalogue", req.TypeCode)})
	default:
		if !r.mayIssue[t.Code] {
			errs = append(errs, licence.FieldError{Field: "type_code", Code: CodeTypeNotIssued,
				Message: fmt.Sprintf("%s does not issue %s", r.dept.Name, t.Name)})
		} else if r.signers[t.Code] == nil {
			errs = append(errs, licence.FieldError{Field: "type_code", Code: CodeNoSigningSeal,
				Message: fmt.Sprintf("%s has no active seal approved for %s", r.dept.Name, t.Name)})
		}
		for _, e := range licence.ValidateIssue(t, req) {
			if !covered[e.Field] && (!covered["fields"] || !strings.HasPrefix(e.Field, "fields.")) {
				errs = append(errs, e)
			}
		}
	}
	if number := strings.TrimSpace(req.Number); number != "" && req.TypeCode != "" {
		key := req.TypeCode + "\x00" + number
		if first, dup := r.seen[key]; dup {
			errs = append(errs, licence.FieldError{Field: "licence_number", Code: CodeDuplicateInFile,
				Message: fmt.Sprintf("the same type and licence number as row %d", first)})
		} else {
			r.seen[key] = rec.row
		}
	}
	if len(errs) > 0 {
		r.reject(rec.row, errs...)
		return
	}
	req.Holder.Kind = t.HolderKind
	req.Holder.IDNumber = licence.NormaliseIDNumber(req.Holder.IDType, req.Holder.IDNumber)
	r.batch = append(r.batch, Item{Row: rec.row, Req: req})
}

func (r *run) reject(row int, errs ...licence.FieldError) {
	r.sum.Rejected++
	for _, e := range errs {
		r.rejects = append(r.rejects, Reject{Row: row, Column: columnOf(e.Field), Code: e.Code, Message: e.Message})
	}
	r.advance(1)
}

func (r *run) advance(n int) {
	r.done += n
	if r.opts.Progress != nil {
		r.opts.Progress.Update(r.done)
	}
}

// flush writes the queued rows as one batch.
func (r *run) flush(ctx context.Context) error {
	if len(r.batch) == 0 {
		return nil
	}
	items := r.batch
	r.batch = r.batch[:0:0]
	outs, err := r.im.store.ImportBatch(ctx, Batch{Issuer: r.dept, Actor: r.opts.Actor, Source: r.source, Items: items, DryRun: r.opts.DryRun, Sign: r.sign})
	if err != nil {
		return fmt.Errorf("importer: rows %d-%d: %w", items[0].Row, items[len(items)-1].Row, err)
	}
	if len(outs) != len(items) {
		return fmt.Errorf("importer: rows %d-%d: store answered %d outcomes for %d rows", items[0].Row, items[len(items)-1].Row, len(outs), len(items))
	}
	for i, o := range outs {
		switch o {
		case Imported:
			r.sum.Imported++
		case Unchanged:
			r.sum.Unchanged++
		default:
			r.sum.Rejected++
			r.rejects = append(r.rejects, Reject{Row: items[i].Row, Column: "licence_number", Code: CodeConflictsExisting,
				Message: "a licence of this type and number is already on the platform with other content or from another department; change it through its lifecycle, not by import"})
		}
	}
	r.advance(len(items))
	return nil
}
