package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/redisx"
	"github.com/yangcheng-county/elicence/internal/staff"
)

// cmdStaff manages console staff accounts: add or disable.
func cmdStaff(ctx context.Context, args []string, lookupEnv config.LookupEnv, stdout, stderr io.Writer) error {
	sub, err := subcommand("staff", args, "add", "disable")
	if err != nil {
		return err
	}
	if sub == "add" {
		return cmdStaffAdd(ctx, args[1:], lookupEnv, stdout, stderr)
	}
	return cmdStaffDisable(ctx, args[1:], lookupEnv, stdout, stderr)
}

// cmdStaffAdd creates a staff account and prints its one-time password,
// alone on stdout: the only time it is shown. At the first login the
// member replaces it with a password of their own and enrols a second
// factor (docs/CONSOLE.md).
func cmdStaffAdd(ctx context.Context, args []string, lookupEnv config.LookupEnv, stdout, stderr io.Writer) error {
	var username, role, uscc string
	cfg, err := commonFlags("staff add", args, lookupEnv, func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "login name: 3 to 32 of a-z 0-9 . _ -")
		fs.StringVar(&role, "role", "", "platform_admin, department_admin, clerk or seal_admin")
		fs.StringVar(&uscc, "department", "", "USCC of the member's department (all roles but platform_admin)")
	})
	if err != nil {
		return err
	}
	if username == "" || role == "" {
		return fmt.Errorf("staff add: --username and --role are required\n%w", errUsage)
	}
	st, err := commandStore(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	var dept licence.Department
	if uscc != "" {
		if dept, err = st.DepartmentByUSCC(ctx, uscc); err != nil {
			return fmt.Errorf("department %s: %w", uscc, err)
		}
	}
	_, password, err := staff.Add(ctx, st, audit.ActorCLI("staff add"), username, staff.Role(role), dept, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, password)
	return nil
}

// cmdStaffDisable stops a member at once: the account is marked disabled
// and their console sessions end.
func cmdStaffDisable(ctx context.Context, args []string, lookupEnv config.LookupEnv, stdout, stderr io.Writer) error {
	var username string
	cfg, err := commonFlags("staff disable", args, lookupEnv, func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "the member to disable")
	})
	if err != nil {
		return err
	}
	if username == "" {
		return fmt.Errorf("staff disable: --username is required\n%w", errUsage)
	}
	st, err := commandStore(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	rc, err := redisx.Open(ctx, cfg.Redis)
	if err != nil {
		return err
	}
	defer rc.Close()
	sessions, err := redisx.NewStaffSessions(rc, cfg.Console.SessionAbsolute)
	if err != nil {
		return err
	}
	m, _, err := st.StaffByUsername(ctx, username)
	if err != nil {
		return fmt.Errorf("staff %s: %w", username, err)
	}
	// Even where the sessions live elsewhere (the embedded server's own
	// Redis), the server reads the mark on the member's next request.
	if err := staff.Disable(ctx, st, sessions, audit.ActorCLI("staff disable"), m.ID, time.Now()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "staff %s disabled, sessions ended\n", username)
	return nil
}
