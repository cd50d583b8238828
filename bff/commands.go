package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"

	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/reminder"
	"github.com/yangcheng-county/elicence/internal/store"
)

// cmdServe runs the HTTP server until ctx ends, then drains connections.
func cmdServe(ctx context.Context, args []string, lookupEnv config.LookupEnv, stderr io.Writer) error {
	cfg, err := commonFlags("serve", args, lookupEnv, nil)
	if err != nil {
		return err
	}
	log := commandLogger(stderr, cfg)
	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	handler, err := a.Router()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("http.addr: %w", err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	admin, err := startAdmin(cfg, a, log)
	if err != nil {
		return err
	}
	if admin != nil {
		defer admin.Close()
	}
	background, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	done := a.startBackground(background)
	// The audit chainer outlives the HTTP server, so its last drain sees
	// every usage record the server wrote; deferred calls run in reverse,
	// so the store is still open.
	chaining, stopChaining := context.WithCancel(context.WithoutCancel(ctx))
	chained, err := a.startChainer(chaining)
	if err != nil {
		stopChaining()
		return err
	}
	defer func() { stopChaining(); <-chained }()

	log.Info("serving", "addr", ln.Addr().String(), "public_url", cfg.PublicURL, "mode", cfg.Mode,
		"database", cfg.Database.Driver, "redis", redisLabel(cfg), "wechat_fake", cfg.WeChat.Fake, "admin_addr", cfg.HTTP.AdminAddr)
	if cfg.Mode == "embedded" {
		printBanner(stderr, cfg)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		stopBackground()
		<-done
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	drain(a, srv, cfg.HTTP.DrainDelay, log)
	log.Info("shutting down", "grace", cfg.HTTP.ShutdownGrace.String())
	stopBackground()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownGrace)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	<-done
	if err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

// drain is the first step of a graceful stop: /readyz answers 503 at once
// and every response closes its connection, while requests are still served
// for delay, so a balancer polling readiness moves new connections elsewhere
// before the listener closes. Closing a listener resets connections the
// kernel accepted but serve had not yet taken, which a client cannot tell
// from a dropped request; with nothing arriving any more, none are left.
func drain(a *app, srv *http.Server, delay time.Duration, log *slog.Logger) {
	a.StartDraining()
	srv.SetKeepAlivesEnabled(false)
	if delay <= 0 {
		return
	}
	log.Info("draining: /readyz answers 503, still serving", "for", delay.String())
	time.Sleep(delay)
}

// startAdmin serves /metrics and pprof on http.admin_addr, off the public
// port; it returns nil when the address is empty.
func startAdmin(cfg config.Config, a *app, log *slog.Logger) (*http.Server, error) {
	if cfg.HTTP.AdminAddr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.HTTP.AdminAddr)
	if err != nil {
		return nil, fmt.Errorf("http.admin_addr: %w", err)
	}
	srv := &http.Server{Handler: a.Admin(), ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin listener stopped", "error", err)
		}
	}()
	return srv, nil
}

// printBanner ends an embedded start-up with what a newcomer needs first.
func printBanner(w io.Writer, cfg config.Config) {
	admin := "off (set ELICENCE_HTTP_ADMIN_ADDR, e.g. 127.0.0.1:9090)"
	if cfg.HTTP.AdminAddr != "" {
		admin = "http://" + cfg.HTTP.AdminAddr + "/metrics"
	}
	fmt.Fprintf(w, `
  阳城县电子证照 · embedded demo (not a production set-up)
  Open          %[1]s/
  Demo users    picked on the fake WeChat login page: 张三, 李四 (citizens), 王五 (no licences),
                交警 and 不动产登记中心 (officers)
  Console       %[1]s/console/  (staff: demo-estate-clerk / demo-password)
  SMS codes     %[1]s/api/v1/dev/sms  (real-name binding codes land here, not on a phone)
  WeChat msgs   %[1]s/fakewx/_messages  (expiry reminders sent as template messages)
  Metrics       %[2]s
  Guide         docs/DEMO.md
  Stop          Ctrl-C

`, cfg.PublicURL, admin)
}

