package seal

import (
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
)

// UserID is the SM2 signer identity every signature uses: the default
// user ID of GB/T 35276 (1234567812345678), which independent verifiers
// (openssl -sigopt distid:…) assume too.
var UserID = []byte("1234567812345678")

// Signer signs with one seal's private key, which never leaves it: the
// file keyring keeps keys on disk, a hardware or remote signing service
// can implement the same two methods.
type Signer interface {
	// Certificate is the certificate of the key, to be sent with every
	// signature.
	Certificate() *smx509.Certificate
	// Sign returns the DER SM2 signature of msg with SM3 and UserID.
	Sign(msg []byte) ([]byte, error)
}

// Keyring holds private keys and hands out signers for certificates.
type Keyring interface {
	// Generate makes a new key pair, keeps the private key and returns the
	// public key for a certificate request.
	Generate() (*ecdsa.PublicKey, error)
	// Signer returns the signer of cert's key; ErrKeyMissing when the
	// keyring does not hold it.
	Signer(cert *smx509.Certificate) (Signer, error)
}

// keySigner is a Signer over an in-memory private key.
type keySigner struct {
	key  *sm2.PrivateKey
	cert *smx509.Certificate
}

func (k keySigner) Certificate() *smx509.Certificate { return k.cert }

func (k keySigner) Sign(msg []byte) ([]byte, error) {
	sig, err := sm2.SignASN1(rand.Reader, k.key, msg, sm2.NewSM2SignerOption(true, UserID))
	if err != nil {
		return nil, fmt.Errorf("seal: sign: %w", err)
	}
	return sig, nil
}

// Verify checks a DER SM2-with-SM3 signature of msg by pub with UserID.
func Verify(pub *ecdsa.PublicKey, msg, sig []byte) bool {
	return sm2.VerifyASN1WithSM2(pub, UserID, msg, sig)
}

// FileKeyring keeps each private key as a PKCS#8 PEM file named after
// the SM3 fingerprint of its public key, readable by the owner only, so a
// certificate finds its key without any database id.
type FileKeyring struct {
	dir   string
	cache sync.Map // fingerprint → keySigner
}

// NewFileKeyring opens (creating it if needed) the key directory.
func NewFileKeyring(dir string) (*FileKeyring, error) {
	if dir == "" {
		return nil, errors.New("seal: empty key directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("seal: key directory: %w", err)
	}
	return &FileKeyring{dir: dir}, nil
}

// Generate implements Keyring.
func (k *FileKeyring) Generate() (*ecdsa.PublicKey, error) {
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("seal: generate key: %w", err)
	}
	if err := k.Import(key); err != nil {
		return nil, err
	}
	return &key.PublicKey, nil
}

// Import stores a private key given from outside (a production seal's
// key file) in the keyring.
func (k *FileKeyring) Import(key *sm2.PrivateKey) error {
	fp, err := Fingerprint(&key.PublicKey)
	if err != nil {
		return err
	}
	der, err := smx509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("seal: marshal key: %w", err)
	}
	_, err = writeOnce(filepath.Join(k.dir, fp+".key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	return err
}

// Signer implements Keyring.
func (k *FileKeyring) Signer(cert *smx509.Certificate) (Signer, error) {
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !sm2.IsSM2PublicKey(pub) {
		return nil, fmt.Errorf("%w: not an SM2 key", ErrCertificate)
	}
	fp, err := Fingerprint(pub)
	if err != nil {
		return nil, err
	}
	if s, ok := k.cache.Load(fp); ok {
		return keySigner{key: s.(keySigner).key, cert: cert}, nil
	}
	raw, err := os.ReadFile(filepath.Join(k.dir, fp+".key"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrKeyMissing
	}
	if err != nil {
		return nil, fmt.Errorf("seal: read key: %w", err)
	}
	key, err := ParsePrivateKeyPEM(raw)
	if err != nil {
		return nil, err
	}
	if !key.PublicKey.Equal(pub) {
		return nil, ErrKeyMissing
	}
	s := keySigner{key: key, cert: cert}
	k.cache.Store(fp, s)
	return s, nil
}

// ParsePrivateKeyPEM reads an SM2 private key from PKCS#8 or SEC 1 PEM.
func ParsePrivateKeyPEM(raw []byte) (*sm2.PrivateKey, error) {
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, errors.New("seal: key: no PEM block")
	}
	var (
		key any
		err error
	)
	if block.Type == "EC PRIVATE KEY" {
		key, err = smx509.ParseSM2PrivateKey(block.Bytes)
	} else {
		key, err = smx509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("seal: key: %w", err)
	}
	k, ok := key.(*sm2.PrivateKey)
	if !ok {
		return nil, errors.New("seal: key: not an SM2 private key")
	}
	return k, nil
}

// Fingerprint is the hex SM3 of a public key's SubjectPublicKeyInfo.
func Fingerprint(pub *ecdsa.PublicKey) (string, error) {
	der, err := smx509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("seal: fingerprint: %w", err)
	}
	sum := sm3.Sum(der)
	return hex.EncodeToString(sum[:]), nil
}

// writeOnce creates path with body, whole or not at all: a temporary
// file hard-linked into place, so two processes starting together on a
// fresh data directory never read a half-written file, and the loser
// reads what the winner wrote. It returns what path holds afterwards.
func writeOnce(path string, body []byte) ([]byte, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("seal: write %s: %w", tmp.Name(), err)
	}
	switch err := os.Link(tmp.Name(), path); {
	case err == nil:
		return body, nil
	case !errors.Is(err, fs.ErrExist):
		return nil, fmt.Errorf("seal: write %s: %w", path, err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seal: read %s: %w", path, err)
	}
	return got, nil
}
