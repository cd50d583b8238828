package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/yangcheng-county/elicence/bff/wire"
	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/catalogue"
	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/redisx"
	"github.com/yangcheng-county/elicence/internal/reminder"
	"github.com/yangcheng-county/elicence/internal/secure"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/wechat/fakewx"
)

// sealerFor loads the keys once and builds the field sealer; the index key
// is returned too because real-name binding derives its own MAC keys from it.
func sealerFor(cfg config.Config) (*secure.Sealer, []byte, error) {
	keys, err := loadKeys(cfg)
	if err != nil {
		return nil, nil, err
	}
	sealer, err := keys.sealer()
	if err != nil {
		return nil, nil, err
	}
	return sealer, keys.index, nil
}

// openStore connects to the configured database with the field sealer. It
// says what it waits for and gives up after database.connect_timeout: a
// server that accepts connections but never answers fails start-up with a
// message naming the setting, instead of hanging it without a word.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger, sealer *secure.Sealer) (*store.Store, error) {
	if cfg.Database.Driver == store.DriverSQLite {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data_dir: %w", err)
		}
	}
	where := databaseLabel(cfg)
	log.Info("waiting for the database", "driver", cfg.Database.Driver, "at", where, "timeout", cfg.Database.ConnectTimeout.String())
	cctx, cancel := context.WithTimeout(ctx, cfg.Database.ConnectTimeout)
	defer cancel()
	st, err := store.Open(cctx, cfg.Database.Driver, cfg.Database.DSN,
		store.WithSealer(sealer), store.WithLogger(log),
		store.WithPool(store.Pool{MaxOpen: cfg.Database.MaxOpenConns, MaxIdle: cfg.Database.MaxIdleConns, MaxLifetime: cfg.Database.ConnMaxLife}))
	if err != nil && ctx.Err() == nil && cctx.Err() != nil {
		return nil, fmt.Errorf("database at %s did not answer within %s (database.connect_timeout): %w", where, cfg.Database.ConnectTimeout, err)
	}
	return st, err
}

