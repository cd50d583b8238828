package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/catalogue"
	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/officer"
	"github.com/yangcheng-county/elicence/internal/store"
)

// The administration commands: the catalogue and the officers. Each change
// is written with its audit event in one transaction.

// cmdCatalogue applies a catalogue file: `catalogue apply -f FILE [--dry-run]`.
func cmdCatalogue(ctx context.Context, args []string, lookupEnv config.LookupEnv, stdout, stderr io.Writer) error {
	if _, err := subcommand("catalogue", args, "apply"); err != nil {
		return err
	}
	var (
		file   string
		dryRun bool
	)
	cfg, err := commonFlags("catalogue apply", args[1:], lookupEnv, func(fs *flag.FlagSet) {
		fs.StringVar(&file, "f", "", "catalogue YAML file (docs/CATALOGUE.md)")
		fs.BoolVar(&dryRun, "dry-run", false, "print what would change and write nothing")
	})
	if err != nil {
		return err
	}
	if file == "" {
		return fmt.Errorf("catalogue apply: -f FILE is required\n%w", errUsage)
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	// The whole file is checked before the database is even opened.
	c, err := catalogue.Parse(f)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	st, err := commandStore(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	plan, err := catalogue.Apply(ctx, store.TxAs[catalogue.Repository](st), c,
		catalogue.Options{Actor: audit.ActorCLI("catalogue"), DryRun: dryRun})
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	plan.Print(stdout)
	if dryRun {
		fmt.Fprintln(stdout, "dry run: nothing written")
	}
	return nil
}

// cmdOfficer binds a WeChat account to a department as an officer, or ends
// the binding.
func cmdOfficer(ctx context.Context, args []string, lookupEnv config.LookupEnv, stdout, stderr io.Writer) error {
	sub, err := subcommand("officer", args, "add", "remove")
	if err != nil {
		return err
	}
	var openid, uscc string
	cfg, err := commonFlags("officer "+sub, args[1:], lookupEnv, func(fs *flag.FlagSet) {
		fs.StringVar(&openid, "openid", "", "WeChat openid of the officer")
		if sub == "add" {
			fs.StringVar(&uscc, "department", "", "USCC of the officer's department")
		}
	})
	if err != nil {
		return err
	}
	if openid == "" || sub == "add" && uscc == "" {
		return fmt.Errorf("officer %s: --openid and (for add) --department are required\n%w", sub, errUsage)
	}
	st, err := commandStore(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	if sub == "remove" {
		name, err := removeOfficer(ctx, st, openid)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "officer removed from %s\n", name)
		return nil
	}
	name, err := addOfficer(ctx, st, openid, uscc)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "officer bound to %s\n", name)
	return nil
}

// officerActor is the audit actor of the officer commands.
var officerActor = audit.ActorCLI("officer")

// addOfficer binds openid to the department with the given USCC.
func addOfficer(ctx context.Context, st *store.Store, openid, uscc string) (name string, err error) {
	err = st.InTx(ctx, func(tx *store.Store) error {
		dept, err := tx.DepartmentByUSCC(ctx, uscc)
		if err != nil {
			return fmt.Errorf("department %s: %w", uscc, err)
		}
		if _, err := tx.Ensure(ctx, openid); err != nil {
			return err
		}
		if err := tx.AddOfficer(ctx, openid, dept.ID); err != nil {
			return err
		}
		name = dept.Name
		_, err = tx.AppendAudit(ctx, audit.Event{Actor: officerActor, Action: "officer.add",
			Object: "officer:" + openid, Detail: "department " + uscc})
		return err
	})
	return name, err
}

// removeOfficer ends openid's officer binding, as a department admin does
// from the console (officer.Remove). It takes effect on the officer's very
// next request: the session middleware reads the binding on every request,
// so a session opened before the removal verifies nothing more (403
// not_officer). The WeChat session itself lives on, because the same
// account may be a citizen's.
func removeOfficer(ctx context.Context, st *store.Store, openid string) (name string, err error) {
	dept, err := officer.Remove(ctx, st, licence.Department{}, officerActor, openid, time.Now())
	if errors.Is(err, officer.ErrNotFound) {
		return "", fmt.Errorf("%s is not an officer", openid)
	}
	return dept.Name, err
}
