package seal

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
)

// The GB/T 38540-2020 (信息安全技术 安全电子签章密码技术规范) structures,
// version 4, written by hand with encoding/asn1: no Go library implements
// the standard. Optional extension data and the time stamp are omitted
// (OPTIONAL in the standard). docs/SEALS.md shows the ASN.1.

// sesVersion is the structure version of GB/T 38540-2020.
const sesVersion = 4

// sesVendorID names the system that made the seal data (SES_Header.Vid).
const sesVendorID = "yangcheng-elicence"

type sesHeader struct {
	ID      string `asn1:"ia5"` // "ES"
	Version int
	Vid     string `asn1:"ia5"`
}

type sesPropertyInfo struct {
	Type         int
	Name         string `asn1:"utf8"`
	CertListType int
	CertList     [][]byte  // certs: SEQUENCE OF OCTET STRING (the seal holder's certificates)
	CreateDate   time.Time `asn1:"generalized"`
	ValidStart   time.Time `asn1:"generalized"`
	ValidEnd     time.Time `asn1:"generalized"`
}

type sesPictureInfo struct {
	Type   string `asn1:"ia5"` // "SVG"
	Data   []byte
	Width  int // millimetres
	Height int
}

type sesSealInfo struct {
	Header   sesHeader
	EsID     string `asn1:"ia5"`
	Property sesPropertyInfo
	Picture  sesPictureInfo
}

// sesSealTBS is what the seal maker signs: the seal data, the maker's
// certificate and the algorithm, as one DER SEQUENCE.
type sesSealTBS struct {
	ESealInfo sesSealInfo
	Cert      []byte
	SignAlgID asn1.ObjectIdentifier
}

type sesSeal struct {
	ESealInfo   sesSealInfo
	Cert        []byte
	SignAlgID   asn1.ObjectIdentifier
	SignedValue asn1.BitString
}

type tbsSign struct {
	Version      int
	ESeal        asn1.RawValue // the SESeal DER exactly as made
	TimeInfo     time.Time     `asn1:"generalized"`
	DataHash     asn1.BitString
	PropertyInfo string `asn1:"ia5"`
}

type sesSignature struct {
	ToSign         tbsSign
	Cert           []byte
	SignatureAlgID asn1.ObjectIdentifier
	Signature      asn1.BitString
}

// sealType maps a kind to SES_ESPropertyInfo.type: 1 an organisation's
// seal, 2 a person's name seal.
func sealType(k Kind) int {
	if k == KindName {
		return 2
	}
	return 1
}

// MakeESeal builds and signs the SESeal of seal s bound to certificate
// cert, made by maker (the seal-making authority; in embedded mode the
// local CA).
func MakeESeal(s Seal, cert *smx509.Certificate, maker Signer, now time.Time) ([]byte, error) {
	info := sesSealInfo{
		Header: sesHeader{ID: "ES", Version: sesVersion, Vid: sesVendorID},
		EsID:   fmt.Sprintf("YC-SEAL-%d-%s", s.ID, cert.SerialNumber.Text(16)),
		Property: sesPropertyInfo{
			Type: sealType(s.Kind), Name: s.Name, CertListType: 1, CertList: [][]byte{cert.Raw},
			CreateDate: now.UTC().Truncate(time.Second), ValidStart: cert.NotBefore.UTC(), ValidEnd: cert.NotAfter.UTC(),
		},
		Picture: sesPictureInfo{Type: "SVG", Data: Picture(s.Name), Width: 42, Height: 42},
	}
	tbs, err := asn1.Marshal(sesSealTBS{ESealInfo: info, Cert: maker.Certificate().Raw, SignAlgID: OIDSM2WithSM3})
	if err != nil {
		return nil, fmt.Errorf("seal: eseal: %w", err)
	}
	sig, err := maker.Sign(tbs)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(sesSeal{ESealInfo: info, Cert: maker.Certificate().Raw, SignAlgID: OIDSM2WithSM3,
		SignedValue: asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
}

// wrapSES builds the SES_Signature of document signed by signer at t with
// the seal data eseal: TBS_Sign carries the SM3 hash of the document,
// and the signer signs TBS_Sign's DER.
func wrapSES(signer Signer, eseal, document []byte, property string, t time.Time) ([]byte, error) {
	sum := sm3.Sum(document)
	tbs := tbsSign{
		Version: sesVersion, ESeal: asn1.RawValue{FullBytes: eseal}, TimeInfo: t.UTC().Truncate(time.Second),
		DataHash: asn1.BitString{Bytes: sum[:], BitLength: 8 * len(sum)}, PropertyInfo: property,
	}
	der, err := asn1.Marshal(tbs)
	if err != nil {
		return nil, fmt.Errorf("seal: tbs_sign: %w", err)
	}
	sig, err := signer.Sign(der)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(sesSignature{ToSign: tbs, Cert: signer.Certificate().Raw, SignatureAlgID: OIDSM2WithSM3,
		Signature: asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
}

// ErrSES: an SES_Signature does not parse or does not verify.
var ErrSES = errors.New("seal: SES_Signature does not verify")

// sesSignatureRaw is SES_Signature as read: TBS_Sign kept as the bytes
// that were signed, since a re-encoding need not reproduce them.
type sesSignatureRaw struct {
	ToSign         asn1.RawValue
	Cert           []byte
	SignatureAlgID asn1.ObjectIdentifier
	Signature      asn1.BitString
}

// VerifySES checks an SES_Signature against the document and the
// certificate expected to have signed it: structure, version, algorithm,
// certificate, data hash and the signature over TBS_Sign. It returns the
// signing time TBS_Sign states.
func VerifySES(ses, document []byte, cert *smx509.Certificate) (time.Time, error) {
	var s sesSignatureRaw
	if rest, err := asn1.Unmarshal(ses, &s); err != nil || len(rest) > 0 {
		return time.Time{}, fmt.Errorf("%w: malformed", ErrSES)
	}
	var tbs tbsSign
	if rest, err := asn1.Unmarshal(s.ToSign.FullBytes, &tbs); err != nil || len(rest) > 0 {
		return time.Time{}, fmt.Errorf("%w: malformed TBS_Sign", ErrSES)
	}
	var es sesSeal
	if rest, err := asn1.Unmarshal(tbs.ESeal.FullBytes, &es); err != nil || len(rest) > 0 {
		return time.Time{}, fmt.Errorf("%w: malformed SESeal", ErrSES)
	}
	sum := sm3.Sum(document)
	pub, _ := cert.PublicKey.(*ecdsa.PublicKey)
	switch {
	case tbs.Version != sesVersion || es.ESealInfo.Header.Version != sesVersion:
		return time.Time{}, fmt.Errorf("%w: version", ErrSES)
	case !s.SignatureAlgID.Equal(OIDSM2WithSM3):
		return time.Time{}, fmt.Errorf("%w: algorithm %s", ErrSES, s.SignatureAlgID)
	case !bytes.Equal(s.Cert, cert.Raw):
		return time.Time{}, fmt.Errorf("%w: another certificate", ErrSES)
	case !bytes.Equal(tbs.DataHash.Bytes, sum[:]):
		return time.Time{}, fmt.Errorf("%w: data hash", ErrSES)
	case pub == nil || !Verify(pub, s.ToSign.FullBytes, s.Signature.RightAlign()):
		return time.Time{}, fmt.Errorf("%w: signature", ErrSES)
	}
	return tbs.TimeInfo, nil
}
