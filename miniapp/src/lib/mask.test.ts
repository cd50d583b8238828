import { describe, expect, it } from 'vitest';
import { isMasked, maskIdNumber, maskName, maskPhone, spokenMasked } from './mask';

describe('masking display', () => {
  const table: { fn: (v: string) => string; input: string; want: string }[] = [
    { fn: maskName, input: '张三', want: '张*' },
    { fn: maskName, input: '欧阳娜娜', want: '欧***' },
    { fn: maskName, input: '张*', want: '张*' },
    { fn: maskIdNumber, input: '140522198503120016', want: '1405**********0016' },
    { fn: maskIdNumber, input: '1405**********0016', want: '1405**********0016' },
    { fn: maskIdNumber, input: '12345', want: '*****' },
    { fn: maskPhone, input: '13800000001', want: '138****0001' },
    { fn: maskPhone, input: '138****0001', want: '138****0001' },
  ];
  for (const t of table) {
    it(`should show ${t.input} as ${t.want}`, () => {
      expect(t.fn(t.input)).toBe(t.want);
    });
  }

  it('should never leave the middle of an ID number visible', () => {
    const shown = maskIdNumber('140522198503120016');
    expect(shown).not.toContain('19850312');
    expect(shown).toHaveLength(18);
  });

  it('should tell masked values from plain ones', () => {
    expect(isMasked('1405**********0016')).toBe(true);
    expect(isMasked('张＊')).toBe(true);
    expect(isMasked('阳城县公安局')).toBe(false);
  });

  it('should read runs of asterisks as a count for screen readers', () => {
    expect(spokenMasked('1405**********0016')).toBe('1405，10 位已隐藏，0016');
    expect(spokenMasked('张*')).toBe('张，1 位已隐藏');
    expect(spokenMasked('晋E12345')).toBe('晋E12345');
  });
});
