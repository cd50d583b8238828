package seal_test

import (
	"context"
	"crypto/rand"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/seal"
	"github.com/yangcheng-county/elicence/internal/store"
	"github.com/yangcheng-county/elicence/internal/store/storetest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

type env struct {
	st      *store.Store
	s       storetest.Sealing
	clock   *clock
	estate  licence.Department
	police  licence.Department
	certify func(name string) []byte
}

func newEnv(t testing.TB, driver string) *env {
	t.Helper()
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	st := storetest.Seeded(t, driver, storetest.DSN(t, driver), c.Now())
	e := &env{st: st, s: storetest.Seals(t, st, c.Now), clock: c}
	var err error
	if e.estate, err = st.DepartmentByUSCC(t.Context(), demo.USCCRealEstateCentre); err != nil {
		t.Fatal(err)
	}
	if e.police, err = st.DepartmentByUSCC(t.Context(), demo.USCCCityTrafficPolice); err != nil {
		t.Fatal(err)
	}
	e.certify = func(name string) []byte {
		der, err := e.s.CA.NewCertificate(e.s.Keys, name, c.Now(), 1)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	return e
}

// active takes a new seal of the department through to active.
func (e *env) active(t testing.TB, dept licence.Department, types ...string) seal.Seal {
	t.Helper()
	ctx := t.Context()
	s, err := e.s.Registry.Apply(ctx, "staff:test", seal.Application{Name: dept.Name, Kind: seal.KindOfficial, Department: dept, Types: types})
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []seal.Request{
		{Action: seal.ActionApprove},
		{Action: seal.ActionIssue, Cert: e.certify(dept.Name)},
		{Action: seal.ActionActivate},
	} {
		if s, err = e.s.Registry.Transition(ctx, "staff:test", s.ID, req); err != nil {
			t.Fatalf("%s: %v", req.Action, err)
		}
	}
	return s
}

func (e *env) auditCount(t *testing.T, prefix string) int {
	t.Helper()
	entries, err := e.st.AuditEvents(t.Context(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, en := range entries {
		if strings.HasPrefix(en.Action, prefix) {
			n++
		}
	}
	return n
}

func TestSealLifecycle(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := t.Context()
			reg := e.s.Registry
			before := e.auditCount(t, "seal.")

			s := e.active(t, e.estate, demo.TypeRealEstateTitle)
			if s.State != seal.StateActive || s.Cert == nil || s.ActivatedAt == nil || s.Department != e.estate.Name {
				t.Fatalf("active seal = %+v", s)
			}
			if got := e.auditCount(t, "seal.") - before; got != 4 {
				t.Fatalf("%d audit events for apply, approve, issue, activate; want 4", got)
			}

			// Illegal transitions name the state; nothing changes.
			if _, err := reg.Transition(ctx, "staff:test", s.ID, seal.Request{Action: seal.ActionApprove}); !errors.Is(err, seal.ErrIllegalTransition) {
				t.Fatalf("approve an active seal: %v", err)
			}
			// Renewal only in the last 30 days of the certificate.
			if _, err := reg.Transition(ctx, "staff:test", s.ID, seal.Request{Action: seal.ActionRenew, Cert: e.certify(s.Name)}); !errors.Is(err, seal.ErrRenewalWindow) {
				t.Fatalf("renew a year early: %v", err)
			}
			e.clock.Set(s.Cert.NotAfter.Add(-29 * 24 * time.Hour))
			renewed, err := reg.Transition(ctx, "staff:test", s.ID, seal.Request{Action: seal.ActionRenew, Cert: e.certify(s.Name)})
			if err != nil || renewed.State != seal.StateRenewed || renewed.Cert.ID == s.Cert.ID || !renewed.Cert.NotAfter.After(s.Cert.NotAfter) {
				t.Fatalf("renew in the window: %+v, %v", renewed, err)
			}
			// The old certificate stays on record: what it signed still verifies.
			if old, err := e.st.Certificate(ctx, s.Cert.ID); err != nil || old.SealID != s.ID {
				t.Fatalf("old certificate: %+v, %v", old, err)
			}

			// Cancellation needs a reason and is terminal.
			if _, err := reg.Transition(ctx, "staff:test", s.ID, seal.Request{Action: seal.ActionCancel}); !errors.Is(err, seal.ErrReasonRequired) {
				t.Fatalf("cancel without reason: %v", err)
			}
			c, err := reg.Transition(ctx, "staff:test", s.ID, seal.Request{Action: seal.ActionCancel, Reason: "机构撤并"})
			if err != nil || c.State != seal.StateCancelled || c.CancelledAt == nil || c.Reason != "机构撤并" {
				t.Fatalf("cancel: %+v, %v", c, err)
			}
			if _, err := reg.Transition(ctx, "staff:test", s.ID, seal.Request{Action: seal.ActionReportLost}); !errors.Is(err, seal.ErrIllegalTransition) {
				t.Fatalf("report a cancelled seal lost: %v", err)
			}
		})
	}
}

func TestSealRefusals(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := t.Context()
			reg := e.s.Registry
			apply := func(types ...string) (seal.Seal, error) {
				return reg.Apply(ctx, "staff:test", seal.Application{Name: e.estate.Name, Kind: seal.KindBusiness, Department: e.estate, Types: types})
			}

			// Only types the department issues can be approved.
			if _, err := apply(demo.TypeDrivingLicence); !errors.Is(err, seal.ErrTypeNotIssued) {
				t.Fatalf("apply for another department's type: %v", err)
			}
			if _, err := reg.Apply(ctx, "staff:test", seal.Application{Name: "x", Kind: "round", Department: e.estate}); !errors.Is(err, seal.ErrInvalid) {
				t.Fatalf("unknown kind: %v", err)
			}

			// Review refused with its reason (Art. 4(三)): terminal.
			s, err := apply(demo.TypeRealEstateTitle)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := reg.Transition(ctx, "staff:test", s.ID, seal.Request{Action: seal.ActionRefuse}); !errors.Is(err, seal.ErrReasonRequired) {
				t.Fatalf("refuse without reason: %v", err)
			}
			r, err := reg.Transition(ctx, "staff:test", s.ID, seal.Request{Action: seal.ActionRefuse, Reason: "材料不全"})
			if err != nil || r.State != seal.StateRefused || r.Reason != "材料不全" {
				t.Fatalf("refuse: %+v, %v", r, err)
			}

			// Issue checks the certificate: its subject must be the seal's
			// name, it must come from the trusted CA, be valid, and its
			// key must be in the keyring.
			s, err = apply(demo.TypeRealEstateTitle)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := reg.Transition(ctx, "staff:test", s.ID, seal.Request{Action: seal.ActionApprove}); err != nil {
				t.Fatal(err)
			}
			issue := func(der []byte) error {
				_, err := reg.Transition(ctx, "staff:test", s.ID, seal.Request{Action: seal.ActionIssue, Cert: der})
				return err
			}
			if err := issue(e.certify("阳城县另一个单位")); !errors.Is(err, seal.ErrCertNameMismatch) {
				t.Fatalf("certificate of another name: %v", err)
			}
			if err := issue(selfSigned(t, s.Name)); !errors.Is(err, seal.ErrCertificate) {
				t.Fatalf("certificate from an untrusted CA: %v", err)
			}
			pub, err := sm2.GenerateKey(rand.Reader) // key not in the keyring
			if err != nil {
				t.Fatal(err)
			}
			orphan, err := e.s.CA.Certify(&pub.PublicKey, s.Name, e.clock.Now().Add(-time.Hour), e.clock.Now().AddDate(1, 0, 0))
			if err != nil {
				t.Fatal(err)
			}
			if err := issue(orphan); !errors.Is(err, seal.ErrKeyMissing) {
				t.Fatalf("certificate without its key: %v", err)
			}
			expired, err := e.s.CA.Certify(&pub.PublicKey, s.Name, e.clock.Now().AddDate(-2, 0, 0), e.clock.Now().AddDate(-1, 0, 0))
			if err != nil {
				t.Fatal(err)
			}
			if err := issue(expired); !errors.Is(err, seal.ErrCertificate) {
				t.Fatalf("expired certificate: %v", err)
			}
			if got, err := reg.Seal(ctx, s.ID); err != nil || got.State != seal.StateReviewed || got.Cert != nil {
				t.Fatalf("after refused issues: %+v, %v", got, err)
			}
			// Refused changes leave no trace in the audit chain: apply
			// twice, refuse once, approve once, and nothing for the rest.
			if got := e.auditCount(t, "seal."); got != 4 {
				t.Fatalf("%d seal audit events, want 4", got)
			}
			if n, err := e.st.VerifyAudit(ctx); err != nil {
				t.Fatalf("audit chain: %d %v", n, err)
			}
		})
	}
}

