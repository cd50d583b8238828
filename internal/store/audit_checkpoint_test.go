package store

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/seal"
)

// checkpointRig is a checkpointer over s signing with a fresh SM2 key;
// verify is the matching check (the seal's certificate check is tested
// in internal/seal).
type checkpointRig struct {
	cp     *audit.Checkpointer
	file   *audit.CheckpointFile
	verify func(cert, msg, sig []byte, at time.Time) error
}

func newCheckpointRig(t *testing.T, s *Store, dir string, now *time.Time) *checkpointRig {
	t.Helper()
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(_ context.Context, msg []byte) (int64, []byte, []byte, error) {
		sig, err := sm2.SignASN1(rand.Reader, key, msg, sm2.NewSM2SignerOption(true, seal.UserID))
		return 1, []byte("cert"), sig, err
	}
	file, err := audit.NewCheckpointFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := audit.NewCheckpointer(s, sign, file, audit.CheckpointPolicy{Every: 3, Interval: time.Hour},
		func() time.Time { return *now }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	verify := func(_, msg, sig []byte, _ time.Time) error {
		if !seal.Verify(&key.PublicKey, msg, sig) {
			return seal.ErrBadSignature
		}
		return nil
	}
	return &checkpointRig{cp: cp, file: file, verify: verify}
}

func appendN(t *testing.T, s *Store, n int) {
	t.Helper()
	for range n {
		if _, err := s.AppendAudit(testCtx(t), audit.Event{Actor: "admin:test", Action: "test.event", Object: "x"}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAuditCheckpoints: a checkpoint falls due by count and by time, an
// unchanged chain gets none, and the export's latest checks out.
func TestAuditCheckpoints(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		now := demoNow
		rig := newCheckpointRig(t, s, t.TempDir(), &now)
		tick := func(want bool) audit.Checkpoint {
			t.Helper()
			cp, made, err := rig.cp.Tick(ctx)
			if err != nil || made != want {
				t.Fatalf("tick: made %v, %v; want made %v", made, err, want)
			}
			return cp
		}
		appendN(t, s, 1)
		first := tick(true)
		tick(false) // unchanged chain
		appendN(t, s, 2)
		tick(false) // 2 < every, well within the interval
		appendN(t, s, 1)
		byCount := tick(true)
		if byCount.Count != first.Count+3 {
			t.Fatalf("by count: %d after %d", byCount.Count, first.Count)
		}
		appendN(t, s, 1)
		now = now.Add(time.Hour)
		byTime := tick(true)
		if byTime.Count != byCount.Count+1 {
			t.Fatalf("by time: %d after %d", byTime.Count, byCount.Count)
		}
		latest, err := rig.file.Latest()
		if err != nil || latest.Count != byTime.Count || latest.Hash != byTime.Hash {
			t.Fatalf("latest exported: %+v, %v; want %+v", latest, err, byTime)
		}
		if err := audit.CheckCheckpoint(ctx, latest, rig.verify, s.AuditHashAt); err != nil {
			t.Fatalf("intact chain: %v", err)
		}
		if got := count(t, s, "audit_checkpoints"); got != 3 {
			t.Fatalf("recorded checkpoints: %d, want 3", got)
		}
		raw, err := os.ReadFile(rig.file.Path())
		if err != nil || strings.Count(string(raw), "\n") != 3 {
			t.Fatalf("exported lines: %q, %v", raw, err)
		}
	}))
}

// TestCheckpointDetectsRewrittenTable: an entry altered and every later
// hash recomputed, head included, passes the chain's own walk, but not
// the checkpoint; a checkpoint whose signature was forged is refused, and
// a chain cut below the checkpoint fails it.
func TestCheckpointDetectsRewrittenTable(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		now := demoNow
		rig := newCheckpointRig(t, s, t.TempDir(), &now)
		appendN(t, s, 3)
		cp, made, err := rig.cp.Tick(ctx)
		if err != nil || !made {
			t.Fatalf("checkpoint: %v %v", made, err)
		}

		forged := cp
		forged.Hash = strings.Repeat("a", 64)
		var ce *audit.CheckpointError
		if err := audit.CheckCheckpoint(ctx, forged, rig.verify, s.AuditHashAt); !errors.As(err, &ce) || !strings.Contains(ce.Why, "signature") {
			t.Fatalf("forged checkpoint: %v", err)
		}

		rewriteChain(t, s, 2)
		if n, err := s.VerifyAudit(ctx); err != nil {
			t.Fatalf("the rewritten chain should verify on its own: %d %v", n, err)
		}
		err = audit.CheckCheckpoint(ctx, cp, rig.verify, s.AuditHashAt)
		if !errors.As(err, &ce) || !errors.Is(err, audit.ErrTampered) || ce.Checkpoint.Count != cp.Count || !strings.Contains(ce.Why, "hash differs") {
			t.Fatalf("rewritten table against the checkpoint: %v", err)
		}

		// Cutting the chain below the checkpoint and rewinding the head.
		if err := s.db.Exec("DELETE FROM audit_events WHERE id >= ?", cp.Count).Error; err != nil {
			t.Fatal(err)
		}
		var prev auditEventRow
		if err := s.db.Where("id = ?", cp.Count-1).Take(&prev).Error; err != nil {
			t.Fatal(err)
		}
		if err := s.db.Model(&auditHeadRow{}).Where("id = 1").Updates(map[string]any{"last_id": prev.ID, "last_hash": prev.Hash}).Error; err != nil {
			t.Fatal(err)
		}
		if err := audit.CheckCheckpoint(ctx, cp, rig.verify, s.AuditHashAt); !errors.As(err, &ce) || !strings.Contains(ce.Why, "no such entry") {
			t.Fatalf("cut chain against the checkpoint: %v", err)
		}
	}))
}

