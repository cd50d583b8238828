package reminder_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/glebarez/go-sqlite" // raw connections for seeding
	"github.com/prometheus/client_golang/prometheus"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/redisx"
	"github.com/yangcheng-county/elicence/internal/redisx/redistest"
	"github.com/yangcheng-county/elicence/internal/reminder"
	"github.com/yangcheng-county/elicence/internal/reminder/wxsender"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
	"github.com/yangcheng-county/elicence/internal/testkit"
	"github.com/yangcheng-county/elicence/internal/wechat"
	"github.com/yangcheng-county/elicence/internal/wechat/fakewx"
)

// The WeChat SDK's HTTP settings are process-wide, so the whole test binary
// talks to one fake WeChat on one httptest server. Tests do not run in
// parallel and each starts with fake.Reset().
var (
	fake    *fakewx.Server
	fakeURL string
)

const (
	appID     = "wxremindertest0001"
	appSecret = "reminder-test-secret"
	// wxTimeout bounds each WeChat call; the timeout test's fault waits
	// longer. It is generous so a loaded machine does not time out sends.
	wxTimeout  = 3 * time.Second
	templateID = "tpl-expiry-0001"
	changeTpl  = "tpl-change-0001"
	publicURL  = "https://elic.test"
	childEnv   = "ELICENCE_REMINDER_TEST_CHILD"
)

var shanghai = store.DateLocation()

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	f, err := fakewx.New("", nil, fakewx.WithCredentials(appID, appSecret))
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(f)
	fake, fakeURL = f, srv.URL
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

// records returns the JSON log records in logs whose msg is msg.
func records(logs *testkit.LogBuffer, msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// at is a wall time in Asia/Shanghai.
func at(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, shanghai)
}

// fixture is a migrated database with the catalogue, a raw connection for
// fast seeding, a clock and a log buffer.
type fixture struct {
	t      testing.TB
	ctx    context.Context
	driver string
	dsn    string
	st     *store.Store
	rem    *store.Reminders
	raw    *sql.DB
	clock  *testkit.Clock
	logs   *testkit.LogBuffer
	log    *slog.Logger
	issuer int64
	nextID int64
	redis  *redisx.Client
}

func newFixture(t testing.TB, driver string) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	fake.Reset()
	logs := &testkit.LogBuffer{}
	f := &fixture{
		t: t, ctx: ctx, driver: driver, logs: logs,
		log:    slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		clock:  testkit.NewClock(at(2025, 3, 10, 10, 0)),
		nextID: 1,
	}
	f.dsn = storetest.DSN(t, driver)
	rawDSN := f.dsn
	if driver == store.DriverSQLite {
		rawDSN += "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
	}
	f.st = storetest.Migrated(t, driver, f.dsn)
	storetest.SeedCatalogue(t, f.st)
	var err error
	if f.rem, err = store.NewReminders(f.st); err != nil {
		t.Fatal(err)
	}
	if f.raw, err = sql.Open(driver, rawDSN); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.raw.Close() })
	dept, err := f.st.DepartmentByUSCC(ctx, demo.USCCCityTrafficPolice)
	if err != nil {
		t.Fatal(err)
	}
	f.issuer = dept.ID
	f.redis = redistest.Open(t)
	return f
}

// open opens another connection pool on the fixture's database, as another
// instance of the service would.
func (f *fixture) open() *store.Store {
	f.t.Helper()
	return storetest.Open(f.t, f.driver, f.dsn)
}

func (f *fixture) exec(q string, args ...any) {
	f.t.Helper()
	if _, err := f.raw.ExecContext(f.ctx, q, args...); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
}

// lic describes one licence to seed.
type lic struct {
	holder     string     // holder name; "张三" when empty
	org        bool       // the holder is an organisation
	until      *time.Time // last valid day; nil = long-term
	status     string     // "valid" when empty
	openid     string     // account; none when empty
	subscribed bool
	unbound    bool   // the account exists but is not bound to the holder
	typeCode   string // 机动车驾驶证 when empty
	issuer     int64  // the traffic police when 0
}

