// Package wire composes the service: it turns the configuration and the
// connections the caller opened (database, Redis, the WeChat API's address,
// the clock) into every domain service, the HTTP layer's dependencies and
// the metrics registry. `bff serve` and `bff remind` use it, and so do the
// HTTP tests, which swap in their own database, Redis, fake WeChat and
// clock through Opened and their own limits through the configuration, so
// what they test is how the service is really put together.
package wire

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/yangcheng-county/elicence/bff/api"
	openapidoc "github.com/yangcheng-county/elicence/docs/openapi"
	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/auth"
	"github.com/yangcheng-county/elicence/internal/catalogue"
	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/deadline"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/importer"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/officer"
	"github.com/yangcheng-county/elicence/internal/openapi"
	"github.com/yangcheng-county/elicence/internal/realname"
	"github.com/yangcheng-county/elicence/internal/redisx"
	"github.com/yangcheng-county/elicence/internal/reminder"
	"github.com/yangcheng-county/elicence/internal/reminder/wxsender"
	"github.com/yangcheng-county/elicence/internal/showcode"
	"github.com/yangcheng-county/elicence/internal/sms"
	"github.com/yangcheng-county/elicence/internal/staff"
	"github.com/yangcheng-county/elicence/internal/stats"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/verify"
	"github.com/yangcheng-county/elicence/internal/wallet"
	"github.com/yangcheng-county/elicence/internal/wechat"
	"github.com/yangcheng-county/elicence/internal/wechat/fakewx"
)

// Opened are what the service is composed over, opened and closed by the
// caller: `serve` opens them from the configuration, a test on its own
// database, Redis and fake WeChat.
type Opened struct {
	Store *store.Store
	Redis *redisx.Client
	// IndexKey is the blind-index key; real-name binding derives its MAC
	// keys from it.
	IndexKey []byte
	// WeChatAPIBase is where WeChat API calls go: cfg.WeChatAPIBase() in
	// `serve` ("" is the real WeChat), a fake WeChat's URL in tests.
	WeChatAPIBase string
	// FakeWeChat is mounted at /fakewx/ in fake mode; nil otherwise.
	FakeWeChat http.Handler
	// Now is the clock of every service: time.Now, or a test's clock.
	Now func() time.Time
}

// Service is the composed service.
type Service struct {
	// Deps are the HTTP layer's dependencies; Router builds on them.
	Deps api.Deps
	// Registry holds the metrics the admin listener serves.
	Registry *prometheus.Registry
	// Reminder dispatches expiry reminders; nil when no expiry template is
	// configured.
	Reminder *reminder.Service
	// Seals sign every licence version the lifecycle writes and are
	// checked at every scan; serve runs their CheckKeys at start-up.
	Seals *Seals
	// draining turns /readyz to 503 from the moment serve is told to stop.
	draining atomic.Bool
}

// StartDraining makes /readyz answer 503 from now on, so a balancer polling
// it sends new connections elsewhere while requests are still served.
func (s *Service) StartDraining() { s.draining.Store(true) }

// Router is the public HTTP handler: the route table over Deps.
func (s *Service) Router() (*gin.Engine, error) { return api.NewRouter(s.Deps) }

// Admin serves /metrics and pprof, off the public port.
func (s *Service) Admin() http.Handler { return api.NewAdminHandler(s.Registry) }

