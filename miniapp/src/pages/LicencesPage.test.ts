import { beforeEach, describe, expect, it, vi } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import LicencesPage from './LicencesPage.vue';
import { listLicences } from '../api/licences';
import { ApiError } from '../api/http';
import { session } from '../stores/session';
import { citizen, deferred, drivingLicence, idCard, mountPage } from '../test/helpers';
import type { LicenceSummary } from '../api/types';

vi.mock('../api/licences', () => ({ listLicences: vi.fn() }));

describe('LicencesPage', () => {
  beforeEach(() => {
    vi.mocked(listLicences).mockReset();
    session.me = citizen;
  });

  it('should show a loading state while the list loads', async () => {
    const d = deferred<LicenceSummary[]>();
    vi.mocked(listLicences).mockReturnValue(d.promise);
    const { wrapper } = await mountPage(LicencesPage);
    expect(wrapper.find('[aria-busy="true"]').exists()).toBe(true);
    d.resolve([]);
    await flushPromises();
    expect(wrapper.find('[aria-busy="true"]').exists()).toBe(false);
  });

  it('should show one card per licence with masked number, issuer and status', async () => {
    const suspended: LicenceSummary = {
      ...drivingLicence,
      id: '21',
      status: 'suspended',
      colour: 'red',
      days_left: 200,
      valid_until: '2026-01-01',
    };
    vi.mocked(listLicences).mockResolvedValue([idCard, drivingLicence, suspended]);
    const { wrapper } = await mountPage(LicencesPage);
    const cards = wrapper.findAll('[data-testid="licence-card"]');
    expect(cards).toHaveLength(3);
    expect(cards[0]?.text()).toContain('居民身份证');
    expect(cards[1]?.text()).toContain('1405**********0016');
    expect(cards[1]?.text()).toContain('阳城县公安局交通管理大队');
    expect(cards[1]?.text()).toContain('有效');
    expect(cards[2]?.text()).toContain('暂扣');
    expect(cards[2]?.classes()).toContain('card--red');
    expect(cards[1]?.attributes('href')).toBe('/licences/12');
    expect(wrapper.text()).toContain('张*，您好');
  });

  it('should count down only licences expiring within 90 days', async () => {
    vi.mocked(listLicences).mockResolvedValue([idCard, drivingLicence]);
    const { wrapper } = await mountPage(LicencesPage);
    const expiry = wrapper.findAll('[data-testid="expiry"]');
    expect(expiry).toHaveLength(1);
    expect(expiry[0]?.text()).toContain('还有 20 天到期');
    expect(expiry[0]?.classes()).toContain('urgent');
  });

  it('should explain an empty list', async () => {
    vi.mocked(listLicences).mockResolvedValue([]);
    const { wrapper } = await mountPage(LicencesPage);
    expect(wrapper.find('[data-testid="empty"]').text()).toContain('暂时没有电子证照');
  });

  it('should show the error in words and retry', async () => {
    vi.mocked(listLicences).mockRejectedValueOnce(new ApiError(503, 'dependency_unavailable'));
    vi.mocked(listLicences).mockResolvedValueOnce([drivingLicence]);
    const { wrapper } = await mountPage(LicencesPage);
    expect(wrapper.find('[role="alert"]').text()).toContain('系统暂时不可用');
    await wrapper.find('[role="alert"] button').trigger('click');
    await flushPromises();
    expect(wrapper.findAll('[data-testid="licence-card"]')).toHaveLength(1);
    expect(listLicences).toHaveBeenCalledTimes(2);
  });
});
