// Package auth logs WeChat users in and keeps their sessions.
//
// Login is WeChat web OAuth (snsapi_base): BeginLogin stores a random,
// single-use state with the page to return to and sends the browser to
// WeChat; CompleteLogin redeems that state, exchanges the code for an
// openid, refuses snapshot users and opens a session.
//
// A session id is 128 random bits sent to the browser in a cookie; only its
// SHA-256 is stored, so a leaked Redis dump or log line cannot be replayed
// as a cookie. Sessions end after an idle period (sliding) or an absolute
// lifetime, whichever comes first, and Logout deletes them server-side.
//
// The package knows nothing of HTTP or Redis: it talks to a Store and a
// Provider, implemented in internal/redisx and over internal/wechat.
package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/yangcheng-county/elicence/internal/account"
	"github.com/yangcheng-county/elicence/internal/token"
)

// Errors returned by the service. Store and provider failures come back
// wrapped as they are (fault.Unavailable for a dependency that is down).
var (
	// ErrStateInvalid means the OAuth state is unknown, expired or already
	// used: a replayed or forged callback.
	ErrStateInvalid = errors.New("auth: oauth state invalid")
	// ErrSnapshotUser means WeChat answered for a "snapshot" user (a page
	// opened in WeChat's preview mode, is_snapshotuser=1): the openid is not
	// the user's real one, so no session may be opened for it.
	ErrSnapshotUser = errors.New("auth: snapshot user refused")
	// ErrNoSession means the session id is unknown, expired or logged out.
	// The caller is anonymous; this is not a failure.
	ErrNoSession = errors.New("auth: no session")
	// ErrCodeMissing means the callback carried no code or state.
	ErrCodeMissing = errors.New("auth: oauth code or state missing")
	// ErrCodeInvalid means WeChat refused the OAuth code (unknown, expired
	// or already used); the Provider returns it.
	ErrCodeInvalid = errors.New("auth: oauth code refused")
)

// StateTTL is how long a login may take between BeginLogin and the callback.
const StateTTL = 10 * time.Minute

// Identity is who WeChat says completed the OAuth flow.
type Identity struct {
	OpenID string
	// Snapshot is WeChat's is_snapshotuser flag.
	Snapshot bool
}

// Provider is the OAuth side of WeChat.
type Provider interface {
	// AuthorizeURL is the WeChat page the browser is sent to.
	AuthorizeURL(redirectURI, state string) (string, error)
	// Exchange redeems an OAuth code.
	Exchange(ctx context.Context, code string) (Identity, error)
}

// ProviderFuncs adapts two functions to Provider, so wiring can plug in the
// WeChat client without this package importing it.
type ProviderFuncs struct {
	Authorize func(redirectURI, state string) (string, error)
	Redeem    func(ctx context.Context, code string) (Identity, error)
}

// AuthorizeURL calls f.Authorize.
func (f ProviderFuncs) AuthorizeURL(redirectURI, state string) (string, error) {
	return f.Authorize(redirectURI, state)
}

// Exchange calls f.Redeem.
func (f ProviderFuncs) Exchange(ctx context.Context, code string) (Identity, error) {
	return f.Redeem(ctx, code)
}

// Record is what is stored for a session, under the hash of its id.
type Record struct {
	OpenID    string    `json:"openid"`
	CreatedAt time.Time `json:"created_at"`
	LastSeen  time.Time `json:"last_seen"`
}

// Store keeps OAuth states and sessions. Keys passed in are already hashed
// (hex SHA-256); the store never sees a raw state or session id.
type Store interface {
	// PutState stores next under a state hash for ttl.
	PutState(ctx context.Context, stateHash, next string, ttl time.Duration) error
	// TakeState returns and deletes a state in one step (single use);
	// ok is false when it does not exist.
	TakeState(ctx context.Context, stateHash string) (next string, ok bool, err error)
	// PutSession creates a session record that expires after ttl.
	PutSession(ctx context.Context, idHash string, r Record, ttl time.Duration) error
	// TouchSession overwrites an existing record and its ttl; it must not
	// recreate a session deleted in the meantime (logout wins).
	TouchSession(ctx context.Context, idHash string, r Record, ttl time.Duration) error
	// GetSession returns the record; ok is false when it does not exist.
	GetSession(ctx context.Context, idHash string) (r Record, ok bool, err error)
	DeleteSession(ctx context.Context, idHash string) error
}

// Session is a resolved, live session.
type Session struct {
	// IDHash is the hex SHA-256 of the cookie value: safe to log or compare.
	IDHash    string
	OpenID    string
	CreatedAt time.Time
	LastSeen  time.Time
}

// Options configure a Service.
type Options struct {
	// RedirectURI is the callback URL registered with WeChat:
	// {public_url}/api/v1/auth/wechat/callback.
	RedirectURI string
	Idle        time.Duration
	Absolute    time.Duration
	// Now is the clock; time.Now when nil. Tests inject one.
	Now func() time.Time
}

// Service runs logins and sessions.
type Service struct {
	store    Store
	provider Provider
	accounts account.Repository
	opts     Options
	// touchEvery bounds how often a busy session is written back to slide
	// its idle timeout: a write per request would double Redis traffic
	// for a precision nobody needs.
	touchEvery time.Duration
}

