package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/yangcheng-county/elicence/bff/wire"
	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/store"
)

// cmdAudit checks the audit chain: `bff audit verify` walks every entry and
// exits 0 with "audit chain intact: N entries", or 1 naming the sequence
// number of the first entry that does not verify. A second line counts the
// usage records a running server has not chained yet: written and kept,
// but not under the chain's protection until it does. The chain must also
// match the latest checkpoint exported to audit.checkpoint_dir, read from
// the file and not the database, so that a table rewritten with every hash
// recomputed fails too (docs/SECURITY.md, "Audit checkpoints").
func cmdAudit(ctx context.Context, args []string, lookupEnv config.LookupEnv, stdout, stderr io.Writer) error {
	if _, err := subcommand("audit", args, "verify"); err != nil {
		return err
	}
	cfg, err := parseFlags("audit verify", args[1:], lookupEnv, nil, config.LoadDatabase)
	if err != nil {
		return err
	}
	st, err := schemaStore(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.VerifyAudit(ctx)
	var te *store.TamperError
	if errors.As(err, &te) {
		return fmt.Errorf("audit chain broken at entry %d: %s (the %d entries before it verify)", te.Seq, te.Why, te.Seq-1)
	}
	if err != nil {
		return err
	}
	cp, err := checkAgainstCheckpoint(ctx, cfg, st)
	if err != nil {
		return err
	}
	pending, err := st.PendingAudit(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "audit chain intact: %d entries\n", n)
	fmt.Fprintf(stdout, "matches the checkpoint of entry %d signed %s by seal %d (%s)\n",
		cp.Count, cp.At.UTC().Format(time.RFC3339), cp.SealID, filepath.Join(cfg.Audit.CheckpointDir, audit.CheckpointFileName))
	fmt.Fprintf(stdout, "not chained yet: %d usage records\n", pending)
	return nil
}

// checkAgainstCheckpoint checks the chain against the latest exported
// checkpoint, whose certificate must come from the seals' trusted CA.
func checkAgainstCheckpoint(ctx context.Context, cfg config.Config, st *store.Store) (audit.Checkpoint, error) {
	file, err := audit.NewCheckpointFile(cfg.Audit.CheckpointDir)
	if err != nil {
		return audit.Checkpoint{}, err
	}
	cp, err := file.Latest()
	if errors.Is(err, audit.ErrNoCheckpoint) {
		return audit.Checkpoint{}, fmt.Errorf("no checkpoint in %s: a serving instance exports the first once the chain has an entry", file.Path())
	}
	if err != nil {
		return audit.Checkpoint{}, err
	}
	seals, err := wire.OpenSeals(cfg, st, time.Now)
	if err != nil {
		return audit.Checkpoint{}, err
	}
	var ce *audit.CheckpointError
	err = audit.CheckCheckpoint(ctx, cp, seals.Registry.VerifyBytes, st.AuditHashAt)
	if errors.As(err, &ce) {
		return audit.Checkpoint{}, fmt.Errorf("audit chain does not match the %w", ce)
	}
	return cp, err
}
