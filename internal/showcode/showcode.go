// Package showcode mints and redeems show codes (亮证码): short-lived,
// single-use references to one licence and a disclosure scope, shown as a QR
// code on the holder's phone and scanned by an officer.
//
// The token is 128 bits from crypto/rand and is only ever handed to the
// holder; the Store keeps its SHA-256, so a copy of the store (or a log of
// its keys) cannot be replayed. Unknown, expired and already-used codes all
// read as the one error ErrInvalid, so a scanner learns nothing about which.
package showcode

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/yangcheng-county/elicence/internal/token"
)

// Errors returned by the service. Handlers map them to public errors.
var (
	// ErrInvalid covers unknown, expired, malformed and already-used codes on
	// purpose: telling them apart would help someone guessing codes.
	ErrInvalid = errors.New("showcode: invalid code")
	// ErrBadScope is returned for a scope other than basic or full.
	ErrBadScope = errors.New("showcode: unknown scope")
)

// DefaultTTL is how long a code lives when the configuration says nothing:
// long enough to hand a phone over, short enough that a photo of the screen
// is useless a minute later.
const DefaultTTL = 60 * time.Second

// TokenLen is the length of a token: 16 bytes in unpadded base64url.
const TokenLen = token.Len

// Scope says how much of a licence a code discloses.
type Scope string

const (
	// ScopeBasic discloses the fields the catalogue marks as basic.
	ScopeBasic Scope = "basic"
	// ScopeFull discloses every face field, sensitive ones still masked.
	ScopeFull Scope = "full"
)

// ParseScope reads a requested scope; an empty one means basic, the
// smaller disclosure, so a client that forgets to ask discloses less.
func ParseScope(s string) (Scope, error) {
	switch Scope(s) {
	case "", ScopeBasic:
		return ScopeBasic, nil
	case ScopeFull:
		return ScopeFull, nil
	}
	return "", ErrBadScope
}

// Record is what the store keeps under a code's hash.
type Record struct {
	LicenceID int64
	HolderID  int64
	Scope     Scope
	ExpiresAt time.Time
	// ConsumedAt is when the code was spent; set by Consume.
	ConsumedAt time.Time
}

// Code is a freshly minted show code, returned to its holder only.
type Code struct {
	Token     string
	ShortCode string // 8 digits an officer can type instead of scanning
	Content   string // the text inside the QR: {public_url}/v/{token}
	QRPNG     string // data:image/png;base64,…
	ExpiresAt time.Time
}

// Store keeps live codes by the hex SHA-256 of their token. The Redis
// implementation lives in internal/redisx; the domain never sees Redis.
type Store interface {
	// Save stores rec under hash for ttl, and remembers that hash existed
	// for ttl+Remember (see Expiry).
	Save(ctx context.Context, hash string, rec Record, ttl time.Duration) error
	// Load returns the live record for hash, or ErrInvalid.
	Load(ctx context.Context, hash string) (Record, error)
	// LoadCounted is Load plus the failure counters under counterKeys, in
	// one round trip; an empty hash reads the counters only. The counts
	// come back with ErrInvalid too.
	LoadCounted(ctx context.Context, hash string, counterKeys []string) (Record, []int, error)
	// Consume atomically takes the live code for hash on behalf of officer
	// at the time at. A fresh consume deletes the code and remembers the
	// officer and at for the code's remaining life; the same officer
	// consuming again gets the record back with replay=true and the first
	// ConsumedAt; anyone else, or an unknown or expired hash, gets
	// ErrInvalid.
	Consume(ctx context.Context, hash, officer string, at time.Time) (rec Record, replay bool, err error)
	// SaveShort points the short code's hash at a code's hash for ttl, or
	// returns ErrShortCodeTaken when that short code is in use.
	SaveShort(ctx context.Context, shortHash, hash string, ttl time.Duration) error
	// ResolveShort returns the code hash a short code's hash points to, or
	// ErrInvalid.
	ResolveShort(ctx context.Context, shortHash string) (string, error)
	// Expiry is the remembered expiry of the code under hash, zero when
	// the hash was never saved or has been forgotten.
	Expiry(ctx context.Context, hash string) (time.Time, error)
}

// Options configure a Service.
type Options struct {
	// PublicURL is the external base URL put in front of /v/{token}.
	PublicURL string
	// TTL is a code's lifetime; zero means DefaultTTL.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the token source; nil means crypto/rand. Tests only.
	Rand io.Reader
}

// Service mints, peeks at and consumes show codes.
type Service struct {
	store     Store
	publicURL string
	ttl       time.Duration
	now       func() time.Time
	rand      io.Reader
	qr        *Renderer
}

