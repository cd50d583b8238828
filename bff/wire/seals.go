package wire

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/yangcheng-county/elicence/internal/config"
	"github.com/yangcheng-county/elicence/internal/demo"
	"github.com/yangcheng-county/elicence/internal/seal"
	"github.com/yangcheng-county/elicence/internal/store"
)

// Seals is the seal registry and signer of a process (docs/SEALS.md).
// Compose builds one for the service; `bff seal`, `bff import` and demo
// seeding open their own over the same configuration, so all of them sign
// with the same keys and trust the same CA.
type Seals struct {
	Registry *seal.Registry
	Signing  *seal.Signing
	// Keys is the keyring of seals.key_dir, where `bff seal issue --key`
	// puts the CA-issued keys.
	Keys *seal.FileKeyring
	// ca is the local CA of embedded mode; nil in production, where
	// certificates come from the provincial CA as files.
	ca    *seal.LocalCA
	years int
}

// OpenSeals builds the registry and the signer over the store. Embedded
// mode opens (creating it once) the local CA in the data directory;
// production trusts seals.ca_cert_file. It reads files only: CheckKeys is
// the start-up check that needs the database.
func OpenSeals(cfg config.Config, st *store.Store, now func() time.Time) (*Seals, error) {
	keys, err := seal.NewFileKeyring(cfg.Seals.KeyDir)
	if err != nil {
		return nil, fmt.Errorf("seals.key_dir: %w", err)
	}
	s := &Seals{Keys: keys, years: cfg.Seals.CertYears}
	opts := seal.Options{Now: now}
	if cfg.Seals.CACertFile != "" {
		raw, err := os.ReadFile(cfg.Seals.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("seals.ca_cert_file: %w", err)
		}
		root, err := seal.ParseCertificatePEM(raw)
		if err != nil {
			return nil, fmt.Errorf("seals.ca_cert_file: %w", err)
		}
		opts.Roots = []*smx509.Certificate{root}
	} else {
		if s.ca, err = seal.OpenLocalCA(cfg.DataDir); err != nil {
			return nil, fmt.Errorf("data_dir: %w", err)
		}
		opts.Roots, opts.Maker = []*smx509.Certificate{s.ca.Certificate()}, s.ca.Signer()
	}
	if s.Registry, err = seal.NewRegistry(st, st, keys, opts); err != nil {
		return nil, err
	}
	if s.Signing, err = seal.NewSigning(st, st, keys, now); err != nil {
		return nil, err
	}
	return s, nil
}

// CheckKeys makes sure, in production, that the keyring holds the key of
// every seal that signs, so a missing key fails start-up, not the first
// issue. The local CA of embedded mode made every key in its keyring.
func (s *Seals) CheckKeys(ctx context.Context) error {
	if s.ca != nil {
		return nil
	}
	seals, err := s.Registry.Seals(ctx)
	if err != nil {
		return err
	}
	for _, se := range seals {
		if !se.State.Signs() || se.Cert == nil {
			continue
		}
		c, err := smx509.ParseCertificate(se.Cert.DER)
		if err != nil {
			return fmt.Errorf("seal %d (%s): certificate: %w", se.ID, se.Name, err)
		}
		if _, err := s.Keys.Signer(c); err != nil {
			return fmt.Errorf("seals.key_dir: seal %d (%s): %w", se.ID, se.Name, err)
		}
	}
	return nil
}

// LocalCertificate has the local CA certify a new key for a seal named
// name; production has no local CA and brings its certificates as files.
func (s *Seals) LocalCertificate(name string, now time.Time) ([]byte, error) {
	if s.ca == nil {
		return nil, fmt.Errorf("no local CA in production: give the certificate and key issued by the CA (--cert, --key)")
	}
	return s.ca.NewCertificate(s.Keys, name, now, s.years)
}

// SeedDemoSeals gives the demo departments their active seals and signs
// the demo licences with them, as embedded mode seeds its demo data; a
// restart adds nothing.
func SeedDemoSeals(ctx context.Context, cfg config.Config, st *store.Store, now func() time.Time) error {
	s, err := OpenSeals(cfg, st, now)
	if err != nil {
		return err
	}
	if _, err := demo.SeedSeals(ctx, s.Registry, st, func(name string) ([]byte, error) {
		return s.LocalCertificate(name, now())
	}); err != nil {
		return err
	}
	_, _, err = st.SignUnsigned(ctx, s.Signing, demo.Actor, now())
	return err
}

// SignCheckpoint is the audit.SignFunc of checkpoints: the platform seal
// signs them (docs/SECURITY.md, "Audit checkpoints").
func (s *Seals) SignCheckpoint(ctx context.Context, msg []byte) (int64, []byte, []byte, error) {
	se, err := s.Registry.PlatformSeal(ctx)
	if err != nil {
		return 0, nil, nil, err
	}
	sig, cert, err := s.Signing.SignBytes(ctx, se.ID, msg)
	if err != nil {
		return 0, nil, nil, err
	}
	return se.ID, cert.DER, sig, nil
}
