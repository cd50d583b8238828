import { describe, expect, it } from 'vitest';
import { expiryText, formatDate, formatDateTime } from './dates';

describe('dates', () => {
  it('should show calendar dates as written and null as long-term', () => {
    expect(formatDate('2027-03-12')).toBe('2027年03月12日');
    expect(formatDate(null)).toBe('长期');
  });

  it('should show instants in Beijing time whatever the phone zone', () => {
    expect(formatDateTime('2025-03-12T16:05:09Z')).toBe('2025-03-13 00:05:09');
    expect(formatDate('2025-03-12T16:05:09Z')).toBe('2025年03月13日');
  });

  const cases: { days: number | null; want: string | null }[] = [
    { days: null, want: null },
    { days: 91, want: null },
    { days: 90, want: '还有 90 天到期' },
    { days: 20, want: '还有 20 天到期' },
    { days: 0, want: '今天是有效期最后一天' },
    { days: -3, want: '已过期 3 天' },
  ];
  for (const c of cases) {
    it(`should describe ${String(c.days)} days left as ${String(c.want)}`, () => {
      expect(expiryText(c.days)).toBe(c.want);
    });
  }
});
