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

	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/reminder"
)

// cmdServe runs the HTTP server until ctx ends, then drains connections.
func cmdServe(ctx context.Context, args []string, lookupEnv config.LookupEnv, stderr io.Writer) error {
	cfg, err := commonFlags("serve", args, lookupEnv, nil)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	handler, err := a.router()
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
	background, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	done := a.startBackground(background)

	log.Info("serving", "addr", ln.Addr().String(), "public_url", cfg.PublicURL, "mode", cfg.Mode,
		"database", cfg.Database.Driver, "redis", redisLabel(cfg), "wechat_fake", cfg.WeChat.Fake)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		stopBackground()
		<-done
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
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

func redisLabel(cfg config.Config) string {
	if cfg.EmbeddedRedis() {
		return "embedded"
	}
	return cfg.Redis.Addr
}

// cmdMigrate applies pending migrations; a release step in production.
func cmdMigrate(ctx context.Context, args []string, lookupEnv config.LookupEnv, stdout, stderr io.Writer) error {
	cfg, err := commonFlags("migrate", args, lookupEnv, nil)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	sealer, _, err := sealerFor(cfg)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, log, sealer)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	current, latest, err := st.SchemaStatus(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema at version %d of %d\n", current, latest)
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
	log := newLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if a.reminder == nil {
		return errRemindersOff
	}
	if status {
		counts, oldest, err := a.reminder.Status(ctx)
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, reminder.FormatStatus(counts, oldest))
		return nil
	}
	sum, err := a.reminder.RunOnce(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, sum.String())
	return nil
}
