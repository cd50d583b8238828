package api

import "github.com/gin-gonic/gin"

// The handler tests are an external package (api_test) so that they can
// build the server through bff/wire, which imports this package. These are
// the unexported names they need: the response types they decode into, and
// the formats, headers and limits they check.
type (
	LicenceItem            = licenceItem
	LicenceDetail          = licenceDetail
	FaceField              = faceField
	ShowCodeResponse       = showCodeResponse
	UsageItem              = usageItem
	VerificationResponse   = verificationResponse
	VerifiedHolder         = verifiedHolder
	OfficerContextResponse = officerContextResponse
	OfficerType            = officerType
	OfficerVerification    = officerVerification
)

const (
	DateFormat           = dateFormat
	InstantFormat        = instantFormat
	RequestIDHeader      = requestIDHeader
	SessionCookie        = sessionCookie
	IdempotencyKeyHeader = idempotencyKeyHeader
	ReplayedHeader       = replayedHeader
	MaxOpenAPIBody       = maxOpenAPIBody
	ConsoleCookie        = consoleCookie
	ConsoleCookiePath    = consoleCookiePath
	CSRFHeader           = csrfHeader
)

// MountOpenAPITestRoute adds a POST route behind the Open API's signature
// check and Idempotency-Key handling (required or optional), so a test can
// watch what the middleware lets through to a handler of its own.
func MountOpenAPITestRoute(r *gin.Engine, d OpenAPIDeps, path string, keyRequired bool, h gin.HandlerFunc) {
	m := &openAPIMiddleware{auth: d.Auth, idem: d.Idempotency}
	r.POST(path, m.signed, m.idempotent(keyRequired), h)
}

// AppID is the ID of the app a signed request came from.
func AppID(c *gin.Context) string { return appFrom(c).ID }
