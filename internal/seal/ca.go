package seal

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// OIDSM2WithSM3 is the signature algorithm of every certificate and
// signature here (GM/T 0006: 1.2.156.10197.1.501).
var OIDSM2WithSM3 = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 501}

// LocalCA stands in for the provincial certificate authority in embedded
// mode (Art. 5): an SM2 root generated once into the data directory that
// certifies the seals' keys. Production never has one; its certificates
// come from the real CA as files.
type LocalCA struct {
	key  *sm2.PrivateKey
	cert *smx509.Certificate
	pem  []byte
}

// localCAName is the subject of the embedded CA.
const localCAName = "阳城县电子证照平台 内置电子印章 CA (仅供演示)"

// OpenLocalCA loads {dir}/seal-ca.pem, creating it on first use. Key and
// certificate are one file written whole (writeOnce), so concurrent first
// starts agree on one CA.
func OpenLocalCA(dir string) (*LocalCA, error) {
	path := filepath.Join(dir, "seal-ca.pem")
	if raw, err := os.ReadFile(path); err == nil {
		return parseLocalCA(raw)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("seal: %w", err)
	}
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("seal: ca key: %w", err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	tmpl := &smx509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: localCAName, Country: []string{"CN"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(20, 0, 0),
		KeyUsage:              smx509.KeyUsageCertSign | smx509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SignatureAlgorithm:    smx509.SM2WithSM3,
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("seal: ca certificate: %w", err)
	}
	kder, err := smx509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("seal: ca key: %w", err)
	}
	body := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})...)
	got, err := writeOnce(path, body)
	if err != nil {
		return nil, err
	}
	return parseLocalCA(got)
}

func parseLocalCA(raw []byte) (*LocalCA, error) {
	cb, rest := pem.Decode(raw)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, errors.New("seal: seal-ca.pem: no certificate")
	}
	cert, err := smx509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("seal: seal-ca.pem: %w", err)
	}
	key, err := ParsePrivateKeyPEM(rest)
	if err != nil {
		return nil, fmt.Errorf("seal: seal-ca.pem: %w", err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, errors.New("seal: seal-ca.pem: key does not match certificate")
	}
	return &LocalCA{key: key, cert: cert, pem: pem.EncodeToMemory(cb)}, nil
}

// Certificate is the CA's own certificate, the trust root of embedded mode.
func (ca *LocalCA) Certificate() *smx509.Certificate { return ca.cert }

// CertificatePEM is the CA certificate in PEM, for verifiers.
func (ca *LocalCA) CertificatePEM() []byte { return ca.pem }

// Certify issues a seal certificate for pub with subject name, valid from
// notBefore to notAfter, signed SM2 with SM3.
func (ca *LocalCA) Certify(pub *ecdsa.PublicKey, name string, notBefore, notAfter time.Time) ([]byte, error) {
	tmpl := &smx509.Certificate{
		SerialNumber:       serial(),
		Subject:            pkix.Name{CommonName: name, Country: []string{"CN"}},
		NotBefore:          notBefore.UTC().Truncate(time.Second),
		NotAfter:           notAfter.UTC().Truncate(time.Second),
		KeyUsage:           smx509.KeyUsageDigitalSignature | smx509.KeyUsageContentCommitment,
		SignatureAlgorithm: smx509.SM2WithSM3,
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		return nil, fmt.Errorf("seal: certify %q: %w", name, err)
	}
	return der, nil
}

// NewCertificate makes a key pair in keys and certifies it for name,
// valid from now for years: what a seal's issue or renewal asks of the CA.
func (ca *LocalCA) NewCertificate(keys Keyring, name string, now time.Time, years int) ([]byte, error) {
	pub, err := keys.Generate()
	if err != nil {
		return nil, err
	}
	return ca.Certify(pub, name, now.Add(-time.Minute), now.AddDate(years, 0, 0))
}

// Signer is the CA's key as a Signer: in embedded mode the CA is also the
// seal maker (制章者) that signs each seal's SESeal.
func (ca *LocalCA) Signer() Signer { return keySigner{key: ca.key, cert: ca.cert} }

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic("seal: crypto/rand failed: " + err.Error())
	}
	return n.Add(n, big.NewInt(1))
}

// ParseCertificatePEM reads the first certificate of a PEM file.
func ParseCertificatePEM(raw []byte) (*smx509.Certificate, error) {
	b, _ := pem.Decode(raw)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: no PEM certificate", ErrCertificate)
	}
	c, err := smx509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCertificate, err)
	}
	return c, nil
}

// CertificatePEM encodes a certificate's DER as PEM.
func CertificatePEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// checkCertificate accepts a seal certificate: SM2 key, signed SM2 with
// SM3 by one of roots, subject CN equal to name (Art. 6), valid at now.
func checkCertificate(der []byte, roots []*smx509.Certificate, name string, now time.Time) (*smx509.Certificate, error) {
	c, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCertificate, err)
	}
	if pub, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || !sm2.IsSM2PublicKey(pub) {
		return nil, fmt.Errorf("%w: not an SM2 key", ErrCertificate)
	}
	if c.SignatureAlgorithm != smx509.SM2WithSM3 {
		return nil, fmt.Errorf("%w: signed with %s, not SM2-SM3", ErrCertificate, c.SignatureAlgorithm)
	}
	trusted := false
	for _, r := range roots {
		if c.CheckSignatureFrom(r) == nil {
			trusted = true
			break
		}
	}
	if !trusted {
		return nil, fmt.Errorf("%w: not issued by a trusted CA", ErrCertificate)
	}
	if c.Subject.CommonName != name {
		return nil, fmt.Errorf("%w: subject %q, seal %q", ErrCertNameMismatch, c.Subject.CommonName, name)
	}
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		return nil, fmt.Errorf("%w: valid %s to %s", ErrCertificate, c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly))
	}
	return c, nil
}
