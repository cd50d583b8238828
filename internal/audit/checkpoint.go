package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// Checkpoint is a signed statement of the chain's head: the chain had
// Count entries and the last one hashed to Hash, at At. Kept outside the
// database, it catches what the chain alone cannot: a table rewritten
// with every hash recomputed, or its newest entries cut off with the head
// (docs/SECURITY.md, "Audit checkpoints").
type Checkpoint struct {
	Count  int64     `json:"count"`
	Hash   string    `json:"hash"`
	At     time.Time `json:"at"`
	SealID int64     `json:"seal_id"`
	Cert   []byte    `json:"cert"` // DER of the signing seal's certificate
	Sig    []byte    `json:"sig"`  // DER SM2 signature of Signed()
}

// CheckpointFormat names the canonical bytes Signed returns; a change to
// them is a new version.
const CheckpointFormat = "elicence-audit-checkpoint-v1"

// Signed returns the bytes the seal signs: a JSON array of the format,
// the count, the head hash and the time in UTC to the microsecond.
func (c Checkpoint) Signed() []byte {
	b, _ := json.Marshal([]any{CheckpointFormat, c.Count, c.Hash, c.At.UTC().Format("2006-01-02T15:04:05.000000Z")})
	return b
}

// CheckpointPolicy says when the next checkpoint is due.
type CheckpointPolicy struct {
	Every    int64         // entries since the last checkpoint
	Interval time.Duration // time since the last checkpoint
}

// Due reports whether a chain of count entries, last checkpointed at
// last (zero Count: never), needs a checkpoint at now. An unchanged chain
// never does.
func (p CheckpointPolicy) Due(last Checkpoint, count int64, now time.Time) bool {
	switch {
	case count <= last.Count:
		return false
	case last.Count == 0:
		return true
	}
	return count-last.Count >= p.Every || now.Sub(last.At) >= p.Interval
}

// SignFunc signs checkpoint bytes with the platform seal and returns the
// seal's id, its certificate's DER and the signature.
type SignFunc func(ctx context.Context, msg []byte) (sealID int64, cert, sig []byte, err error)

// CheckpointStore makes checkpoints of the chain.
type CheckpointStore interface {
	// CheckpointAudit, holding the chain's head, makes a checkpoint of it
	// when p says one is due: mk signs it, then export and a row in the
	// database record it. Of concurrent callers only one checkpoints a
	// given head. It reports whether it made one.
	CheckpointAudit(ctx context.Context, p CheckpointPolicy, now time.Time,
		mk func(ctx context.Context, count int64, hash string, at time.Time) (Checkpoint, error),
		export func(Checkpoint) error) (Checkpoint, bool, error)
}

// Checkpointer makes checkpoints as they fall due. Every serving instance
// runs one; the store keeps them from checkpointing one head twice.
type Checkpointer struct {
	store  CheckpointStore
	sign   SignFunc
	file   *CheckpointFile
	policy CheckpointPolicy
	now    func() time.Time
	log    *slog.Logger
}

// NewCheckpointer checks its dependencies.
func NewCheckpointer(st CheckpointStore, sign SignFunc, file *CheckpointFile, p CheckpointPolicy, now func() time.Time, log *slog.Logger) (*Checkpointer, error) {
	switch {
	case st == nil || sign == nil || file == nil || now == nil || log == nil:
		return nil, errors.New("audit: checkpointer: nil dependency")
	case p.Every <= 0 || p.Interval <= 0:
		return nil, errors.New("audit: checkpointer: every and interval must be positive")
	}
	return &Checkpointer{store: st, sign: sign, file: file, policy: p, now: now, log: log}, nil
}

// Tick makes a checkpoint if one is due and reports whether it did.
func (c *Checkpointer) Tick(ctx context.Context) (Checkpoint, bool, error) {
	return c.store.CheckpointAudit(ctx, c.policy, c.now(), func(ctx context.Context, count int64, hash string, at time.Time) (Checkpoint, error) {
		cp := Checkpoint{Count: count, Hash: hash, At: at.UTC().Truncate(time.Microsecond)}
		var err error
		if cp.SealID, cp.Cert, cp.Sig, err = c.sign(ctx, cp.Signed()); err != nil {
			return Checkpoint{}, fmt.Errorf("audit: sign checkpoint: %w", err)
		}
		return cp, nil
	}, c.file.Append)
}

