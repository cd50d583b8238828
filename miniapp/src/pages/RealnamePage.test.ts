import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, type VueWrapper } from '@vue/test-utils';
import RealnamePage from './RealnamePage.vue';
import { confirmRealname, startRealname } from '../api/me';
import { ApiError } from '../api/http';
import { loadMe } from '../stores/session';
import { citizen, mountPage } from '../test/helpers';

vi.mock('../api/me', () => ({ startRealname: vi.fn(), confirmRealname: vi.fn() }));
vi.mock('../stores/session', () => ({ loadMe: vi.fn(), isOfficer: () => false, session: { me: null } }));

async function fillForm(w: VueWrapper, name: string, id: string): Promise<void> {
  await w.find('input[name="name"]').setValue(name);
  await w.find('input[name="id_number"]').setValue(id);
  await w.find('form').trigger('submit');
  await flushPromises();
}

describe('RealnamePage', () => {
  beforeEach(() => {
    vi.mocked(startRealname).mockReset();
    vi.mocked(confirmRealname).mockReset();
    vi.mocked(loadMe).mockReset();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('should catch a mistyped ID number before sending anything', async () => {
    const { wrapper } = await mountPage(RealnamePage, { path: '/realname' });
    await fillForm(wrapper, '张三', '140522198503120017');
    expect(wrapper.text()).toContain('校验位不符');
    expect(startRealname).not.toHaveBeenCalled();
  });

  it('should ask for a name', async () => {
    const { wrapper } = await mountPage(RealnamePage, { path: '/realname' });
    await fillForm(wrapper, '', '140522198503120016');
    expect(wrapper.text()).toContain('请输入姓名');
    expect(startRealname).not.toHaveBeenCalled();
  });

  it('should send the code and count down before a resend', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    vi.mocked(startRealname).mockResolvedValue({ challenge_id: 'ch1', phone_hint: '138****0001' });
    const { wrapper } = await mountPage(RealnamePage, { path: '/realname' });
    await fillForm(wrapper, '张三', '140522198503120016');
    expect(startRealname).toHaveBeenCalledWith('张三', '140522198503120016');
    expect(wrapper.text()).toContain('138****0001');
    const resend = (): VueWrapper['element'] => wrapper.find('.van-field__button button').element;
    expect(wrapper.find('.van-field__button button').text()).toContain('60 秒后重发');
    expect((resend() as HTMLButtonElement).disabled).toBe(true);
    vi.advanceTimersByTime(60_000);
    await flushPromises();
    expect(wrapper.find('.van-field__button button').text()).toContain('重新发送');
    expect((resend() as HTMLButtonElement).disabled).toBe(false);
  });

  it('should explain when no holder matches', async () => {
    vi.mocked(startRealname).mockRejectedValue(new ApiError(400, 'realname_no_match'));
    const { wrapper } = await mountPage(RealnamePage, { path: '/realname' });
    await fillForm(wrapper, '王五', '140522198503120016');
    expect(wrapper.find('[data-testid="form-error"]').text()).toContain('不一致');
    expect(wrapper.find('[data-testid="tries-left"]').text()).toContain('还可尝试 4 次');
    expect(wrapper.find('[data-testid="no-record"]').text()).toContain('政务服务中心');
  });

  it('should tell what is sent and why before sending it', async () => {
    const { wrapper } = await mountPage(RealnamePage, { path: '/realname' });
    expect(wrapper.find('[data-testid="pipl-consent"]').text()).toContain('个人信息保护');
    expect(startRealname).not.toHaveBeenCalled();
  });

  it('should explain a wrong code and let the user try again', async () => {
    vi.mocked(startRealname).mockResolvedValue({ challenge_id: 'ch1', phone_hint: '138****0001' });
    vi.mocked(confirmRealname).mockRejectedValue(new ApiError(400, 'realname_code_invalid'));
    const { wrapper } = await mountPage(RealnamePage, { path: '/realname' });
    await fillForm(wrapper, '张三', '140522198503120016');
    await wrapper.find('input[name="code"]').setValue('123456');
    await wrapper.find('form').trigger('submit');
    await flushPromises();
    expect(confirmRealname).toHaveBeenCalledWith('ch1', '123456');
    expect(wrapper.text()).toContain('验证码不正确');
    expect((wrapper.find('input[name="code"]').element as HTMLInputElement).value).toBe('');
  });

  it('should lock the form after too many tries', async () => {
    vi.mocked(startRealname).mockRejectedValue(new ApiError(429, 'realname_too_many_attempts'));
    const { wrapper } = await mountPage(RealnamePage, { path: '/realname' });
    await fillForm(wrapper, '张三', '140522198503120016');
    expect(wrapper.find('[data-testid="form-error"]').text()).toContain('一小时后');
    expect((wrapper.find('button[type="submit"]').element as HTMLButtonElement).disabled).toBe(true);
  });

  it('should reject a code that is not six digits without a request', async () => {
    vi.mocked(startRealname).mockResolvedValue({ challenge_id: 'ch1', phone_hint: '138****0001' });
    const { wrapper } = await mountPage(RealnamePage, { path: '/realname' });
    await fillForm(wrapper, '张三', '140522198503120016');
    await wrapper.find('input[name="code"]').setValue('12');
    await wrapper.find('form').trigger('submit');
    await flushPromises();
    expect(wrapper.text()).toContain('6 位数字验证码');
    expect(confirmRealname).not.toHaveBeenCalled();
  });

  it('should confirm, reload the account and return to the page asked for', async () => {
    vi.mocked(startRealname).mockResolvedValue({ challenge_id: 'ch1', phone_hint: '138****0001' });
    vi.mocked(confirmRealname).mockResolvedValue({});
    vi.mocked(loadMe).mockResolvedValue(citizen);
    const { wrapper, router } = await mountPage(RealnamePage, { path: '/realname?next=%2Flicences%2F12' });
    await fillForm(wrapper, '张三', '140522198503120016');
    await wrapper.find('input[name="code"]').setValue('654321');
    await wrapper.find('form').trigger('submit');
    await flushPromises();
    expect(loadMe).toHaveBeenCalledWith(true);
    expect(router.currentRoute.value.fullPath).toBe('/licences/12');
  });
});
