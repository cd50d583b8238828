package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/yangcheng-county/elicence/internal/audit"
	"github.com/yangcheng-county/elicence/internal/auth"
	"github.com/yangcheng-county/elicence/internal/catalogue"
	"github.com/yangcheng-county/elicence/internal/fault"
	"github.com/yangcheng-county/elicence/internal/importer"
	"github.com/yangcheng-county/elicence/internal/licence"
	"github.com/yangcheng-county/elicence/internal/officer"
	"github.com/yangcheng-county/elicence/internal/openapi"
	"github.com/yangcheng-county/elicence/internal/realname"
	"github.com/yangcheng-county/elicence/internal/reminder"
	"github.com/yangcheng-county/elicence/internal/seal"
	"github.com/yangcheng-county/elicence/internal/showcode"
	"github.com/yangcheng-county/elicence/internal/staff"
	"github.com/yangcheng-county/elicence/internal/stats"
	"github.com/yangcheng-county/elicence/internal/verify"
	"github.com/yangcheng-county/elicence/internal/wechat"
)

// publicError is what a client may see of a failure: a status, a stable
// snake_case code and a human sentence. Internal error text never leaves the
// server (STYLE rule 5).
type publicError struct {
	Status     int
	Code       string
	Message    string
	ReasonCode string // set on refusals an officer must read (403)
	// Details lists every field a request was refused for (422).
	Details []fieldDetail
}

// fieldDetail is one entry of an error's "details".
type fieldDetail struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *publicError) Error() string { return e.Code }

// Errors raised by the transport layer itself.
var (
	errNotLoggedIn   = &publicError{Status: http.StatusUnauthorized, Code: "not_logged_in", Message: "请先登录"}
	errBadRequest    = &publicError{Status: http.StatusBadRequest, Code: "validation_failed", Message: "请求内容不完整或格式不正确"}
	errNotFound      = &publicError{Status: http.StatusNotFound, Code: "not_found", Message: "没有找到该内容"}
	errNeedsRealname = &publicError{Status: http.StatusForbidden, Code: "realname_required", Message: "请先完成实名认证"}
	errNotOfficer    = &publicError{Status: http.StatusForbidden, Code: "not_officer", Message: "只有核验人员可以核验证照", ReasonCode: "not_officer"}
	errUnavailable   = &publicError{Status: http.StatusServiceUnavailable, Code: "dependency_unavailable", Message: "服务暂时不可用,请稍后再试"}
	errInternal      = &publicError{Status: http.StatusInternalServerError, Code: "internal_error", Message: "服务器出错了,请稍后再试"}
	// Open API transport refusals (docs/OPENAPI.md).
	errIdempotencyKeyRequired = &publicError{Status: http.StatusBadRequest, Code: "idempotency_key_required", Message: "此请求必须带 Idempotency-Key 请求头"}
	errNotSigned              = &publicError{Status: http.StatusNotFound, Code: "not_signed", Message: "该证照尚未加盖电子印章"}
	// Console refusals (docs/CONSOLE.md).
	errForbidden = &publicError{Status: http.StatusForbidden, Code: "forbidden", Message: "您的角色无权执行此操作"}
	errCSRF      = &publicError{Status: http.StatusForbidden, Code: "csrf_failed", Message: "页面已过期,请刷新后重试"}
	errBadExport = &publicError{Status: http.StatusBadRequest, Code: "validation_failed", Message: "导出格式须为 xlsx,或 csv 并指明表格(departments、verifications)"}
)

// errorMapping ties a domain error value to its public face. Handlers never
// choose statuses for domain errors themselves; they call respondError.
type errorMapping struct {
	err error
	pub *publicError
}

