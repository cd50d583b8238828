package seal_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/seal"
	"github.com/yangcheng-county/elicence/internal/store"
)

// BenchmarkSeal measures signing and checking one licence version beside
// the bare gmsm calls on the same document (docs/PERFORMANCE.md):
//
//   - sign/licence: the canonical document, its SM2 signature and the
//     SES_Signature (a second SM2 signature, over TBS_Sign), as the
//     lifecycle does inside its transaction; sign/gmsm: one
//     sm2.SignASN1 of the same document.
//   - verify/licence: the document rebuilt and both signatures verified
//     with the cached certificate (the check without its seal read);
//     verify/gmsm: one sm2.VerifyASN1WithSM2.
//   - check: seal.Signing.Check as a scan runs it, including the seal's
//     state read from the store (SQLite here).
//
// paired/* alternate one licence and one bare operation and report the
// ratio as x-gmsm, so that machine load hits both alike.
func BenchmarkSeal(b *testing.B) {
	e := newEnv(b, store.DriverSQLite)
	ctx := b.Context()
	e.active(b, e.estate, demo.TypeRealEstateTitle)
	v := e.issued(b, "晋(2024)阳城县不动产权第0000009号")
	sign, err := e.s.Signing.SignerFor(ctx, e.estate, demo.TypeRealEstateTitle)
	if err != nil {
		b.Fatal(err)
	}
	env, err := e.s.Signing.Envelope(ctx, v.ID)
	if err != nil {
		b.Fatal(err)
	}
	cert, err := seal.ParseCertificatePEM(seal.CertificatePEM(env.Certificate))
	if err != nil {
		b.Fatal(err)
	}
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	doc := env.Document
	opts := sm2.NewSM2SignerOption(true, seal.UserID)
	bareSig, err := sm2.SignASN1(rand.Reader, key, doc, opts)
	if err != nil {
		b.Fatal(err)
	}
	by := seal.SignedBy{SealID: v.Signature.SealID, CertID: v.Signature.CertID, SignedAt: v.Signature.SignedAt}

	signLicence := func() {
		if _, err := sign(v.Licence, v.Holder); err != nil {
			b.Fatal(err)
		}
	}
	signBare := func() {
		if _, err := sm2.SignASN1(rand.Reader, key, doc, opts); err != nil {
			b.Fatal(err)
		}
	}
	verifyLicence := func() {
		d := seal.Document(v.Licence, v.Holder, v.Issuer.USCC, by)
		if !seal.Verify(cert.PublicKey.(*ecdsa.PublicKey), d, v.Signature.Value) {
			b.Fatal("signature does not verify")
		}
		if _, err := seal.VerifySES(v.Signature.SES, d, cert); err != nil {
			b.Fatal(err)
		}
	}
	verifyBare := func() {
		if !sm2.VerifyASN1WithSM2(&key.PublicKey, seal.UserID, doc, bareSig) {
			b.Fatal("bare signature does not verify")
		}
	}
	b.Run("sign/licence", func(b *testing.B) {
		for b.Loop() {
			signLicence()
		}
	})
	b.Run("sign/gmsm", func(b *testing.B) {
		for b.Loop() {
			signBare()
		}
	})
	b.Run("verify/licence", func(b *testing.B) {
		for b.Loop() {
			verifyLicence()
		}
	})
	b.Run("verify/gmsm", func(b *testing.B) {
		for b.Loop() {
			verifyBare()
		}
	})
	b.Run("check", func(b *testing.B) {
		for b.Loop() {
			if got, err := e.s.Signing.Check(ctx, v); err != nil || !got.OK {
				b.Fatal(got, err)
			}
		}
	})
	paired := func(name string, own, bare func()) {
		b.Run("paired/"+name, func(b *testing.B) {
			var ownT, bareT time.Duration
			for b.Loop() {
				t0 := time.Now()
				own()
				t1 := time.Now()
				bare()
				ownT += t1.Sub(t0)
				bareT += time.Since(t1)
			}
			b.ReportMetric(float64(ownT)/float64(bareT), "x-gmsm")
		})
	}
	paired("sign", signLicence, signBare)
	paired("verify", verifyLicence, verifyBare)
}
