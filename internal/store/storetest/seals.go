package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/seal"
	"github.com/yangcheng-county/elicence/internal/store"
)

// Sealing is the seal registry and signer over a test store, with a local
// CA and a keyring of their own in a temporary directory, as embedded mode
// wires them.
type Sealing struct {
	CA       *seal.LocalCA
	Keys     *seal.FileKeyring
	KeyDir   string
	Registry *seal.Registry
	Signing  *seal.Signing
}

// Seals wires a registry and a signer over st; now is their clock (nil:
// time.Now). Nothing is seeded.
func Seals(t testing.TB, st *store.Store, now func() time.Time) Sealing {
	t.Helper()
	if now == nil {
		now = time.Now
	}
	dir := t.TempDir()
	ca, err := seal.OpenLocalCA(dir)
	if err != nil {
		t.Fatalf("storetest: local CA: %v", err)
	}
	keyDir := dir + "/seals"
	keys, err := seal.NewFileKeyring(keyDir)
	if err != nil {
		t.Fatalf("storetest: keyring: %v", err)
	}
	reg, err := seal.NewRegistry(st, st, keys, seal.Options{Roots: []*smx509.Certificate{ca.Certificate()}, Maker: ca.Signer(), Now: now})
	if err != nil {
		t.Fatalf("storetest: seal registry: %v", err)
	}
	signing, err := seal.NewSigning(st, st, keys, now)
	if err != nil {
		t.Fatalf("storetest: signing: %v", err)
	}
	return Sealing{CA: ca, Keys: keys, KeyDir: keyDir, Registry: reg, Signing: signing}
}

// Certify is the local CA certifying a new key for a seal named name, valid
// for three years from now.
func (s Sealing) Certify(now func() time.Time) demo.Certify {
	return func(name string) ([]byte, error) { return s.CA.NewCertificate(s.Keys, name, now(), 3) }
}

// sealed remembers the Sealing of each store SealDemo seeded: the seals'
// keys live in that Sealing's keyring, so a second call on the same store
// must get the same one back.
var sealed sync.Map // *store.Store → Sealing

// SealDemo is Seals plus the demo seals (demo.SeedSeals) and the demo
// licences signed with them, as embedded mode seeds them. Called again on
// the same store it returns the same Sealing.
func SealDemo(t testing.TB, st *store.Store, now func() time.Time) Sealing {
	t.Helper()
	if s, ok := sealed.Load(st); ok {
		return s.(Sealing)
	}
	if now == nil {
		now = time.Now
	}
	s := Seals(t, st, now)
	sealed.Store(st, s)
	t.Cleanup(func() { sealed.Delete(st) })
	if _, err := demo.SeedSeals(t.Context(), s.Registry, st, s.Certify(now)); err != nil {
		t.Fatalf("storetest: demo seals: %v", err)
	}
	if _, _, err := st.SignUnsigned(t.Context(), s.Signing, demo.Actor, now()); err != nil {
		t.Fatalf("storetest: sign demo licences: %v", err)
	}
	return s
}
