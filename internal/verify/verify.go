// Package verify is the officer's side of a show code (扫码核验): it checks
// that the officer may verify the licence type, consumes the code once,
// reads the licence's status into a colour and discloses only what the
// code's scope allows, masked. Every attempt that reached a licence leaves
// a usage record (用证记录) the holder can read.
//
// It fails closed: when Redis or the database cannot answer, the answer is
// an error wrapping fault.ErrUnavailable, never "valid".
package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/fault"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/seal"
	"github.com/yangcheng-county/elicence/internal/showcode"
)

// Errors a verification can end with besides showcode.ErrInvalid (unknown,
// expired or used code) and fault.ErrUnavailable.
var (
	ErrNotOfficer     = errors.New("verify: caller is not an officer")
	ErrRateLimited    = errors.New("verify: too many failed attempts")
	ErrNotInUsageList = errors.New("verify: licence type not in the department's usage list")
	// ErrPurposeNotInUsageList refuses a purpose the department's usage
	// list does not give for the licence type (用证清单: types and purposes).
	ErrPurposeNotInUsageList = errors.New("verify: purpose not in the department's usage list for this type")
	ErrBadPurpose            = errors.New("verify: purpose must be 1 to 50 characters of text")
)

// Results and reason codes written to usage records and metrics.
const (
	ResultValid   = "valid"
	ResultInvalid = "invalid"
	ResultRefused = "refused"

	ReasonNotInUsageList        = "type_not_in_usage_list"
	ReasonPurposeNotInUsageList = "purpose_not_in_usage_list"
)

// MaxPurposeLen bounds a free-text purpose, in characters.
const MaxPurposeLen = 50

// Codes is the show-code service as the verifier uses it.
type Codes interface {
	PeekCounted(ctx context.Context, code string, counterKeys []string) (showcode.Record, []int, error)
	Consume(ctx context.Context, code, officer string, at time.Time) (showcode.Record, bool, error)
	Reason(ctx context.Context, code string) (showcode.Reason, error)
}

// Counter counts failures in fixed windows (redisx.Counter). It must fail
// closed: an error, never a zero, when its store is down.
type Counter interface {
	Count(ctx context.Context, key string) (int, error)
	Add(ctx context.Context, key string, window time.Duration) (int, error)
}

// Limits bound failed verifications, so that guessing codes or scanning a
// pile of photographed ones stops quickly.
type Limits struct {
	PerOfficer int
	PerIP      int
	Window     time.Duration
	// ShortPerOfficer and ShortPerIP bound failed typed short codes in the
	// same Window; zero means DefaultShortPerOfficer / DefaultShortPerIP.
	ShortPerOfficer int
	ShortPerIP      int
}

// Options configure a Service.
type Options struct {
	// PublicURL is the base of the URLs inside QR codes.
	PublicURL string
	Limits    Limits
	// Key builds a full counter key from parts (redisx.Client.Key), so the
	// counters live under the deployment's key prefix.
	Key func(parts ...string) string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Observe is told the result and reason code of every attempt, for
	// metrics; nil means nobody listens. Labels come from fixed sets.
	Observe func(result, reasonCode string)
	// Audit records the attempts that never reached a licence (an unknown,
	// expired or used code); attempts that did are audited with their
	// usage record. Nil records nothing.
	Audit audit.Appender
	// Seals checks the issuer's seal on the licence version (seal.Signing,
	// docs/SEALS.md): a failed check is red with its reason whatever the
	// status. Nil checks nothing, for tests of other concerns only; the
	// service wires it always.
	Seals SealCheck
}

// SealCheck checks the signature of a licence version.
type SealCheck interface {
	Check(ctx context.Context, v licence.View) (seal.Verdict, error)
}

// Request is one scan submitted by an officer.
type Request struct {
	OfficerOpenID string
	DepartmentID  int64
	Code          string // the scanned text or the bare token
	Purpose       string
	ClientIP      string
}

// Licence is the part of a licence a verification discloses.
type Licence struct {
	TypeCode   string
	TypeName   string
	Number     string
	Fields     []Field
	Issuer     string
	ValidUntil *time.Time
}

// Result is the answer an officer reads.
type Result struct {
	Valid      bool
	Colour     licence.Colour
	ReasonCode string
	Status     licence.Status
	Scope      showcode.Scope
	Licence    Licence
	Holder     HolderView
	VerifiedAt time.Time
	// Replay is true when this officer had already consumed the code and
	// got the same answer again; VerifiedAt is then the first time.
	Replay bool
	// Seal is the seal whose signature was checked; zero when none was.
	Seal SealMark
}