// rewriteChain alters entry from and recomputes every hash after it and
// the head's, as someone who can write the database and knows the hash
// could.
func rewriteChain(t *testing.T, s *Store, from int64) {
	t.Helper()
	ctx := testCtx(t)
	entries, err := s.AuditEvents(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	// prev_hash is unique: clear the ones to rewrite first.
	if err := s.db.Exec("UPDATE audit_events SET prev_hash = "+s.concat("'x'", "SUBSTR(hash, 2)")+" WHERE id >= ?", from).Error; err != nil {
		t.Fatal(err)
	}
	prev := entries[from-2].Hash
	for _, e := range entries[from-1:] {
		if e.Seq == from {
			e.Detail += " (rewritten)"
		}
		e.PrevHash = prev
		e.Hash = auditHash(e)
		if err := s.db.Model(&auditEventRow{}).Where("id = ?", e.Seq).
			Updates(map[string]any{"detail": e.Detail, "prev_hash": e.PrevHash, "hash": e.Hash}).Error; err != nil {
			t.Fatal(err)
		}
		prev = e.Hash
	}
	if err := s.db.Model(&auditHeadRow{}).Where("id = 1").Update("last_hash", prev).Error; err != nil {
		t.Fatal(err)
	}
}

// TestCheckpointOnePerHead: instances ticking at once over one database
// and one export write one checkpoint of the head between them.
func TestCheckpointOnePerHead(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		now := demoNow
		dir := t.TempDir()
		appendN(t, s, 1)
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			rig := newCheckpointRig(t, s, dir, &now)
			wg.Go(func() {
				if _, _, err := rig.cp.Tick(ctx); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if got := count(t, s, "audit_checkpoints"); got != 1 {
			t.Fatalf("checkpoints recorded: %d, want 1", got)
		}
		raw, err := os.ReadFile(filepath.Join(dir, audit.CheckpointFileName))
		if err != nil || strings.Count(string(raw), "\n") != 1 {
			t.Fatalf("exported: %q, %v", raw, err)
		}
	}))
}

// TestCheckpointFailuresRecordNothing: when signing or the export fails,
// no checkpoint is recorded and the next look tries again.
func TestCheckpointFailuresRecordNothing(t *testing.T) {
	forEachBackend(t, seeded(demoNow, func(t *testing.T, s *Store) {
		ctx := testCtx(t)
		appendN(t, s, 1)
		p := audit.CheckpointPolicy{Every: 1, Interval: time.Hour}
		sign := func(_ context.Context, n int64, h string, at time.Time) (audit.Checkpoint, error) {
			return audit.Checkpoint{Count: n, Hash: h, At: at, Cert: []byte("c"), Sig: []byte("s")}, nil
		}
		exported := 0
		export := func(audit.Checkpoint) error { exported++; return nil }
		if _, made, err := s.CheckpointAudit(ctx, p, demoNow, func(context.Context, int64, string, time.Time) (audit.Checkpoint, error) {
			return audit.Checkpoint{}, errBoom
		}, export); !errors.Is(err, errBoom) || made || exported != 0 {
			t.Fatalf("failed signature: made %v, exported %d, %v", made, exported, err)
		}
		if _, made, err := s.CheckpointAudit(ctx, p, demoNow, sign, func(audit.Checkpoint) error { return errBoom }); !errors.Is(err, errBoom) || made {
			t.Fatalf("failed export: made %v, %v", made, err)
		}
		if got := count(t, s, "audit_checkpoints"); got != 0 {
			t.Fatalf("checkpoints recorded after failures: %d", got)
		}
		if _, made, err := s.CheckpointAudit(ctx, p, demoNow, sign, export); err != nil || !made || exported != 1 {
			t.Fatalf("retry: made %v, exported %d, %v", made, exported, err)
		}
	}))
}
