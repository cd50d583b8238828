import { beforeEach, describe, expect, it, vi } from 'vitest';
import HistoryPage from './HistoryPage.vue';
import { listOfficerVerifications } from '../api/officer';
import { ApiError } from '../api/http';
import { mountPage } from '../test/helpers';

vi.mock('../api/officer', () => ({ listOfficerVerifications: vi.fn() }));

describe('HistoryPage', () => {
  beforeEach(() => {
    vi.mocked(listOfficerVerifications).mockReset();
  });

  it("should list the officer's verifications with colour, reason and masked holder", async () => {
    vi.mocked(listOfficerVerifications).mockResolvedValue([
      {
        licence_type: '机动车驾驶证',
        result: 'invalid',
        colour: 'red',
        reason_code: 'suspended',
        purpose: '交通执法检查',
        holder_name_masked: '李*',
        at: '2025-03-12T08:00:00Z',
      },
      {
        licence_type: '居民身份证',
        result: 'valid',
        colour: 'green',
        reason_code: 'ok',
        purpose: '身份核验',
        holder_name_masked: '张*',
        at: '2025-03-12T07:00:00Z',
      },
      {
        licence_type: '机动车驾驶证',
        result: 'refused',
        colour: null,
        reason_code: 'type_not_in_usage_list',
        purpose: '不动产登记',
        holder_name_masked: '',
        at: '2025-03-12T06:00:00Z',
      },
    ]);
    const { wrapper } = await mountPage(HistoryPage, { path: '/officer/history' });
    const rows = wrapper.findAll('[data-testid="history-record"]');
    expect(rows).toHaveLength(3);
    expect(rows[0]?.classes()).toContain('record--red');
    expect(rows[0]?.text()).toContain('无效');
    expect(rows[0]?.text()).toContain('暂扣');
    expect(rows[0]?.text()).toContain('李*');
    expect(rows[1]?.text()).toContain('有效');
    expect(rows[2]?.classes()).toContain('record--amber');
    expect(rows[2]?.text()).toContain('未获准核验');
    expect(rows[2]?.text()).toContain('用证清单');
  });

  it('should offer to scan when there is no history', async () => {
    vi.mocked(listOfficerVerifications).mockResolvedValue([]);
    const { wrapper } = await mountPage(HistoryPage);
    expect(wrapper.find('[data-testid="empty"]').text()).toContain('去扫码核验');
  });

  it('should explain a refusal to load', async () => {
    vi.mocked(listOfficerVerifications).mockRejectedValue(new ApiError(403, 'not_officer'));
    const { wrapper } = await mountPage(HistoryPage);
    expect(wrapper.find('[role="alert"]').text()).toContain('核验人员');
  });
});