// Compose builds every service over in. A nil or misconfigured dependency
// fails here, at start-up, never on a request.
func Compose(cfg config.Config, log *slog.Logger, in Opened) (*Service, error) {
	st, rc, now := in.Store, in.Redis, in.Now
	if st == nil || rc == nil || now == nil || log == nil {
		return nil, errors.New("wire: Opened.Store, Opened.Redis, Opened.Now and the logger are required")
	}
	s := &Service{Registry: prometheus.NewRegistry()}
	metrics, err := api.NewMetrics(s.Registry)
	if err != nil {
		return nil, err
	}
	s.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// WeChat's tokens are cached under the opened Redis's own prefix.
	wxOpts := weChatOptions(cfg)
	wxOpts.APIBase, wxOpts.KeyPrefix = in.WeChatAPIBase, rc.Key()
	wx, err := wechat.New(wxOpts, rc.Redis())
	if err != nil {
		return nil, err
	}
	sessions, err := redisx.NewSessions(rc)
	if err != nil {
		return nil, err
	}
	authSvc, err := auth.NewService(sessions, api.WeChatLogin(wx), st, auth.Options{
		RedirectURI: cfg.PublicURL + api.CallbackPath, Idle: cfg.Session.Idle, Absolute: cfg.Session.Absolute, Now: now,
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
	challenges, err := redisx.NewRealname(rc)
	if err != nil {
		return nil, err
	}
	realnameSvc, err := realname.NewService(challenges, st, st, gateway, realname.Options{
		CodeTTL: cfg.Realname.CodeTTL, MaxFailures: cfg.Realname.MaxFailures, FailureWindow: cfg.Realname.FailureWindow,
		ResendInterval: cfg.Realname.ResendInterval, FailuresPerIP: cfg.Realname.FailuresPerIP,
		SMSPerIDNumberDaily: cfg.Realname.SMSPerIDNumberDaily, SMSPerAccountDaily: cfg.Realname.SMSPerAccountDaily,
		SMSPerIPDaily: cfg.Realname.SMSPerIPDaily, Location: loc, Key: in.IndexKey, Now: now, Log: log,
	})
	if err != nil {
		return nil, err
	}

	if s.Seals, err = OpenSeals(cfg, st, now); err != nil {
		return nil, err
	}

	codeStore, err := redisx.NewShowCodeStore(rc)
	if err != nil {
		return nil, err
	}
	codes, err := showcode.NewService(codeStore, showcode.Options{PublicURL: cfg.PublicURL, TTL: cfg.ShowCode.TTL, Now: now})
	if err != nil {
		return nil, err
	}
	verifier, err := verify.NewService(codes, st, st, redisx.NewCounter(rc), verify.Options{
		PublicURL: cfg.PublicURL,
		Limits:    verify.Limits{PerOfficer: cfg.Verify.FailuresPerOfficer, PerIP: cfg.Verify.FailuresPerIP, Window: cfg.Verify.FailureWindow},
		Key:       rc.Key, Now: now,
		Observe: func(result, reason string) { metrics.Verifications.WithLabelValues(result, reason).Inc() },
		Audit:   st,
		Seals:   s.Seals.Signing,
	})
	if err != nil {
		return nil, err
	}
	walletSvc, err := wallet.New(st, st, s.Seals.Signing, now)
	if err != nil {
		return nil, err
	}

	remStore, err := store.NewReminders(st)
	if err != nil {
		return nil, err
	}
	if s.Reminder, err = reminderService(cfg, log, s.Registry, remStore, wx, now); err != nil {
		return nil, err
	}
	prefs, err := reminder.NewPreferences(remStore, loc, now)
	if err != nil {
		return nil, err
	}
	sink, err := reminder.NewEvents(remStore, st, loc, log, now)
	if err != nil {
		return nil, err
	}
	nonces, err := redisx.NewEventNonces(rc)
	if err != nil {
		return nil, err
	}
	events, err := wechat.NewEventHandler(wxOpts, sink, nonces, log)
	if err != nil {
		return nil, err
	}

	// The lifecycle is the only writer of licence state; the Open API
	// calls it for the app's department.
	lifecycle, err := licence.NewLifecycle(st, st, st, s.Seals.Signing, now)
	if err != nil {
		return nil, err
	}
	oa, err := openAPIDeps(cfg, st, rc, lifecycle, s.Seals.Signing, now)
	if err != nil {
		return nil, err
	}
	console, err := consoleDeps(cfg, log, st, rc, lifecycle, s.Seals.Signing, now)
	if err != nil {
		return nil, err
	}

	s.Deps = api.Deps{
		Log: log, Metrics: metrics, TrustedProxies: cfg.HTTP.TrustedProxies,
		StaticDir: cfg.HTTP.StaticDir, Ready: s.ready(st, rc), Now: now, PublicURL: cfg.PublicURL,
		RequestTimeout: cfg.HTTP.RequestTimeout, Budget: deadline.Budget{Read: cfg.Database.QueryTimeout, Write: cfg.Database.ExecTimeout},
		FakeWeChat: in.FakeWeChat,
		Auth:       authSvc, Realname: realnameSvc, Accounts: st, Holders: st, WeChatJS: wx,
		Wallet: walletSvc, ShowCodes: codes, Verifier: verifier, UsageLists: st,
		MintLimit: api.MintLimit{Counter: redisx.NewCounter(rc), Key: rc.Key, Max: cfg.ShowCode.MintsPerHolder, Window: cfg.ShowCode.MintWindow},
		Reminders: prefs, WeChatEvents: events, OpenAPI: oa, Console: console, Seals: s.Seals.Registry,
	}
	if cfg.DevMode {
		s.Deps.SMSOutbox = outbox
	}
	return s, nil
}

// fakeSecret is the app secret of fake mode when none is configured: the
// fake accepts whatever secret the configuration holds.
const fakeSecret = "fake-secret"

// weChatOptions are the public account's settings from the configuration.
func weChatOptions(cfg config.Config) wechat.Options {
	o := wechat.Options{
		AppID: cfg.WeChat.AppID, AppSecret: cfg.WeChat.AppSecret, Token: cfg.WeChat.Token,
		EncodingAESKey: cfg.WeChat.EncodingAESKey, HTTPTimeout: cfg.WeChat.HTTPTimeout,
	}
	if cfg.WeChat.Fake && o.AppSecret == "" {
		o.AppSecret = fakeSecret
	}
	return o
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

// FakeWeChat builds the fake WeChat of fake mode, which stands in for
// WeChat at {public_url}/fakewx with the demo users on its login page and
// pushes its events to the service's own /wechat/events.
func FakeWeChat(cfg config.Config) (*fakewx.Server, error) {
	o := weChatOptions(cfg)
	return fakewx.New(cfg.PublicURL, demoUsers,
		fakewx.WithCredentials(o.AppID, o.AppSecret),
		fakewx.WithEventPush(cfg.PublicURL+"/wechat/events", o.Token, nil))
}

// reminderService builds the reminder dispatcher, or nil with a warning when
// no template id is configured: a county whose template is still awaiting
// approval must still be able to log citizens in and verify licences, so a
// blank id turns reminders off instead of stopping the server. Every other
// reminder setting is still checked and fails start-up.
func reminderService(cfg config.Config, log *slog.Logger, reg prometheus.Registerer, remStore *store.Reminders, wx *wechat.Client, now func() time.Time) (*reminder.Service, error) {
	if cfg.WeChat.ExpiryTemplateID == "" {
		log.Warn("expiry reminders are off: wechat.expiry_template_id is empty; set it to send them")
		return nil, nil
	}
	opts, err := reminder.OptionsFromConfig(cfg)
	if err != nil {
		return nil, err
	}
	metrics, err := reminder.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	sender, err := wxsender.New(wx)
	if err != nil {
		return nil, err
	}
	return reminder.NewService(reminder.Deps{Store: remStore, Sender: sender, Log: log, Metrics: metrics, Now: now}, opts)
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

// consoleDeps builds the staff console's services: staff accounts over
// the store, sessions and lockout counters in Redis, and the same
// lifecycle the Open API calls. A second factor is required everywhere
// but in the embedded demo. A department's imports run the importer of
// `bff import licences` as background jobs kept in the store, signing
// with the same seals as the lifecycle.
func consoleDeps(cfg config.Config, log *slog.Logger, st *store.Store, rc *redisx.Client, lifecycle api.Issuing, signer licence.VersionSigner, now func() time.Time) (api.ConsoleDeps, error) {
	sessions, err := redisx.NewStaffSessions(rc, cfg.Console.SessionAbsolute)
	if err != nil {
		return api.ConsoleDeps{}, err
	}
	svc, err := staff.NewService(st, sessions, redisx.NewCounter(rc), staff.Options{
		Idle: cfg.Console.SessionIdle, Absolute: cfg.Console.SessionAbsolute,
		MaxFailures: cfg.Console.MaxFailures, Lockout: cfg.Console.Lockout,
		RequireTOTP: cfg.Mode != "embedded" || !cfg.SeedDemo, Key: rc.Key, Now: now,
	})
	if err != nil {
		return api.ConsoleDeps{}, err
	}
	im, err := importer.New(st, signer)
	if err != nil {
		return api.ConsoleDeps{}, err
	}
	jobs, err := importer.NewJobs(im, st, now, log)
	if err != nil {
		return api.ConsoleDeps{}, err
	}
	officers, err := officer.NewService(st, cfg.PublicURL, now)
	if err != nil {
		return api.ConsoleDeps{}, err
	}
	statsSvc, err := stats.NewService(st, now)
	if err != nil {
		return api.ConsoleDeps{}, err
	}
	checkStore, err := redisx.NewAuditChecks(rc)
	if err != nil {
		return api.ConsoleDeps{}, err
	}
	checks, err := audit.NewChecker(st, checkStore, now, log)
	if err != nil {
		return api.ConsoleDeps{}, err
	}
	return api.ConsoleDeps{Staff: svc, Licences: lifecycle, Store: st, Imports: jobs, Officers: officers, Apps: st,
		Catalogue: store.TxAs[catalogue.Repository](st), Stats: statsSvc, Audit: st, AuditChecks: checks}, nil
}

// errDraining is /readyz's answer once serve has begun to shut down.
var errDraining = errors.New("serve: draining after SIGTERM")

// ready is /readyz: not draining, and both stores must answer.
func (s *Service) ready(st *store.Store, rc *redisx.Client) func(context.Context) error {
	return func(ctx context.Context) error {
		if s.draining.Load() {
			return errDraining
		}
		if err := st.Ping(ctx); err != nil {
			return err
		}
		return rc.Ping(ctx)
	}
}
