package staff

import (
	"context"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/showcode"
	"github.com/yangcheng-county/elicence/internal/token"
)

// ErrEnrolmentRequired is wrapped by *EnrolmentRequired.
var ErrEnrolmentRequired = errors.New("staff: TOTP enrolment required")

// EnrolmentRequired answers a first login with the right password when a
// second factor is required and none is enrolled yet: the authenticator
// app reads URI (or the QR PNG of it), and the next login with a code
// from it confirms the enrolment and opens the session.
type EnrolmentRequired struct {
	URI string
	QR  []byte // PNG
}

func (e *EnrolmentRequired) Error() string { return ErrEnrolmentRequired.Error() }

// Unwrap makes errors.Is(err, ErrEnrolmentRequired) true.
func (e *EnrolmentRequired) Unwrap() error { return ErrEnrolmentRequired }

// Options configure a Service.
type Options struct {
	// Idle ends a session not used for this long; Absolute ends every
	// session this long after login (config console.session_idle and
	// console.session_absolute).
	Idle, Absolute time.Duration
	// MaxFailures failed logins of one username within Lockout lock it
	// until the window ends (console.max_failures, console.lockout).
	MaxFailures int
	Lockout     time.Duration
	// RequireTOTP makes a second factor mandatory; only the embedded demo
	// turns it off, and even then an enrolled member must give a code.
	RequireTOTP bool
	// Issuer names the service in authenticator apps.
	Issuer string
	// Key builds counter keys under the deployment's prefix (redisx
	// Client.Key).
	Key func(parts ...string) string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Service runs staff accounts, logins and console sessions.
type Service struct {
	repo     Repository
	sessions Sessions
	counter  Counter
	opts     Options
	// touchEvery bounds how often a busy session is written back to slide
	// its idle timeout.
	touchEvery time.Duration
	// decoy is verified against when the username is unknown, so a wrong
	// username costs the same time as a wrong password.
	decoy string
}

// NewService checks its dependencies and options.
func NewService(repo Repository, sessions Sessions, counter Counter, opts Options) (*Service, error) {
	switch {
	case repo == nil || sessions == nil || counter == nil:
		return nil, errors.New("staff: nil repository, session store or counter")
	case opts.Key == nil:
		return nil, errors.New("staff: nil key function")
	case opts.Idle <= 0 || opts.Absolute < opts.Idle:
		return nil, fmt.Errorf("staff: bad session timeouts idle=%s absolute=%s", opts.Idle, opts.Absolute)
	case opts.MaxFailures <= 0 || opts.Lockout <= 0:
		return nil, fmt.Errorf("staff: bad lockout max_failures=%d lockout=%s", opts.MaxFailures, opts.Lockout)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Issuer == "" {
		opts.Issuer = "阳城电子证照"
	}
	decoy, err := HashPassword(NewPassword())
	if err != nil {
		return nil, err
	}
	return &Service{repo: repo, sessions: sessions, counter: counter, opts: opts, touchEvery: opts.Idle / 30, decoy: decoy}, nil
}

// Idle is the sessions' idle timeout.
func (s *Service) Idle() time.Duration { return s.opts.Idle }

// Add creates a staff account and returns it with its one-time password,
// which is shown once and stored only as its argon2id hash. Audited as
// staff.add by actor.
func Add(ctx context.Context, repo Repository, actor, username string, role Role, dept licence.Department, now time.Time) (Member, string, error) {
	username = strings.TrimSpace(username)
	switch {
	case !usernamePattern.MatchString(username):
		return Member{}, "", fmt.Errorf("%w: username must be 3 to 32 of a-z 0-9 . _ -, starting with a letter or digit", ErrInvalid)
	case !role.Valid():
		return Member{}, "", fmt.Errorf("%w: role must be one of %v", ErrInvalid, Roles())
	case role.Scoped() && dept.ID == 0:
		return Member{}, "", fmt.Errorf("%w: role %s needs a department", ErrInvalid, role)
	case !role.Scoped() && dept.ID != 0:
		return Member{}, "", fmt.Errorf("%w: role %s is county-wide and takes no department", ErrInvalid, role)
	}
	password := NewPassword()
	hash, err := HashPassword(password)
	if err != nil {
		return Member{}, "", err
	}
	m := Member{Username: username, Role: role, Department: dept, CreatedAt: now}
	detail := "role=" + string(role)
	if dept.ID != 0 {
		detail += " department=" + dept.USCC
	}
	ev := audit.Event{At: now, Actor: actor, Action: "staff.add", Object: "staff:" + username, Detail: detail}
	if m, err = repo.AddStaff(ctx, m, hash, ev); err != nil {
		return Member{}, "", fmt.Errorf("staff: add %s: %w", username, err)
	}
	return m, password, nil
}

// Add creates a staff account (see the package function Add).
func (s *Service) Add(ctx context.Context, actor, username string, role Role, dept licence.Department) (Member, string, error) {
	return Add(ctx, s.repo, actor, username, role, dept, s.opts.Now())
}

// List returns every staff member.
func (s *Service) List(ctx context.Context) ([]Member, error) { return s.repo.ListStaff(ctx) }

// Disable stops a member at once: the account is marked disabled (audited
// as staff.disable by actor) and every session of theirs is revoked. A
// revocation that fails after the mark is harmless: Resolve reads the mark
// on every request.
func Disable(ctx context.Context, repo Repository, sessions Sessions, actor string, id int64, now time.Time) error {
	m, err := repo.Staff(ctx, id)
	if err != nil {
		return fmt.Errorf("staff: disable %d: %w", id, err)
	}
	ev := audit.Event{At: now, Actor: actor, Action: "staff.disable", Object: "staff:" + m.Username}
	if err := repo.DisableStaff(ctx, id, now, ev); err != nil {
		return fmt.Errorf("staff: disable %s: %w", m.Username, err)
	}
	if sessions != nil {
		if err := sessions.DeleteAll(ctx, id); err != nil {
			return fmt.Errorf("staff: revoke sessions of %s: %w", m.Username, err)
		}
	}
	return nil
}

// Disable stops a member at once (see the package function Disable).
func (s *Service) Disable(ctx context.Context, actor string, id int64) error {
	return Disable(ctx, s.repo, s.sessions, actor, id, s.opts.Now())
}

// Credentials are what a login presents.
type Credentials struct {
	Username, Password, OTP string
}

// Session is a live console session.
type Session struct {
	// IDHash is the hex SHA-256 of the cookie value: safe to log.
	IDHash string
	// CSRF is the token unsafe requests must carry (docs/CONSOLE.md).
	CSRF   string
	Member Member
}

// Login checks the credentials and opens a session, returning its raw id
// for the cookie. Every refusal of a known or unknown username is
// ErrLoginFailed and counts towards the lockout; a locked username is
// ErrLocked before its password is even checked. A member with no
// confirmed second factor where one is required gets *EnrolmentRequired
// until a login carries a code of the secret it shows.
func (s *Service) Login(ctx context.Context, c Credentials) (id string, sess Session, err error) {
	username := strings.TrimSpace(c.Username)
	failKey := s.opts.Key("staff", "fail", token.Hash(username))
	n, err := s.counter.Count(ctx, failKey)
	if err != nil {
		return "", Session{}, err
	}
	if n >= s.opts.MaxFailures {
		return "", Session{}, ErrLocked
	}
	m, sec, err := s.repo.StaffByUsername(ctx, username)
	if errors.Is(err, ErrNotFound) {
		_, _ = checkPassword(s.decoy, c.Password)
		return "", Session{}, s.fail(ctx, failKey, username, false)
	}
	if err != nil {
		return "", Session{}, err
	}
	ok, err := checkPassword(sec.PasswordHash, c.Password)
	if err != nil {
		return "", Session{}, fmt.Errorf("staff: login %s: %w", username, err)
	}
	if !ok || m.DisabledAt != nil {
		return "", Session{}, s.fail(ctx, failKey, username, true)
	}
	if err := s.secondFactor(ctx, m, sec, strings.TrimSpace(c.OTP)); err != nil {
		if errors.Is(err, ErrLoginFailed) {
			return "", Session{}, s.fail(ctx, failKey, username, true)
		}
		return "", Session{}, err
	}
	if err := s.counter.Reset(ctx, failKey); err != nil {
		return "", Session{}, err
	}
	return s.open(ctx, m)
}

// fail counts one failed login; the failure that reaches the limit locks
// the username and, for a known one, is audited as staff.lock.
func (s *Service) fail(ctx context.Context, key, username string, known bool) error {
	n, err := s.counter.Add(ctx, key, s.opts.Lockout)
	if err != nil {
		return err
	}
	if known && n == s.opts.MaxFailures {
		if _, err := s.repo.AppendAudit(ctx, audit.Event{At: s.opts.Now(), Actor: audit.ActorSystem("console"), Action: "staff.lock",
			Object: "staff:" + username, Detail: fmt.Sprintf("%d failed logins, locked for %s", n, s.opts.Lockout)}); err != nil {
			return err
		}
	}
	return ErrLoginFailed
}

// secondFactor checks the TOTP code of an enrolled member, or runs the
// enrolment of one who has none where it is required.
func (s *Service) secondFactor(ctx context.Context, m Member, sec Secrets, code string) error {
	if sec.TOTPConfirmed {
		return s.checkCode(ctx, m, sec.TOTPSecret, code)
	}
	if !s.opts.RequireTOTP {
		return nil
	}
	secret := sec.TOTPSecret
	if secret == "" {
		key, err := totp.Generate(totp.GenerateOpts{Issuer: s.opts.Issuer, AccountName: m.Username})
		if err != nil {
			return fmt.Errorf("staff: totp secret: %w", err)
		}
		secret = key.Secret()
		if err := s.repo.SetTOTP(ctx, m.ID, secret, false, nil); err != nil {
			return err
		}
	}
	if code == "" {
		return s.enrolment(m, secret)
	}
	if err := s.checkCode(ctx, m, secret, code); err != nil {
		return err
	}
	ev := audit.Event{At: s.opts.Now(), Actor: m.Actor(), Action: "staff.totp_enrol", Object: "staff:" + m.Username}
	return s.repo.SetTOTP(ctx, m.ID, secret, true, &ev)
}

// enrolment is the answer that shows the pending secret to enrol.
func (s *Service) enrolment(m Member, secret string) error {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return fmt.Errorf("staff: stored totp secret of %s: %w", m.Username, err)
	}
	// The same options as the first Generate, with the stored secret: the
	// library writes the otpauth:// URI the apps read.
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.opts.Issuer, AccountName: m.Username, Secret: raw})
	if err != nil {
		return fmt.Errorf("staff: enrolment URI: %w", err)
	}
	uri := key.URL()
	// Crisp modules at an integer scale, as on the show codes: the
	// library's own scaling makes modules of uneven width at 256 px.
	png, err := showcode.NewRenderer(showcode.DefaultQRSize).PNG(uri)
	if err != nil {
		return fmt.Errorf("staff: enrolment QR: %w", err)
	}
	return &EnrolmentRequired{URI: uri, QR: png}
}

