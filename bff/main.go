// Command bff is the Yangcheng e-licence server: the backend-for-frontend of
// the county public account's H5 pages, and its operator commands.
//
//	bff serve   [-config FILE]                 run the HTTP server
//	bff migrate [-config FILE] [--status]      apply database migrations / print the schema version
//	bff remind  [-config FILE] --once|--status sweep and send expiry reminders / print the queue
//	bff officer add --openid ID --department USCC [-config FILE]
//	bff officer remove --openid ID [-config FILE]
//	bff catalogue apply -f FILE [--dry-run] [-config FILE]
//	bff audit verify [-config FILE]            check the audit chain
//	bff import licences --department USCC FILE [--dry-run] [-config FILE]
//	bff app add --department USCC --name NAME [-config FILE]   prints {"app_id","app_secret"}
//	bff app disable --app-id ID [-config FILE]
//	bff staff add --username U --role ROLE [--department USCC] [-config FILE]   prints a one-time password
//	bff staff disable --username U [-config FILE]
//	bff healthcheck [-config FILE]             exit 0 when /healthz answers (for containers)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/yangcheng-county/elicence/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// The first Ctrl-C drains gracefully; a second one ends at once.
		<-ctx.Done()
		stop()
	}()
	if err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bff:", err)
		var coded interface{ ExitCode() int }
		if errors.As(err, &coded) {
			os.Exit(coded.ExitCode())
		}
		os.Exit(1)
	}
}

const usage = `usage:
  bff serve   [-config FILE]
  bff migrate [-config FILE] [--status]
  bff remind  [-config FILE] --once | --status
  bff officer add --openid ID --department USCC [-config FILE]
  bff officer remove --openid ID [-config FILE]
  bff catalogue apply -f FILE [--dry-run] [-config FILE]
  bff audit verify [-config FILE]
  bff keys rotate [--batch N] [--dry-run] [-config FILE]
  bff import licences --department USCC FILE [--dry-run] [-config FILE]
  bff app add --department USCC --name NAME [-config FILE]
  bff app disable --app-id ID [-config FILE]
  bff seal list | sign-unsigned [-config FILE]
  bff seal apply --department USCC --name NAME --kind KIND --types CODE,... [-config FILE]
  bff seal approve | activate --id N [-config FILE]
  bff seal refuse | cancel --id N --reason TEXT [-config FILE]
  bff seal issue | renew --id N [--cert FILE --key FILE] [-config FILE]
  bff seal report-lost --id N [--lost-at RFC3339] [-config FILE]
  bff staff add --username U --role ROLE [--department USCC] [-config FILE]
  bff staff disable --username U [-config FILE]
  bff healthcheck [-config FILE]`

// errUsage is returned for a command line that cannot be understood.
var errUsage = errors.New(usage)

// run is the whole program behind main, with its environment passed in so
// tests can run it in-process.
func run(ctx context.Context, args []string, lookupEnv config.LookupEnv, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	err := dispatch(ctx, args, lookupEnv, stdout, stderr)
	var help *helpRequest
	if errors.As(err, &help) {
		fmt.Fprint(stdout, help.text)
		return nil
	}
	return err
}

func dispatch(ctx context.Context, args []string, lookupEnv config.LookupEnv, stdout, stderr io.Writer) error {
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
	case "keys":
		return cmdKeys(ctx, rest, lookupEnv, stdout, stderr)
	case "import":
		return cmdImport(ctx, rest, lookupEnv, stdout, stderr)
	case "app":
		return cmdApp(ctx, rest, lookupEnv, stdout, stderr)
	case "seal":
		return cmdSeal(ctx, rest, lookupEnv, stdout, stderr)
	case "staff":
		return cmdStaff(ctx, rest, lookupEnv, stdout, stderr)
	case "healthcheck":
		return cmdHealthcheck(ctx, rest, lookupEnv)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%w", cmd, errUsage)
	}
}

// helpRequest is returned when a command was asked for -h/--help; run
// prints its text and exits 0.
type helpRequest struct{ text string }

func (h *helpRequest) Error() string { return "help requested" }

// commonFlags parses -config plus the command's own flags, and loads the
// configuration with load (config.Load, or config.LoadDatabase for
// commands that only touch the database).
func commonFlags(name string, args []string, lookupEnv config.LookupEnv, extra func(*flag.FlagSet)) (config.Config, error) {
	return parseFlags(name, args, lookupEnv, extra, config.Load)
}

// parseFlags is commonFlags with the configuration loaded by load.
func parseFlags(name string, args []string, lookupEnv config.LookupEnv, extra func(*flag.FlagSet),
	load func(string, config.LookupEnv) (config.Config, error)) (config.Config, error) {
	cfg, rest, err := flagsAndArgs(name, args, lookupEnv, extra, load)
	if err == nil && len(rest) > 0 {
		return config.Config{}, fmt.Errorf("%s: unexpected argument %q\n%w", name, rest[0], errUsage)
	}
	return cfg, err
}

// flagsAndArgs parses -config and the command's own flags, which may come
// before or after its arguments (bff import licences FILE --dry-run), and
// loads the configuration with load.
func flagsAndArgs(name string, args []string, lookupEnv config.LookupEnv, extra func(*flag.FlagSet),
	load func(string, config.LookupEnv) (config.Config, error)) (config.Config, []string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := fs.String("config", "configs/default.yaml", "configuration file (every key can be overridden by ELICENCE_<PATH>)")
	if extra != nil {
		extra(fs)
	}
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				var b strings.Builder
				fmt.Fprintf(&b, "usage: bff %s [flags]\n\nflags:\n", name)
				fs.SetOutput(&b)
				fs.PrintDefaults()
				return config.Config{}, nil, &helpRequest{text: b.String()}
			}
			return config.Config{}, nil, fmt.Errorf("%s: %w\n%w", name, err, errUsage)
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	cfg, err := load(*path, lookupEnv)
	return cfg, rest, err
}

// commandLogger is the logger of one command; it also reports ELICENCE_*
// variables that match no setting, which would otherwise be ignored
// without a word.
func commandLogger(stderr io.Writer, cfg config.Config) *slog.Logger {
	log := newLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	for _, name := range config.UnknownEnv(os.Environ()) {
		log.Warn("unknown environment variable ignored: no setting has this name", "name", name)
	}
	return log
}

// subcommand returns args[0] when it is one of subs, else the usage error
// every command group answers with: "app: want the subcommand add or disable".
func subcommand(group string, args []string, subs ...string) (string, error) {
	if len(args) > 0 && slices.Contains(subs, args[0]) {
		return args[0], nil
	}
	return "", fmt.Errorf("%s: want the subcommand %s\n%w", group, strings.Join(subs, " or "), errUsage)
}
