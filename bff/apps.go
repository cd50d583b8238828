package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/openapi"
	"github.com/yangcheng-county/elicence/internal/store"
)

// cmdApp manages the Open API apps of departments: add or disable.
func cmdApp(ctx context.Context, args []string, lookupEnv config.LookupEnv, stdout, stderr io.Writer) error {
	sub, err := subcommand("app", args, "add", "disable")
	if err != nil {
		return err
	}
	if sub == "add" {
		return cmdAppAdd(ctx, args[1:], lookupEnv, stdout, stderr)
	}
	return cmdAppDisable(ctx, args[1:], lookupEnv, stdout, stderr)
}

// cmdAppAdd registers an Open API app for a department and prints its
// credentials as one JSON line: the only time the secret is shown. It
// goes to stdout alone; nothing about it reaches the log.
func cmdAppAdd(ctx context.Context, args []string, lookupEnv config.LookupEnv, stdout, stderr io.Writer) error {
	var uscc, name string
	cfg, err := commonFlags("app add", args, lookupEnv, func(fs *flag.FlagSet) {
		fs.StringVar(&uscc, "department", "", "USCC of the department the app acts for")
		fs.StringVar(&name, "name", "", "name of the department system")
	})
	if err != nil {
		return err
	}
	if uscc == "" || name == "" {
		return fmt.Errorf("app add: --department and --name are required\n%w", errUsage)
	}
	st, err := commandStore(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	cred, err := addApp(ctx, st, uscc, name)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(cred)
}

// addApp registers an app for the department with the given USCC.
func addApp(ctx context.Context, st *store.Store, uscc, name string) (openapi.Credentials, error) {
	dept, err := st.DepartmentByUSCC(ctx, uscc)
	if err != nil {
		return openapi.Credentials{}, fmt.Errorf("department %s: %w", uscc, err)
	}
	return openapi.AddApp(ctx, st, dept, name, audit.ActorCLI("app add"), time.Now())
}

// cmdAppDisable stops an app at once, for leaked credentials or a retired
// system; its department gets a new app with `app add`.
func cmdAppDisable(ctx context.Context, args []string, lookupEnv config.LookupEnv, stdout, stderr io.Writer) error {
	var appID string
	cfg, err := commonFlags("app disable", args, lookupEnv, func(fs *flag.FlagSet) {
		fs.StringVar(&appID, "app-id", "", "the app_id to disable")
	})
	if err != nil {
		return err
	}
	if appID == "" {
		return fmt.Errorf("app disable: --app-id is required\n%w", errUsage)
	}
	st, err := commandStore(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := openapi.DisableApp(ctx, st, licence.Department{}, appID, audit.ActorCLI("app disable"), time.Now()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "app %s disabled\n", appID)
	return nil
}
