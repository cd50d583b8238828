package seal_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/seal"
	"github.com/yangcheng-county/elicence/internal/store"
)

// issued is a licence issued through the lifecycle, signed by the real
// estate centre's seal, as the scan reads it.
func (e *env) issued(t testing.TB, number string) licence.View {
	t.Helper()
	life, err := licence.NewLifecycle(e.st, e.st, e.st, e.s.Signing, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, store.DateLocation())
	rec, err := life.Issue(t.Context(), e.estate, "app:test", licence.IssueRequest{
		TypeCode: demo.TypeRealEstateTitle, Number: number,
		Holder:   licence.Holder{Name: demo.ZhangsanName, IDType: "111", IDNumber: demo.ZhangsanIDNumber},
		IssuedOn: day, ValidFrom: day, Fields: map[string]string{"right_holder": demo.ZhangsanName, "location": "凤城镇=东关村\n3号楼"},
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.st.View(t.Context(), rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Signature.Signed() {
		t.Fatal("issued licence is not signed")
	}
	return v
}

// TestSignatureVerifiesWithOpenSSL: what the service signs, Debian's
// openssl verifies with nothing but the certificate, the document and the
// signature the Open API hands out; one flipped byte in either fails.
func TestSignatureVerifiesWithOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl is required for the independent check (.ci/run installs it)")
	}
	e := newEnv(t, store.DriverSQLite)
	e.active(t, e.estate, demo.TypeRealEstateTitle)
	v := e.issued(t, "晋(2024)阳城县不动产权第0000001号")
	env, err := e.s.Signing.Envelope(t.Context(), v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(env.Document, []byte(seal.DocumentFormat+"\n")) {
		t.Fatalf("document starts %q", env.Document[:40])
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	certPath := write("cert.pem", seal.CertificatePEM(env.Certificate))
	pubPath := filepath.Join(dir, "pub.pem")
	if out, err := exec.Command("openssl", "x509", "-in", certPath, "-pubkey", "-noout", "-out", pubPath).CombinedOutput(); err != nil {
		t.Fatalf("openssl x509: %v\n%s", err, out)
	}
	verify := func(doc, sig []byte) (bool, string) {
		cmd := exec.Command("openssl", "dgst", "-sm3", "-verify", pubPath, "-sigopt", "distid:1234567812345678",
			"-signature", write("sig.der", sig), write("doc.bin", doc))
		out, err := cmd.CombinedOutput()
		return err == nil && bytes.Contains(out, []byte("Verified OK")), string(out)
	}
	if ok, out := verify(env.Document, env.Signature); !ok {
		t.Fatalf("openssl does not verify the service's signature: %s", out)
	}
	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 0x01
		return c
	}
	if ok, _ := verify(flip(env.Document, len(env.Document)/2), env.Signature); ok {
		t.Fatal("openssl verifies a document with a flipped byte")
	}
	if ok, _ := verify(env.Document, flip(env.Signature, len(env.Signature)-3)); ok {
		t.Fatal("openssl verifies a signature with a flipped byte")
	}
	// The SES_Signature is well-formed DER to openssl's own parser, and
	// verifies against the document and certificate.
	if out, err := exec.Command("openssl", "asn1parse", "-inform", "DER", "-in", write("ses.der", env.SES)).CombinedOutput(); err != nil {
		t.Fatalf("openssl asn1parse of the SES_Signature: %v\n%s", err, out)
	}
	cert, err := seal.ParseCertificatePEM(seal.CertificatePEM(env.Certificate))
	if err != nil {
		t.Fatal(err)
	}
	if at, err := seal.VerifySES(env.SES, env.Document, cert); err != nil || !at.Equal(v.Signature.SignedAt) {
		t.Fatalf("SES_Signature: %v, %v", at, err)
	}
	if _, err := seal.VerifySES(env.SES, flip(env.Document, 10), cert); err == nil {
		t.Fatal("SES_Signature verifies another document")
	}
}

// TestCheck: the scan's seal check on a signed version, tampered ones,
// and a seal reported lost before and after signing.
func TestCheck(t *testing.T) {
	for _, driver := range []string{store.DriverSQLite, store.DriverMySQL} {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := t.Context()
			s := e.active(t, e.estate, demo.TypeRealEstateTitle)
			v := e.issued(t, "晋(2024)阳城县不动产权第0000002号")
			check := func(v licence.View) seal.Verdict {
				t.Helper()
				got, err := e.s.Signing.Check(ctx, v)
				if err != nil {
					t.Fatal(err)
				}
				return got
			}
			if got := check(v); !got.OK || got.Reason != "" || got.Seal.ID != s.ID {
				t.Fatalf("signed licence: %+v", got)
			}

			tampered := v
			tampered.Face = map[string]string{"right_holder": demo.LisiName, "location": v.Face["location"]}
			sig := v.Signature
			flippedSig := sig
			flippedSig.Value = bytes.Clone(sig.Value)
			flippedSig.Value[len(sig.Value)-2] ^= 0x80
			flippedSES := sig
			flippedSES.SES = bytes.Clone(sig.SES)
			flippedSES.SES[len(sig.SES)-5] ^= 0x01
			later := sig
			later.SignedAt = sig.SignedAt.Add(time.Hour)
			for name, mod := range map[string]func(*licence.View){
				"face changed":         func(v *licence.View) { v.Face = tampered.Face },
				"valid until extended": func(v *licence.View) { d := time.Date(2099, 1, 1, 0, 0, 0, 0, store.DateLocation()); v.ValidUntil = &d },
				"signature flipped":    func(v *licence.View) { v.Signature = flippedSig },
				"SES flipped":          func(v *licence.View) { v.Signature = flippedSES },
				"signing time moved":   func(v *licence.View) { v.Signature = later },
				"unsigned":             func(v *licence.View) { v.Signature = licence.Signature{} },
			} {
				w := v
				mod(&w)
				got := check(w)
				want := seal.ReasonSignatureInvalid
				if name == "unsigned" {
					want = seal.ReasonSignatureMissing
				}
				if got.OK || got.Reason != want {
					t.Errorf("%s: %+v, want red %s", name, got, want)
				}
				if a := got.Assess(licence.Assessment{Valid: true, Colour: licence.Green, ReasonCode: licence.ReasonOK}); a.Valid || a.Colour != licence.Red || a.ReasonCode != want {
					t.Errorf("%s: assessed %+v", name, a)
				}
			}

			// Reported lost an hour after signing: still valid, amber.
			e.clock.Set(e.clock.Now().Add(2 * time.Hour))
			lostAt := sig.SignedAt.Add(time.Hour)
			if _, err := e.s.Registry.Transition(ctx, "staff:test", s.ID, seal.Request{Action: seal.ActionReportLost, LostAt: &lostAt}); err != nil {
				t.Fatal(err)
			}
			got := check(v)
			if !got.OK || got.Reason != seal.ReasonSealSinceLost {
				t.Fatalf("signed before the loss: %+v", got)
			}
			if a := got.Assess(licence.Assessment{Valid: true, Colour: licence.Green, ReasonCode: licence.ReasonOK}); !a.Valid || a.Colour != licence.Amber || a.ReasonCode != seal.ReasonSealSinceLost {
				t.Fatalf("signed before the loss, assessed %+v", a)
			}
			// A suspended licence stays red whatever its seal says.
			if a := got.Assess(licence.Assessment{Colour: licence.Red, ReasonCode: licence.ReasonSuspended}); a.Valid || a.ReasonCode != licence.ReasonSuspended {
				t.Fatalf("suspended, assessed %+v", a)
			}
		})
	}
}