// totpPeriod is the TOTP time step, the authenticator apps' default.
const totpPeriod = 30

// checkCode accepts a 6-digit code of the current step or one step either
// side (clock drift), once: a code seen logging in is refused for the rest
// of its validity, so one read over a shoulder cannot be used again.
func (s *Service) checkCode(ctx context.Context, m Member, secret, code string) error {
	ok, err := totp.ValidateCustom(code, secret, s.opts.Now(), totp.ValidateOpts{
		Period: totpPeriod, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil || !ok {
		return ErrLoginFailed
	}
	n, err := s.counter.Add(ctx, s.opts.Key("staff", "otp", strconv.FormatInt(m.ID, 10), code), 3*totpPeriod*time.Second)
	if err != nil {
		return err
	}
	if n > 1 {
		return ErrLoginFailed
	}
	return nil
}

// open starts a session for m: a fresh id and CSRF token, audited as
// staff.login.
func (s *Service) open(ctx context.Context, m Member) (string, Session, error) {
	id, err := token.New()
	if err != nil {
		return "", Session{}, err
	}
	csrf, err := token.New()
	if err != nil {
		return "", Session{}, err
	}
	now := s.opts.Now()
	h := token.Hash(id)
	if err := s.sessions.Put(ctx, h, SessionRecord{StaffID: m.ID, CSRF: csrf, CreatedAt: now, LastSeen: now}, s.opts.Idle); err != nil {
		return "", Session{}, fmt.Errorf("staff: store session: %w", err)
	}
	if _, err := s.repo.AppendAudit(ctx, audit.Event{At: now, Actor: m.Actor(), Action: "staff.login", Object: "staff:" + m.Username}); err != nil {
		_ = s.sessions.Delete(ctx, m.ID, h)
		return "", Session{}, err
	}
	return id, Session{IDHash: h, CSRF: csrf, Member: m}, nil
}

// Resolve returns the live session of a cookie value, sliding its idle
// timeout. The member is read fresh each time, so a disabled member's
// next request finds no session even if revoking it failed.
func (s *Service) Resolve(ctx context.Context, sessionID string) (Session, error) {
	if !token.WellFormed(sessionID) {
		return Session{}, ErrNoSession
	}
	h := token.Hash(sessionID)
	rec, ok, err := s.sessions.Get(ctx, h)
	if err != nil {
		return Session{}, fmt.Errorf("staff: get session: %w", err)
	}
	if !ok {
		return Session{}, ErrNoSession
	}
	now := s.opts.Now()
	if s.remaining(rec, now) <= 0 {
		return Session{}, s.end(ctx, rec.StaffID, h)
	}
	m, err := s.repo.Staff(ctx, rec.StaffID)
	if errors.Is(err, ErrNotFound) || err == nil && m.DisabledAt != nil {
		if err := s.sessions.DeleteAll(ctx, rec.StaffID); err != nil {
			return Session{}, err
		}
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, err
	}
	if now.Sub(rec.LastSeen) >= s.touchEvery {
		rec.LastSeen = now
		if err := s.sessions.Touch(ctx, h, rec, s.remaining(rec, now)); err != nil {
			return Session{}, fmt.Errorf("staff: touch session: %w", err)
		}
	}
	return Session{IDHash: h, CSRF: rec.CSRF, Member: m}, nil
}

// end deletes an expired session and reports that there is none.
func (s *Service) end(ctx context.Context, staffID int64, h string) error {
	if err := s.sessions.Delete(ctx, staffID, h); err != nil {
		return fmt.Errorf("staff: delete expired session: %w", err)
	}
	return ErrNoSession
}

// remaining is how long a session may still live: the sooner of its idle
// and absolute deadlines.
func (s *Service) remaining(r SessionRecord, now time.Time) time.Duration {
	return min(r.LastSeen.Add(s.opts.Idle).Sub(now), r.CreatedAt.Add(s.opts.Absolute).Sub(now))
}

// Logout ends the session server-side, audited as staff.logout.
func (s *Service) Logout(ctx context.Context, sess Session) error {
	if err := s.sessions.Delete(ctx, sess.Member.ID, sess.IDHash); err != nil {
		return fmt.Errorf("staff: logout: %w", err)
	}
	_, err := s.repo.AppendAudit(ctx, audit.Event{At: s.opts.Now(), Actor: sess.Member.Actor(), Action: "staff.logout", Object: "staff:" + sess.Member.Username})
	return err
}

// CSRFValid reports whether a request's token is the session's, in
// constant time.
func (sess Session) CSRFValid(got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) == 1
}
