// Command bff is the Yangcheng e-licence server: the backend-for-frontend of
// the county public account's H5 pages, and its operator commands.
//
//	bff serve   [-config FILE]                 run the HTTP server
//	bff migrate [-config FILE]                 apply database migrations
//	bff remind  [-config FILE] --once|--status sweep and send expiry reminders / print the queue
//	bff officer add --openid ID --department USCC [-config FILE]
//	bff officer remove --openid ID [-config FILE]
//	bff catalogue apply -f FILE [--dry-run] [-config FILE]
//	bff audit verify [-config FILE]            check the audit chain
//	bff healthcheck [-config FILE]             exit 0 when /healthz answers (for containers)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/yangcheng-county/elicence/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bff:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  bff serve   [-config FILE]
  bff migrate [-config FILE]
  bff remind  [-config FILE] --once | --status
  bff officer add --openid ID --department USCC [-config FILE]
  bff officer remove --openid ID [-config FILE]
  bff catalogue apply -f FILE [--dry-run] [-config FILE]
  bff audit verify [-config FILE]
  bff healthcheck [-config FILE]`

// errUsage is returned for a command line that cannot be understood.
var errUsage = errors.New(usage)

// run is the whole program behind main, with its environment passed in so
// tests can run it in-process.
func run(ctx context.Context, args []string, lookupEnv config.LookupEnv, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, lookupEnv, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, lookupEnv, stdout, stderr)
	case "remind":
		return cmdRemind(ctx, rest, lookupEnv, stdout, stderr)
	case "officer":
		return cmdOfficer(ctx, rest, lookupEnv, stdout, stderr)
	case "catalogue":
		return cmdCatalogue(ctx, rest, lookupEnv, stdout, stderr)
	case "audit":
		return cmdAudit(ctx, rest, lookupEnv, stdout, stderr)
	case "healthcheck":
		return cmdHealthcheck(ctx, rest, lookupEnv)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%w", cmd, errUsage)
	}
}

// commonFlags parses -config plus the command's own flags.
func commonFlags(name string, args []string, lookupEnv config.LookupEnv, extra func(*flag.FlagSet)) (config.Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := fs.String("config", "configs/default.yaml", "configuration file")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return config.Config{}, fmt.Errorf("%s: %w\n%w", name, err, errUsage)
	}
	if fs.NArg() > 0 {
		return config.Config{}, fmt.Errorf("%s: unexpected argument %q\n%w", name, fs.Arg(0), errUsage)
	}
	return config.Load(*path, lookupEnv)
}
