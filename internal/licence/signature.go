package licence

import (
	"context"
	"time"
)

// Signature is the issuer's electronic seal on one licence version
// (e-licence rules Art. 13): the canonical document of the version signed
// SM2 with SM3, and the same wrapped as a GB/T 38540 SES_Signature. The
// seal package makes and checks it (docs/SEALS.md).
type Signature struct {
	SealID   int64
	CertID   int64
	SignedAt time.Time
	Value    []byte // DER SM2 signature of the canonical document
	SES      []byte // GB/T 38540 SES_Signature DER
}

// Signed reports whether the version carries a signature at all.
func (s Signature) Signed() bool { return len(s.Value) > 0 }

// SignFunc signs one version for its holder as on record. It does no I/O,
// so it can run inside the transaction that writes the version.
type SignFunc func(l Licence, h Holder) (Signature, error)

// VersionSigner finds the seal that signs an issuer's versions of a
// licence type: its active seal approved for that type (seal rules Art.
// 11). Without one nothing of that type can be issued.
type VersionSigner interface {
	SignerFor(ctx context.Context, issuer Department, typeCode string) (SignFunc, error)
}
