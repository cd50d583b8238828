package seal

import (
	"context"
	"crypto/ecdsa"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"

	"github.com/yangcheng-county/elicence/internal/licence"
)

// Reason codes of a seal check, beside licence.Assess's. They are part of
// the public API (docs/API.md): each failure is red with its own code, a
// seal reported lost after signing is amber.
const (
	ReasonSignatureMissing = "signature_missing"        // no signature on the version
	ReasonSignatureInvalid = "signature_invalid"        // document or signature altered, or not the seal's
	ReasonSealNotApproved  = "seal_not_approved"        // the seal was not approved for the type
	ReasonSealNotActive    = "seal_not_active"          // the seal was not active at signing time
	ReasonCertNotValid     = "seal_certificate_invalid" // its certificate was not valid at signing time
	ReasonSealLost         = "seal_lost"                // signed after the seal was reported lost
	ReasonSealSinceLost    = "seal_reported_lost"       // valid, but the seal has since been reported lost
)

// Signing signs licence versions and arbitrary bytes with seals, and
// checks licence signatures at verification.
type Signing struct {
	repo  Repository
	views licence.Views
	keys  Keyring
	now   func() time.Time
	certs sync.Map // certificate id → *parsedCert; certificates never change
	// verified remembers the SM3 digests of (document, signature,
	// SES_Signature) triples that verified, so a licence scanned again
	// costs a hash instead of two SM2 verifications. The key covers every
	// byte checked, so a changed byte misses it. Cleared when full.
	verified  sync.Map // [32]byte → struct{}
	nVerified atomic.Int64
}

// maxVerified bounds the verified cache (about 100 bytes an entry).
const maxVerified = 100_000

// parsedCert is a certificate with its parsed form, kept so a check or a
// signature parses each certificate once per process.
type parsedCert struct {
	Certificate
	x509 *smx509.Certificate
	pub  *ecdsa.PublicKey
}

// NewSigning checks its dependencies.
func NewSigning(repo Repository, views licence.Views, keys Keyring, now func() time.Time) (*Signing, error) {
	if repo == nil || views == nil || keys == nil {
		return nil, errors.New("seal: signing: nil repository, licence views or keyring")
	}
	if now == nil {
		now = time.Now
	}
	return &Signing{repo: repo, views: views, keys: keys, now: now}, nil
}

// Compile-time check: Signing is the licence lifecycle's signer.
var _ licence.VersionSigner = (*Signing)(nil)

// SignerFor implements licence.VersionSigner: the issuer's seal in a
// signing state approved for typeCode with a certificate valid now;
// ErrNotApproved when the issuer has signing seals but none approved for
// it, ErrNoSigningSeal when it has none or their certificates expired.
func (s *Signing) SignerFor(ctx context.Context, issuer licence.Department, typeCode string) (licence.SignFunc, error) {
	seals, err := s.repo.SigningSeals(ctx, issuer.ID)
	if err != nil {
		return nil, err
	}
	if len(seals) == 0 {
		return nil, ErrNoSigningSeal
	}
	approved := false
	now := s.now()
	for _, se := range seals {
		if !se.Approved(typeCode) {
			continue
		}
		approved = true
		if se.Cert != nil && se.Cert.ValidAt(now) {
			return s.signFunc(ctx, se, issuer.USCC)
		}
	}
	if approved {
		// Approved, but its certificate ran out without a renewal.
		return nil, fmt.Errorf("%w: the certificate of the approved seal has expired", ErrNoSigningSeal)
	}
	return nil, fmt.Errorf("%w: %s", ErrNotApproved, typeCode)
}

func (s *Signing) signFunc(ctx context.Context, se Seal, issuerUSCC string) (licence.SignFunc, error) {
	if se.Cert == nil {
		return nil, fmt.Errorf("seal %d: %w", se.ID, ErrCannotSign)
	}
	pc, err := s.cert(ctx, se.Cert.ID)
	if err != nil {
		return nil, err
	}
	signer, err := s.keys.Signer(pc.x509)
	if err != nil {
		return nil, fmt.Errorf("seal %d: %w", se.ID, err)
	}
	return func(l licence.Licence, h licence.Holder) (licence.Signature, error) {
		if !se.Approved(l.TypeCode) {
			return licence.Signature{}, fmt.Errorf("%w: %s", ErrNotApproved, l.TypeCode)
		}
		at := s.now().UTC().Truncate(time.Second)
		if !pc.ValidAt(at) {
			return licence.Signature{}, fmt.Errorf("seal %d: %w: expired %s", se.ID, ErrCertificate, pc.NotAfter.Format(time.DateOnly))
		}
		by := SignedBy{SealID: se.ID, CertID: pc.ID, SignedAt: at}
		doc := Document(l, h, issuerUSCC, by)
		sig, err := signer.Sign(doc)
		if err != nil {
			return licence.Signature{}, err
		}
		ses, err := wrapSES(signer, pc.ESeal, doc, property(l), at)
		if err != nil {
			return licence.Signature{}, err
		}
		return licence.Signature{SealID: se.ID, CertID: pc.ID, SignedAt: at, Value: sig, SES: ses}, nil
	}, nil
}

