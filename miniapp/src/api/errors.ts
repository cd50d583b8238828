// Every failure a user can meet, as a sentence they can act on.

import { ApiError, BAD_RESPONSE, NETWORK_ERROR, NOT_LOGGED_IN, TIMEOUT } from './http';

const byCode: Record<string, string> = {
  [NOT_LOGGED_IN]: '登录已过期，正在重新登录，请稍候。',
  [NETWORK_ERROR]: '网络连接失败，请检查手机网络后重试。',
  [TIMEOUT]: '网络较慢，请求超时了，请稍后重试。',
  [BAD_RESPONSE]: '服务器返回了无法识别的内容，请稍后重试。',
  not_officer: '您的微信号还没有登记为核验人员，不能核验证照。如需开通，请联系本单位管理员。',
  type_not_in_usage_list: '这类证照不在本单位的用证清单中，您无权核验。请让持证人到有权核验的窗口办理。',
  purpose_not_in_usage_list: '所选用证事由不在本单位对这类证照的用证清单中。请改选清单中的事由后重新核验，亮证码仍然有效。',
  show_code_invalid: '亮证码无效或已被使用。请持证人刷新亮证页面后重新出示。',
  code_expired: '亮证码已过期，请持证人刷新后重新出示。',
  code_used: '亮证码已被使用，可能是截图或转发。请持证人当面刷新亮证页面后重新出示。',
  rate_limited: '操作太频繁了，请稍等一分钟再试。',
  dependency_unavailable: '系统暂时不可用，请稍后再试。核验结果不会在系统故障时显示为有效。',
  realname_no_match: '姓名和身份证号与登记信息不一致，或系统中没有您的证照记录。请核对后重试。',
  realname_code_invalid: '短信验证码不正确或已过期，请重新输入，或重新获取验证码。',
  realname_too_many_attempts: '尝试次数过多，为保护您的信息安全，请一小时后再试。',
  invalid_id_number: '身份证号码不正确，请核对后重新输入。',
  validation_failed: '填写的内容不完整或格式不正确，请检查后重试。',
  not_found: '没有找到相关内容，它可能已被删除，或不属于您的账户。',
  realname_required: '请先完成实名认证，再查看电子证照。',
  forbidden: '您没有权限进行这项操作。',
  oauth_state_invalid: '登录链接已失效，请重新进入本服务登录。',
  oauth_code_invalid: '微信授权已失效，请重新进入本服务登录。',
  snapshot_user: '请在微信中打开本服务，并点击“使用完整服务”完成授权。',
  internal: '系统出了点问题，请稍后再试。',
  internal_error: '系统出了点问题，请稍后再试。',
};

function byStatus(status: number): string {
  if (status === 401) return byCode[NOT_LOGGED_IN] as string;
  if (status === 403) return byCode.forbidden as string;
  if (status === 404) return byCode.not_found as string;
  if (status === 429) return byCode.rate_limited as string;
  if (status === 503 || status === 502 || status === 504) return byCode.dependency_unavailable as string;
  if (status >= 400 && status < 500) return byCode.validation_failed as string;
  return byCode.internal as string;
}

/** errorMessage turns any thrown value into a Chinese sentence for the user. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    // The reason code is the more specific of the two (403 forbidden + type_not_in_usage_list).
    return byCode[err.reasonCode] ?? byCode[err.code] ?? byStatus(err.status);
  }
  return byCode.internal as string;
}

/** isCode reports whether err is an ApiError with one of the codes. */
export function isCode(err: unknown, ...codes: string[]): boolean {
  return err instanceof ApiError && (codes.includes(err.code) || codes.includes(err.reasonCode));
}
