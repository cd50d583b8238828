// Package realname binds a WeChat account to a holder on record (实名认证).
//
// Knowing a person's name and ID number must never be enough to see their
// licences, so binding takes two steps: Start checks name + ID number
// against the holder records and sends a 6-digit code to the phone on
// record; Confirm checks that code.
//
// Failed tries (a no-match at Start, a wrong code at Confirm) lock what
// made them: the account, the client address, and the pairs (ID number,
// account) and (ID number, address). They never lock the ID number as such,
// so a stranger who knows a holder's name and number can lock only
// themselves, never the holder's own account from another phone. Guessing
// the code stays hopeless without a global lock: a challenge belongs to the
// account that started it and dies after MaxFailures wrong codes, and the
// texts that create challenges are capped per day per ID number (as well as
// per account, per address and per (ID number, requester)), so one number
// sees at most SMSPerIDNumberDaily × MaxFailures guesses a day at a
// million-to-one each, and its phone at most SMSPerIDNumberDaily texts.
package realname

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"strings"
	"time"

	"github.com/yangcheng-county/elicence/internal/account"
	"github.com/yangcheng-county/elicence/internal/ident"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/sms"
	"github.com/yangcheng-county/elicence/internal/token"
)

// Errors returned by the service; dependency failures come back wrapped as
// they are (fault.Unavailable).
var (
	// ErrInvalidIDNumber means the ID number fails the GB 11643 check.
	ErrInvalidIDNumber = errors.New("realname: invalid id number")
	// ErrNoMatch means no holder has this ID number and name. The same
	// error covers "no such ID number" and "wrong name", so the endpoint
	// cannot be used to learn who is on record.
	ErrNoMatch = errors.New("realname: no matching holder")
	// ErrCodeInvalid means the code is wrong, or the challenge is unknown,
	// expired, used or another account's.
	ErrCodeInvalid = errors.New("realname: code invalid")
	// ErrTooManyAttempts means the account or the ID number reached the
	// failure limit for the current window.
	ErrTooManyAttempts = errors.New("realname: too many failed attempts")
	// ErrResendTooSoon means a code was sent to this account less than
	// ResendInterval ago.
	ErrResendTooSoon = errors.New("realname: code requested too soon")
	// ErrDailyLimit means today's texts for this ID number, account or
	// client address are used up.
	ErrDailyLimit = errors.New("realname: daily code limit reached")
)

// perRequesterDaily caps the texts one account, or one client address, may
// have sent to one ID number's phone in a day: a lone stranger cannot use
// up the number's whole daily allowance.
const perRequesterDaily = 3

// idTypeResident is the GB/T 36903 ID type of a resident identity card.
const idTypeResident = "111"

