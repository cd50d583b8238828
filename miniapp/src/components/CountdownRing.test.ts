import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import CountdownRing from './CountdownRing.vue';

describe('CountdownRing', () => {
  it('should round the remaining time up to whole seconds for the label', () => {
    const w = mount(CountdownRing, { props: { remainingMs: 41_200, totalMs: 60_000 } });
    expect(w.attributes('aria-label')).toBe('二维码剩余有效时间 42 秒');
    expect(w.text()).toContain('42');
  });

  it('should empty the ring as time runs out and turn urgent near the end', () => {
    const full = mount(CountdownRing, { props: { remainingMs: 60_000, totalMs: 60_000 } });
    const low = mount(CountdownRing, { props: { remainingMs: 5_000, totalMs: 60_000 } });
    const offset = (w: typeof full): number => Number(w.find('.bar').attributes('stroke-dashoffset'));
    expect(offset(full)).toBeCloseTo(0);
    expect(offset(low)).toBeGreaterThan(100);
    expect(low.find('.bar').classes()).toContain('urgent');
    expect(full.find('.bar').classes()).not.toContain('urgent');
  });
});