// NewService checks its dependencies so that a wiring mistake fails at boot.
func NewService(store Store, opts Options) (*Service, error) {
	if store == nil {
		return nil, errors.New("showcode: nil store")
	}
	if opts.PublicURL == "" {
		return nil, errors.New("showcode: empty public URL")
	}
	if opts.TTL < 0 {
		return nil, fmt.Errorf("showcode: negative ttl %s", opts.TTL)
	}
	if opts.TTL == 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	return &Service{
		store:     store,
		publicURL: strings.TrimRight(opts.PublicURL, "/"),
		ttl:       opts.TTL,
		now:       opts.Now,
		rand:      opts.Rand,
		qr:        NewRenderer(DefaultQRSize),
	}, nil
}

// Mint creates a code for one licence of holderID. The caller has checked
// that the holder owns the licence. A licence that is not valid can still be
// shown: the officer must be able to see it read red.
func (s *Service) Mint(ctx context.Context, holderID, licenceID int64, scope Scope) (Code, error) {
	if scope != ScopeBasic && scope != ScopeFull {
		return Code{}, ErrBadScope
	}
	tok, err := token.From(s.rand)
	if err != nil {
		return Code{}, fmt.Errorf("showcode: %w", err)
	}
	exp := s.now().Add(s.ttl)
	rec := Record{LicenceID: licenceID, HolderID: holderID, Scope: scope, ExpiresAt: exp}
	if err := s.store.Save(ctx, Hash(tok), rec, s.ttl); err != nil {
		return Code{}, fmt.Errorf("showcode: save: %w", err)
	}
	short, err := s.mintShort(ctx, Hash(tok))
	if err != nil {
		return Code{}, err
	}
	content := s.publicURL + "/v/" + tok
	png, err := s.qr.DataURI(content)
	if err != nil {
		return Code{}, fmt.Errorf("showcode: render qr: %w", err)
	}
	return Code{Token: tok, ShortCode: short, Content: content, QRPNG: png, ExpiresAt: exp}, nil
}

// Peek returns the live record behind code (a token or a short code)
// without consuming it, so a verifier can check the officer's usage list
// before spending the code.
func (s *Service) Peek(ctx context.Context, code string) (Record, error) {
	h, err := s.ref(ctx, code)
	if err != nil {
		return Record{}, err
	}
	rec, err := s.store.Load(ctx, h)
	if err != nil {
		return Record{}, wrap("peek", err)
	}
	if s.expired(rec) {
		return Record{}, ErrInvalid
	}
	return rec, nil
}

// PeekCounted is Peek together with the failure counters under
// counterKeys, read in the same round trip as the code (a typed short code
// costs one more, to resolve it). The counts come back with ErrInvalid too,
// so the caller applies its limits before it answers "invalid".
func (s *Service) PeekCounted(ctx context.Context, code string, counterKeys []string) (Record, []int, error) {
	h, refErr := s.ref(ctx, code)
	if refErr != nil && !errors.Is(refErr, ErrInvalid) {
		return Record{}, nil, refErr
	}
	rec, counts, err := s.store.LoadCounted(ctx, h, counterKeys)
	switch {
	case err != nil && !errors.Is(err, ErrInvalid):
		return Record{}, nil, wrap("peek", err)
	case refErr != nil, err != nil, s.expired(rec):
		return Record{}, counts, ErrInvalid
	}
	return rec, counts, nil
}

// Consume spends code (a token or its short code: they are one code) for
// officer at the time at. replay is true when the same officer
// already consumed it within its lifetime: re-submitting gives the same
// answer instead of a confusing "invalid". A code past its ExpiresAt is
// ErrInvalid whatever the store says, fresh or replayed: otherwise a
// consume in the moment the store's TTL lags (which spends the code and
// leaves this officer's replay marker) would let the next scan of an
// expired code read as a verification.
func (s *Service) Consume(ctx context.Context, code, officer string, at time.Time) (rec Record, replay bool, err error) {
	if officer == "" {
		return Record{}, false, ErrInvalid
	}
	h, err := s.ref(ctx, code)
	if err != nil {
		return Record{}, false, err
	}
	rec, replay, err = s.store.Consume(ctx, h, officer, at)
	if err != nil {
		return Record{}, false, wrap("consume", err)
	}
	if s.expired(rec) {
		return Record{}, false, ErrInvalid
	}
	return rec, replay, nil
}

// expired reports whether rec is past its ExpiresAt by the service's clock.
// The store's TTL is the authority for forgetting a code; this guards
// against a store whose expiry lags that clock.
func (s *Service) expired(rec Record) bool {
	return !rec.ExpiresAt.IsZero() && !s.now().Before(rec.ExpiresAt)
}

func wrap(op string, err error) error {
	if errors.Is(err, ErrInvalid) {
		return ErrInvalid
	}
	return fmt.Errorf("showcode: %s: %w", op, err)
}

// Hash is the store key of a token: hex SHA-256, so the token itself is
// never at rest.
func Hash(t string) string { return token.Hash(t) }

// validToken accepts exactly the canonical encoding of 16 bytes, so that no
// two spellings name the same code.
func validToken(t string) bool { return token.WellFormed(t) }
