package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/openapi"
)

// OpenAPIDeps are what /openapi/v1 needs, built by bff/wire.Compose.
type OpenAPIDeps struct {
	// Auth checks signatures, timestamps, nonces and the per-app rate
	// limit (openapi.NewAuthenticator over the store, redisx.NewNonces and
	// redisx.NewCounter).
	Auth *openapi.Authenticator
	// Idempotency replays answers to retried POSTs
	// (openapi.NewIdempotency over redisx.NewIdempotency).
	Idempotency *openapi.Idempotency
	// Licences issues licences and applies lifecycle events for the
	// calling app's department (licence.Lifecycle).
	Licences Issuing
	// Signatures gives licence versions' seal signatures (seal.Signing).
	Signatures LicenceSignatures
	// Document is the OpenAPI 3.1 document served at openapi.yaml.
	Document []byte
}

func (d OpenAPIDeps) validate() error {
	if d.Auth == nil || d.Idempotency == nil || d.Licences == nil || len(d.Document) == 0 {
		return errors.New("api: Deps.OpenAPI needs Auth, Idempotency, Licences and Document")
	}
	return nil
}

// Headers of idempotent retries.
const (
	idempotencyKeyHeader = "Idempotency-Key"
	replayedHeader       = "Idempotent-Replayed"
)

// maxOpenAPIBody bounds a signed request body. A licence with its face
// fields is a few KiB; the whole body is read before the signature check,
// so the bound is what an unauthenticated caller can make us buffer.
const maxOpenAPIBody = 256 << 10

// Context keys of the Open API.
const (
	ctxApp  = "openapi_app"
	ctxBody = "openapi_body"
)

// openAPIMiddleware is the Open API's own front door: no cookie session, no
// browser CSRF guard (both only look at /api/), a signature instead.
type openAPIMiddleware struct {
	auth *openapi.Authenticator
	idem *openapi.Idempotency
}

// signed reads the body (bounded), checks the request's signature and puts
// the calling app in the context. Every refusal is 401 with its own code;
// a database or Redis that does not answer is 503, never a pass.
func (m *openAPIMiddleware) signed(c *gin.Context) {
	body, err := readBounded(c)
	if err != nil {
		respondError(c, err)
		return
	}
	r := c.Request
	app, err := m.auth.Authenticate(r.Context(), openapi.Signed{
		AppID: r.Header.Get(openapi.HeaderAppID), Timestamp: r.Header.Get(openapi.HeaderTimestamp),
		Nonce: r.Header.Get(openapi.HeaderNonce), Signature: r.Header.Get(openapi.HeaderSignature),
		Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Body: body,
	})
	if err != nil {
		respondError(c, dependencyFailure("open api authentication", err))
		return
	}
	c.Set(ctxApp, app)
	c.Set(ctxBody, body)
	c.Next()
}

// readBounded reads the whole body, at most maxOpenAPIBody bytes, and
// leaves a fresh reader of it in place for the handler.
func readBounded(c *gin.Context) ([]byte, error) {
	if c.Request.Body == nil {
		return nil, nil
	}
	if c.Request.ContentLength > maxOpenAPIBody {
		return nil, errTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxOpenAPIBody+1))
	if err != nil {
		return nil, errBadRequest
	}
	if len(body) > maxOpenAPIBody {
		return nil, errTooLarge
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

func appFrom(c *gin.Context) openapi.App {
	app, _ := c.MustGet(ctxApp).(openapi.App)
	return app
}

// idempotent makes a POST safe to retry with an Idempotency-Key: the first
// request runs and its answer is kept for a day; a retry with the same key
// and body gets that answer again, marked Idempotent-Replayed: true; the
// same key with another body is 409 idempotency_conflict, and while the
// first is still running 409 idempotency_in_progress. A 5xx answer is not
// kept: the retry runs again. required makes the key mandatory.
func (m *openAPIMiddleware) idempotent(required bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		key := c.GetHeader(idempotencyKeyHeader)
		if key == "" {
			if required {
				respondError(c, errIdempotencyKeyRequired)
				return
			}
			c.Next()
			return
		}
		body, _ := c.Get(ctxBody)
		r := c.Request
		fp := openapi.Fingerprint(r.Method, r.URL.EscapedPath(), r.URL.RawQuery, body.([]byte))
		replay, ticket, err := m.idem.Begin(r.Context(), appFrom(c).ID, key, fp)
		if err != nil {
			respondError(c, dependencyFailure("idempotency store", err))
			return
		}
		if replay != nil {
			c.Header(replayedHeader, "true")
			c.Data(replay.Status, replay.ContentType, replay.Body)
			c.Abort()
			return
		}
		w := &capturingWriter{ResponseWriter: c.Writer}
		c.Writer = w
		c.Next()
		// The answer has gone out; keeping it must not depend on the
		// client still waiting.
		ctx := context.WithoutCancel(r.Context())
		if w.Status() >= http.StatusInternalServerError {
			err = m.idem.Release(ctx, ticket)
		} else {
			err = m.idem.Finish(ctx, ticket, openapi.Response{Status: w.Status(), ContentType: w.Header().Get("Content-Type"), Body: w.buf.Bytes()})
		}
		if err != nil {
			_ = c.Error(err)
		}
	}
}

// capturingWriter keeps a copy of the body it writes, for replay.
type capturingWriter struct {
	gin.ResponseWriter
	buf bytes.Buffer
}

func (w *capturingWriter) Write(b []byte) (int, error) {
	w.buf.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *capturingWriter) WriteString(s string) (int, error) {
	w.buf.WriteString(s)
	return w.ResponseWriter.WriteString(s)
}

// openAPIDocument serves the OpenAPI 3.1 document; no signature needed.
func openAPIDocument(doc []byte) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Data(http.StatusOK, "application/yaml; charset=utf-8", doc)
	}
}
