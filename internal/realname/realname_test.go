package realname_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/account"
	"github.com/yangcheng-county/elicence/internal/fault"
	"github.com/yangcheng-county/elicence/internal/ident"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/realname"
	"github.com/yangcheng-county/elicence/internal/redisx"
	"github.com/yangcheng-county/elicence/internal/redisx/redistest"
	"github.com/yangcheng-county/elicence/internal/sms"
	"github.com/yangcheng-county/elicence/internal/testkit"
)

const (
	zhangsanID    = "140522198503120016"
	zhangsanPhone = "13800000001"
)

type holders map[string]licence.Holder

func (h holders) HolderByIDNumber(_ context.Context, idType, id string) (licence.Holder, error) {
	if idType != "111" {
		return licence.Holder{}, fmt.Errorf("unexpected id type %q", idType)
	}
	if x, ok := h[id]; ok {
		return x, nil
	}
	return licence.Holder{}, licence.ErrNotFound
}

type memAccounts struct {
	account.Repository
	mu    sync.Mutex
	bound map[string]int64
}

func (m *memAccounts) BindHolder(_ context.Context, openid string, holderID int64, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.bound[openid] = holderID
	return nil
}

func (m *memAccounts) holderOf(openid string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bound[openid]
}

type fixture struct {
	svc      *realname.Service
	client   *redisx.Client
	outbox   *sms.DevOutbox
	accounts *memAccounts
	clock    *testkit.Clock
	logs     *bytes.Buffer
}

func newFixture(t *testing.T, gw sms.Gateway) *fixture {
	t.Helper()
	c := redistest.Open(t)
	store, err := redisx.NewRealname(c)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{
		client:   c,
		outbox:   sms.NewDevOutbox(0, nil),
		accounts: &memAccounts{bound: map[string]int64{}},
		clock:    testkit.NewClock(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)),
		logs:     &bytes.Buffer{},
	}
	if gw == nil {
		gw = f.outbox
	}
	hs := holders{
		zhangsanID:                         {ID: 1, Name: "张三", IDType: "111", IDNumber: zhangsanID, Phone: zhangsanPhone},
		"140522199007080021":               {ID: 2, Name: "李四", IDType: "111", IDNumber: "140522199007080021", Phone: "13800000002"},
		residentID(t, "14052219700101001"): {ID: 3, Name: "赵六", IDType: "111"}, // no phone on record
	}
	f.svc, err = realname.NewService(store, hs, f.accounts, gw, realname.Options{
		CodeTTL: 5 * time.Minute, MaxFailures: 5, FailureWindow: time.Hour, ResendInterval: time.Minute,
		Key: bytes.Repeat([]byte{7}, 32), Now: f.clock.Now,
		Log: slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// residentID completes 17 digits with their GB 11643 check character.
func residentID(t *testing.T, first17 string) string {
	t.Helper()
	c, err := ident.ResidentIDCheckChar(first17)
	if err != nil {
		t.Fatal(err)
	}
	return first17 + string(c)
}

func (f *fixture) lastCode(t *testing.T) string {
	t.Helper()
	msgs := f.outbox.List()
	if len(msgs) == 0 {
		t.Fatal("no SMS sent")
	}
	return msgs[0].Code
}

// startZhangsan begins 张三's binding from openid, the first step of every
// test of the confirm step, and returns the challenge and the texted code.
func (f *fixture) startZhangsan(t *testing.T, openid string) (ch, code string) {
	t.Helper()
	ch, _, err := f.svc.Start(context.Background(), openid, "", "张三", zhangsanID)
	if err != nil {
		t.Fatalf("%s Start: %v", openid, err)
	}
	return ch, f.lastCode(t)
}

// wantStart fails the test unless Start(openid, name, id) returns an error
// matching want (nil: success); what says which step of the test it was.
func (f *fixture) wantStart(t *testing.T, what, openid, name, id string, want error) {
	t.Helper()
	if _, _, err := f.svc.Start(context.Background(), openid, "", name, id); !errors.Is(err, want) {
		t.Fatalf("%s: Start = %v, want %v", what, err, want)
	}
}

// wantConfirm fails the test unless Confirm(openid, ch, code) returns an
// error matching want (nil: success); what says which step it was.
func (f *fixture) wantConfirm(t *testing.T, what, openid, ch, code string, want error) {
	t.Helper()
	if err := f.svc.Confirm(context.Background(), openid, "", ch, code); !errors.Is(err, want) {
		t.Fatalf("%s: Confirm = %v, want %v", what, err, want)
	}
}

// passResendInterval lets the resend throttles (per ID number and per
// account) lapse, as a minute's wait would.
func (f *fixture) passResendInterval(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	keys, err := f.client.Redis().Keys(ctx, f.client.Key("rl", "realname", "send:*")).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		f.client.Redis().Del(ctx, k)
	}
}

// wrongCode is a well-formed code other than code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func TestBind(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	ch, hint, err := f.svc.Start(ctx, "o-zhang", "", " 张三 ", strings.ToLower(zhangsanID))
	if err != nil {
		t.Fatal(err)
	}
	if hint != "138****0001" {
		t.Errorf("phone hint = %q", hint)
	}
	msgs := f.outbox.List()
	if len(msgs) != 1 || msgs[0].Phone != zhangsanPhone {
		t.Fatalf("outbox = %+v, want one message to the phone on record", msgs)
	}
	code := msgs[0].Code
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		t.Fatalf("code %q is not 6 digits", code)
	}
	if f.accounts.holderOf("o-zhang") != 0 {
		t.Fatal("bound before the code was confirmed")
	}
	f.wantConfirm(t, "first Confirm", "o-zhang", ch, code, nil)
	if got := f.accounts.holderOf("o-zhang"); got != 1 {
		t.Fatalf("bound to holder %d, want 1", got)
	}
	// Single use.
	f.wantConfirm(t, "second Confirm", "o-zhang", ch, code, realname.ErrCodeInvalid)
}