// SealMark is what the licence face shows of its seal: the seal's name,
// and whether its check passed (电子印章已验证).
type SealMark struct {
	Name     string
	Verified bool
}

// Licences is what verification reads of licences: a verification loads
// its licence as one view (licence.Views), the listings read records.
type Licences interface {
	licence.Repository
	licence.Views
}

// Service verifies show codes.
type Service struct {
	codes    Codes
	licences Licences
	usage    licence.UsageRepository
	counter  Counter
	opts     Options
}

// NewService checks its dependencies so that a wiring mistake fails at boot.
func NewService(codes Codes, licences Licences, usage licence.UsageRepository, counter Counter, opts Options) (*Service, error) {
	switch {
	case codes == nil:
		return nil, errors.New("verify: nil show-code service")
	case licences == nil || usage == nil:
		return nil, errors.New("verify: nil repository")
	case counter == nil:
		return nil, errors.New("verify: nil counter")
	case opts.Key == nil:
		return nil, errors.New("verify: nil key builder")
	case opts.PublicURL == "":
		return nil, errors.New("verify: empty public URL")
	case opts.Limits.PerOfficer < 1 || opts.Limits.PerIP < 1 || opts.Limits.Window <= 0:
		return nil, fmt.Errorf("verify: bad limits %+v", opts.Limits)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Observe == nil {
		opts.Observe = func(string, string) {}
	}
	opts.Limits = opts.Limits.withShortDefaults()
	return &Service{codes: codes, licences: licences, usage: usage, counter: counter, opts: opts}, nil
}

// Verify checks one scanned code for one officer. In order: the purpose is
// well formed; the officer and the IP are under their failure limits; the
// code is live (peeked, not consumed); the licence type is on the
// department's usage list (a refusal leaves the code usable by an officer
// who may verify it); the code is consumed atomically; the licence is
// assessed and disclosed per the code's scope. Unknown, expired, used and
// lost-the-race codes all end in showcode.ErrInvalid and count as failures.
func (s *Service) Verify(ctx context.Context, req Request) (Result, error) {
	res, err := s.verify(ctx, req)
	switch {
	case err == nil:
		s.opts.Observe(resultOf(res), res.ReasonCode)
	case errors.Is(err, ErrNotInUsageList):
		s.opts.Observe(ResultRefused, ReasonNotInUsageList)
	case errors.Is(err, ErrPurposeNotInUsageList):
		s.opts.Observe(ResultRefused, ReasonPurposeNotInUsageList)
	default:
		s.opts.Observe("error", errorLabel(err))
	}
	return res, err
}

func (s *Service) verify(ctx context.Context, req Request) (Result, error) {
	if req.OfficerOpenID == "" || req.DepartmentID == 0 {
		return Result{}, ErrNotOfficer
	}
	purpose, ok := NormalisePurpose(req.Purpose)
	if !ok {
		return Result{}, ErrBadPurpose
	}
	req.Purpose = purpose
	token, parseErr := showcode.ParseScanned(req.Code, s.opts.PublicURL)
	short := parseErr == nil && showcode.IsShortCode(token)
	// One round trip reads the failure counters and the code together;
	// the limits are applied before anything is said about the code.
	rec, counts, err := s.codes.PeekCounted(ctx, token, s.limitKeys(req, short))
	if counts == nil {
		return Result{}, s.codeFailed(ctx, req, token, short, err)
	}
	if lerr := s.overLimits(counts, short); lerr != nil {
		return Result{}, lerr
	}
	if parseErr != nil {
		return Result{}, s.invalid(ctx, req, "", false)
	}
	replay := false
	if err != nil {
		if rec, replay, err = s.replayOf(ctx, token, req.OfficerOpenID, err); err != nil {
			return Result{}, s.codeFailed(ctx, req, token, short, err)
		}
	}

	// One query: the licence with its type, issuer and holder, and the
	// department's usage-list entry for its type.
	v, purposes, listed, err := s.licences.VerificationView(ctx, rec.LicenceID, req.DepartmentID)
	if errors.Is(err, licence.ErrNotFound) || err == nil && v.HolderID != rec.HolderID {
		// The licence went away (or changed hands) after the code was minted.
		return Result{}, s.invalid(ctx, req, token, short)
	}
	if err != nil {
		return Result{}, dbErr("licence", err)
	}
	l := v.Licence
	if !listed {
		return Result{}, s.refuse(ctx, req, l, rec, ReasonNotInUsageList, ErrNotInUsageList)
	}
	if !purposeAllowed(purposes, req.Purpose) {
		return Result{}, s.refuse(ctx, req, l, rec, ReasonPurposeNotInUsageList, ErrPurposeNotInUsageList)
	}

	// The seal check reads the seal's state: a check that cannot run
	// fails the verification, never passes it.
	var verdict *seal.Verdict
	if s.opts.Seals != nil {
		got, err := s.opts.Seals.Check(ctx, v)
		if err != nil {
			return Result{}, dbErr("seal check", err)
		}
		verdict = &got
	}

	// Everything that can be read has been read: only now is the code
	// spent, so a database hiccup above leaves it usable.
	now := s.opts.Now()
	if !replay {
		if rec, replay, err = s.codes.Consume(ctx, token, req.OfficerOpenID, now); err != nil {
			return Result{}, s.codeFailed(ctx, req, token, short, err)
		}
	}

	var mark SealMark
	a := licence.Assess(l, now)
	if verdict != nil {
		a = verdict.Assess(a)
		mark = SealMark{Name: verdict.Seal.Name, Verified: verdict.OK}
	}
	res := Result{
		Valid:      a.Valid,
		Colour:     a.Colour,
		ReasonCode: a.ReasonCode,
		Status:     licence.EffectiveStatus(l, now),
		Scope:      rec.Scope,
		Licence: Licence{
			TypeCode:   v.Type.Code,
			TypeName:   v.Type.Name,
			Number:     LicenceNumber(l, v.Holder, rec.Scope),
			Fields:     Disclose(v.Type, l, rec.Scope),
			Issuer:     v.Issuer.Name,
			ValidUntil: l.ValidUntil,
		},
		Holder:     MaskHolder(v.Holder),
		VerifiedAt: now,
		Replay:     replay,
		Seal:       mark,
	}
	if replay {
		// A second open by the same officer is the same verification:
		// it answers with the first time and writes no second record,
		// unless the first attempt failed to write its own.
		res.VerifiedAt = rec.ConsumedAt
		if done, err := s.recorded(ctx, l.ID, req.OfficerOpenID, rec.ConsumedAt); err != nil || done {
			return res, err
		}
	}
	err = s.usage.RecordUsage(ctx, licence.UsageRecord{
		LicenceID: l.ID, OfficerOpenID: req.OfficerOpenID, DepartmentID: req.DepartmentID,
		Purpose: req.Purpose, Scope: string(rec.Scope), Result: resultOf(res), ReasonCode: res.ReasonCode,
		ClientIP: req.ClientIP, At: res.VerifiedAt,
	})
	if err != nil {
		// The code is spent, but this officer can re-submit it (replay)
		// and the record is written then.
		return Result{}, dbErr("record usage", err)
	}
	return res, nil
}

// replayOf is the code this officer already consumed, when peeking found
// no live code (err, from the peek).
func (s *Service) replayOf(ctx context.Context, token, officer string, err error) (showcode.Record, bool, error) {
	if !errors.Is(err, showcode.ErrInvalid) {
		return showcode.Record{}, false, err
	}
	// Not live: it may be this officer's own, already consumed code. A code
	// past its expiry is ErrInvalid from Consume too, replayed or not, even
	// where the store has not dropped it yet.
	rec, replay, err := s.codes.Consume(ctx, token, officer, s.opts.Now())
	if err != nil {
		return showcode.Record{}, false, err
	}
	if !replay {
		// Peek missed a code the store still held live (a race with its
		// expiry): it stays as invalid as Peek found it.
		return showcode.Record{}, false, showcode.ErrInvalid
	}
	return rec, true, nil
}

// refuse records a verification the department may not make (reason,
// cause) and counts it as a failure. The code is not consumed: an officer
// who may verify the licence for this purpose can still do so.
func (s *Service) refuse(ctx context.Context, req Request, l licence.Licence, rec showcode.Record, reason string, cause error) error {
	err := s.usage.RecordUsage(ctx, licence.UsageRecord{
		LicenceID: l.ID, OfficerOpenID: req.OfficerOpenID, DepartmentID: req.DepartmentID,
		Purpose: req.Purpose, Scope: string(rec.Scope), Result: ResultRefused, ReasonCode: reason,
		ClientIP: req.ClientIP, At: s.opts.Now(),
	})
	if err != nil {
		return dbErr("record usage", err)
	}
	return s.fail(ctx, req, cause)
}

// purposeAllowed reports whether p is one of the purposes a usage list
// gives. Both sides are compared in normal form (NormalisePurpose, runs of
// spaces as one), so a full-width space typed on a phone or a doubled space
// does not turn a listed purpose into a refusal; anything else must match
// the list exactly.
func purposeAllowed(purposes []string, p string) bool {
	norm := func(s string) string {
		n, ok := NormalisePurpose(s)
		if !ok {
			return ""
		}
		return strings.Join(strings.Fields(n), " ")
	}
	want := norm(p)
	if want == "" {
		return false
	}
	for _, q := range purposes {
		if norm(q) == want {
			return true
		}
	}
	return false
}

func (s *Service) officerKey(openid string) string {
	return s.opts.Key("rl", "verify", "officer", openid)
}

func (s *Service) ipKey(ip string) string {
	if ip == "" {
		ip = "unknown"
	}
	return s.opts.Key("rl", "verify", "ip", ip)
}

// limitKeys are the failure counters a request is checked against: the
// officer's and the IP's, and for a typed short code their short-code ones.
func (s *Service) limitKeys(req Request, short bool) []string {
	keys := []string{s.officerKey(req.OfficerOpenID), s.ipKey(req.ClientIP)}
	if short {
		sk := s.shortKeys(req)
		keys = append(keys, sk[0], sk[1])
	}
	return keys
}

// overLimits refuses an officer or IP that has used up its failures, and a
// typed short code from one that has used up its short-code failures;
// counts are in limitKeys order.
func (s *Service) overLimits(counts []int, short bool) error {
	max := []int{s.opts.Limits.PerOfficer, s.opts.Limits.PerIP}
	if short {
		max = append(max, s.opts.Limits.ShortPerOfficer, s.opts.Limits.ShortPerIP)
	}
	for i, m := range max {
		if i < len(counts) && counts[i] >= m {
			return ErrRateLimited
		}
	}
	return nil
}

// fail counts a failed attempt against the officer and the IP and returns
// cause; any other error is a dependency failure and is not counted. When the
// count cannot be written the attempt fails as unavailable: a limiter that
// cannot count must not let guesses through.
func (s *Service) fail(ctx context.Context, req Request, cause error) error {
	if !errors.Is(cause, showcode.ErrInvalid) && !errors.Is(cause, ErrNotInUsageList) && !errors.Is(cause, ErrPurposeNotInUsageList) {
		return unavailable("redis", cause)
	}
	w := s.opts.Limits.Window
	if _, err := s.counter.Add(ctx, s.officerKey(req.OfficerOpenID), w); err != nil {
		return unavailable("redis", err)
	}
	if _, err := s.counter.Add(ctx, s.ipKey(req.ClientIP), w); err != nil {
		return unavailable("redis", err)
	}
	return cause
}

// NormalisePurpose trims a purpose and checks it is 1 to MaxPurposeLen
// characters of printable text, short enough to read in a usage record.
// Only a purpose on the department's usage list for the licence type is
// then accepted (purposeAllowed); the catalogue stores purposes in this
// same form. Space
// characters other than ASCII's (the full-width space a Chinese input
// method types, a no-break space) become a plain space rather than a
// refusal; control characters are still refused.
func NormalisePurpose(p string) (string, bool) {
	p = strings.TrimSpace(p)
	if p == "" || !utf8.ValidString(p) || utf8.RuneCountInString(p) > MaxPurposeLen {
		return "", false
	}
	var b strings.Builder
	b.Grow(len(p))
	for _, r := range p {
		switch {
		case unicode.Is(unicode.Zs, r):
			b.WriteByte(' ')
		case unicode.IsPrint(r):
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	return b.String(), true
}

func resultOf(r Result) string {
	if r.Valid {
		return ResultValid
	}
	return ResultInvalid
}

// errorLabel is a bounded metric label for a failed attempt.
func errorLabel(err error) string {
	switch {
	case errors.Is(err, showcode.ErrInvalid):
		return "show_code_invalid"
	case errors.Is(err, ErrRateLimited):
		return "rate_limited"
	case errors.Is(err, ErrBadPurpose):
		return "validation_failed"
	case errors.Is(err, ErrNotOfficer):
		return "not_officer"
	case errors.Is(err, fault.ErrUnavailable):
		return "dependency_unavailable"
	}
	return "internal_error"
}

// dbErr marks a repository failure as a dependency failure: whatever went
// wrong reading the database, the verification must not answer.
func dbErr(what string, err error) error {
	return unavailable("database", fmt.Errorf("verify: %s: %w", what, err))
}

func unavailable(what string, err error) error {
	if errors.Is(err, fault.ErrUnavailable) {
		return err
	}
	return fault.Unavailable(what, err)
}
