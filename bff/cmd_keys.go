package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/secure"
	"github.com/yangcheng-county/elicence/internal/store"
)

// cmdKeys is `bff keys rotate`: re-seal with the current keys every value
// and blind index still made with the previous or the legacy keys, while
// the service keeps serving (docs/OPERATIONS.md).
func cmdKeys(ctx context.Context, args []string, lookupEnv config.LookupEnv, stdout, stderr io.Writer) error {
	if _, err := subcommand("keys", args, "rotate"); err != nil {
		return err
	}
	var (
		batch int
		dry   bool
	)
	cfg, err := parseFlags("keys rotate", args[1:], lookupEnv, func(fs *flag.FlagSet) {
		fs.IntVar(&batch, "batch", store.DefaultRotateBatch, "rows re-sealed per transaction")
		fs.BoolVar(&dry, "dry-run", false, "only count the rows that still use an older key")
	}, config.LoadDatabase)
	if err != nil {
		return err
	}
	if batch < 1 {
		return fmt.Errorf("keys rotate: --batch must be at least 1\n%w", errUsage)
	}
	st, err := commandStore(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	if dry {
		stale, err := st.StaleRows(ctx)
		if err != nil {
			return err
		}
		for _, s := range stale {
			fmt.Fprintf(stdout, "%s: %d rows use an older key\n", s.Table, s.Total)
		}
		return nil
	}
	return rotateKeys(ctx, st, batch, stdout)
}

// rotateKeys runs the rotation, printing a progress line per table at
// every twentieth of it, and audits what it did, also when it stopped
// half-way: what was re-sealed stays re-sealed.
func rotateKeys(ctx context.Context, st *store.Store, batch int, stdout io.Writer) error {
	var (
		table string
		shown int64
	)
	done, err := st.RotateKeys(ctx, batch, func(p store.RotateProgress) {
		if p.Table != table {
			table, shown = p.Table, 0
		}
		if step := max(p.Total/20, 1); p.Done >= p.Total || p.Done/step != shown/step {
			fmt.Fprintf(stdout, "%s: %d/%d re-sealed\n", p.Table, p.Done, p.Total)
		}
		shown = p.Done
	})
	var (
		total  int64
		detail []string
	)
	for _, d := range done {
		if d.Total == 0 {
			fmt.Fprintf(stdout, "%s: nothing to re-seal\n", d.Table)
		}
		total += d.Done
		detail = append(detail, fmt.Sprintf("%s=%d", d.Table, d.Done))
	}
	if total > 0 {
		outcome := "complete"
		if err != nil {
			outcome = "stopped"
		}
		// The audit event is written even when ctx was cancelled: the rows
		// re-sealed before that are a change of their own.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, aerr := st.AppendAudit(actx, audit.Event{Actor: audit.ActorCLI("keys rotate"), Action: "keys.rotate",
			Object: "keys", Detail: outcome + " " + strings.Join(detail, " ")}); aerr != nil && err == nil {
			err = aerr
		}
	}
	switch {
	case errors.Is(err, secure.ErrUnknownKey):
		return fmt.Errorf("keys rotate: %w: a row is sealed with a key this configuration does not hold; "+
			"set security.previous_* or security.legacy_* (docs/OPERATIONS.md) and run again", err)
	case err != nil:
		return fmt.Errorf("keys rotate: %w (%d rows re-sealed; run again to go on)", err, total)
	}
	fmt.Fprintf(stdout, "keys rotate: done, %d rows re-sealed; no row uses an older key, "+
		"so the previous and legacy keys may be removed from the configuration\n", total)
	return nil
}