// selfSigned is an SM2 certificate for name that no trusted CA issued.
func selfSigned(t *testing.T, name string) []byte {
	t.Helper()
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &smx509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0), SignatureAlgorithm: smx509.SM2WithSM3}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestSigningNeedsAnApprovedActiveSeal(t *testing.T) {
	e := newEnv(t, store.DriverSQLite)
	ctx := context.Background()
	if _, err := e.s.Signing.SignerFor(ctx, e.estate, demo.TypeRealEstateTitle); !errors.Is(err, seal.ErrNoSigningSeal) {
		t.Fatalf("no seal: %v", err)
	}
	s := e.active(t, e.estate, demo.TypeRealEstateTitle)
	// A type outside the seal's approval is refused (Art. 11).
	if _, err := e.s.Signing.SignerFor(ctx, e.estate, demo.TypeRealEstateProof); !errors.Is(err, seal.ErrNotApproved) {
		t.Fatalf("type not approved: %v", err)
	}
	sign, err := e.s.Signing.SignerFor(ctx, e.estate, demo.TypeRealEstateTitle)
	if err != nil {
		t.Fatal(err)
	}
	// The sign function itself refuses another type too.
	if _, err := sign(licence.Licence{TypeCode: demo.TypeRealEstateProof}, licence.Holder{}); !errors.Is(err, seal.ErrNotApproved) {
		t.Fatalf("sign another type: %v", err)
	}
	// Past its certificate's end, an unrenewed seal signs nothing.
	now := e.clock.Now()
	e.clock.Set(s.Cert.NotAfter.Add(time.Hour))
	if _, err := e.s.Signing.SignerFor(ctx, e.estate, demo.TypeRealEstateTitle); !errors.Is(err, seal.ErrNoSigningSeal) {
		t.Fatalf("expired certificate: %v", err)
	}
	e.clock.Set(now)
	// A seal reported lost signs nothing more.
	if _, err := e.s.Registry.Transition(ctx, "staff:test", s.ID, seal.Request{Action: seal.ActionReportLost}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Signing.SignerFor(ctx, e.estate, demo.TypeRealEstateTitle); !errors.Is(err, seal.ErrNoSigningSeal) {
		t.Fatalf("lost seal: %v", err)
	}
	if _, _, err := e.s.Signing.SignBytes(ctx, s.ID, []byte("x")); !errors.Is(err, seal.ErrCannotSign) {
		t.Fatalf("sign bytes with a lost seal: %v", err)
	}
}
