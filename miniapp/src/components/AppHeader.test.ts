import { describe, expect, it } from 'vitest';
import AppHeader from './AppHeader.vue';
import { initLargeFont } from '../composables/useLargeFont';
import { mountPage } from '../test/helpers';

describe('AppHeader large-font toggle', () => {
  it('should switch large fonts on, remember the choice and say so to screen readers', async () => {
    initLargeFont();
    const { wrapper } = await mountPage(AppHeader, { props: { title: '我的证照' } });
    const btn = wrapper.find('.font-toggle');
    expect(btn.attributes('aria-pressed')).toBe('false');
    await btn.trigger('click');
    expect(document.documentElement.classList.contains('elic-large')).toBe(true);
    expect(localStorage.getItem('elic.largeFont')).toBe('1');
    expect(btn.attributes('aria-pressed')).toBe('true');
    expect(btn.attributes('aria-label')).toBe('长辈版（大字大按钮）');
    expect(btn.text()).toContain('长辈版');
    await btn.trigger('click');
    expect(document.documentElement.classList.contains('elic-large')).toBe(false);
    expect(localStorage.getItem('elic.largeFont')).toBe('0');
  });

  it('should apply a stored choice at start-up', () => {
    localStorage.setItem('elic.largeFont', '1');
    initLargeFont();
    expect(document.documentElement.classList.contains('elic-large')).toBe(true);
    localStorage.setItem('elic.largeFont', '0');
    initLargeFont();
    expect(document.documentElement.classList.contains('elic-large')).toBe(false);
  });
});