// domainErrors is the one table from domain errors to HTTP. Order matters
// only where errors wrap each other: the first match wins.
var domainErrors = []errorMapping{
	// Login and real-name binding.
	{auth.ErrStateInvalid, &publicError{Status: http.StatusBadRequest, Code: "oauth_state_invalid", Message: "登录链接已失效,请重新登录"}},
	{auth.ErrCodeMissing, &publicError{Status: http.StatusBadRequest, Code: "oauth_state_invalid", Message: "登录链接已失效,请重新登录"}},
	{auth.ErrCodeInvalid, &publicError{Status: http.StatusBadRequest, Code: "oauth_code_invalid", Message: "微信授权已失效,请重新登录"}},
	{auth.ErrSnapshotUser, &publicError{Status: http.StatusForbidden, Code: "snapshot_user", Message: "请在微信中打开本服务并授权后使用"}},
	{realname.ErrInvalidIDNumber, &publicError{Status: http.StatusBadRequest, Code: "invalid_id_number", Message: "身份证号码格式不正确"}},
	{realname.ErrNoMatch, &publicError{Status: http.StatusUnprocessableEntity, Code: "realname_no_match", Message: "姓名与身份证号码不匹配,或没有您的证照记录"}},
	{realname.ErrCodeInvalid, &publicError{Status: http.StatusUnprocessableEntity, Code: "realname_code_invalid", Message: "验证码不正确或已过期"}},
	{realname.ErrTooManyAttempts, &publicError{Status: http.StatusTooManyRequests, Code: "realname_too_many_attempts", Message: "尝试次数过多,请一小时后再试"}},
	{realname.ErrDailyLimit, &publicError{Status: http.StatusTooManyRequests, Code: "realname_daily_limit", Message: "今日验证码发送次数已达上限,请明天再试或到政务服务窗口办理"}},
	{realname.ErrResendTooSoon, &publicError{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "验证码发送太频繁,请稍后再试"}},
	{wechat.ErrUnavailable, errUnavailable},
	// Licences, show codes and verification.
	{licence.ErrNotFound, errNotFound},
	{showcode.ErrInvalid, &publicError{Status: http.StatusNotFound, Code: "show_code_invalid", Message: "亮证码无效或已过期,请持证人刷新后重新出示"}},
	{showcode.ErrBadScope, &publicError{Status: http.StatusBadRequest, Code: "validation_failed", Message: "亮证范围只能是 basic 或 full"}},
	{verify.ErrNotOfficer, errNotOfficer},
	{verify.ErrNotInUsageList, &publicError{Status: http.StatusForbidden, Code: "type_not_in_usage_list", Message: "该证照类型不在本单位用证清单内,无权核验", ReasonCode: "type_not_in_usage_list"}},
	{verify.ErrPurposeNotInUsageList, &publicError{Status: http.StatusForbidden, Code: "purpose_not_in_usage_list", Message: "该用证事由不在本单位用证清单内,请选择清单中的事由", ReasonCode: "purpose_not_in_usage_list"}},
	{verify.ErrRateLimited, &publicError{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "核验失败次数过多,请稍后再试"}},
	{verify.ErrBadPurpose, &publicError{Status: http.StatusBadRequest, Code: "validation_failed", Message: "请填写用证事由(不超过50个字)"}},
	// Expiry reminders.
	{reminder.ErrNotFound, errNotFound},
	// Issuing and the lifecycle (refused requests and transitions carry
	// their particulars: see requestError).
	{licence.ErrTypeNotIssued, &publicError{Status: http.StatusForbidden, Code: "type_not_issued_by_department", Message: "本单位不是该证照类型的制发单位"}},
	{licence.ErrReasonRequired, &publicError{Status: http.StatusUnprocessableEntity, Code: "reason_required", Message: "此操作须填写原因(reason)"}},
	{licence.ErrDuplicate, &publicError{Status: http.StatusConflict, Code: "licence_exists", Message: "该类型下已有相同证照编号的有效证照"}},
	// Console staff (docs/CONSOLE.md).
	{staff.ErrLoginFailed, &publicError{Status: http.StatusUnauthorized, Code: "login_failed", Message: "用户名、密码或动态口令不正确"}},
	{staff.ErrLocked, &publicError{Status: http.StatusTooManyRequests, Code: "account_locked", Message: "登录失败次数过多,账号已暂时锁定,请稍后再试"}},
	{staff.ErrUsernameTaken, &publicError{Status: http.StatusConflict, Code: "username_taken", Message: "该用户名已被使用"}},
	{staff.ErrInvalid, &publicError{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: "用户名、角色或所属部门不正确"}},
	{staff.ErrAlreadyDisabled, &publicError{Status: http.StatusConflict, Code: "already_disabled", Message: "该账号已停用"}},
	{staff.ErrWeakPassword, &publicError{Status: http.StatusUnprocessableEntity, Code: "weak_password", Message: "新密码须为12至128个字符,且不能与一次性密码相同"}},
	{staff.ErrNoPasswordChange, &publicError{Status: http.StatusConflict, Code: "no_password_change", Message: "该账号无需修改密码"}},
	{staff.ErrNotFound, errNotFound},
	// Electronic seals (docs/SEALS.md): nothing is issued unsigned.
	{seal.ErrNoSigningSeal, &publicError{Status: http.StatusConflict, Code: "no_signing_seal", Message: "本单位没有已启用的电子印章,无法签发"}},
	{seal.ErrNotApproved, &publicError{Status: http.StatusConflict, Code: "no_signing_seal", Message: "本单位的电子印章未获准用于该证照类型"}},
	{seal.ErrUnsigned, errNotSigned},
	// A department's imports, officers and apps in the console.
	{importer.ErrJobRunning, &publicError{Status: http.StatusConflict, Code: "import_running", Message: "本单位有一次导入正在进行,请等它完成后再导入"}},
	{importer.ErrJobNotFound, errNotFound},
	{officer.ErrNotFound, errNotFound},
	{officer.ErrInviteExpired, &publicError{Status: http.StatusGone, Code: "invite_expired", Message: "邀请链接已过期,请联系单位管理员重新邀请"}},
	{officer.ErrInviteUsed, &publicError{Status: http.StatusGone, Code: "invite_used", Message: "邀请链接已被使用,请联系单位管理员重新邀请"}},
	{officer.ErrAlreadyOfficer, &publicError{Status: http.StatusConflict, Code: "already_officer", Message: "您的微信已绑定为核验人员,请先由原单位解除绑定"}},
	{officer.ErrBadName, &publicError{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: "请填写核验人员姓名(不超过64个字)"}},
	{openapi.ErrAppNotFound, errNotFound},
	{openapi.ErrAppDisabled, &publicError{Status: http.StatusConflict, Code: "app_disabled", Message: "该应用已停用"}},
	{openapi.ErrBadAppName, &publicError{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: "请填写应用名称(不超过64个字)"}},
	// The catalogue in the console (docs/CONSOLE.md); its refused entries
	// carry their particulars (requestError).
	{catalogue.ErrExists, &publicError{Status: http.StatusConflict, Code: "catalogue_entry_exists", Message: "该统一社会信用代码或证照类型代码已在目录中"}},
	{catalogue.ErrNotOnRecord, errNotFound},
	{catalogue.ErrPlanChanged, &publicError{Status: http.StatusConflict, Code: "plan_changed", Message: "目录或文件在预览之后有变化,请重新预览后再导入"}},
	// Statistics and the audit viewer (docs/STATISTICS.md, docs/CONSOLE.md).
	{stats.ErrNotFound, errNotFound},
	{stats.ErrBadMonth, &publicError{Status: http.StatusBadRequest, Code: "validation_failed", Message: "月份须为 YYYY-MM 格式"}},
	{stats.ErrBadBaseline, &publicError{Status: http.StatusBadRequest, Code: "validation_failed", Message: "存量底数须为 0 到 10000000 之间的整数"}},
	{audit.ErrCheckNotFound, errNotFound},
	// Open API for department systems (docs/OPENAPI.md).
	{openapi.ErrSignatureInvalid, &publicError{Status: http.StatusUnauthorized, Code: "signature_invalid", Message: "签名无效"}},
	{openapi.ErrTimestampOutOfWindow, &publicError{Status: http.StatusUnauthorized, Code: "timestamp_out_of_window", Message: "请求时间戳与服务器时间相差超过 300 秒"}},
	{openapi.ErrNonceReused, &publicError{Status: http.StatusUnauthorized, Code: "nonce_reused", Message: "随机串已使用过"}},
	{openapi.ErrRateLimited, &publicError{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "请求过于频繁,请稍后再试"}},
	{openapi.ErrIdempotencyKeyInvalid, &publicError{Status: http.StatusBadRequest, Code: "idempotency_key_invalid", Message: "Idempotency-Key 须为 1 到 128 个可打印 ASCII 字符"}},
	{openapi.ErrIdempotencyConflict, &publicError{Status: http.StatusConflict, Code: "idempotency_conflict", Message: "该 Idempotency-Key 已用于内容不同的请求"}},
	{openapi.ErrIdempotencyInProgress, &publicError{Status: http.StatusConflict, Code: "idempotency_in_progress", Message: "同一 Idempotency-Key 的请求正在处理,请稍后重试"}},
}

