import { beforeEach, describe, expect, it, vi } from 'vitest';
import { flushPromises, type VueWrapper } from '@vue/test-utils';
import ScanPage from './ScanPage.vue';
import { getOfficerContext, verify } from '../api/officer';
import { ApiError } from '../api/http';
import { decodeImageFile } from '../lib/qr';
import { isWeChat, wechatScan } from '../lib/wechat';
import { officerState } from '../stores/officer';
import { greenVerification, mountPage } from '../test/helpers';

vi.mock('../api/officer', () => ({ getOfficerContext: vi.fn(), verify: vi.fn() }));
vi.mock('../lib/wechat', () => ({ isWeChat: vi.fn(() => false), wechatScan: vi.fn() }));
vi.mock('../lib/qr', async (orig) => ({ ...(await orig<typeof import('../lib/qr')>()), decodeImageFile: vi.fn() }));

const LINK = 'http://127.0.0.1:8080/v/AbCdEfGhIjKlMnOpQrStUv';

const context = {
  department: { name: '阳城县公安局交通管理大队' },
  purposes: ['交通执法检查', '事故处理'],
  types: [
    { code: 'a', name: '机动车驾驶证' },
    { code: 'b', name: '居民身份证' },
  ],
};

function radio(w: VueWrapper, i: number): HTMLInputElement {
  return w.findAll<HTMLInputElement>('input[type="radio"]')[i]!.element;
}

async function paste(w: VueWrapper, text: string): Promise<void> {
  await w.find('[data-testid="paste-input"] textarea').setValue(text);
  await w.find('[data-testid="paste-submit"]').trigger('click');
  await flushPromises();
}