// NewService checks its dependencies and options.
func NewService(store Store, provider Provider, accounts account.Repository, opts Options) (*Service, error) {
	switch {
	case store == nil:
		return nil, errors.New("auth: nil store")
	case provider == nil:
		return nil, errors.New("auth: nil provider")
	case accounts == nil:
		return nil, errors.New("auth: nil account repository")
	case opts.RedirectURI == "":
		return nil, errors.New("auth: empty redirect URI")
	case opts.Idle <= 0 || opts.Absolute < opts.Idle:
		return nil, fmt.Errorf("auth: bad timeouts idle=%s absolute=%s", opts.Idle, opts.Absolute)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{store: store, provider: provider, accounts: accounts, opts: opts, touchEvery: opts.Idle / 30}, nil
}

// AbsoluteTimeout is the longest a session can live; the cookie's Max-Age.
func (s *Service) AbsoluteTimeout() time.Duration { return s.opts.Absolute }

// BeginLogin stores a fresh state with the sanitised next path and returns
// the WeChat URL to send the browser to, and the state itself: the caller
// must tie it to the browser (a cookie) and check it with SameBrowser at the
// callback, or a callback URL captured by one person logs in whoever opens it.
func (s *Service) BeginLogin(ctx context.Context, next string) (authorizeURL, state string, err error) {
	state, err = token.New()
	if err != nil {
		return "", "", err
	}
	if err := s.store.PutState(ctx, Hash(state), SanitiseNext(next), StateTTL); err != nil {
		return "", "", fmt.Errorf("auth: store state: %w", err)
	}
	u, err := s.provider.AuthorizeURL(s.opts.RedirectURI, state)
	if err != nil {
		return "", "", fmt.Errorf("auth: authorize url: %w", err)
	}
	return u, state, nil
}

// SameBrowser reports whether the state a callback carries is the one
// given to this browser by BeginLogin (kept in a cookie). The server-side
// state alone proves only that some login started here, not that this
// browser started it (RFC 6749 §10.12, login CSRF).
func SameBrowser(browserState, callbackState string) bool {
	return browserState != "" && subtle.ConstantTimeCompare([]byte(browserState), []byte(callbackState)) == 1
}

// CompleteLogin redeems state (once), exchanges code with WeChat, refuses
// snapshot users, makes sure the account exists and opens a session. It
// returns the raw session id for the cookie and the path to return to.
func (s *Service) CompleteLogin(ctx context.Context, code, state string) (sessionID, next string, err error) {
	if code == "" || state == "" {
		return "", "", ErrCodeMissing
	}
	// The state is consumed before the code is exchanged, so a replayed
	// callback fails even if WeChat would accept its code again.
	next, ok, err := s.store.TakeState(ctx, Hash(state))
	if err != nil {
		return "", "", fmt.Errorf("auth: take state: %w", err)
	}
	if !ok {
		return "", "", ErrStateInvalid
	}
	who, err := s.provider.Exchange(ctx, code)
	if err != nil {
		return "", "", fmt.Errorf("auth: exchange code: %w", err)
	}
	if who.Snapshot {
		return "", "", ErrSnapshotUser
	}
	if who.OpenID == "" {
		return "", "", fmt.Errorf("auth: exchange code: empty openid")
	}
	if _, err := s.accounts.Ensure(ctx, who.OpenID); err != nil {
		return "", "", fmt.Errorf("auth: ensure account: %w", err)
	}
	id, err := token.New()
	if err != nil {
		return "", "", err
	}
	now := s.opts.Now()
	rec := Record{OpenID: who.OpenID, CreatedAt: now, LastSeen: now}
	if err := s.store.PutSession(ctx, Hash(id), rec, s.opts.Idle); err != nil {
		return "", "", fmt.Errorf("auth: store session: %w", err)
	}
	return id, next, nil
}

// Resolve returns the live session for a cookie value, sliding its idle
// timeout. Unknown, expired and malformed ids give ErrNoSession.
func (s *Service) Resolve(ctx context.Context, sessionID string) (Session, error) {
	if !token.WellFormed(sessionID) {
		return Session{}, ErrNoSession
	}
	h := Hash(sessionID)
	rec, ok, err := s.store.GetSession(ctx, h)
	if err != nil {
		return Session{}, fmt.Errorf("auth: get session: %w", err)
	}
	if !ok {
		return Session{}, ErrNoSession
	}
	now := s.opts.Now()
	ttl := s.remaining(rec, now)
	if ttl <= 0 {
		if err := s.store.DeleteSession(ctx, h); err != nil {
			return Session{}, fmt.Errorf("auth: delete expired session: %w", err)
		}
		return Session{}, ErrNoSession
	}
	if now.Sub(rec.LastSeen) >= s.touchEvery {
		rec.LastSeen = now
		if err := s.store.TouchSession(ctx, h, rec, s.remaining(rec, now)); err != nil {
			return Session{}, fmt.Errorf("auth: touch session: %w", err)
		}
	}
	return Session{IDHash: h, OpenID: rec.OpenID, CreatedAt: rec.CreatedAt, LastSeen: rec.LastSeen}, nil
}

// remaining is how long the session may still live: the sooner of its idle
// and absolute deadlines.
func (s *Service) remaining(r Record, now time.Time) time.Duration {
	return min(r.LastSeen.Add(s.opts.Idle).Sub(now), r.CreatedAt.Add(s.opts.Absolute).Sub(now))
}

// Logout deletes the session server-side, so a copied cookie dies with it.
// Logging out an unknown session is not an error.
func (s *Service) Logout(ctx context.Context, sessionID string) error {
	if !token.WellFormed(sessionID) {
		return nil
	}
	if err := s.store.DeleteSession(ctx, Hash(sessionID)); err != nil {
		return fmt.Errorf("auth: delete session: %w", err)
	}
	return nil
}

// SanitiseNext keeps next only if it is a path on this site: it must start
// with "/", not "//" or "/\" (browsers read both as another host), and hold
// no control characters. Anything else becomes "/", so the login flow can
// never be used as an open redirect.
func SanitiseNext(next string) string {
	if len(next) > 2048 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return "/"
		}
	}
	return next
}

// Hash is the hex SHA-256 under which a state or session id is stored.
func Hash(t string) string { return token.Hash(t) }
