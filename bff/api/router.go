// Package api is the BFF's HTTP transport: the route table, middleware,
// request/response types and handlers that only translate between HTTP and
// the domain services.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/account"
	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/auth"
	"github.com/yangcheng-county/elicence/internal/catalogue"
	"github.com/yangcheng-county/elicence/internal/deadline"
	"github.com/yangcheng-county/elicence/internal/importer"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/officer"
	"github.com/yangcheng-county/elicence/internal/openapi"
	"github.com/yangcheng-county/elicence/internal/realname"
	"github.com/yangcheng-county/elicence/internal/showcode"
	"github.com/yangcheng-county/elicence/internal/sms"
	"github.com/yangcheng-county/elicence/internal/staff"
	"github.com/yangcheng-county/elicence/internal/stats"
	"github.com/yangcheng-county/elicence/internal/verify"
	"github.com/yangcheng-county/elicence/internal/wallet"
)

// Deps are everything the HTTP layer calls, built in one place (bff/wire.Compose).
type Deps struct {
	Log            *slog.Logger
	Metrics        *Metrics
	TrustedProxies []string
	// StaticDir holds the built H5; empty serves no pages.
	StaticDir string
	// Ready checks the database and Redis for /readyz, within Budget.Read.
	Ready func(ctx context.Context) error
	// RequestTimeout ends every request's context (config
	// http.request_timeout); Budget bounds each storage call a request
	// makes (database.query_timeout / exec_timeout). Zero: no bound.
	RequestTimeout time.Duration
	Budget         deadline.Budget
	Now            func() time.Time
	// FakeWeChat is mounted at /fakewx/ in dev mode only; nil otherwise.
	FakeWeChat http.Handler

	// PublicURL is the external base URL (config public_url): the OAuth
	// redirect_uri is built on it, the session cookie is Secure when it is
	// https, and JS-SDK signatures are given only for pages on its origin.
	PublicURL string
	// Auth runs WeChat login and sessions (auth.NewService over
	// redisx.NewSessions, with WeChatLogin(wechat client) as provider).
	Auth *auth.Service
	// Realname runs real-name binding (realname.NewService over
	// redisx.NewRealname, the store, and the SMS gateway).
	Realname *realname.Service
	// Accounts gives the session middleware each caller's holder binding
	// and officer department (the store).
	Accounts account.Repository
	// Holders gives /me the bound holder's name (the store).
	Holders HolderReader
	// WeChatJS signs pages for the JS-SDK (the wechat client).
	WeChatJS JSSigner
	// SMSOutbox is the dev SMS gateway, listed at /api/v1/dev/sms. Set it in
	// dev mode only: when nil the route does not exist.
	SMSOutbox *sms.DevOutbox

	// Wallet reads the holder's licences (wallet.New over the store's
	// licence views and history).
	Wallet *wallet.Service
	// ShowCodes mints show codes (showcode.NewService over
	// redisx.NewShowCodeStore, TTL from showcode.ttl).
	ShowCodes *showcode.Service
	// MintLimit bounds the show codes one holder mints per window; a zero
	// Max means no bound.
	MintLimit MintLimit
	// Verifier verifies scans and lists usage records (verify.NewService
	// over ShowCodes, the store and redisx.NewCounter; its Observe feeds
	// Metrics.Verifications).
	Verifier *verify.Service

	// UsageLists reads the departments' usage lists for their public
	// notice (the store).
	UsageLists catalogue.UsageListReader
	// Seals lists the electronic seals for their public notice
	// (seal.Registry).
	Seals SealRegistry

	// Reminders is the holder's expiry-reminder switch per licence
	// (reminder.NewPreferences over store.NewReminders).
	Reminders ReminderSwitch
	// WeChatEvents serves the public account's server URL /wechat/events
	// (wechat.NewEventHandler with reminder.NewEvents as its sink): URL
	// check, subscribe, unsubscribe and template delivery reports.
	WeChatEvents http.Handler

	// OpenAPI is the signed API for department systems (/openapi/v1).
	OpenAPI OpenAPIDeps

	// Console is the staff's administration console (/api/v1/console).
	Console ConsoleDeps
}

