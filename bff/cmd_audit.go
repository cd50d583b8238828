package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/store"
)

// cmdAudit checks the audit chain: `bff audit verify` walks every entry and
// exits 0 with "audit chain intact: N entries", or 1 naming the sequence
// number of the first entry that does not verify. A second line counts the
// usage records a running server has not chained yet: written and kept,
// but not under the chain's protection until it does.
func cmdAudit(ctx context.Context, args []string, lookupEnv config.LookupEnv, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return fmt.Errorf("audit: want the subcommand verify\n%w", errUsage)
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
	pending, err := st.PendingAudit(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "audit chain intact: %d entries\n", n)
	fmt.Fprintf(stdout, "not chained yet: %d usage records\n", pending)
	return nil
}