// Run ticks every interval until ctx ends. A failure is logged and tried
// again at the next tick.
func (c *Checkpointer) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if cp, ok, err := c.Tick(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("audit checkpoint failed; trying again", "error", err)
		} else if ok {
			c.log.Info("audit checkpoint", "count", cp.Count, "hash", cp.Hash)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CheckpointFile is the export: one JSON checkpoint per line, appended,
// in a directory the database's administrators cannot write.
type CheckpointFile struct{ path string }

// CheckpointFileName is the export's name inside its directory.
const CheckpointFileName = "audit-checkpoints.jsonl"

// NewCheckpointFile returns the export in dir, creating dir if needed.
func NewCheckpointFile(dir string) (*CheckpointFile, error) {
	if dir == "" {
		return nil, errors.New("audit: no checkpoint directory")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("audit: checkpoint directory: %w", err)
	}
	return &CheckpointFile{path: filepath.Join(dir, CheckpointFileName)}, nil
}

// Path is the export's file.
func (f *CheckpointFile) Path() string { return f.path }

// Append adds c as a line and syncs it to disk before returning.
func (f *CheckpointFile) Append(c Checkpoint) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("audit: checkpoint file: %w", err)
	}
	_, err = fh.Write(append(b, '\n'))
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("audit: checkpoint file: %w", err)
	}
	return nil
}

// ErrNoCheckpoint is Latest's answer for an export with no checkpoint.
var ErrNoCheckpoint = errors.New("audit: no checkpoint exported yet")

// Latest returns the last checkpoint in the export.
func (f *CheckpointFile) Latest() (Checkpoint, error) {
	fh, err := os.Open(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return Checkpoint{}, ErrNoCheckpoint
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: checkpoint file: %w", err)
	}
	defer fh.Close()
	var last []byte
	r := bufio.NewReader(fh)
	for {
		line, err := r.ReadBytes('\n')
		if l := bytes.TrimSpace(line); len(l) > 0 {
			last = l
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Checkpoint{}, fmt.Errorf("audit: checkpoint file: %w", err)
		}
	}
	if last == nil {
		return Checkpoint{}, ErrNoCheckpoint
	}
	var c Checkpoint
	if err := json.Unmarshal(last, &c); err != nil {
		return Checkpoint{}, fmt.Errorf("audit: checkpoint file: last line: %w", err)
	}
	return c, nil
}

// CheckpointError says why the chain does not match a checkpoint.
type CheckpointError struct {
	Checkpoint Checkpoint
	Why        string
}

func (e *CheckpointError) Error() string {
	return fmt.Sprintf("checkpoint of entry %d at %s: %s", e.Checkpoint.Count, e.Checkpoint.At.UTC().Format(time.RFC3339), e.Why)
}

func (e *CheckpointError) Unwrap() error { return ErrTampered }

// CheckCheckpoint checks cp's signature with verify (the seal's check of
// its certificate and signature) and that the chain's entry at cp.Count,
// by hashAt, has cp's hash: with the chain verified too, every entry up to
// the checkpoint is as it was when the checkpoint was signed.
func CheckCheckpoint(ctx context.Context, cp Checkpoint,
	verify func(cert, msg, sig []byte, at time.Time) error,
	hashAt func(ctx context.Context, seq int64) (string, bool, error)) error {
	if err := verify(cp.Cert, cp.Signed(), cp.Sig, cp.At); err != nil {
		return &CheckpointError{Checkpoint: cp, Why: "the signature does not verify: " + err.Error()}
	}
	h, ok, err := hashAt(ctx, cp.Count)
	switch {
	case err != nil:
		return err
	case !ok:
		return &CheckpointError{Checkpoint: cp, Why: "the chain has no such entry"}
	case h != cp.Hash:
		return &CheckpointError{Checkpoint: cp, Why: "the entry's hash differs from the signed one"}
	}
	return nil
}