// databaseLabel names the database for log lines: the SQLite file, or the
// MySQL address and database name, never the password.
func databaseLabel(cfg config.Config) string {
	if cfg.Database.Driver != store.DriverMySQL {
		return cfg.Database.DSN
	}
	dsn, err := mysqldriver.ParseDSN(cfg.Database.DSN)
	if err != nil {
		return "(unparsable DSN)"
	}
	return dsn.Addr + "/" + dsn.DBName
}

func redisLabel(cfg config.Config) string {
	if cfg.EmbeddedRedis() {
		return "embedded"
	}
	return cfg.Redis.Addr
}

// cmdMigrate applies pending migrations (a release step in production), or
// with --status only reports the schema version. It reads only the database,
// key and log settings.
func cmdMigrate(ctx context.Context, args []string, lookupEnv config.LookupEnv, stdout, stderr io.Writer) error {
	var status bool
	cfg, err := parseFlags("migrate", args, lookupEnv, func(fs *flag.FlagSet) {
		fs.BoolVar(&status, "status", false, "print the schema version and pending migrations; change nothing")
	}, config.LoadDatabase)
	if err != nil {
		return err
	}
	st, err := schemaStore(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	if !status {
		fmt.Fprintln(stderr, "migrate: applying pending migrations…")
		if err := st.Migrate(ctx); err != nil {
			return err
		}
	}
	current, latest, err := st.SchemaStatus(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema at version %d of %d\n", current, latest)
	if !status {
		return nil
	}
	// Pending is any migration not applied, not only those above the
	// highest applied version.
	switch err := st.SchemaCurrent(ctx); {
	case errors.Is(err, store.ErrSchemaOutdated):
		fmt.Fprintf(stdout, "migrations pending: %v\n", err)
	case err != nil:
		return err
	}
	return nil
}

// cmdHealthcheck asks the local server's /healthz, for container health
// checks in an image that has no curl.
func cmdHealthcheck(ctx context.Context, args []string, lookupEnv config.LookupEnv) error {
	cfg, err := commonFlags("healthcheck", args, lookupEnv, nil)
	if err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(cfg.HTTP.Addr)
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New("healthz answered " + resp.Status)
	}
	return nil
}

// errRemindersOff is what `remind` says when there is nothing it may send with.
var errRemindersOff = errors.New("remind: expiry reminders are off: wechat.expiry_template_id is empty (take the template id from the public account's template library)")

// cmdRemind sweeps and sends due reminders (--once) or prints the queue (--status).
func cmdRemind(ctx context.Context, args []string, lookupEnv config.LookupEnv, stdout, stderr io.Writer) error {
	var once, status bool
	cfg, err := commonFlags("remind", args, lookupEnv, func(fs *flag.FlagSet) {
		fs.BoolVar(&once, "once", false, "sweep, send until the queue is drained, exit")
		fs.BoolVar(&status, "status", false, "print reminder counts by state")
	})
	if err != nil {
		return err
	}
	if once == status {
		return fmt.Errorf("remind: give exactly one of --once or --status\n%w", errUsage)
	}
	log := commandLogger(stderr, cfg)
	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if a.Reminder == nil {
		return errRemindersOff
	}
	if status {
		counts, oldest, err := a.Reminder.Status(ctx)
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, reminder.FormatStatus(counts, oldest))
		return nil
	}
	// RunOnce's steps, one progress line each: a long queue shows it moves.
	fmt.Fprintln(stderr, "remind: sweeping for due reminders…")
	var sum reminder.Summary
	if sum.Sweep, err = a.Reminder.Sweep(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "remind: %d new to send; sending in batches of %d\n", sum.Sweep.Pending, cfg.Reminder.BatchSize)
	for batch := 1; ctx.Err() == nil; batch++ {
		n, err := a.Reminder.DispatchBatch(ctx, &sum)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		fmt.Fprintf(stderr, "remind: batch %d: %d claimed; so far %d sent, %d retried, %d failed\n", batch, n, sum.Sent, sum.Retried, sum.Failed)
	}
	fmt.Fprintln(stdout, sum.String())
	return ctx.Err()
}
