import { beforeEach, describe, expect, it, vi } from 'vitest';
import UsagePage from './UsagePage.vue';
import { listUsage } from '../api/licences';
import { ApiError } from '../api/http';
import { mountPage } from '../test/helpers';

vi.mock('../api/licences', () => ({ listUsage: vi.fn() }));

describe('UsagePage', () => {
  beforeEach(() => {
    vi.mocked(listUsage).mockReset();
  });

  it('should list who verified the licence, why, when and with what result', async () => {
    vi.mocked(listUsage).mockResolvedValue([
      {
        department: '阳城县公安局交通管理大队',
        purpose: '交通执法检查',
        result: 'valid',
        colour: 'green',
        at: '2025-03-12T08:00:05Z',
        reason_code: 'ok',
      },
      {
        department: '阳城县不动产登记中心',
        purpose: '不动产登记',
        result: 'refused',
        colour: null,
        at: '2025-03-11T02:00:00Z',
        reason_code: 'type_not_in_usage_list',
      },
    ]);
    const { wrapper } = await mountPage(UsagePage, { props: { id: '12' } });
    const rows = wrapper.findAll('[data-testid="usage-record"]');
    expect(rows).toHaveLength(2);
    expect(rows[0]?.text()).toContain('阳城县公安局交通管理大队');
    expect(rows[0]?.text()).toContain('交通执法检查');
    expect(rows[0]?.text()).toContain('核验有效');
    expect(rows[0]?.text()).toContain('2025-03-12 16:00:05');
    expect(rows[1]?.text()).toContain('未获准核验');
    expect(rows[1]?.text()).toContain('用证清单');
  });

  it('should say when there are no records yet', async () => {
    vi.mocked(listUsage).mockResolvedValue([]);
    const { wrapper } = await mountPage(UsagePage, { props: { id: '12' } });
    expect(wrapper.find('[data-testid="empty"]').text()).toContain('还没有用证记录');
  });

  it('should show a failure as a sentence', async () => {
    vi.mocked(listUsage).mockRejectedValue(new ApiError(0, 'timeout'));
    const { wrapper } = await mountPage(UsagePage, { props: { id: '12' } });
    expect(wrapper.find('[role="alert"]').text()).toContain('超时');
  });
});