// day returns the calendar day d days after the clock's date.
func (f *fixture) day(d int) *time.Time {
	n := f.clock.Now().In(shanghai)
	t := time.Date(n.Year(), n.Month(), n.Day()+d, 0, 0, 0, 0, time.UTC)
	return &t
}

// seed inserts licences (one holder each) with multi-row INSERTs and returns
// their ids in order.
func (f *fixture) seed(specs []lic) []int64 {
	f.t.Helper()
	const chunk = 500
	ids := make([]int64, len(specs))
	now := time.Now().UTC().Format("2006-01-02 15:04:05")
	for start := 0; start < len(specs); start += chunk {
		end := min(start+chunk, len(specs))
		var hv, lv, av []string
		var hargs, largs, aargs []any
		for i := start; i < end; i++ {
			s := specs[i]
			id := f.nextID
			f.nextID++
			ids[i] = id
			name, kind := s.holder, "person"
			if name == "" {
				name = "张三"
			}
			if s.org {
				kind = "organisation"
			}
			hv = append(hv, "(?,?,?,'111','x',?,'',?)")
			hargs = append(hargs, id, kind, name, fmt.Sprintf("%064d", id), now)
			var until any
			if s.until != nil {
				until = s.until.Format(time.DateOnly)
			}
			status, typ, issuer := s.status, s.typeCode, s.issuer
			if status == "" {
				status = "valid"
			}
			if typ == "" {
				typ = demo.TypeDrivingLicence
			}
			if issuer == 0 {
				issuer = f.issuer
			}
			lv = append(lv, "(?,?,'x',?,?,?,?,'2020-01-01','2020-01-01',?,?,'[]',1,'x','x',?,?)")
			largs = append(largs, id, fmt.Sprintf("test-%d", id), fmt.Sprintf("%064d", id), typ, id, issuer, until, status, now, now)
			if s.openid != "" {
				var holder any = id
				if s.unbound {
					holder = nil
				}
				av = append(av, "(?,?,?,?)")
				aargs = append(aargs, s.openid, holder, s.subscribed, now)
			}
		}
		f.exec("INSERT INTO holders (id, kind, name, id_type, id_number_enc, id_number_idx, phone_enc, created_at) VALUES "+strings.Join(hv, ","), hargs...)
		f.exec("INSERT INTO licences (id, identifier, number_enc, number_idx, type_code, holder_id, issuer_id, issued_on, valid_from, valid_until, status, annotations, version, face_enc, seal, created_at, updated_at) VALUES "+strings.Join(lv, ","), largs...)
		if len(av) > 0 {
			f.exec("INSERT INTO accounts (openid, holder_id, subscribed, created_at) VALUES "+strings.Join(av, ","), aargs...)
		}
	}
	return ids
}

// one seeds a single licence with a subscribed, bound account "o-<n>".
func (f *fixture) one(daysLeft int) (licenceID int64, openid string) {
	f.t.Helper()
	openid = fmt.Sprintf("o-%d", f.nextID)
	ids := f.seed([]lic{{until: f.day(daysLeft), openid: openid, subscribed: true}})
	return ids[0], openid
}

func defaultOptions() reminder.Options {
	return reminder.Options{
		Location: shanghai, DailyAt: 9 * 60,
		Quiet:  reminder.QuietHours{Start: 21 * 60, End: 8 * 60, Set: true},
		Stages: []int{90, 30, 7}, MaxAttempts: 3, BatchSize: 50,
		Lease: 2 * time.Minute, RetryBase: 30 * time.Second, PollInterval: 10 * time.Millisecond,
		TemplateID: templateID,
		Keywords: map[string]string{
			"thing1": reminder.FieldLicenceName, "thing2": reminder.FieldHolderName,
			"time3": reminder.FieldExpiryDate, "number4": reminder.FieldDaysLeft, "thing5": reminder.FieldIssuer,
		},
		ChangeTemplateID: changeTpl,
		ChangeKeywords: map[string]string{
			"thing1": reminder.FieldLicenceName, "thing2": reminder.FieldHolderName, "phrase3": reminder.FieldChange,
			"phrase4": reminder.FieldStatus, "time5": reminder.FieldChangeDate, "time6": reminder.FieldExpiryDate,
		},
		PublicURL: publicURL,
	}
}