// openMigratedStore opens the store and makes sure its schema is current:
// embedded mode migrates by itself; production refuses an outdated schema,
// because migrations are a deliberate release step there.
func openMigratedStore(ctx context.Context, cfg config.Config, log *slog.Logger, sealer *secure.Sealer) (*store.Store, error) {
	st, err := openStore(ctx, cfg, log, sealer)
	if err != nil {
		return nil, err
	}
	if cfg.Database.AutoMigrate {
		if err := st.Migrate(ctx); err != nil {
			st.Close()
			return nil, err
		}
	}
	// Every migration of this build must be there, not just the highest:
	// migrations merged from branches that were developed side by side can
	// arrive below a version a database already has.
	if err := st.SchemaCurrent(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if err := st.CheckIndexKeys(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if cfg.SeedDemo {
		if err := demo.Seed(ctx, store.TxAs[demo.Repository](st), time.Now()); err != nil {
			st.Close()
			return nil, err
		}
		if err := wire.SeedDemoSeals(ctx, cfg, st, time.Now); err != nil {
			st.Close()
			return nil, err
		}
	}
	return st, nil
}

// The store is the repository of the catalogue and of the demo data;
// store.TxAs checks it only at run time, so the compiler checks it here.
var (
	_ catalogue.Repository = (*store.Store)(nil)
	_ demo.Repository      = (*store.Store)(nil)
)

// schemaStore opens the store for a command that must not migrate it
// (`migrate` itself, `audit verify`), logging to stderr.
func schemaStore(ctx context.Context, cfg config.Config, stderr io.Writer) (*store.Store, error) {
	sealer, _, err := sealerFor(cfg)
	if err != nil {
		return nil, err
	}
	return openStore(ctx, cfg, commandLogger(stderr, cfg), sealer)
}

// commandStore opens the migrated store for a one-shot operator command,
// logging to stderr.
func commandStore(ctx context.Context, cfg config.Config, stderr io.Writer) (*store.Store, error) {
	log := commandLogger(stderr, cfg)
	sealer, _, err := sealerFor(cfg)
	if err != nil {
		return nil, err
	}
	return openMigratedStore(ctx, cfg, log, sealer)
}

// app holds every long-lived part of a running process: what build opened
// and the service composed over it (package wire).
type app struct {
	cfg   config.Config
	log   *slog.Logger
	store *store.Store
	redis *redisx.Client
	fake  *fakewx.Server
	*wire.Service
}

// build opens the database, Redis and, in fake mode, the fake WeChat, and
// composes the service over them. A nil or misconfigured dependency fails
// here, at start-up, never on a request.
func build(ctx context.Context, cfg config.Config, log *slog.Logger) (_ *app, err error) {
	a := &app{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	sealer, indexKey, err := sealerFor(cfg)
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings() {
		log.Warn(w)
	}
	if a.store, err = openMigratedStore(ctx, cfg, log, sealer); err != nil {
		return nil, err
	}
	log.Info("waiting for redis", "addr", redisLabel(cfg))
	if a.redis, err = redisx.Open(ctx, cfg.Redis); err != nil {
		return nil, err
	}
	opened := wire.Opened{Store: a.store, Redis: a.redis, IndexKey: indexKey, WeChatAPIBase: cfg.WeChatAPIBase(), Now: time.Now}
	if cfg.WeChat.Fake {
		if a.fake, err = wire.FakeWeChat(cfg); err != nil {
			return nil, err
		}
		opened.FakeWeChat = a.fake
	}
	if a.Service, err = wire.Compose(cfg, log, opened); err != nil {
		return nil, err
	}
	if err := a.Seals.CheckKeys(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// startBackground runs the reminder scheduler until ctx ends; the returned
// channel closes when it has stopped.
func (a *app) startBackground(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	if !a.cfg.Reminder.Enabled || a.Reminder == nil {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		sched, err := reminder.NewScheduler(a.Reminder)
		if err == nil {
			err = sched.Run(ctx)
		}
		if err != nil && ctx.Err() == nil {
			a.log.Error("reminder scheduler stopped", "error", err)
		}
	}()
	return done
}

// chainDrainTimeout bounds the last drain of the audit chainer at
// shutdown. What it leaves waiting is chained by another instance within
// audit.chain_interval, or by this one when it starts again.
const chainDrainTimeout = 5 * time.Second

// startChainer appends verifications' usage records to the audit chain
// every audit.chain_interval until ctx ends, then drains what still waits;
// beside it a checkpointer exports signed checkpoints of the chain's head
// as they fall due (docs/SECURITY.md, "Audit checkpoints");
// the returned channel closes when that is done. The caller ends ctx once
// the HTTP server has stopped writing usage records.
func (a *app) startChainer(ctx context.Context) (<-chan struct{}, error) {
	c, err := audit.NewChainer(a.store, a.cfg.Audit.ChainInterval, a.log)
	if err != nil {
		return nil, err
	}
	file, err := audit.NewCheckpointFile(a.cfg.Audit.CheckpointDir)
	if err != nil {
		return nil, fmt.Errorf("audit.checkpoint_dir: %w", err)
	}
	cp, err := audit.NewCheckpointer(a.store, a.Seals.SignCheckpoint, file,
		audit.CheckpointPolicy{Every: int64(a.cfg.Audit.CheckpointEvery), Interval: a.cfg.Audit.CheckpointInterval}, time.Now, a.log)
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	checkpointed := make(chan struct{})
	go func() {
		defer close(checkpointed)
		cp.Run(ctx, a.cfg.Audit.ChainInterval)
	}()
	go func() {
		defer close(done)
		defer func() { <-checkpointed }()
		c.Run(ctx)
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), chainDrainTimeout)
		defer cancel()
		n, err := c.Drain(dctx)
		if err != nil {
			a.log.Error("audit chain: final drain failed; the records wait for the next chainer", "chained", n, "error", err)
			return
		}
		a.log.Info("audit chain drained", "chained", n)
	}()
	return done, nil
}

// Close releases what build acquired, in reverse order.
func (a *app) Close() {
	if a.fake != nil {
		a.fake.Close()
	}
	if a.redis != nil {
		_ = a.redis.Close()
	}
	if a.store != nil {
		_ = a.store.Close()
	}
}
