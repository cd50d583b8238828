import { beforeEach, describe, expect, it, vi } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import LicenceDetailPage from './LicenceDetailPage.vue';
import { getLicence, getReminders, setReminders } from '../api/licences';
import { ApiError } from '../api/http';
import { drivingDetail, mountPage } from '../test/helpers';

vi.mock('../api/licences', () => ({ getLicence: vi.fn(), getReminders: vi.fn(), setReminders: vi.fn() }));

describe('LicenceDetailPage', () => {
  beforeEach(() => {
    vi.mocked(getLicence).mockReset();
    vi.mocked(getReminders).mockReset().mockResolvedValue({ enabled: true });
    vi.mocked(setReminders).mockReset();
  });

  it('should lay out the face fields with masked ones marked', async () => {
    vi.mocked(getLicence).mockResolvedValue(drivingDetail);
    const { wrapper } = await mountPage(LicenceDetailPage, { props: { id: '12' }, path: '/licences/12' });
    const face = wrapper.find('[data-testid="licence-face"]');
    expect(face.text()).toContain('准驾车型');
    expect(face.text()).toContain('C1');
    expect(face.text()).toContain('1405**********0016');
    expect(face.findAll('.masked-tag')).toHaveLength(2);
    expect(face.find('dd[aria-label]').attributes('aria-label')).toContain('已脱敏');
    expect(wrapper.text()).not.toContain('19850312');
    expect(getLicence).toHaveBeenCalledWith('12');
  });

  it('should show the issuing seal with 电子印章已验证 under the face', async () => {
    vi.mocked(getLicence).mockResolvedValue({ ...drivingDetail, seal: { name: '晋城市公安局交通警察支队', verified: true } });
    const { wrapper } = await mountPage(LicenceDetailPage, { props: { id: '12' }, path: '/licences/12' });
    const mark = wrapper.find('[data-testid="seal-mark"]');
    expect(mark.find('textPath').text()).toBe('晋城市公安局交通警察支队');
    expect(mark.find('[data-testid="seal-status"]').text()).toBe('电子印章已验证');
  });

  it('should not claim a verified seal when the check fails', async () => {
    vi.mocked(getLicence).mockResolvedValue({ ...drivingDetail, seal: { name: '晋城市公安局交通警察支队', verified: false } });
    const { wrapper } = await mountPage(LicenceDetailPage, { props: { id: '12' }, path: '/licences/12' });
    expect(wrapper.find('[data-testid="seal-status"]').text()).toBe('电子印章未通过验证');
    expect(wrapper.text()).not.toContain('电子印章已验证');
  });

  it('should list the lifecycle history newest first with reasons', async () => {
    vi.mocked(getLicence).mockResolvedValue({
      ...drivingDetail,
      history: [
        {
          version: 1,
          action: 'issue',
          from_status: '',
          to_status: 'valid',
          annotations: [],
          reason: '',
          effective_at: '2019-03-30T02:00:00.000Z',
        },
        {
          version: 1,
          action: 'suspend',
          from_status: 'valid',
          to_status: 'suspended',
          annotations: [],
          reason: '交通违法记分满12分',
          effective_at: '2024-05-01T02:00:00.000Z',
        },
      ],
    });
    const { wrapper } = await mountPage(LicenceDetailPage, { props: { id: '12' } });
    const items = wrapper.findAll('[data-testid="licence-history"] li');
    expect(items).toHaveLength(2);
    expect(items[0].text()).toContain('暂扣');
    expect(items[0].text()).toContain('原因：交通违法记分满12分');
    expect(items[1].text()).toContain('发证');
  });

  it('should leave the history out when there is none', async () => {
    vi.mocked(getLicence).mockResolvedValue(drivingDetail);
    const { wrapper } = await mountPage(LicenceDetailPage, { props: { id: '12' } });
    expect(wrapper.find('[data-testid="licence-history"]').exists()).toBe(false);
  });

  it('should show dates, issuer, status meaning and the expiry countdown', async () => {
    vi.mocked(getLicence).mockResolvedValue(drivingDetail);
    const { wrapper, router } = await mountPage(LicenceDetailPage, { props: { id: '12' } });
    expect(wrapper.text()).toContain('2019年03月30日 至 2025年04月01日');
    expect(wrapper.text()).toContain('阳城县公安局交通管理大队');
    expect(wrapper.find('[data-testid="status-meaning"]').text()).toContain('可以正常出示');
    expect(wrapper.text()).toContain('还有 20 天到期');
    const show = wrapper.findAll('button').find((b) => b.text().includes('亮证'));
    await show?.trigger('click');
    await flushPromises();
    expect(router.currentRoute.value.fullPath).toBe('/licences/12/show');
  });

  it('should explain a suspended licence in plain words and warn before showing it', async () => {
    vi.mocked(getLicence).mockResolvedValue({ ...drivingDetail, status: 'suspended', colour: 'red', days_left: 300 });
    const { wrapper } = await mountPage(LicenceDetailPage, { props: { id: '12' } });
    expect(wrapper.find('[data-testid="status-meaning"]').text()).toContain('暂扣期间不能使用');
    expect(wrapper.text()).toContain('核验结果将是“无效”');
  });

  it('should say "long-term" and hide the reminder switch for licences without an end date', async () => {
    vi.mocked(getLicence).mockResolvedValue({ ...drivingDetail, valid_until: null, days_left: null });
    const { wrapper } = await mountPage(LicenceDetailPage, { props: { id: '12' } });
    expect(wrapper.text()).toContain('至 长期');
    expect(wrapper.text()).toContain('长期有效的证照不需要到期提醒');
    expect(wrapper.find('[role="switch"]').exists()).toBe(false);
  });

  it('should switch reminders off and back on failure', async () => {
    vi.mocked(getLicence).mockResolvedValue(drivingDetail);
    vi.mocked(setReminders).mockResolvedValueOnce({ enabled: false }).mockRejectedValueOnce(new ApiError(0, 'network_error'));
    const { wrapper } = await mountPage(LicenceDetailPage, { props: { id: '12' } });
    const sw = wrapper.find('[role="switch"]');
    expect(sw.attributes('aria-checked')).toBe('true');
    await sw.trigger('click');
    await flushPromises();
    expect(setReminders).toHaveBeenCalledWith('12', false);
    expect(wrapper.find('[role="switch"]').attributes('aria-checked')).toBe('false');
    await wrapper.find('[role="switch"]').trigger('click');
    await flushPromises();
    expect(wrapper.find('[role="switch"]').attributes('aria-checked')).toBe('false');
    expect(wrapper.text()).toContain('网络连接失败');
  });

  it('should show a not-found licence as a sentence', async () => {
    vi.mocked(getLicence).mockRejectedValue(new ApiError(404, 'not_found'));
    const { wrapper } = await mountPage(LicenceDetailPage, { props: { id: '99' } });
    expect(wrapper.find('[role="alert"]').text()).toContain('没有找到');
  });
});