// ConsoleDeps are the console's services (docs/CONSOLE.md).
type ConsoleDeps struct {
	// Staff runs staff accounts, logins and console sessions
	// (staff.NewService over the store, redisx.NewStaffSessions and
	// redisx.NewCounter).
	Staff *staff.Service
	// Licences is the lifecycle, the same the Open API calls.
	Licences Issuing
	// Store reads searches, views, usage, audit entries and the catalogue.
	Store ConsoleStore
	// Imports runs stock imports uploaded by a department
	// (importer.NewJobs over the store).
	Imports *importer.Jobs
	// Officers invites and removes a department's officers
	// (officer.NewService over the store); the H5 accepts invitations.
	Officers *officer.Service
	// Apps keeps the departments' Open API apps (the store).
	Apps openapi.AppRepository
	// Catalogue applies the platform admin's catalogue edits and imports
	// (store.TxAs over the store, as `bff catalogue apply` does).
	Catalogue catalogue.TxFunc
	// Stats counts the statistics (stats.NewService over the store).
	Stats *stats.Service
	// Audit searches the audit viewer's entries (the store); AuditChecks
	// runs the chain check (audit.NewChecker over the store and
	// redisx.NewAuditChecks).
	Audit       AuditSearcher
	AuditChecks *audit.Checker
}

func (d ConsoleDeps) validate() error {
	if d.Staff == nil || d.Licences == nil || d.Store == nil || d.Imports == nil || d.Officers == nil || d.Apps == nil ||
		d.Catalogue == nil || d.Stats == nil || d.Audit == nil || d.AuditChecks == nil {
		return errors.New("api: Deps.Console needs Staff, Licences, Store, Imports, Officers, Apps, Catalogue, Stats, Audit and AuditChecks")
	}
	if d.Stats == nil || d.Audit == nil || d.AuditChecks == nil {
		return errors.New("api: Deps.Console needs Stats, Audit and AuditChecks")
	}
	return nil
}

// HolderReader reads one holder record; licence.Repository implements it.
type HolderReader interface {
	Holder(ctx context.Context, id int64) (licence.Holder, error)
}

func (d Deps) validate() error {
	switch {
	case d.Log == nil:
		return errors.New("api: Deps.Log is nil")
	case d.Metrics == nil:
		return errors.New("api: Deps.Metrics is nil")
	case d.Ready == nil:
		return errors.New("api: Deps.Ready is nil")
	case d.Now == nil:
		return errors.New("api: Deps.Now is nil")
	case d.Auth == nil || d.Realname == nil:
		return errors.New("api: Deps.Auth or Deps.Realname is nil")
	case d.Accounts == nil || d.Holders == nil:
		return errors.New("api: Deps.Accounts or Deps.Holders is nil")
	case d.WeChatJS == nil:
		return errors.New("api: Deps.WeChatJS is nil")
	case d.Wallet == nil || d.ShowCodes == nil || d.Verifier == nil:
		return errors.New("api: Deps.Wallet, Deps.ShowCodes or Deps.Verifier is nil")
	case d.UsageLists == nil:
		return errors.New("api: Deps.UsageLists is nil")
	case d.Seals == nil:
		return errors.New("api: Deps.Seals is nil")
	case d.Reminders == nil || d.WeChatEvents == nil:
		return errors.New("api: Deps.Reminders or Deps.WeChatEvents is nil")
	case d.MintLimit.Max > 0 && (d.MintLimit.Counter == nil || d.MintLimit.Key == nil || d.MintLimit.Window <= 0):
		return errors.New("api: Deps.MintLimit needs a Counter, a Key function and a Window")
	}
	if err := d.OpenAPI.validate(); err != nil {
		return err
	}
	if err := d.Console.validate(); err != nil {
		return err
	}
	if u, err := url.Parse(d.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("api: Deps.PublicURL must be an absolute http(s) URL")
	}
	return nil
}

