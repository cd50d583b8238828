import { beforeEach, describe, expect, it, vi } from 'vitest';
import VerifyLinkPage from './VerifyLinkPage.vue';
import { getOfficerContext, verify } from '../api/officer';
import { ApiError } from '../api/http';
import { session } from '../stores/session';
import { citizen, greenVerification, mountPage, officer } from '../test/helpers';

vi.mock('../api/officer', () => ({ getOfficerContext: vi.fn(), verify: vi.fn() }));

const TOKEN = 'AbCdEfGhIjKlMnOpQrStUv';

describe('VerifyLinkPage', () => {
  beforeEach(() => {
    vi.mocked(verify).mockReset();
    vi.mocked(getOfficerContext).mockReset().mockResolvedValue({
      department: { name: '阳城县公安局交通管理大队' },
      purposes: ['交通执法检查'],
      types: [],
    });
  });

  it('should verify at once when an officer opens the link', async () => {
    session.me = officer;
    vi.mocked(verify).mockResolvedValue(greenVerification);
    const { wrapper } = await mountPage(VerifyLinkPage, { props: { token: TOKEN }, path: `/v/${TOKEN}` });
    expect(verify).toHaveBeenCalledWith(TOKEN, '交通执法检查');
    expect(wrapper.find('[data-testid="result-block"]').attributes('data-colour')).toBe('green');
  });

  it('should explain a used code to the officer', async () => {
    session.me = officer;
    vi.mocked(verify).mockRejectedValue(new ApiError(404, 'show_code_invalid'));
    const { wrapper } = await mountPage(VerifyLinkPage, { props: { token: TOKEN } });
    expect(wrapper.find('[data-testid="result-block"]').text()).toContain('无法核验');
    expect(wrapper.find('[data-testid="result-reason"]').text()).toContain('无效或已被使用');
  });

  it('should offer a retry when the service is down', async () => {
    session.me = officer;
    vi.mocked(verify).mockRejectedValueOnce(new ApiError(503, 'dependency_unavailable')).mockResolvedValueOnce(greenVerification);
    const { wrapper } = await mountPage(VerifyLinkPage, { props: { token: TOKEN } });
    const block = wrapper.find('[data-testid="result-block"]');
    expect(block.attributes('data-colour')).toBe('grey');
    expect(block.text()).toContain('暂时不可用');
    await wrapper.find('[data-testid="result-retry"]').trigger('click');
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setTimeout(r, 0));
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('should explain to a citizen that staff must scan it, without using the code', async () => {
    session.me = citizen;
    const { wrapper } = await mountPage(VerifyLinkPage, { props: { token: TOKEN } });
    expect(wrapper.find('[data-testid="citizen-explain"]').text()).toContain('工作人员');
    expect(verify).not.toHaveBeenCalled();
  });
});
