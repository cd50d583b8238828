package api

import (
	"context"
	"encoding/base64"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/seal"
)

// SealRegistry lists the seals for their public notice (seal.Registry).
type SealRegistry interface {
	Seals(ctx context.Context) ([]seal.Seal, error)
}

// LicenceSignatures gives a licence version's signature with what an
// independent verifier needs (seal.Signing).
type LicenceSignatures interface {
	Envelope(ctx context.Context, id int64) (seal.Envelope, error)
}

type publicSeal struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	Kind          string     `json:"kind"`
	Department    string     `json:"department"`
	Status        string     `json:"status"`
	ApprovedTypes []string   `json:"approved_types"`
	Certificate   *certDates `json:"certificate"`
	LostAt        *string    `json:"lost_at"`
}

type certDates struct {
	NotBefore string `json:"not_before"`
	NotAfter  string `json:"not_after"`
}

// seals answers GET /api/v1/public/seals: every seal with its state,
// approval and certificate validity (公示, seal rules Art. 16).
func (h *publicHandlers) seals(c *gin.Context) {
	seals, err := h.sealList.Seals(c.Request.Context())
	if err != nil {
		respondError(c, dependencyFailure("seals", err))
		return
	}
	items := make([]publicSeal, 0, len(seals))
	for _, s := range seals {
		p := publicSeal{ID: s.ID, Name: s.Name, Kind: string(s.Kind), Department: s.Department, Status: string(s.State),
			ApprovedTypes: s.Types}
		if p.ApprovedTypes == nil {
			p.ApprovedTypes = []string{}
		}
		if s.Cert != nil {
			p.Certificate = &certDates{NotBefore: s.Cert.NotBefore.UTC().Format(instantFormat), NotAfter: s.Cert.NotAfter.UTC().Format(instantFormat)}
		}
		if s.LostAt != nil {
			at := s.LostAt.UTC().Format(instantFormat)
			p.LostAt = &at
		}
		items = append(items, p)
	}
	// A published notice, but a seal reported lost must show at once.
	c.Header("Cache-Control", "public, max-age=60")
	c.JSON(http.StatusOK, gin.H{"items": items})
}

type signatureDTO struct {
	Document     string        `json:"document"`
	Signature    string        `json:"signature"`
	Certificate  string        `json:"certificate"`
	SESSignature string        `json:"ses_signature"`
	Seal         signatureSeal `json:"seal"`
}

type signatureSeal struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

// signature answers GET /openapi/v1/licences/{id}/signature: the exact
// bytes signed, the DER SM2 signature, the seal's certificate and the
// GB/T 38540 SES_Signature, so anyone can check it with their own tools.
func (h *openAPILicenceHandlers) signature(c *gin.Context) {
	rec, ok := h.load(c)
	if !ok {
		return
	}
	env, err := h.signatures.Envelope(c.Request.Context(), rec.ID)
	if err != nil {
		respondError(c, dependencyFailure("licence signature", err))
		return
	}
	b64 := base64.StdEncoding.EncodeToString
	c.JSON(http.StatusOK, signatureDTO{
		Document: b64(env.Document), Signature: b64(env.Signature), Certificate: string(seal.CertificatePEM(env.Certificate)),
		SESSignature: b64(env.SES), Seal: signatureSeal{ID: env.Seal.ID, Name: env.Seal.Name, Status: string(env.Seal.State)},
	})
}
