package openapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

var (
	// ErrIdempotencyKeyInvalid is returned for a key that is empty, longer
	// than MaxIdempotencyKeyLen or not printable ASCII.
	ErrIdempotencyKeyInvalid = errors.New("openapi: idempotency key invalid")
	// ErrIdempotencyConflict is returned when a key is reused for a
	// different request (another body, method or path).
	ErrIdempotencyConflict = errors.New("openapi: idempotency key reused for a different request")
	// ErrIdempotencyInProgress is returned while the first request with the
	// key is still running: the retry must wait, not run it a second time.
	ErrIdempotencyInProgress = errors.New("openapi: request with this idempotency key still in progress")
)

// Idempotency timings: a finished answer is kept for KeyTTL; a running
// request holds its key for at most PendingTTL, so a crash in the middle
// frees the key for a retry instead of blocking it for a day.
const (
	KeyTTL               = 24 * time.Hour
	PendingTTL           = 2 * time.Minute
	MaxIdempotencyKeyLen = 128
)

// Response is an answer kept for replay.
type Response struct {
	Status      int
	ContentType string
	Body        []byte
}

// IdemRecord is what an IdemStore keeps under a key: the request's
// fingerprint, who holds it while it runs, and, once finished, the answer.
type IdemRecord struct {
	Fingerprint string
	Owner       string
	Pending     bool
	Response    Response
}

// IdemStore keeps idempotency records (redisx.Idempotency). All methods
// fail closed: an error when the store is down.
type IdemStore interface {
	// Reserve stores rec under key for ttl unless the key exists; it
	// returns the existing record and true when it does.
	Reserve(ctx context.Context, key string, rec IdemRecord, ttl time.Duration) (IdemRecord, bool, error)
	// Finish replaces the pending record owned by owner with rec for ttl.
	Finish(ctx context.Context, key, owner string, rec IdemRecord, ttl time.Duration) error
	// Release deletes the pending record owned by owner.
	Release(ctx context.Context, key, owner string) error
}

// Idempotency makes retried POSTs safe: the first request with a key runs,
// every later one with the same key and body gets the first answer again.
type Idempotency struct {
	store IdemStore
	key   func(parts ...string) string
}

// NewIdempotency builds the service; key builds full store keys.
func NewIdempotency(store IdemStore, key func(...string) string) (*Idempotency, error) {
	if store == nil || key == nil {
		return nil, errors.New("openapi: NewIdempotency: nil dependency")
	}
	return &Idempotency{store: store, key: key}, nil
}

// Ticket is a reserved key, to be finished or released by the request that
// reserved it.
type Ticket struct {
	key, owner, fingerprint string
}

// Fingerprint identifies a request for idempotency: the same key may only
// come back with the same method, path, query and body.
func Fingerprint(method, path, rawQuery string, body []byte) string {
	return method + " " + path + "?" + rawQuery + " " + BodyDigest(body)
}

// Begin reserves key for appID. It returns the kept answer when the key has
// already been answered for the same request (replay), a Ticket when this
// request is the first, ErrIdempotencyConflict when the key was used for
// another request, ErrIdempotencyInProgress while the first one runs.
func (s *Idempotency) Begin(ctx context.Context, appID, key, fingerprint string) (*Response, Ticket, error) {
	if !validIdempotencyKey(key) {
		return nil, Ticket{}, ErrIdempotencyKeyInvalid
	}
	// The client's key is hashed: it may be long and is the client's text.
	sum := sha256.Sum256([]byte(key))
	t := Ticket{key: s.key("idem", appID, hex.EncodeToString(sum[:])), owner: randomOwner(), fingerprint: fingerprint}
	prev, exists, err := s.store.Reserve(ctx, t.key, IdemRecord{Fingerprint: fingerprint, Owner: t.owner, Pending: true}, PendingTTL)
	switch {
	case err != nil:
		return nil, Ticket{}, fmt.Errorf("openapi: idempotency: %w", err)
	case !exists:
		return nil, t, nil
	case prev.Fingerprint != fingerprint:
		return nil, Ticket{}, ErrIdempotencyConflict
	case prev.Pending:
		return nil, Ticket{}, ErrIdempotencyInProgress
	}
	resp := prev.Response
	return &resp, Ticket{}, nil
}

// Finish keeps resp as the answer to the ticket's key for KeyTTL.
func (s *Idempotency) Finish(ctx context.Context, t Ticket, resp Response) error {
	rec := IdemRecord{Fingerprint: t.fingerprint, Owner: t.owner, Response: resp}
	if err := s.store.Finish(ctx, t.key, t.owner, rec, KeyTTL); err != nil {
		return fmt.Errorf("openapi: idempotency finish: %w", err)
	}
	return nil
}

// Release frees the ticket's key without keeping an answer, after a
// failure a retry should run again (a dependency was down).
func (s *Idempotency) Release(ctx context.Context, t Ticket) error {
	if err := s.store.Release(ctx, t.key, t.owner); err != nil {
		return fmt.Errorf("openapi: idempotency release: %w", err)
	}
	return nil
}

func validIdempotencyKey(k string) bool {
	if k == "" || len(k) > MaxIdempotencyKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

func randomOwner() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("openapi: random owner: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}