// Challenge is a pending confirmation. It holds no plain code and no plain
// ID number.
type Challenge struct {
	OpenID   string `json:"openid"`
	HolderID int64  `json:"holder_id"`
	// IDKey is the keyed hash of the ID number, to count wrong codes
	// against the ID number as well as the account.
	IDKey string `json:"id_key"`
	// CodeMAC is the hex HMAC of the challenge id and the code: a
	// 6-digit code's plain hash could be reversed by trying all million.
	CodeMAC   string    `json:"code_mac"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Store keeps challenges, failure counters and the resend throttle. It
// must fail closed: an error, never "no failures", when it cannot answer.
type Store interface {
	PutChallenge(ctx context.Context, idHash string, ch Challenge, ttl time.Duration) error
	// GetChallenge returns a challenge; ok is false when it does not exist.
	GetChallenge(ctx context.Context, idHash string) (ch Challenge, ok bool, err error)
	// TakeChallenge deletes a challenge and reports whether this call did,
	// so two confirmations racing with one code cannot both bind.
	TakeChallenge(ctx context.Context, idHash string) (bool, error)
	// Failures returns the failures counted under key in the current window.
	Failures(ctx context.Context, key string) (int, error)
	// AddFailure counts one failure under key (the window starts with the
	// first) and returns the new count.
	AddFailure(ctx context.Context, key string, window time.Duration) (int, error)
	// AllowSend reports whether a code may be sent under key (an openid,
	// or an ID number's key) now and, if so, blocks further sends under it
	// for interval.
	AllowSend(ctx context.Context, key string, interval time.Duration) (bool, error)
}

// Holders finds holders by ID number; licence.Repository satisfies it.
type Holders interface {
	HolderByIDNumber(ctx context.Context, idType, idNumber string) (licence.Holder, error)
}

// Options configure a Service; the durations come from config.Realname.
type Options struct {
	CodeTTL        time.Duration
	MaxFailures    int
	FailureWindow  time.Duration
	ResendInterval time.Duration
	// FailuresPerIP bounds failed tries from one client address per
	// FailureWindow; 4 × MaxFailures when zero.
	FailuresPerIP int
	// Daily caps on texts (see the package comment); 10, 5 and 30 when zero.
	SMSPerIDNumberDaily int
	SMSPerAccountDaily  int
	SMSPerIPDaily       int
	// Location sets where a day begins for the daily caps; UTC+8 when nil.
	Location *time.Location
	// Key (at least 32 bytes, from the environment) keys the hashes of
	// codes and ID numbers kept in Redis. Every instance needs the same key.
	Key []byte
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Log receives operational events, never codes, phones or ID numbers.
	Log *slog.Logger
}

// Service runs real-name binding.
type Service struct {
	store    Store
	holders  Holders
	accounts account.Repository
	sms      sms.Gateway
	opts     Options
	codeKey  []byte
	idKey    []byte
}

// NewService checks its dependencies and options.
func NewService(store Store, holders Holders, accounts account.Repository, gw sms.Gateway, opts Options) (*Service, error) {
	switch {
	case store == nil:
		return nil, errors.New("realname: nil store")
	case holders == nil:
		return nil, errors.New("realname: nil holder repository")
	case accounts == nil:
		return nil, errors.New("realname: nil account repository")
	case gw == nil:
		return nil, errors.New("realname: nil sms gateway")
	case opts.CodeTTL <= 0 || opts.FailureWindow <= 0 || opts.ResendInterval < 0:
		return nil, errors.New("realname: code TTL and failure window must be positive")
	case opts.MaxFailures < 1:
		return nil, errors.New("realname: max failures must be at least 1")
	case len(opts.Key) < 32:
		return nil, errors.New("realname: key must be at least 32 bytes")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	for _, d := range []struct {
		v   *int
		def int
	}{{&opts.FailuresPerIP, 4 * opts.MaxFailures}, {&opts.SMSPerIDNumberDaily, 10}, {&opts.SMSPerAccountDaily, 5}, {&opts.SMSPerIPDaily, 30}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if opts.Location == nil {
		opts.Location = time.FixedZone("UTC+8", 8*3600)
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Service{
		store: store, holders: holders, accounts: accounts, sms: gw, opts: opts,
		// Separate subkeys: a code hash can never be confused with an ID hash.
		codeKey: mac(opts.Key, "realname code"),
		idKey:   mac(opts.Key, "realname id number"),
	}, nil
}

// Start checks name and ID number against the holder records and, on a
// match, sends a code to the holder's phone on record. ip is the caller's
// address ("" when unknown). It returns the challenge id to confirm with
// and the masked phone the code went to.
func (s *Service) Start(ctx context.Context, openid, ip, name, idNumber string) (challengeID, phoneHint string, err error) {
	id := ident.NormaliseResidentID(idNumber)
	if !ident.ValidResidentID(id) {
		return "", "", ErrInvalidIDNumber
	}
	idKey := s.idNumberKey(id)
	locks := s.locks(openid, ip, idKey)
	if err := s.checkLimits(ctx, locks...); err != nil {
		return "", "", err
	}
	h, err := s.holders.HolderByIDNumber(ctx, idTypeResident, id)
	if err != nil && !errors.Is(err, licence.ErrNotFound) {
		return "", "", fmt.Errorf("realname: find holder: %w", err)
	}
	if err != nil || h.Name != strings.TrimSpace(name) || h.Phone == "" {
		if err == nil && h.Phone == "" {
			s.opts.Log.WarnContext(ctx, "realname: holder has no phone on record", "holder_id", h.ID)
		}
		return "", "", s.fail(ctx, ErrNoMatch, locks...)
	}
	caps := s.dailyCaps(openid, ip, idKey)
	if err := s.checkLimits(ctx, caps...); errors.Is(err, ErrTooManyAttempts) {
		return "", "", ErrDailyLimit
	} else if err != nil {
		return "", "", err
	}
	// Throttled per ID number as well as per account: otherwise anyone who
	// knows a name and ID number could aim one SMS a minute per WeChat
	// account they control at the holder's phone. The number goes first so
	// that a refused try does not also hold back the account.
	for _, k := range []string{idKey, openid} {
		ok, err := s.store.AllowSend(ctx, k, s.opts.ResendInterval)
		if err != nil {
			return "", "", fmt.Errorf("realname: resend throttle: %w", err)
		}
		if !ok {
			return "", "", ErrResendTooSoon
		}
	}
	for _, c := range caps {
		if _, err := s.store.AddFailure(ctx, c.key, 25*time.Hour); err != nil {
			return "", "", fmt.Errorf("realname: count text: %w", err)
		}
	}
	code, err := randomCode()
	if err != nil {
		return "", "", err
	}
	challengeID, err = token.New()
	if err != nil {
		return "", "", err
	}
	ch := Challenge{
		OpenID: openid, HolderID: h.ID, IDKey: idKey,
		CodeMAC:   s.codeMAC(challengeID, code),
		ExpiresAt: s.opts.Now().Add(s.opts.CodeTTL),
	}
	if err := s.store.PutChallenge(ctx, token.Hash(challengeID), ch, s.opts.CodeTTL); err != nil {
		return "", "", fmt.Errorf("realname: store challenge: %w", err)
	}
	text := fmt.Sprintf("【阳城县政务服务】您正在进行电子证照实名认证,验证码%s,%d分钟内有效。如非本人操作,请忽略本短信。",
		code, int(s.opts.CodeTTL.Round(time.Minute)/time.Minute))
	if err := s.sms.Send(ctx, h.Phone, text); err != nil {
		return "", "", fmt.Errorf("realname: send code: %w", err)
	}
	s.opts.Log.InfoContext(ctx, "realname: code sent", "holder_id", h.ID, "phone", ident.MaskPhone(h.Phone))
	return challengeID, ident.MaskPhone(h.Phone), nil
}

// Confirm checks the code of a challenge started by the same account and,
// if it is right, binds the account to the holder. A challenge is used up
// by its first correct code; a wrong code counts as a failure, and the
// MaxFailures-th wrong code on one challenge ends it.
func (s *Service) Confirm(ctx context.Context, openid, ip, challengeID, code string) error {
	if err := s.checkLimits(ctx, s.locks(openid, ip, "")...); err != nil {
		return err
	}
	h := token.Hash(challengeID)
	ch, ok, err := s.store.GetChallenge(ctx, h)
	if err != nil {
		return fmt.Errorf("realname: get challenge: %w", err)
	}
	now := s.opts.Now()
	if !ok || ch.OpenID != openid || !now.Before(ch.ExpiresAt) {
		return ErrCodeInvalid
	}
	locks := s.locks(openid, ip, ch.IDKey)
	if err := s.checkLimits(ctx, locks...); err != nil {
		return err
	}
	want, err := hex.DecodeString(ch.CodeMAC)
	if err != nil {
		return fmt.Errorf("realname: stored challenge is corrupt: %w", err)
	}
	got, _ := hex.DecodeString(s.codeMAC(challengeID, strings.TrimSpace(code)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		tries, err := s.store.AddFailure(ctx, "ch:"+h, s.opts.CodeTTL)
		if err != nil {
			return fmt.Errorf("realname: count failure: %w", err)
		}
		if tries >= s.opts.MaxFailures {
			if _, err := s.store.TakeChallenge(ctx, h); err != nil {
				return fmt.Errorf("realname: end challenge: %w", err)
			}
		}
		return s.fail(ctx, ErrCodeInvalid, locks...)
	}
	taken, err := s.store.TakeChallenge(ctx, h)
	if err != nil {
		return fmt.Errorf("realname: take challenge: %w", err)
	}
	if !taken { // a concurrent confirmation won
		return ErrCodeInvalid
	}
	if err := s.accounts.BindHolder(ctx, openid, ch.HolderID, now); err != nil {
		return fmt.Errorf("realname: bind holder: %w", err)
	}
	s.opts.Log.InfoContext(ctx, "realname: account bound", "holder_id", ch.HolderID)
	return nil
}

// limit is a counter key and the count at which it refuses.
type limit struct {
	key string
	max int
}

// locks are the failure counters a try by openid from ip counts against,
// for the ID number keyed idKey ("" when not known yet). None is the ID
// number alone: a stranger's failures must not lock out its holder.
func (s *Service) locks(openid, ip, idKey string) []limit {
	l := []limit{{accountKey(openid), s.opts.MaxFailures}}
	if ip != "" {
		l = append(l, limit{"ip:" + ip, s.opts.FailuresPerIP})
	}
	if idKey != "" {
		l = append(l, limit{idKey + ":acct:" + openid, s.opts.MaxFailures})
		if ip != "" {
			l = append(l, limit{idKey + ":ip:" + ip, s.opts.MaxFailures})
		}
	}
	return l
}

// dailyCaps are today's text counters for a send to idKey's phone.
func (s *Service) dailyCaps(openid, ip, idKey string) []limit {
	day := s.opts.Now().In(s.opts.Location).Format("20060102")
	c := []limit{
		{"sms:" + day + ":" + idKey, s.opts.SMSPerIDNumberDaily},
		{"sms:" + day + ":" + accountKey(openid), s.opts.SMSPerAccountDaily},
		{"sms:" + day + ":" + idKey + ":acct:" + openid, perRequesterDaily},
	}
	if ip != "" {
		c = append(c,
			limit{"sms:" + day + ":ip:" + ip, s.opts.SMSPerIPDaily},
			limit{"sms:" + day + ":" + idKey + ":ip:" + ip, perRequesterDaily})
	}
	return c
}

// checkLimits refuses when any counter has reached its limit.
func (s *Service) checkLimits(ctx context.Context, limits ...limit) error {
	for _, l := range limits {
		n, err := s.store.Failures(ctx, l.key)
		if err != nil {
			return fmt.Errorf("realname: read failures: %w", err)
		}
		if n >= l.max {
			return ErrTooManyAttempts
		}
	}
	return nil
}

// fail counts a failed try under every lock and returns cause, or
// ErrTooManyAttempts when this try used up the last one.
func (s *Service) fail(ctx context.Context, cause error, limits ...limit) error {
	limited := false
	for _, l := range limits {
		n, err := s.store.AddFailure(ctx, l.key, s.opts.FailureWindow)
		if err != nil {
			return fmt.Errorf("realname: count failure: %w", err)
		}
		limited = limited || n >= l.max
	}
	if limited {
		s.opts.Log.WarnContext(ctx, "realname: failure limit reached")
		return ErrTooManyAttempts
	}
	return cause
}

func accountKey(openid string) string { return "acct:" + openid }

// idNumberKey names the per-ID-number counter by a keyed hash, so Redis
// never holds an ID number and its keys cannot be reversed by trying the
// (small) space of valid ID numbers without the key.
func (s *Service) idNumberKey(id string) string {
	return "id:" + hex.EncodeToString(mac(s.idKey, id))
}

func (s *Service) codeMAC(challengeID, code string) string {
	return hex.EncodeToString(mac(s.codeKey, challengeID+"\x00"+code))
}

func mac(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

var million = big.NewInt(1_000_000)

// randomCode draws a uniform 6-digit code from the CSPRNG (rand.Int
// rejects out-of-range samples, so there is no modulo bias).
func randomCode() (string, error) {
	n, err := rand.Int(rand.Reader, million)
	if err != nil {
		return "", fmt.Errorf("realname: random code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}