// property is TBS_Sign's propertyInfo: which version the document is.
func property(l licence.Licence) string {
	return DocumentFormat + ";" + l.Identifier + ";v" + strconv.Itoa(l.Version)
}

// SignBytes signs msg with seal id, which must be in a signing state with
// a certificate valid now; it returns the DER signature and the
// certificate. It is for what the platform seals besides licences (audit
// checkpoints).
func (s *Signing) SignBytes(ctx context.Context, id int64, msg []byte) (sig []byte, cert Certificate, err error) {
	se, err := s.repo.Seal(ctx, id)
	if err != nil {
		return nil, Certificate{}, err
	}
	if !se.State.Signs() || se.Cert == nil {
		return nil, Certificate{}, fmt.Errorf("seal %d: %w", id, ErrCannotSign)
	}
	pc, err := s.cert(ctx, se.Cert.ID)
	if err != nil {
		return nil, Certificate{}, err
	}
	if !pc.ValidAt(s.now()) {
		return nil, Certificate{}, fmt.Errorf("seal %d: %w: expired", id, ErrCertificate)
	}
	signer, err := s.keys.Signer(pc.x509)
	if err != nil {
		return nil, Certificate{}, err
	}
	if sig, err = signer.Sign(msg); err != nil {
		return nil, Certificate{}, err
	}
	return sig, pc.Certificate, nil
}

// cert returns a certificate parsed, from the cache or the repository.
func (s *Signing) cert(ctx context.Context, id int64) (*parsedCert, error) {
	if c, ok := s.certs.Load(id); ok {
		return c.(*parsedCert), nil
	}
	c, err := s.repo.Certificate(ctx, id)
	if err != nil {
		return nil, err
	}
	x, err := smx509.ParseCertificate(c.DER)
	if err != nil {
		return nil, fmt.Errorf("seal: certificate %d: %w", id, err)
	}
	pub, ok := x.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("seal: certificate %d: not an SM2 key", id)
	}
	pc := &parsedCert{Certificate: c, x509: x, pub: pub}
	s.certs.Store(id, pc)
	return pc, nil
}

// Verdict is what a seal check says about one licence version.
type Verdict struct {
	// OK: the signature holds, by a seal active and approved for the type,
	// with a certificate valid, at signing time.
	OK bool
	// Reason is the red reason when !OK, ReasonSealSinceLost when OK but
	// the seal has since been reported lost, "" otherwise.
	Reason string
	Seal   Seal
}

// Assess combines the verdict with the licence's own assessment: a failed
// seal check is red whatever the status says; a seal reported lost after
// signing turns a valid licence amber.
func (v Verdict) Assess(a licence.Assessment) licence.Assessment {
	switch {
	case !v.OK:
		return licence.Assessment{Colour: licence.Red, ReasonCode: v.Reason}
	case v.Reason == ReasonSealSinceLost && a.Valid:
		return licence.Assessment{Valid: true, Colour: licence.Amber, ReasonCode: v.Reason}
	}
	return a
}