// newWeChat returns a WeChat client on the shared fake with the fixture's
// Redis prefix.
func newWeChat(t testing.TB, rc *redisx.Client) *wechat.Client {
	t.Helper()
	wx, err := wechat.New(wechat.Options{
		AppID: appID, AppSecret: appSecret, Token: "test-token",
		APIBase: fakeURL, HTTPTimeout: wxTimeout, KeyPrefix: rc.Key(),
	}, rc.Redis())
	if err != nil {
		t.Fatalf("wechat client: %v", err)
	}
	return wx
}

// service builds a Service on st (the fixture's store when nil) sending
// through the fake. mod adjusts the options.
func (f *fixture) service(st *store.Store, mod func(*reminder.Options)) (*reminder.Service, *reminder.Metrics) {
	f.t.Helper()
	if st == nil {
		st = f.st
	}
	rem, err := store.NewReminders(st)
	if err != nil {
		f.t.Fatal(err)
	}
	sender, err := wxsender.New(newWeChat(f.t, f.redis))
	if err != nil {
		f.t.Fatal(err)
	}
	return f.serviceWith(rem, sender, mod)
}

func newSender(f *fixture) (reminder.Sender, error) {
	return wxsender.New(newWeChat(f.t, f.redis))
}

func (f *fixture) serviceWith(rem reminder.Store, sender reminder.Sender, mod func(*reminder.Options)) (*reminder.Service, *reminder.Metrics) {
	f.t.Helper()
	o := defaultOptions()
	if mod != nil {
		mod(&o)
	}
	m, err := reminder.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		f.t.Fatal(err)
	}
	svc, err := reminder.NewService(reminder.Deps{Store: rem, Sender: sender, Log: f.log, Metrics: m, Now: f.clock.Now}, o)
	if err != nil {
		f.t.Fatalf("NewService: %v", err)
	}
	return svc, m
}

// row is an outbox row as the tests read it.
type row struct {
	ID         int64
	LicenceID  int64
	Stage      int
	State      string
	Reason     string
	Attempts   int
	LastError  string
	MsgID      int64
	OpenID     string
	LeasedBy   string
	NextDue    time.Time
	ExpiryDate string
}

func (f *fixture) rows(where string, args ...any) []row {
	f.t.Helper()
	q := `SELECT id, licence_id, stage, state, COALESCE(reason, ''), attempts, COALESCE(last_error, ''),
  COALESCE(msgid, 0), openid, COALESCE(leased_by, ''), next_attempt_at, expiry_date FROM reminders`
	if where != "" {
		q += " WHERE " + where
	}
	q += " ORDER BY id"
	rs, err := f.raw.QueryContext(f.ctx, q, args...)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		var next, expiry any
		if err := rs.Scan(&r.ID, &r.LicenceID, &r.Stage, &r.State, &r.Reason, &r.Attempts, &r.LastError,
			&r.MsgID, &r.OpenID, &r.LeasedBy, &next, &expiry); err != nil {
			f.t.Fatal(err)
		}
		r.NextDue = asTime(f.t, next)
		r.ExpiryDate = asTime(f.t, expiry).Format(time.DateOnly)
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		f.t.Fatal(err)
	}
	return out
}

// asTime reads a DATE/DATETIME the way either driver returns it.
func asTime(t testing.TB, v any) time.Time {
	switch x := v.(type) {
	case time.Time:
		return x.UTC()
	case []byte:
		return parseTime(t, string(x))
	case string:
		return parseTime(t, x)
	}
	t.Fatalf("unexpected time value %T %v", v, v)
	return time.Time{}
}

