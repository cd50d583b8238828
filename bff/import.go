package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/importer"
)

// exitRejected is the exit status of an import that rejected rows: the
// written rows are in, the error file says what to fix.
const exitRejected = 3

// rejectedError ends an import that rejected rows; main exits with its code.
type rejectedError struct{ sum importer.Summary }

func (e rejectedError) Error() string {
	return fmt.Sprintf("import: %d rows rejected, see %s", e.sum.Rejected, e.sum.ErrorFile)
}

func (e rejectedError) ExitCode() int { return exitRejected }

// cmdImport runs `import licences`: a department's stock of licences from
// a CSV or XLSX file (docs/IMPORT.md).
func cmdImport(ctx context.Context, args []string, lookupEnv config.LookupEnv, stdout, stderr io.Writer) error {
	if _, err := subcommand("import", args, "licences"); err != nil {
		return err
	}
	var (
		uscc   string
		dryRun bool
	)
	cfg, files, err := flagsAndArgs("import licences", args[1:], lookupEnv, func(fs *flag.FlagSet) {
		fs.StringVar(&uscc, "department", "", "USCC of the issuing department")
		fs.BoolVar(&dryRun, "dry-run", false, "validate and report, write nothing to the database")
	}, config.Load)
	if err != nil {
		return err
	}
	if uscc == "" || len(files) != 1 {
		return fmt.Errorf("import licences: --department and exactly one FILE are required\n%w", errUsage)
	}
	st, err := commandStore(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := openSeals(ctx, cfg, st)
	if err != nil {
		return err
	}
	im, err := importer.New(st, s.Signing)
	if err != nil {
		return err
	}
	sum, err := im.ImportFile(ctx, uscc, files[0], importer.Options{
		DryRun:   dryRun,
		Actor:    audit.ActorCLI("import"),
		Progress: importer.NewProgress(stderr, isTerminal(stderr)),
	})
	if err != nil {
		if sum.Imported > 0 {
			fmt.Fprintf(stdout, "stopped after importing %d rows; run the same file again to finish\n", sum.Imported)
		}
		return err
	}
	if dryRun {
		fmt.Fprintln(stdout, "dry run: nothing was written to the database")
	}
	fmt.Fprintln(stdout, sum.String())
	if sum.Rejected > 0 {
		return rejectedError{sum}
	}
	return nil
}

// isTerminal reports whether w is a terminal, where a progress bar can be
// redrawn in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