// Check verifies the signature of a licence version: the document rebuilt
// from the version as stored, its SM2 signature and its SES_Signature by
// the certificate named in it, the seal of the issuer approved for the
// type, active and with that certificate valid at signing time, and not
// lost before it. The seal's state is read fresh, so a loss reported a
// moment ago counts on the very next scan. An error means the check could
// not be made (the repository failed), never that it passed.
func (s *Signing) Check(ctx context.Context, v licence.View) (Verdict, error) {
	sig := v.Signature
	if !sig.Signed() {
		return Verdict{Reason: ReasonSignatureMissing}, nil
	}
	pc, err := s.cert(ctx, sig.CertID)
	if errors.Is(err, ErrNotFound) {
		return Verdict{Reason: ReasonSignatureInvalid}, nil
	}
	if err != nil {
		return Verdict{}, err
	}
	if pc.SealID != sig.SealID {
		return Verdict{Reason: ReasonSignatureInvalid}, nil
	}
	doc := Document(v.Licence, v.Holder, v.Issuer.USCC, SignedBy{SealID: sig.SealID, CertID: sig.CertID, SignedAt: sig.SignedAt})
	if !s.signatureHolds(pc, doc, sig) {
		return Verdict{Reason: ReasonSignatureInvalid}, nil
	}
	se, err := s.repo.Seal(ctx, sig.SealID)
	if err != nil {
		return Verdict{}, err
	}
	return judge(se, v.Licence, pc.Certificate, sig.SignedAt), nil
}

// signatureHolds verifies the SM2 signature of the document and the
// SES_Signature, or finds that exact triple verified before.
func (s *Signing) signatureHolds(pc *parsedCert, doc []byte, sig licence.Signature) bool {
	h := sm3.New()
	for _, b := range [][]byte{doc, sig.Value, sig.SES} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	var key [32]byte
	h.Sum(key[:0])
	if _, ok := s.verified.Load(key); ok {
		return true
	}
	if !Verify(pc.pub, doc, sig.Value) || !sesHolds(sig.SES, doc, pc.x509, sig.SignedAt) {
		return false
	}
	if s.nVerified.Add(1) > maxVerified {
		s.verified.Clear()
		s.nVerified.Store(1)
	}
	s.verified.Store(key, struct{}{})
	return true
}

// sesHolds reports whether the SES_Signature verifies for the document
// and certificate and states the signing time the version records.
func sesHolds(ses, doc []byte, cert *smx509.Certificate, signedAt time.Time) bool {
	at, err := VerifySES(ses, doc, cert)
	return err == nil && at.Equal(signedAt)
}

// judge checks the seal's state and certificate at signing time t, the
// signature itself having verified.
func judge(se Seal, l licence.Licence, c Certificate, t time.Time) Verdict {
	switch {
	case se.DepartmentID != l.IssuerID:
		return Verdict{Reason: ReasonSignatureInvalid, Seal: se}
	case !se.Approved(l.TypeCode):
		return Verdict{Reason: ReasonSealNotApproved, Seal: se}
	case se.ActivatedAt == nil || t.Before(*se.ActivatedAt) || se.CancelledAt != nil && !t.Before(*se.CancelledAt):
		return Verdict{Reason: ReasonSealNotActive, Seal: se}
	case !c.ValidAt(t):
		return Verdict{Reason: ReasonCertNotValid, Seal: se}
	case se.LostAt != nil && !t.Before(*se.LostAt):
		return Verdict{Reason: ReasonSealLost, Seal: se}
	case se.LostAt != nil:
		return Verdict{OK: true, Reason: ReasonSealSinceLost, Seal: se}
	}
	return Verdict{OK: true, Seal: se}
}

// ErrUnsigned: the version carries no signature (it predates seals).
var ErrUnsigned = errors.New("seal: the licence version is not signed")

// Envelope is a licence version's signature with everything an
// independent verifier needs: the exact bytes signed, the DER SM2
// signature, the certificate, the SES_Signature and the seal.
type Envelope struct {
	Document    []byte
	Signature   []byte
	Certificate []byte // DER
	SES         []byte
	Seal        Seal
}

// Envelope returns the signature of licence version id. It does not check
// it: that is the verifier's to do, and the scan's.
func (s *Signing) Envelope(ctx context.Context, id int64) (Envelope, error) {
	v, err := s.views.View(ctx, id)
	if err != nil {
		return Envelope{}, err
	}
	sig := v.Signature
	if !sig.Signed() {
		return Envelope{}, ErrUnsigned
	}
	pc, err := s.cert(ctx, sig.CertID)
	if err != nil {
		return Envelope{}, err
	}
	se, err := s.repo.Seal(ctx, sig.SealID)
	if err != nil {
		return Envelope{}, err
	}
	doc := Document(v.Licence, v.Holder, v.Issuer.USCC, SignedBy{SealID: sig.SealID, CertID: sig.CertID, SignedAt: sig.SignedAt})
	return Envelope{Document: doc, Signature: sig.Value, Certificate: pc.DER, SES: sig.SES, Seal: se}, nil
}