func parseTime(t testing.TB, s string) time.Time {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999", time.DateOnly} {
		if x, err := time.Parse(layout, s); err == nil {
			return x.UTC()
		}
	}
	t.Fatalf("unreadable time %q", s)
	return time.Time{}
}

// stageRow returns the row of a licence's stage, failing if there is none.
func (f *fixture) stageRow(licenceID int64, stage int) row {
	f.t.Helper()
	rs := f.rows("licence_id = ? AND stage = ?", licenceID, stage)
	if len(rs) != 1 {
		f.t.Fatalf("licence %d stage %d: %d rows", licenceID, stage, len(rs))
	}
	return rs[0]
}

// sendCount is how many sends of a row the fake accepted.
func sendCount(id int64) int { return fake.SendCount(fmt.Sprint(id)) }

// waitFor polls cond until it holds or a generous deadline passes; it
// bounds the test, it does not time anything.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// child process ------------------------------------------------------------

// Environment of a dispatcher child process.
const (
	childDriver = "ELICENCE_REMINDER_TEST_DRIVER"
	childDSN    = "ELICENCE_REMINDER_TEST_DSN"
	childFake   = "ELICENCE_REMINDER_TEST_FAKE"
	childRedis  = "ELICENCE_REMINDER_TEST_REDIS_PREFIX"
	childWorker = "ELICENCE_REMINDER_TEST_WORKER"
)

// runChild is a dispatcher process: it drains the outbox of the database
// in its environment through the parent's fake WeChat, on the real clock
// without quiet hours, and exits 0.
func runChild() int {
	ctx := context.Background()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	fail := func(err error) int {
		log.Error("child failed", "error", err)
		return 2
	}
	st, err := store.Open(ctx, os.Getenv(childDriver), os.Getenv(childDSN), store.WithSealer(storetest.Sealer()))
	if err != nil {
		return fail(err)
	}
	defer st.Close()
	rem, err := store.NewReminders(st)
	if err != nil {
		return fail(err)
	}
	rcfg := redistest.Config(redistest.Addr())
	rcfg.KeyPrefix = os.Getenv(childRedis)
	rc, err := redisx.Open(ctx, rcfg)
	if err != nil {
		return fail(err)
	}
	defer rc.Close()
	wx, err := wechat.New(wechat.Options{AppID: appID, AppSecret: appSecret, Token: "test-token",
		APIBase: os.Getenv(childFake), HTTPTimeout: 5 * time.Second, KeyPrefix: rc.Key()}, rc.Redis())
	if err != nil {
		return fail(err)
	}
	sender, err := wxsender.New(wx)
	if err != nil {
		return fail(err)
	}
	o := defaultOptions()
	o.Quiet = reminder.QuietHours{}
	o.Worker = os.Getenv(childWorker)
	o.RetryBase = 100 * time.Millisecond
	m, err := reminder.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		return fail(err)
	}
	svc, err := reminder.NewService(reminder.Deps{Store: rem, Sender: sender, Log: log, Metrics: m, Now: time.Now}, o)
	if err != nil {
		return fail(err)
	}
	// Drain until the queue is empty (rows leased by the other processes
	// included), so a send that failed on a loaded machine is retried
	// after its short backoff rather than left behind.
	var sum reminder.Summary
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if err := svc.Drain(ctx, &sum); err != nil {
			return fail(err)
		}
		qs, err := rem.QueueStats(ctx, time.Now())
		if err != nil {
			return fail(err)
		}
		if qs.Depth == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fail(fmt.Errorf("%d rows still queued", qs.Depth))
		}
		time.Sleep(50 * time.Millisecond)
	}
	log.Info("child done", "sent", sum.Sent, "claimed", sum.Claimed, "retried", sum.Retried)
	return 0
}
