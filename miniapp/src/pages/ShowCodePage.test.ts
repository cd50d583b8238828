import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import ShowCodePage from './ShowCodePage.vue';
import { getLicence, listUsage, mintShowCode } from '../api/licences';
import { ApiError } from '../api/http';
import { drivingDetail, mountPage } from '../test/helpers';
import type { Scope, ShowCode } from '../api/types';

vi.mock('../api/licences', () => ({ getLicence: vi.fn(), listUsage: vi.fn(), mintShowCode: vi.fn() }));
vi.mock('../lib/clock', () => ({ serverNow: () => Date.now(), syncServerClock: () => Promise.resolve() }));

const TTL = 60_000;
let minted = 0;

function code(scope: Scope): ShowCode {
  minted++;
  return {
    token: `tok${minted}`,
    short_code: String(12345670 + minted),
    content: `http://127.0.0.1:8080/v/tok${minted}`,
    qr_png: `data:image/png;base64,${scope}${minted}`,
    expires_at: new Date(Date.now() + TTL).toISOString(),
  };
}

const settle = async (ms = 0): Promise<void> => {
  await vi.advanceTimersByTimeAsync(ms);
};

async function mountShow() {
  const r = await mountPage(ShowCodePage, { props: { id: '12' }, path: '/licences/12/show' });
  await settle();
  return r;
}

describe('ShowCodePage', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2025-03-12T08:00:00Z'));
    minted = 0;
    vi.mocked(getLicence).mockReset().mockResolvedValue(drivingDetail);
    vi.mocked(listUsage).mockReset().mockResolvedValue([]);
    vi.mocked(mintShowCode)
      .mockReset()
      .mockImplementation(async (_id, scope) => code(scope));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('should show the QR image with a countdown and a ticking watermark', async () => {
    const { wrapper } = await mountShow();
    expect(mintShowCode).toHaveBeenCalledWith('12', 'basic');
    expect(wrapper.find('[data-testid="qr"]').attributes('src')).toBe('data:image/png;base64,basic1');
    expect(wrapper.find('[role="timer"]').attributes('aria-label')).toContain('60 秒');
    expect(wrapper.find('.watermark span').attributes('data-text')).toContain('张*');
    expect(wrapper.find('[data-testid="watermark-clock"]').text()).toContain('2025-03-12 16:00:00');
    await settle(3_000);
    expect(wrapper.find('[data-testid="watermark-clock"]').text()).toContain('2025-03-12 16:00:03');
    expect(wrapper.find('[role="timer"]').attributes('aria-label')).toContain('57 秒');
    expect(wrapper.text()).toContain('屏幕调亮');
  });

  it('should mint a full-scope code when the holder picks 完整照面', async () => {
    const { wrapper } = await mountShow();
    const full = wrapper.findAll('[role="radio"]').find((b) => b.text() === '完整照面');
    await full?.trigger('click');
    await settle();
    expect(mintShowCode).toHaveBeenLastCalledWith('12', 'full');
    expect(wrapper.find('[data-testid="qr"]').attributes('src')).toBe('data:image/png;base64,full2');
    expect(full?.attributes('aria-checked')).toBe('true');
  });

  it('should replace the code before it expires without blanking the image', async () => {
    const { wrapper } = await mountShow();
    await settle(TTL - 9_000);
    expect(mintShowCode).toHaveBeenCalledTimes(1);
    await settle(1_000);
    expect(mintShowCode).toHaveBeenCalledTimes(2);
    expect(wrapper.find('[data-testid="qr"]').attributes('src')).toBe('data:image/png;base64,basic2');
    expect(wrapper.find('[data-testid="qr-expired"]').exists()).toBe(false);
  });

  it('should tell the holder which department verified the code and show a fresh one', async () => {
    const { wrapper } = await mountShow();
    vi.mocked(listUsage).mockResolvedValue([
      {
        department: '阳城县公安局交通管理大队',
        purpose: '交通执法检查',
        result: 'valid',
        colour: 'green',
        reason_code: 'ok',
        at: new Date(Date.now() + 1_000).toISOString(),
      },
    ]);
    await settle(3_000);
    const notice = wrapper.find('[data-testid="verified-notice"]');
    expect(notice.text()).toContain('已被 阳城县公安局交通管理大队 核验');
    expect(notice.text()).toContain('交通执法检查');
    expect(mintShowCode).toHaveBeenCalledTimes(2);
  });

  it('should not announce old usage records', async () => {
    vi.mocked(listUsage).mockResolvedValue([
      {
        department: '阳城县不动产登记中心',
        purpose: '不动产登记',
        result: 'valid',
        colour: 'green',
        reason_code: 'ok',
        at: '2025-03-01T08:00:00Z',
      },
    ]);
    const { wrapper } = await mountShow();
    await settle(9_000);
    expect(wrapper.find('[data-testid="verified-notice"]').exists()).toBe(false);
  });

  it('should show an expired state with a refresh button when renewal keeps failing', async () => {
    const { wrapper } = await mountShow();
    vi.mocked(mintShowCode).mockRejectedValue(new ApiError(0, 'network_error'));
    await settle(TTL - 8_000);
    expect(wrapper.text()).toContain('正在重新获取');
    await settle(8_000);
    expect(wrapper.find('[data-testid="qr-expired"]').exists()).toBe(true);
    vi.mocked(mintShowCode).mockImplementation(async (_id, scope) => code(scope));
    await wrapper.find('[data-testid="qr-expired"]').trigger('click');
    await settle();
    expect(wrapper.find('[data-testid="qr-expired"]').exists()).toBe(false);
  });

  it('should explain when the licence cannot be shown', async () => {
    vi.mocked(mintShowCode).mockRejectedValue(new ApiError(404, 'not_found'));
    const { wrapper } = await mountShow();
    expect(wrapper.find('[role="alert"]').text()).toContain('没有找到');
    expect(wrapper.find('[data-testid="qr"]').exists()).toBe(false);
  });
});