func TestStartRefusals(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, holder, id string
		want             error
	}{
		{"bad check digit", "张三", "140522198503120017", realname.ErrInvalidIDNumber},
		{"too short", "张三", "14052219850312001", realname.ErrInvalidIDNumber},
		{"letters", "张三", "14052219850312ABCD", realname.ErrInvalidIDNumber},
		{"empty", "张三", "", realname.ErrInvalidIDNumber},
		{"wrong name", "李四", zhangsanID, realname.ErrNoMatch},
		{"name with a different character", "张叁", zhangsanID, realname.ErrNoMatch},
		{"empty name", "", zhangsanID, realname.ErrNoMatch},
		{"王五: valid number, no holder", "王五", residentID(t, "14052219900101003"), realname.ErrNoMatch},
		{"holder without phone", "赵六", residentID(t, "14052219700101001"), realname.ErrNoMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			_, _, err := f.svc.Start(ctx, "o-x", "", tt.holder, tt.id)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Start = %v, want %v", err, tt.want)
			}
			if n := len(f.outbox.List()); n != 0 {
				t.Fatalf("%d SMS sent on a refusal", n)
			}
		})
	}
}

func TestWrongCodesLockOut(t *testing.T) {
	f := newFixture(t, nil)
	ch, code := f.startZhangsan(t, "o-zhang")
	for i := 1; i <= 5; i++ {
		want := realname.ErrCodeInvalid
		if i == 5 {
			want = realname.ErrTooManyAttempts
		}
		f.wantConfirm(t, fmt.Sprintf("wrong code #%d", i), "o-zhang", ch, wrongCode(code), want)
	}
	f.wantConfirm(t, "right code after 5 failures", "o-zhang", ch, code, realname.ErrTooManyAttempts)
	if f.accounts.holderOf("o-zhang") != 0 {
		t.Fatal("bound despite the lock-out")
	}
	// The account is locked for new challenges too.
	f.wantStart(t, "after lock-out", "o-zhang", "张三", zhangsanID, realname.ErrTooManyAttempts)
	// The window ends after an hour (Redis TTL).
	ttl := f.client.Redis().TTL(context.Background(), f.client.Key("rl", "realname", "acct:o-zhang")).Val()
	if ttl <= 50*time.Minute || ttl > time.Hour {
		t.Fatalf("failure window TTL = %s, want ~1h", ttl)
	}
}

// startFrom is Start by openid from ip with 张三's number.
func (f *fixture) startFrom(openid, ip, name string) error {
	_, _, err := f.svc.Start(context.Background(), openid, ip, name, zhangsanID)
	return err
}