// invalidCodeReasons tell an officer why a code did not verify: the same
// 404 show_code_invalid with a reason_code and words that say what to do.
// An unknown code reads as used (see showcode.Reason).
var invalidCodeReasons = map[showcode.Reason]*publicError{
	showcode.ReasonExpired: {Status: http.StatusNotFound, Code: "show_code_invalid", Message: "亮证码已过期,请持证人刷新后重新出示", ReasonCode: "code_expired"},
	showcode.ReasonUsed:    {Status: http.StatusNotFound, Code: "show_code_invalid", Message: "亮证码已被使用或无效,可能是截图或转发,请持证人当面刷新", ReasonCode: "code_used"},
}

// mapError finds the public face of err. Unknown errors are internal errors.
func mapError(err error) *publicError {
	var pe *publicError
	if errors.As(err, &pe) {
		return pe
	}
	if pub := requestError(err); pub != nil {
		return pub
	}
	if pub, ok := invalidCodeReasons[verify.ReasonOf(err)]; ok {
		return pub
	}
	for _, m := range domainErrors {
		if errors.Is(err, m.err) {
			return m.pub
		}
	}
	if isUnavailable(err) {
		return errUnavailable
	}
	return errInternal
}

// respondError writes the JSON error body and records the cause for the
// access log line; the cause never reaches the client.
func respondError(c *gin.Context, err error) {
	pub := mapError(err)
	if pub == errInternal && c.Request.Context().Err() != nil {
		// The request ran out of time: whatever the driver made of the
		// cancelled call (a closed connection, "bad connection"), a
		// dependency was too slow, which is a 503.
		pub = errUnavailable
	}
	respondPublic(c, pub, err)
}

