package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/yangcheng-county/elicence/bff/api"
	openapidoc "github.com/yangcheng-county/elicence/docs/openapi"
	"github.com/yangcheng-county/elicence/internal/auth"
	"github.com/yangcheng-county/elicence/internal/catalogue"
	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/deadline"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/openapi"
	"github.com/yangcheng-county/elicence/internal/realname"
	"github.com/yangcheng-county/elicence/internal/redisx"
	"github.com/yangcheng-county/elicence/internal/reminder"
	"github.com/yangcheng-county/elicence/internal/secure"
	"github.com/yangcheng-county/elicence/internal/showcode"
	"github.com/yangcheng-county/elicence/internal/sms"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/verify"
	"github.com/yangcheng-county/elicence/internal/wallet"
	"github.com/yangcheng-county/elicence/internal/wechat"
	"github.com/yangcheng-county/elicence/internal/wechat/fakewx"
)

// sealerFor loads the keys once and builds the field sealer; the index key
// is returned too because real-name binding derives its own MAC keys from it.
func sealerFor(cfg config.Config) (*secure.Sealer, []byte, error) {
	dataKey, indexKey, err := loadKeys(cfg)
	if err != nil {
		return nil, nil, err
	}
	sealer, err := secure.NewSealer(dataKey, indexKey)
	if err != nil {
		return nil, nil, err
	}
	return sealer, indexKey, nil
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
	current, latest, err := st.SchemaStatus(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	if current != latest {
		st.Close()
		return nil, fmt.Errorf("%w: at version %d, this build needs %d; run `bff migrate` first", store.ErrSchemaOutdated, current, latest)
	}
	if cfg.SeedDemo {
		if err := demo.Seed(ctx, store.TxAs[demo.Repository](st), time.Now()); err != nil {
			st.Close()
			return nil, err
		}
		if err := seedDemoSeals(ctx, cfg, st); err != nil {
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

// app holds every long-lived part of a running process, built in one place.
type app struct {
	cfg      config.Config
	log      *slog.Logger
	store    *store.Store
	redis    *redisx.Client
	fake     *fakewx.Server
	wx       *wechat.Client
	registry *prometheus.Registry
	metrics  *api.Metrics
	deps     api.Deps
	reminder *reminder.Service
}

// demoUsers are the accounts offered on the fake WeChat's login page.
var demoUsers = []fakewx.DemoUser{
	{OpenID: demo.CitizenZhangsan, Label: "张三 · 市民(驾驶证 20 天后到期)"},
	{OpenID: demo.CitizenLisi, Label: "李四 · 市民(驾驶证暂扣)"},
	{OpenID: demo.CitizenWangwu, Label: "王五 · 市民(无持证记录)"},
	{OpenID: demo.OfficerPolice, Label: "交警 · 阳城县公安局交通管理大队"},
	{OpenID: demo.OfficerHousing, Label: "不动产登记中心 · 核验人员"},
	{OpenID: "demo-snapshot-user", Label: "快照页用户(应被拒绝)", Snapshot: true},
}

// build wires the whole service. A nil or misconfigured dependency fails
// here, at start-up, never on a request.
func build(ctx context.Context, cfg config.Config, log *slog.Logger) (_ *app, err error) {
	a := &app{cfg: cfg, log: log, registry: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	now := time.Now
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

	wxOpts := wechat.Options{
		AppID: cfg.WeChat.AppID, AppSecret: cfg.WeChat.AppSecret, Token: cfg.WeChat.Token,
		EncodingAESKey: cfg.WeChat.EncodingAESKey, APIBase: cfg.WeChatAPIBase(),
		HTTPTimeout: cfg.WeChat.HTTPTimeout, KeyPrefix: cfg.Redis.KeyPrefix,
	}
	if cfg.WeChat.Fake {
		// The fake stands in for WeChat at {public_url}/fakewx; it accepts
		// whatever secret the configuration holds.
		if wxOpts.AppSecret == "" {
			wxOpts.AppSecret = "fake-secret"
		}
		a.fake, err = fakewx.New(cfg.PublicURL, demoUsers,
			fakewx.WithCredentials(wxOpts.AppID, wxOpts.AppSecret),
			fakewx.WithEventPush(cfg.PublicURL+"/wechat/events", wxOpts.Token, nil))
		if err != nil {
			return nil, err
		}
	}
	if a.wx, err = wechat.New(wxOpts, a.redis.Redis()); err != nil {
		return nil, err
	}

	if a.metrics, err = api.NewMetrics(a.registry); err != nil {
		return nil, err
	}
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	sessions, err := redisx.NewSessions(a.redis)
	if err != nil {
		return nil, err
	}
	authSvc, err := auth.NewService(sessions, api.WeChatLogin(a.wx), a.store, auth.Options{
		RedirectURI: cfg.PublicURL + api.CallbackPath, Idle: cfg.Session.Idle, Absolute: cfg.Session.Absolute,
	})
	if err != nil {
		return nil, err
	}
	// The county's calendar day, for daily caps and reminders; the time
	// zone was validated with the configuration.
	loc, _ := time.LoadLocation(cfg.Reminder.TimeZone)
	var (
		gateway sms.Gateway
		outbox  *sms.DevOutbox
	)
	if cfg.SMS.Driver == "dev" {
		outbox = sms.NewDevOutbox(200, now)
		gateway = outbox
	} else if gateway, err = sms.NewHTTPGateway(cfg.SMS.GatewayURL, cfg.SMS.Token, cfg.SMS.Timeout); err != nil {
		return nil, err
	}
	challenges, err := redisx.NewRealname(a.redis)
	if err != nil {
		return nil, err
	}
	realnameSvc, err := realname.NewService(challenges, a.store, a.store, gateway, realname.Options{
		CodeTTL: cfg.Realname.CodeTTL, MaxFailures: cfg.Realname.MaxFailures, FailureWindow: cfg.Realname.FailureWindow,
		ResendInterval: cfg.Realname.ResendInterval, FailuresPerIP: cfg.Realname.FailuresPerIP,
		SMSPerIDNumberDaily: cfg.Realname.SMSPerIDNumberDaily, SMSPerAccountDaily: cfg.Realname.SMSPerAccountDaily,
		SMSPerIPDaily: cfg.Realname.SMSPerIPDaily, Location: loc, Key: indexKey, Log: log,
	})
	if err != nil {
		return nil, err
	}

	// Seals sign every licence version the lifecycle writes and are
	// checked at every scan.
	seals, err := openSealing(ctx, cfg, a.store, now)
	if err != nil {
		return nil, err
	}

	codeStore, err := redisx.NewShowCodeStore(a.redis)
	if err != nil {
		return nil, err
	}
	codes, err := showcode.NewService(codeStore, showcode.Options{PublicURL: cfg.PublicURL, TTL: cfg.ShowCode.TTL})
	if err != nil {
		return nil, err
	}
	verifier, err := verify.NewService(codes, a.store, a.store, redisx.NewCounter(a.redis), verify.Options{
		PublicURL: cfg.PublicURL,
		Limits:    verify.Limits{PerOfficer: cfg.Verify.FailuresPerOfficer, PerIP: cfg.Verify.FailuresPerIP, Window: cfg.Verify.FailureWindow},
		Key:       a.redis.Key,
		Observe:   func(result, reason string) { a.metrics.Verifications.WithLabelValues(result, reason).Inc() },
		Audit:     a.store,
		Seals:     seals.signing,
	})
	if err != nil {
		return nil, err
	}

	walletSvc, err := wallet.New(a.store, a.store, seals.signing, now)
	if err != nil {
		return nil, err
	}

	remStore, err := store.NewReminders(a.store)
	if err != nil {
		return nil, err
	}
	if a.reminder, err = a.reminderService(remStore, now); err != nil {
		return nil, err
	}
	prefs, err := reminder.NewPreferences(remStore, loc, now)
	if err != nil {
		return nil, err
	}
	sink, err := reminder.NewEvents(remStore, a.store, loc, log, now)
	if err != nil {
		return nil, err
	}
	nonces, err := redisx.NewEventNonces(a.redis)
	if err != nil {
		return nil, err
	}
	events, err := wechat.NewEventHandler(wxOpts, sink, nonces, log)
	if err != nil {
		return nil, err
	}

	// The lifecycle is the only writer of licence state; the Open API
	// calls it for the app's department.
	lifecycle, err := licence.NewLifecycle(a.store, a.store, a.store, seals.signing, now)
	if err != nil {
		return nil, err
	}
	oa, err := openAPIDeps(cfg, a.store, a.redis, lifecycle, seals.signing, now)
	if err != nil {
		return nil, err
	}

	a.deps = api.Deps{
		Log: log, Metrics: a.metrics, TrustedProxies: cfg.HTTP.TrustedProxies,
		StaticDir: cfg.HTTP.StaticDir, Ready: a.ready, Now: now, PublicURL: cfg.PublicURL,
		RequestTimeout: cfg.HTTP.RequestTimeout, Budget: deadline.Budget{Read: cfg.Database.QueryTimeout, Write: cfg.Database.ExecTimeout},
		Auth: authSvc, Realname: realnameSvc, Accounts: a.store, Holders: a.store, WeChatJS: a.wx,
		Wallet: walletSvc, ShowCodes: codes, Verifier: verifier, UsageLists: a.store,
		MintLimit: api.MintLimit{Counter: redisx.NewCounter(a.redis), Key: a.redis.Key, Max: cfg.ShowCode.MintsPerHolder, Window: cfg.ShowCode.MintWindow},
		Reminders: prefs, WeChatEvents: events, OpenAPI: oa, Seals: seals.registry,
	}
	if a.fake != nil {
		a.deps.FakeWeChat = a.fake
	}
	if cfg.DevMode {
		a.deps.SMSOutbox = outbox
	}
	return a, nil
}

// openAPIDeps builds the Open API's signature check and idempotency over
// the store (apps) and Redis (nonces, rate limit, idempotency records).
func openAPIDeps(cfg config.Config, st *store.Store, rc *redisx.Client, issuing api.Issuing, signatures api.LicenceSignatures, now func() time.Time) (api.OpenAPIDeps, error) {
	nonces, err := redisx.NewNonces(rc)
	if err != nil {
		return api.OpenAPIDeps{}, err
	}
	auth, err := openapi.NewAuthenticator(st, nonces, redisx.NewCounter(rc),
		openapi.Limit{PerWindow: cfg.OpenAPI.RateLimit, Window: cfg.OpenAPI.RateWindow}, rc.Key, now)
	if err != nil {
		return api.OpenAPIDeps{}, err
	}
	records, err := redisx.NewIdempotency(rc)
	if err != nil {
		return api.OpenAPIDeps{}, err
	}
	idem, err := openapi.NewIdempotency(records, rc.Key)
	if err != nil {
		return api.OpenAPIDeps{}, err
	}
	return api.OpenAPIDeps{Auth: auth, Idempotency: idem, Licences: issuing, Signatures: signatures, Document: openapidoc.V1}, nil
}

// ready is /readyz: both stores must answer.
func (a *app) ready(ctx context.Context) error {
	if err := a.store.Ping(ctx); err != nil {
		return err
	}
	return a.redis.Ping(ctx)
}

func (a *app) router() (*gin.Engine, error) { return api.NewRouter(a.deps) }

// startBackground runs the reminder scheduler until ctx ends; the returned
// channel closes when it has stopped.
func (a *app) startBackground(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	if !a.cfg.Reminder.Enabled || a.reminder == nil {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		sched, err := reminder.NewScheduler(a.reminder)
		if err == nil {
			err = sched.Run(ctx)
		}
		if err != nil && ctx.Err() == nil {
			a.log.Error("reminder scheduler stopped", "error", err)
		}
	}()
	return done
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
