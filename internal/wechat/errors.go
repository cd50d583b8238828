package wechat

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
)

// WeChat errcodes the platform reacts to. WeChat documents hundreds; these are
// the ones a caller's retry policy (docs/REMINDERS.md) or the login flow switch on.
const (
	CodeSystemBusy          = -1    // back off and retry
	CodeInvalidCredential   = 40001 // access_token invalid: refresh, retry once
	CodeInvalidOpenID       = 40003 // permanent
	CodeInvalidAccessToken  = 40014 // refresh, retry once
	CodeInvalidCode         = 40029 // OAuth code unknown or expired
	CodeInvalidTemplateID   = 40037 // permanent
	CodeCodeBeenUsed        = 40163 // OAuth code already exchanged
	CodeAccessTokenExpired  = 42001 // refresh, retry once
	CodeRequireSubscribe    = 43004 // user does not follow the account: permanent
	CodeUserRefused         = 43101 // user blocked template messages: permanent
	CodeDailyQuotaReached   = 45009 // stop until the next day
	CodeMinuteQuotaReached  = 45011 // wait a minute
	CodeArgumentInvalid     = 47003 // bad template data: permanent
	CodeAPIUnauthorized     = 48001
	CodeInvalidAppSecret    = 40125
	CodeInvalidAppID        = 40013
	CodeMissingAccessToken  = 41001
	CodeRequirePOST         = 43002
	CodeDataFormatError     = 47001
	CodeInvalidGrantType    = 40002
	CodeMissingCode         = 41008
	CodeInvalidArgs         = 40097
	CodeRedirectURIMismatch = 10003
)

var (
	// ErrSnapshotUser is returned by ExchangeCode for a snapshot-page virtual
	// account (is_snapshotuser=1). Such an openid is not a real person and must
	// never be logged in or bound (docs/SECURITY.md).
	ErrSnapshotUser = errors.New("wechat: snapshot-page virtual user")

	// ErrUnavailable marks failures to talk to WeChat at all: network errors,
	// timeouts, non-200 HTTP answers, unreadable bodies. Callers map it to 503
	// or to a retry later; errors.Is works through the wrapping.
	ErrUnavailable = errors.New("wechat: unavailable")

	// ErrProcessConfigured is returned by New when the process-wide SDK HTTP
	// settings were already installed with a different APIBase or timeout:
	// one process talks to exactly one WeChat.
	ErrProcessConfigured = errors.New("wechat: process already configured for another WeChat endpoint")
)

// APIError is a non-zero errcode answered by WeChat. It is typed so callers can
// switch on Code (retry, back off, give up) instead of parsing strings.
type APIError struct {
	Code int
	Msg  string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wechat api errcode %d: %s", e.Code, e.Msg)
}

// TokenInvalid reports whether the errcode says the access_token used was
// invalid or expired, the only case the adapter refreshes and retries itself.
func (e *APIError) TokenInvalid() bool {
	switch e.Code {
	case CodeInvalidCredential, CodeAccessTokenExpired, CodeInvalidAccessToken:
		return true
	}
	return false
}

// Code returns the WeChat errcode carried by err, if any.
func Code(err error) (int, bool) {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code, true
	}
	return 0, false
}

func apiError(op string, code int64, msg string) error {
	return fmt.Errorf("wechat: %s: %w", op, &APIError{Code: int(code), Msg: msg})
}

// secretParams matches query parameters whose values must never reach a log
// line: the SDK puts access tokens, the app secret and OAuth codes in URLs and
// repeats the URL in its error strings.
var secretParams = regexp.MustCompile(`(?i)\b(access_token|secret|appsecret|code|refresh_token|openid|ticket)=[^&\s"']*`)

func redact(s string) string {
	return secretParams.ReplaceAllString(s, "${1}=REDACTED")
}

// transportError reports a failure to reach WeChat with a redacted message.
// It unwraps to ErrUnavailable and, for net/http errors, to the cause without
// its URL (so context.DeadlineExceeded stays detectable).
type transportError struct {
	op    string
	msg   string
	cause error
}

func (e *transportError) Error() string { return "wechat: " + e.op + ": " + e.msg }

func (e *transportError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrUnavailable}
	}
	return []error{ErrUnavailable, e.cause}
}

func transport(op string, err error) error {
	var cause error
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err
	}
	return &transportError{op: op, msg: redact(err.Error()), cause: cause}
}
