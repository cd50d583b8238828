package main

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

// sealing is the seal registry and signer of a process.
type sealing struct {
	registry *seal.Registry
	signing  *seal.Signing
	keys     *seal.FileKeyring
	// ca is the local CA of embedded mode; nil in production, where
	// certificates come from the provincial CA as files.
	ca    *seal.LocalCA
	years int
}

// openSealing builds the registry and the signer over the store. Embedded
// mode opens (creating it once) the local CA in the data directory;
// production trusts seals.ca_cert_file and checks that every seal in a
// signing state has its private key in seals.key_dir, so a missing key
// fails start-up, not the first issue.
func openSealing(ctx context.Context, cfg config.Config, st *store.Store, now func() time.Time) (*sealing, error) {
	keys, err := seal.NewFileKeyring(cfg.Seals.KeyDir)
	if err != nil {
		return nil, fmt.Errorf("seals.key_dir: %w", err)
	}
	s := &sealing{keys: keys, years: cfg.Seals.CertYears}
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
	if s.registry, err = seal.NewRegistry(st, st, keys, opts); err != nil {
		return nil, err
	}
	if s.signing, err = seal.NewSigning(st, st, keys, now); err != nil {
		return nil, err
	}
	if s.ca == nil {
		if err := checkSealKeys(ctx, s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// checkSealKeys makes sure the keyring holds the key of every seal that
// signs.
func checkSealKeys(ctx context.Context, s *sealing) error {
	seals, err := s.registry.Seals(ctx)
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
		if _, err := s.keys.Signer(c); err != nil {
			return fmt.Errorf("seals.key_dir: seal %d (%s): %w", se.ID, se.Name, err)
		}
	}
	return nil
}

// localCertificate has the local CA certify a new key for a seal named
// name; production has no local CA and brings its certificates as files.
func (s *sealing) localCertificate(name string, now time.Time) ([]byte, error) {
	if s.ca == nil {
		return nil, fmt.Errorf("no local CA in production: give the certificate and key issued by the CA (--cert, --key)")
	}
	return s.ca.NewCertificate(s.keys, name, now, s.years)
}

// seedDemoSeals gives the demo departments their active seals and signs
// the demo licences with them (embedded mode's demo data).
func seedDemoSeals(ctx context.Context, cfg config.Config, st *store.Store) error {
	s, err := openSealing(ctx, cfg, st, time.Now)
	if err != nil {
		return err
	}
	if _, err := demo.SeedSeals(ctx, s.registry, st, func(name string) ([]byte, error) {
		return s.localCertificate(name, time.Now())
	}); err != nil {
		return err
	}
	_, _, err = st.SignUnsigned(ctx, s.signing, demo.Actor, time.Now())
	return err
}