// TestSignedAfterLoss: a version signed after the loss time the seal was
// reported lost with is red.
func TestSignedAfterLoss(t *testing.T) {
	e := newEnv(t, store.DriverSQLite)
	ctx := t.Context()
	s := e.active(t, e.estate, demo.TypeRealEstateTitle)
	e.clock.Set(e.clock.Now().Add(2 * time.Hour))
	v := e.issued(t, "晋(2024)阳城县不动产权第0000003号")
	// Found missing only afterwards: it was lost an hour before signing.
	lostAt := v.Signature.SignedAt.Add(-time.Hour)
	if _, err := e.s.Registry.Transition(ctx, "staff:test", s.ID, seal.Request{Action: seal.ActionReportLost, LostAt: &lostAt}); err != nil {
		t.Fatal(err)
	}
	got, err := e.s.Signing.Check(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	if got.OK || got.Reason != seal.ReasonSealLost {
		t.Fatalf("signed after the loss: %+v", got)
	}
}

// TestSignUnsigned: versions from before seals are signed by their
// issuer's seal, each with a history line and an audit event; those of a
// department without a seal stay unsigned (and red at a scan) until it
// has one; a second run signs nothing twice.
func TestSignUnsigned(t *testing.T) {
	for _, driver := range []string{store.DriverSQLite, store.DriverMySQL} {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := t.Context()
			e.active(t, e.estate, demo.TypeRealEstateTitle) // the demo data: one title of the centre's, four others
			before := e.auditCount(t, "licence.sign")
			signed, skipped, err := e.st.SignUnsigned(ctx, e.s.Signing, "cli:test", e.clock.Now())
			if err != nil || signed != 1 || skipped != 4 {
				t.Fatalf("sign unsigned: %d signed, %d skipped, %v", signed, skipped, err)
			}
			if got := e.auditCount(t, "licence.sign") - before; got != 1 {
				t.Fatalf("%d audit events, want 1", got)
			}
			holder, err := e.st.HolderByIDNumber(ctx, "111", demo.ZhangsanIDNumber)
			if err != nil {
				t.Fatal(err)
			}
			views, err := e.st.ViewsByHolder(ctx, holder.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range views {
				got, err := e.s.Signing.Check(ctx, v)
				if err != nil {
					t.Fatal(err)
				}
				want := v.TypeCode == demo.TypeRealEstateTitle
				if got.OK != want || !want && got.Reason != seal.ReasonSignatureMissing {
					t.Errorf("%s: %+v", v.TypeCode, got)
				}
				if want {
					hist, err := e.st.History(ctx, v.ID)
					if err != nil || hist[len(hist)-1].Action != licence.ActionSign {
						t.Errorf("history of the signed title: %+v %v", hist, err)
					}
				}
			}
			if signed, skipped, err = e.st.SignUnsigned(ctx, e.s.Signing, "cli:test", e.clock.Now()); err != nil || signed != 0 || skipped != 4 {
				t.Fatalf("second run: %d signed, %d skipped, %v", signed, skipped, err)
			}
		})
	}
}