describe('ScanPage', () => {
  beforeEach(() => {
    officerState.last = null;
    vi.mocked(getOfficerContext).mockReset().mockResolvedValue(context);
    vi.mocked(verify).mockReset();
    vi.mocked(isWeChat).mockReturnValue(false);
    vi.mocked(decodeImageFile).mockReset();
  });

  it("should show the officer's department, the types it may verify and its purposes", async () => {
    const { wrapper } = await mountPage(ScanPage, { path: '/officer/scan' });
    expect(wrapper.text()).toContain('阳城县公安局交通管理大队');
    expect(wrapper.text()).toContain('可核验：机动车驾驶证、居民身份证');
    const purposes = wrapper.findAll('[role="radiogroup"] label');
    expect(purposes.map((r) => r.text())).toEqual(['交通执法检查', '事故处理', '其他事由']);
    expect(radio(wrapper, 0).checked).toBe(true);
    expect(wrapper.text()).toContain('打开摄像头扫码');
    expect(wrapper.text()).not.toContain('微信扫一扫');
  });

  it('should verify a pasted link with the chosen purpose and open the result', async () => {
    vi.mocked(verify).mockResolvedValue(greenVerification);
    const { wrapper, router } = await mountPage(ScanPage, { path: '/officer/scan' });
    await wrapper.findAll('input[type="radio"]')[1]?.setValue();
    await paste(wrapper, LINK);
    expect(verify).toHaveBeenCalledWith(LINK, '事故处理');
    expect(router.currentRoute.value.name).toBe('result');
    expect(officerState.last?.kind).toBe('result');
    expect(localStorage.getItem('elic.lastPurpose')).toBe('事故处理');
  });

  it('should use a typed purpose and insist on one', async () => {
    vi.mocked(verify).mockResolvedValue(greenVerification);
    const { wrapper } = await mountPage(ScanPage);
    await wrapper.findAll('input[type="radio"]')[2]?.setValue();
    await paste(wrapper, LINK);
    expect(wrapper.text()).toContain('请先选择或填写用证事由');
    expect(verify).not.toHaveBeenCalled();
    await wrapper.find('[data-testid="typed-purpose"] input').setValue('户籍业务');
    await paste(wrapper, LINK);
    expect(verify).toHaveBeenCalledWith(LINK, '户籍业务');
  });

  it('should remember the last purpose', async () => {
    localStorage.setItem('elic.lastPurpose', '事故处理');
    const { wrapper } = await mountPage(ScanPage);
    expect(radio(wrapper, 1).checked).toBe(true);
  });

  it('should refuse text that is not a show code without a request', async () => {
    const { wrapper } = await mountPage(ScanPage);
    await paste(wrapper, 'https://example.com/some/page');
    expect(wrapper.find('[data-testid="scan-error"]').text()).toContain('不是阳城电子证照的亮证码');
    expect(verify).not.toHaveBeenCalled();
  });

  it('should show a usage-list refusal on the result screen', async () => {
    vi.mocked(verify).mockRejectedValue(new ApiError(403, 'type_not_in_usage_list', '', 'type_not_in_usage_list'));
    const { wrapper, router } = await mountPage(ScanPage);
    await paste(wrapper, LINK);
    expect(router.currentRoute.value.name).toBe('result');
    expect(officerState.last).toMatchObject({ kind: 'refused', code: 'type_not_in_usage_list' });
  });

  it('should show an invalid or used code on the result screen', async () => {
    vi.mocked(verify).mockRejectedValue(new ApiError(404, 'show_code_invalid'));
    const { wrapper } = await mountPage(ScanPage);
    await paste(wrapper, LINK);
    expect(officerState.last).toMatchObject({ kind: 'refused', code: 'show_code_invalid' });
    expect(officerState.last?.kind === 'refused' && officerState.last.message).toContain('无效或已被使用');
  });

  it('should show a rate limit as grey "cannot verify", never as an invalid licence', async () => {
    vi.mocked(verify).mockRejectedValue(new ApiError(429, 'rate_limited'));
    const { wrapper, router } = await mountPage(ScanPage, { path: '/officer/scan' });
    await paste(wrapper, LINK);
    expect(router.currentRoute.value.name).toBe('result');
    expect(officerState.last).toMatchObject({ kind: 'refused', code: 'rate_limited', retry: { text: LINK } });
    expect(officerState.last?.kind === 'refused' && officerState.last.message).toContain('太频繁');
  });

  it('should verify a typed 8-digit code', async () => {
    vi.mocked(verify).mockResolvedValue(greenVerification);
    const { wrapper, router } = await mountPage(ScanPage, { path: '/officer/scan' });
    await wrapper.find('[data-testid="short-code-input"] input').setValue('12345678');
    await wrapper.find('[data-testid="short-code-form"]').trigger('submit');
    await flushPromises();
    expect(verify).toHaveBeenCalledWith('12345678', '交通执法检查');
    expect(router.currentRoute.value.name).toBe('result');
  });

  it('should keep only the digits the officer types, eight at most', async () => {
    const { wrapper } = await mountPage(ScanPage, { path: '/officer/scan' });
    const input = wrapper.find<HTMLInputElement>('[data-testid="short-code-input"] input');
    await input.setValue('12a34-5678 9');
    expect(input.element.value).toBe('12345678');
  });

  it('should refuse a typed code that is not 8 digits without a request', async () => {
    const { wrapper } = await mountPage(ScanPage, { path: '/officer/scan' });
    await wrapper.find('[data-testid="short-code-input"] input').setValue('1234');
    await wrapper.find('[data-testid="short-code-form"]').trigger('submit');
    await flushPromises();
    expect(verify).not.toHaveBeenCalled();
    expect(wrapper.find('[data-testid="scan-error"]').text()).toContain('8位数字码');
  });

  it('should decode a picked photo and verify what it holds', async () => {
    vi.mocked(decodeImageFile).mockResolvedValueOnce(LINK).mockResolvedValueOnce(null);
    vi.mocked(verify).mockResolvedValue(greenVerification);
    const { wrapper } = await mountPage(ScanPage);
    const input = wrapper.find('input[type="file"]');
    const file = new File(['x'], 'qr.png', { type: 'image/png' });
    Object.defineProperty(input.element, 'files', { value: [file], configurable: true });
    await input.trigger('change');
    await flushPromises();
    expect(decodeImageFile).toHaveBeenCalledWith(file);
    expect(verify).toHaveBeenCalledWith(LINK, '交通执法检查');
  });

  it('should say so when a photo holds no QR code', async () => {
    vi.mocked(decodeImageFile).mockResolvedValue(null);
    const { wrapper } = await mountPage(ScanPage);
    const input = wrapper.find('input[type="file"]');
    Object.defineProperty(input.element, 'files', { value: [new File(['x'], 'a.jpg')], configurable: true });
    await input.trigger('change');
    await flushPromises();
    expect(wrapper.find('[data-testid="scan-error"]').text()).toContain('没有在图片中找到二维码');
  });

  it("should use WeChat's scanner inside WeChat", async () => {
    vi.mocked(isWeChat).mockReturnValue(true);
    vi.mocked(wechatScan).mockResolvedValue(LINK);
    vi.mocked(verify).mockResolvedValue(greenVerification);
    const { wrapper } = await mountPage(ScanPage);
    await wrapper
      .findAll('button')
      .find((b) => b.text().includes('微信扫一扫'))
      ?.trigger('click');
    await flushPromises();
    expect(wechatScan).toHaveBeenCalled();
    expect(verify).toHaveBeenCalledWith(LINK, '交通执法检查');
  });

  it('should explain when the account is not an officer', async () => {
    vi.mocked(getOfficerContext).mockRejectedValue(new ApiError(403, 'not_officer'));
    const { wrapper } = await mountPage(ScanPage);
    expect(wrapper.find('[role="alert"]').text()).toContain('还没有登记为核验人员');
  });
});
