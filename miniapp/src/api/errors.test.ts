import { describe, expect, it } from 'vitest';
import { ApiError, errorFromBody } from './http';
import { errorMessage, isCode } from './errors';

describe('API error mapping', () => {
  const table: { name: string; status: number; body: unknown; want: RegExp }[] = [
    { name: 'expired session', status: 401, body: { error: { code: 'not_logged_in', message: 'x' } }, want: /重新登录/ },
    { name: '401 without a body', status: 401, body: null, want: /重新登录/ },
    { name: 'not an officer', status: 403, body: { error: { code: 'not_officer', message: 'x' } }, want: /核验人员/ },
    {
      name: 'type outside the usage list',
      status: 403,
      body: { error: { code: 'forbidden', message: 'x' }, reason_code: 'type_not_in_usage_list' },
      want: /用证清单/,
    },
    {
      name: 'purpose outside the usage list',
      status: 403,
      body: { error: { code: 'purpose_not_in_usage_list', message: 'x' }, reason_code: 'purpose_not_in_usage_list' },
      want: /用证事由.*重新核验/,
    },
    {
      name: 'unknown, expired or used code',
      status: 404,
      body: { error: { code: 'show_code_invalid', message: 'x' } },
      want: /无效或已被使用/,
    },
    { name: 'rate limited', status: 429, body: { error: { code: 'rate_limited', message: 'x' } }, want: /太频繁/ },
    { name: 'dependency down', status: 503, body: { error: { code: 'dependency_unavailable', message: 'x' } }, want: /暂时不可用/ },
    { name: 'no holder matches', status: 400, body: { error: { code: 'realname_no_match', message: 'x' } }, want: /不一致/ },
    { name: 'wrong SMS code', status: 400, body: { error: { code: 'realname_code_invalid', message: 'x' } }, want: /验证码不正确/ },
    { name: 'too many tries', status: 429, body: { error: { code: 'realname_too_many_attempts', message: 'x' } }, want: /一小时后/ },
    { name: 'bad ID number', status: 400, body: { error: { code: 'invalid_id_number', message: 'x' } }, want: /身份证号码不正确/ },
    { name: 'validation', status: 400, body: { error: { code: 'validation_failed', message: 'x' } }, want: /格式不正确/ },
    { name: 'an unknown 404', status: 404, body: { error: { code: 'something_new', message: 'x' } }, want: /没有找到/ },
    { name: 'an unknown 500', status: 500, body: 'not json', want: /系统出了点问题/ },
    { name: 'a gateway error', status: 502, body: null, want: /暂时不可用/ },
  ];
  for (const t of table) {
    it(`should explain ${t.name} in Chinese`, () => {
      const msg = errorMessage(errorFromBody(t.status, t.body));
      expect(msg).toMatch(t.want);
      expect(msg).toMatch(/[\u4e00-\u9fa5]/);
      expect(msg).not.toMatch(/[a-z]_[a-z]/);
    });
  }

  it('should never show the server message or English to the user', () => {
    const err = errorFromBody(400, { error: { code: 'weird_case', message: 'pq: relation does not exist' } });
    expect(errorMessage(err)).not.toContain('relation');
  });

  it('should explain network failures and time-outs', () => {
    expect(errorMessage(new ApiError(0, 'network_error'))).toMatch(/网络/);
    expect(errorMessage(new ApiError(0, 'timeout'))).toMatch(/超时/);
    expect(errorMessage(new Error('boom'))).toMatch(/系统/);
    expect(errorMessage('boom')).toMatch(/系统/);
  });

  it('should read the reason code from the body or the error', () => {
    const err = errorFromBody(403, { error: { code: 'type_not_in_usage_list', message: 'x' } });
    expect(err.reasonCode).toBe('type_not_in_usage_list');
    expect(isCode(err, 'type_not_in_usage_list')).toBe(true);
    expect(isCode(err, 'not_officer')).toBe(false);
    expect(isCode(new Error('x'), 'not_officer')).toBe(false);
  });
});