// TestStrangerCannotLockOutHolder: failures against a holder's number lock
// the stranger's account and address (for that number), never the number:
// the holder, on their own account and phone, binds as usual.
func TestStrangerCannotLockOutHolder(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	for i := 0; i < 4; i++ {
		if err := f.startFrom("o-stranger", "203.0.113.9", "李四"); !errors.Is(err, realname.ErrNoMatch) {
			t.Fatalf("stranger guess %d: %v, want no match", i+1, err)
		}
	}
	if err := f.startFrom("o-stranger", "203.0.113.9", "王二"); !errors.Is(err, realname.ErrTooManyAttempts) {
		t.Fatalf("stranger's 5th guess: %v, want locked", err)
	}
	// The stranger stays locked, even with the right name and from a new
	// account on the same address (the (number, address) lock)…
	if err := f.startFrom("o-stranger", "203.0.113.9", "张三"); !errors.Is(err, realname.ErrTooManyAttempts) {
		t.Fatalf("stranger with the right name: %v, want locked", err)
	}
	if err := f.startFrom("o-stranger-2", "203.0.113.9", "张三"); !errors.Is(err, realname.ErrTooManyAttempts) {
		t.Fatalf("second account on the stranger's address: %v, want locked", err)
	}
	// …while the holder binds from their own account and address.
	ch, _, err := f.svc.Start(ctx, "o-zhang", "198.51.100.7", "张三", zhangsanID)
	if err != nil {
		t.Fatalf("holder's own Start after the stranger's lock-out: %v", err)
	}
	if err := f.svc.Confirm(ctx, "o-zhang", "198.51.100.7", ch, f.lastCode(t)); err != nil {
		t.Fatalf("holder's Confirm: %v", err)
	}
	// The counters are keyed by a hash, never by the number itself.
	keys, _ := f.client.Redis().Keys(ctx, f.client.Key("*")).Result()
	for _, k := range keys {
		if strings.Contains(k, zhangsanID) || strings.Contains(k, "198503120016") {
			t.Errorf("Redis key %q contains the ID number", k)
		}
	}
}

// TestWrongCodesEndTheChallenge: wrong codes lock the account that made
// them, and the 5th ends the challenge, so no account gets more than 5
// guesses per text; the holder's account is unaffected.
func TestWrongCodesEndTheChallenge(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	ch, code := f.startZhangsan(t, "o-a")
	for i := 0; i < 5; i++ {
		f.svc.Confirm(ctx, "o-a", "", ch, wrongCode(code))
	}
	if ok, _ := f.client.Redis().Exists(ctx, f.client.Key("realname", "ch", hashOf(ch))).Result(); ok != 0 {
		t.Fatal("challenge still stored after 5 wrong codes")
	}
	f.passResendInterval(t)
	f.wantStart(t, "holder after another account's wrong codes", "o-zhang", "张三", zhangsanID, nil)
}

// TestDailyTextCaps: texts to one number are capped per requester (3) and
// in all (sms_per_id_number_daily), and per account; the caps reset the
// next day.
func TestDailyTextCaps(t *testing.T) {
	f := newFixture(t, nil)
	send := func(openid, ip string) error {
		f.passResendInterval(t)
		f.clock.Add(2 * time.Minute)
		return f.startFrom(openid, ip, "张三")
	}
	// One stranger: 3 texts to the number, then refused.
	for i := 0; i < 3; i++ {
		if err := send("o-s1", "203.0.113.1"); err != nil {
			t.Fatalf("stranger text %d: %v", i+1, err)
		}
	}
	if err := send("o-s1", "203.0.113.1"); !errors.Is(err, realname.ErrDailyLimit) {
		t.Fatalf("4th text from one requester: %v, want the daily limit", err)
	}
	// Others fill the number's allowance of 10…
	for i := 0; i < 7; i++ {
		if err := send(fmt.Sprintf("o-s%d", i+2), fmt.Sprintf("203.0.113.%d", i+2)); err != nil {
			t.Fatalf("text %d to the number: %v", i+4, err)
		}
	}
	if err := send("o-zhang", "198.51.100.7"); !errors.Is(err, realname.ErrDailyLimit) {
		t.Fatalf("11th text to the number: %v, want the daily limit", err)
	}
	if n := len(f.outbox.List()); n != 10 {
		t.Fatalf("%d texts sent to the number, want 10", n)
	}
	// …and the next day it has its allowance again.
	f.clock.Add(24 * time.Hour)
	if err := send("o-zhang", "198.51.100.7"); err != nil {
		t.Fatalf("next day: %v", err)
	}
	// One account: 5 texts a day whatever the numbers.
	g := newFixture(t, nil)
	ids := []struct{ name, id string }{{"张三", zhangsanID}, {"李四", "140522199007080021"}}
	for i := 0; i < 6; i++ {
		g.passResendInterval(t)
		p := ids[i%2]
		_, _, err := g.svc.Start(context.Background(), "o-x", "", p.name, p.id)
		want := error(nil)
		if i == 5 {
			want = realname.ErrDailyLimit
		}
		if !errors.Is(err, want) {
			t.Fatalf("account text %d: %v, want %v", i+1, err, want)
		}
	}
}

func TestAccountLimitAcrossIDNumbers(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	for i := 0; i < 5; i++ {
		id := residentID(t, fmt.Sprintf("1405221990010100%d", i))
		f.svc.Start(ctx, "o-scan", "", "王五", id)
	}
	f.wantStart(t, "account after 5 no-matches", "o-scan", "张三", zhangsanID, realname.ErrTooManyAttempts)
}