// NewRouter builds the whole route table. Reading this function shows the
// entire HTTP surface of the service.
func NewRouter(d Deps) (*gin.Engine, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// ClientIP() feeds rate limits and usage records: trust only the
	// configured proxies, never X-Forwarded-For from anyone.
	if err := r.SetTrustedProxies(d.TrustedProxies); err != nil {
		return nil, err
	}
	public, _ := url.Parse(d.PublicURL)
	csp, err := contentSecurityPolicy(d.StaticDir)
	if err != nil {
		return nil, err
	}
	sess := &sessions{auth: d.Auth, accounts: d.Accounts, secure: public.Scheme == "https"}
	// recovery sits inside metrics and the access log, so a panicked
	// request is counted and logged as the 500 it became.
	r.Use(requestID(), securityHeaders(csp, public.Scheme == "https"), d.Metrics.middleware(), accessLog(d.Log), recovery(d.Log),
		deadlines(d.RequestTimeout, d.Budget), limitBody, requireJSONWrites, sess.middleware)

	sys := &systemHandlers{ready: d.Ready, readyWithin: d.Budget.Read, now: d.Now, static: d.StaticDir}
	r.GET("/healthz", sys.healthz)
	r.GET("/readyz", sys.readyz)
	if d.FakeWeChat != nil {
		r.Any("/fakewx/*path", gin.WrapH(d.FakeWeChat))
	}

	v1 := r.Group("/api/v1")
	v1.GET("/time", sys.time)

	// Login, session, real-name binding, JS-SDK (docs/SECURITY.md).
	authH := &authHandlers{auth: d.Auth, sessions: sess}
	v1.GET("/auth/wechat/login", authH.login)
	v1.GET("/auth/wechat/callback", authH.callback) // = CallbackPath
	v1.POST("/auth/logout", authH.logout)
	me := &meHandlers{realname: d.Realname, holders: d.Holders}
	v1.GET("/me", requireLogin, me.me)
	v1.POST("/me/realname", requireLogin, me.startRealname)
	v1.POST("/me/realname/confirm", requireLogin, me.confirmRealname)
	js := &jsConfigHandlers{signer: d.WeChatJS, origin: public}
	v1.GET("/wechat/js-config", requireLogin, js.jsConfig)
	if d.SMSOutbox != nil {
		dev := &devHandlers{outbox: d.SMSOutbox}
		v1.GET("/dev/sms", dev.sms)
	}

	// Licence wallet, show codes and verification (docs/API.md). Ownership is
	// checked in the handlers: someone else's licence is 404.
	lic := &licenceHandlers{wallet: d.Wallet, codes: d.ShowCodes, verifier: d.Verifier}
	v1.GET("/licences", requireHolder, lic.list)
	v1.GET("/licences/:id", requireHolder, lic.detail)
	v1.POST("/licences/:id/show-codes", requireHolder, d.MintLimit.perHolder, lic.mintShowCode)
	v1.GET("/licences/:id/usage", requireHolder, lic.usage)
	ver := &verificationHandlers{verifier: d.Verifier}
	v1.POST("/verifications", requireOfficer, ver.verify)
	off := &officerHandlers{verifier: d.Verifier}
	v1.GET("/officer/context", requireOfficer, off.context)
	v1.GET("/officer/verifications", requireOfficer, off.verifications)
	// An officer invitation from the console, opened in WeChat: any
	// logged-in account may accept it (docs/CONSOLE.md, "Officers").
	inv := &officerInviteHandlers{officers: d.Console.Officers}
	v1.GET("/officer-invites/:token", requireLogin, inv.peek)
	v1.POST("/officer-invites/:token/accept", requireLogin, inv.accept)

	// Public notices (公示), no login: the usage lists, which department
	// may verify which licence types for which purposes.
	pub := &publicHandlers{usage: d.UsageLists, sealList: d.Seals}
	v1.GET("/public/usage-lists", pub.usageLists)
	v1.GET("/public/seals", pub.seals)

	// Expiry reminders: the holder's switch per licence (someone else's
	// licence is 404), and the account's event push URL, which checks
	// WeChat's signature itself (403 on a bad one).
	rem := &reminderHandlers{prefs: d.Reminders}
	v1.GET("/licences/:id/reminders", requireHolder, rem.get)
	v1.PUT("/licences/:id/reminders", requireHolder, rem.put)
	r.GET("/wechat/events", gin.WrapH(d.WeChatEvents))
	r.POST("/wechat/events", gin.WrapH(d.WeChatEvents))

	// Open API for department systems (docs/OPENAPI.md): signed by an app
	// of the department instead of a session; the cookie session and the
	// browser CSRF guard look at /api/ only and never see these requests.
	oa := &openAPIMiddleware{auth: d.OpenAPI.Auth, idem: d.OpenAPI.Idempotency}
	r.GET("/openapi/v1/openapi.yaml", openAPIDocument(d.OpenAPI.Document))
	ov1 := r.Group("/openapi/v1", oa.signed)
	ol := &openAPILicenceHandlers{issuing: d.OpenAPI.Licences, signatures: d.OpenAPI.Signatures, now: d.Now}
	ov1.POST("/licences", oa.idempotent(true), ol.issue)
	ov1.GET("/licences", ol.find)
	ov1.GET("/licences/:id", ol.get)
	ov1.POST("/licences/:id/events", oa.idempotent(false), ol.event)
	ov1.GET("/licences/:id/signature", ol.signature)

	// The staff's administration console (docs/CONSOLE.md): its own
	// session cookie, a CSRF token on every unsafe request (requireStaff),
	// and a permission per route from the one role table in
	// internal/staff. A licence of another department is not found.
	con := &consoleSessions{staff: d.Console.Staff, secure: public.Scheme == "https"}
	cv1 := v1.Group("/console", con.resolve)
	cv1.POST("/session", con.login)
	cs := cv1.Group("", requireStaff)
	cs.DELETE("/session", con.logout)
	cs.GET("/me", con.getMe)
	cl := &consoleLicenceHandlers{issuing: d.Console.Licences, store: d.Console.Store, now: d.Now}
	read, write := requirePermission(staff.PermLicencesRead), requirePermission(staff.PermLicencesWrite)
	cs.GET("/licence-types", read, cl.types)
	cs.GET("/licences", read, cl.search)
	cs.GET("/licences/:id", read, cl.detail)
	cs.POST("/licences/:id/events", write, cl.event)
	cst := &consoleStaffHandlers{staff: d.Console.Staff, departments: d.Console.Store}
	manage := requirePermission(staff.PermStaffManage)
	cs.GET("/staff", manage, cst.list)
	cs.POST("/staff", manage, cst.add)
	cs.POST("/staff/:id/disable", manage, cst.disable)
	ci := &consoleImportHandlers{jobs: d.Console.Imports}
	imp := requirePermission(staff.PermLicencesImport)
	cs.GET("/imports", imp, ci.list)
	cs.POST("/imports", imp, ci.start) // = consoleUploadPath
	cs.GET("/imports/:id", imp, ci.get)
	cs.GET("/imports/:id/errors", imp, ci.errors)
	co := &consoleOfficerHandlers{officers: d.Console.Officers}
	officers := requirePermission(staff.PermOfficersManage)
	cs.GET("/officers", officers, co.list)
	cs.POST("/officers/invites", officers, co.invite)
	cs.DELETE("/officers/:openid", officers, co.remove)
	ca := &consoleAppHandlers{apps: d.Console.Apps, now: d.Now}
	apps := requirePermission(staff.PermAppsManage)
	cs.GET("/apps", apps, ca.list)
	cs.POST("/apps", apps, ca.add)
	cs.POST("/apps/:app_id/rotate-secret", apps, ca.rotate)
	cs.POST("/apps/:app_id/disable", apps, ca.disable)
	cc := &consoleCatalogueHandlers{tx: d.Console.Catalogue, store: d.Console.Store, now: d.Now}
	cat := requirePermission(staff.PermCatalogueManage)
	cs.GET("/catalogue", cat, cc.get)
	cs.GET("/catalogue/export", cat, cc.export)
	cs.POST("/catalogue/plan", cat, cc.plan)
	cs.POST("/catalogue/apply", cat, cc.apply)
	cs.POST("/catalogue/departments", cat, cc.addDepartment)
	cs.PUT("/catalogue/departments/:uscc", cat, cc.updateDepartment)
	cs.POST("/catalogue/types", cat, cc.addType)
	cs.PUT("/catalogue/types/:code", cat, cc.updateType)
	cs.PUT("/catalogue/usage-lists/:uscc", cat, cc.putUsageList)
	// Statistics: the county's overview, a department's month (its own
	// for a department's staff), ?format=xlsx|csv downloads the tables.
	csx := &consoleStatsHandlers{stats: d.Console.Stats}
	cs.GET("/stats/county", requirePermission(staff.PermStatsCounty), csx.county)
	cs.GET("/stats/departments/:id", requirePermission(staff.PermStatsRead), csx.department)
	cs.PUT("/stats/departments/:id/stock-baseline", requirePermission(staff.PermStatsBaseline), csx.setBaseline)
	// The audit viewer (a department's staff: their department's entries)
	// and the chain check, run in the background and polled.
	cau := &consoleAuditHandlers{search: d.Console.Audit, checks: d.Console.AuditChecks}
	cs.GET("/audit", requirePermission(staff.PermAuditRead), cau.list)
	cs.POST("/audit/chain-checks", requirePermission(staff.PermAuditVerify), cau.startCheck)
	cs.GET("/audit/chain-checks/:id", requirePermission(staff.PermAuditVerify), cau.getCheck)

	// Pages of the H5. /v/:token is the text inside a show code's QR: it
	// serves the page that verifies it, never caching it.
	r.GET("/v/:token", sys.showCodePage)
	r.NoRoute(sys.spa)
	return r, nil
}