// respondPublic writes pub as the JSON error body, recording err, the
// cause, for the access log line.
func respondPublic(c *gin.Context, pub *publicError, err error) {
	if pub.Status >= 500 {
		_ = c.Error(err)
	}
	errBody := gin.H{"code": pub.Code, "message": pub.Message}
	if pub.Details != nil {
		errBody["details"] = pub.Details
	}
	body := gin.H{"error": errBody}
	if pub.ReasonCode != "" {
		body["reason_code"] = pub.ReasonCode
	}
	c.AbortWithStatusJSON(pub.Status, body)
}

// requestError is the public face of the domain's refusals that carry
// their own particulars: the fields of a request (422 with details) and
// the from and to of a refused lifecycle transition (409).
func requestError(err error) *publicError {
	var ve *licence.ValidationError
	if errors.As(err, &ve) {
		pub := &publicError{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: "请求内容未通过校验,见 details", Details: []fieldDetail{}}
		for _, d := range ve.Details {
			pub.Details = append(pub.Details, fieldDetail{Field: d.Field, Code: d.Code, Message: d.Message})
		}
		return pub
	}
	var ce *catalogue.Error
	if errors.As(err, &ce) {
		pub := &publicError{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: "目录内容未通过校验,见 details", Details: []fieldDetail{}}
		for _, p := range ce.Problems {
			pub.Details = append(pub.Details, fieldDetail{Field: p.Field, Code: "catalogue_rule", Message: p.String()})
		}
		return pub
	}
	// A catalogue file that is not YAML of the catalogue's shape: the
	// parser's words are about the caller's own file.
	var fe *catalogue.FormatError
	if errors.As(err, &fe) {
		return &publicError{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: "文件不是目录格式的 YAML,见 details",
			Details: []fieldDetail{{Field: "yaml", Code: "invalid_yaml", Message: fe.Err.Error()}}}
	}
	var te *licence.TransitionError
	if errors.As(err, &te) {
		msg := fmt.Sprintf("证照状态为 %s,不能执行 %s(%s → %s)", te.From, te.Action, te.From, te.To)
		if te.Why != "" {
			msg = fmt.Sprintf("不能执行 %s:%s", te.Action, te.Why)
		}
		return &publicError{Status: http.StatusConflict, Code: "illegal_transition", Message: msg}
	}
	return nil
}

func isUnavailable(err error) bool {
	return errors.Is(err, fault.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}

// dependencyFailure is how a handler passes on an error from a store or
// session lookup: a domain answer the error table knows (not found, …) goes
// through as it is; anything else means the dependency failed, so the
// caller gets 503 rather than a 500 or, worse, a half answer.
func dependencyFailure(what string, err error) error {
	if mapError(err) != errInternal {
		return err
	}
	return fault.Unavailable(what, err)
}