func TestCodeExpires(t *testing.T) {
	f := newFixture(t, nil)
	ch, code := f.startZhangsan(t, "o-zhang")
	f.clock.Add(5 * time.Minute)
	f.wantConfirm(t, "after 5 minutes", "o-zhang", ch, code, realname.ErrCodeInvalid)
	ttl := f.client.Redis().TTL(context.Background(), f.client.Key("realname", "ch", hashOf(ch))).Val()
	if ttl <= 4*time.Minute || ttl > 5*time.Minute {
		t.Fatalf("challenge TTL = %s, want ~5m", ttl)
	}
}

func TestChallengeOfAnotherAccount(t *testing.T) {
	f := newFixture(t, nil)
	ch, code := f.startZhangsan(t, "o-zhang")
	f.wantConfirm(t, "another account's challenge", "o-thief", ch, code, realname.ErrCodeInvalid)
	if f.accounts.holderOf("o-thief") != 0 {
		t.Fatal("thief bound")
	}
	// The owner is unaffected.
	f.wantConfirm(t, "owner", "o-zhang", ch, code, nil)
}

func TestResendThrottle(t *testing.T) {
	f := newFixture(t, nil)
	f.wantStart(t, "first", "o-zhang", "张三", zhangsanID, nil)
	f.wantStart(t, "second within the interval", "o-zhang", "张三", zhangsanID, realname.ErrResendTooSoon)
	if n := len(f.outbox.List()); n != 1 {
		t.Fatalf("%d SMS sent, want 1", n)
	}
}

type failingGateway struct{}

func (failingGateway) Send(context.Context, string, string) error {
	return fault.Unavailable("sms gateway", errors.New("status 502"))
}

func TestSMSFailureIsUnavailable(t *testing.T) {
	f := newFixture(t, failingGateway{})
	_, _, err := f.svc.Start(context.Background(), "o-zhang", "", "张三", zhangsanID)
	if !errors.Is(err, fault.ErrUnavailable) {
		t.Fatalf("Start with the gateway down: %v, want unavailable", err)
	}
}

func TestNothingSecretStoredOrLogged(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	ch, code := f.startZhangsan(t, "o-zhang")
	f.svc.Confirm(ctx, "o-zhang", "", ch, wrongCode(code))
	f.svc.Start(ctx, "o-x", "", "李四", zhangsanID)
	var stored strings.Builder
	keys, _ := f.client.Redis().Keys(ctx, f.client.Key("*")).Result()
	for _, k := range keys {
		stored.WriteString(k + "=" + f.client.Redis().Get(ctx, k).Val() + "\n")
	}
	f.wantConfirm(t, "right code", "o-zhang", ch, code, nil)
	for name, text := range map[string]string{"redis": stored.String(), "logs": f.logs.String()} {
		for _, secret := range []string{zhangsanID, zhangsanPhone, code, ch} {
			if strings.Contains(text, secret) {
				t.Errorf("%s contain %q:\n%s", name, secret, text)
			}
		}
	}
	if !strings.Contains(f.logs.String(), "realname: account bound") {
		t.Errorf("binding not logged: %s", f.logs.String())
	}
}

func TestNewServiceRejectsBadDeps(t *testing.T) {
	c, _ := redistest.Mini(t)
	store, _ := redisx.NewRealname(c)
	ok := realname.Options{CodeTTL: time.Minute, MaxFailures: 5, FailureWindow: time.Hour, Key: make([]byte, 32)}
	short := ok
	short.Key = make([]byte, 16)
	zero := ok
	zero.MaxFailures = 0
	acc := &memAccounts{}
	tests := []struct {
		name  string
		store realname.Store
		hs    realname.Holders
		acc   account.Repository
		gw    sms.Gateway
		opts  realname.Options
	}{
		{"nil store", nil, holders{}, acc, sms.NewDevOutbox(0, nil), ok},
		{"nil holders", store, nil, acc, sms.NewDevOutbox(0, nil), ok},
		{"nil accounts", store, holders{}, nil, sms.NewDevOutbox(0, nil), ok},
		{"nil gateway", store, holders{}, acc, nil, ok},
		{"short key", store, holders{}, acc, sms.NewDevOutbox(0, nil), short},
		{"zero max failures", store, holders{}, acc, sms.NewDevOutbox(0, nil), zero},
	}
	for _, tt := range tests {
		if _, err := realname.NewService(tt.store, tt.hs, tt.acc, tt.gw, tt.opts); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}

func hashOf(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

func TestResendThrottlePerIDNumber(t *testing.T) {
	f := newFixture(t, nil)
	f.wantStart(t, "first", "o-a", "张三", zhangsanID, nil)
	f.wantStart(t, "same number from another account within the interval", "o-b", "张三", zhangsanID, realname.ErrResendTooSoon)
	f.wantStart(t, "another number from the refused account", "o-b", "李四", "140522199007080021", nil)
	if n := len(f.outbox.List()); n != 2 {
		t.Fatalf("%d SMS sent, want 2", n)
	}
}
