package audit_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
)

// TestCheckpointFile: the export round-trips its latest line; a missing or
// empty export has no checkpoint, a damaged last line is an error.
func TestCheckpointFile(t *testing.T) {
	if _, err := audit.NewCheckpointFile(""); err == nil {
		t.Fatal("an empty directory name was accepted")
	}
	f, err := audit.NewCheckpointFile(t.TempDir() + "/sub")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Latest(); !errors.Is(err, audit.ErrNoCheckpoint) {
		t.Fatalf("missing export: %v", err)
	}
	if err := os.WriteFile(f.Path(), []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Latest(); !errors.Is(err, audit.ErrNoCheckpoint) {
		t.Fatalf("empty export: %v", err)
	}
	at := time.Date(2025, 6, 30, 23, 30, 0, 123456000, time.UTC)
	for i, c := range []audit.Checkpoint{{Count: 1, Hash: "a", At: at}, {Count: 9, Hash: "b", At: at, SealID: 3, Cert: []byte{1}, Sig: []byte{2}}} {
		if err := f.Append(c); err != nil {
			t.Fatal(err)
		}
		got, err := f.Latest()
		if err != nil || got.Count != c.Count || got.Hash != c.Hash || !got.At.Equal(at) || string(got.Sig) != string(c.Sig) {
			t.Fatalf("latest after %d: %+v, %v", i, got, err)
		}
	}
	if got := string(audit.Checkpoint{Count: 9, Hash: "b", At: at}.Signed()); got != `["elicence-audit-checkpoint-v1",9,"b","2025-06-30T23:30:00.123456Z"]` {
		t.Fatalf("signed bytes: %s", got)
	}
	fh, err := os.OpenFile(f.Path(), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fh.WriteString("{not json\n")
	_ = fh.Close()
	if _, err := f.Latest(); err == nil || errors.Is(err, audit.ErrNoCheckpoint) || !strings.Contains(err.Error(), "last line") {
		t.Fatalf("damaged export: %v", err)
	}
}

func TestCheckpointPolicyDue(t *testing.T) {
	p := audit.CheckpointPolicy{Every: 10, Interval: time.Hour}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	last := audit.Checkpoint{Count: 5, At: t0}
	for _, tc := range []struct {
		name  string
		last  audit.Checkpoint
		count int64
		now   time.Time
		want  bool
	}{
		{"empty chain", audit.Checkpoint{}, 0, t0, false},
		{"first entry", audit.Checkpoint{}, 1, t0, true},
		{"unchanged, long after", last, 5, t0.Add(48 * time.Hour), false},
		{"few, soon", last, 14, t0.Add(time.Minute), false},
		{"by count", last, 15, t0.Add(time.Minute), true},
		{"by time", last, 6, t0.Add(time.Hour), true},
	} {
		if got := p.Due(tc.last, tc.count, tc.now); got != tc.want {
			t.Errorf("%s: due %v, want %v", tc.name, got, tc.want)
		}
	}
}

type noStore struct{}

func (noStore) CheckpointAudit(context.Context, audit.CheckpointPolicy, time.Time,
	func(context.Context, int64, string, time.Time) (audit.Checkpoint, error), func(audit.Checkpoint) error) (audit.Checkpoint, bool, error) {
	return audit.Checkpoint{}, false, nil
}

func TestNewCheckpointerRefusesBadDependencies(t *testing.T) {
	f, err := audit.NewCheckpointFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sign := func(context.Context, []byte) (int64, []byte, []byte, error) { return 0, nil, nil, nil }
	log := slog.New(slog.DiscardHandler)
	ok := audit.CheckpointPolicy{Every: 1, Interval: time.Second}
	for name, mk := range map[string]func() (*audit.Checkpointer, error){
		"nil store": func() (*audit.Checkpointer, error) { return audit.NewCheckpointer(nil, sign, f, ok, time.Now, log) },
		"nil signer": func() (*audit.Checkpointer, error) {
			return audit.NewCheckpointer(noStore{}, nil, f, ok, time.Now, log)
		},
		"nil file": func() (*audit.Checkpointer, error) {
			return audit.NewCheckpointer(noStore{}, sign, nil, ok, time.Now, log)
		},
		"zero every": func() (*audit.Checkpointer, error) {
			return audit.NewCheckpointer(noStore{}, sign, f, audit.CheckpointPolicy{Interval: time.Second}, time.Now, log)
		},
		"zero interval": func() (*audit.Checkpointer, error) {
			return audit.NewCheckpointer(noStore{}, sign, f, audit.CheckpointPolicy{Every: 1}, time.Now, log)
		},
	} {
		if _, err := mk(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := audit.NewCheckpointer(noStore{}, sign, f, ok, time.Now, log); err != nil {
		t.Fatal(err)
	}
}
