package seal_test

import (
	"errors"
	"testing"
	"time"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/seal"
	"github.com/yangcheng-county/elicence/internal/store"
)

// TestPlatformSealSignsRecords: the seal approved for no licence type is
// the platform's; what it signs verifies with its CA-issued certificate,
// and a forged signature, other bytes, a certificate no trusted CA issued
// or a time outside the certificate's validity are refused.
func TestPlatformSealSignsRecords(t *testing.T) {
	e := newEnv(t, store.DriverSQLite)
	ctx := t.Context()
	if _, err := e.s.Registry.PlatformSeal(ctx); !errors.Is(err, seal.ErrCannotSign) {
		t.Fatalf("no platform seal yet: %v", err)
	}
	e.active(t, e.estate, demo.TypeRealEstateTitle)
	platform := e.active(t, e.estate)
	got, err := e.s.Registry.PlatformSeal(ctx)
	if err != nil || got.ID != platform.ID {
		t.Fatalf("platform seal: %+v, %v; want %d", got, err, platform.ID)
	}
	msg := []byte(`["elicence-audit-checkpoint-v1",3,"ab","2025-06-30T23:30:00.000000Z"]`)
	sig, cert, err := e.s.Signing.SignBytes(ctx, got.ID, msg)
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	if err := e.s.Registry.VerifyBytes(cert.DER, msg, sig, now); err != nil {
		t.Fatalf("genuine signature: %v", err)
	}
	forged := append([]byte(nil), sig...)
	forged[len(forged)-1] ^= 1
	for _, tc := range []struct {
		name      string
		der, m, s []byte
		at        time.Time
		want      error
	}{
		{"forged signature", cert.DER, msg, forged, now, seal.ErrBadSignature},
		{"other bytes", cert.DER, append(msg, ' '), sig, now, seal.ErrBadSignature},
		{"untrusted certificate", selfSigned(t, platform.Name), msg, sig, now, seal.ErrCertificate},
		{"outside validity", cert.DER, msg, sig, now.AddDate(5, 0, 0), seal.ErrCertificate},
		{"not a certificate", []byte("cert"), msg, sig, now, seal.ErrCertificate},
	} {
		if err := e.s.Registry.VerifyBytes(tc.der, tc.m, tc.s, tc.at); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
