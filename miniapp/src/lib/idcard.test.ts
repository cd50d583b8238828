import { describe, expect, it } from 'vitest';
import { checkDigit, checkIdNumber, normaliseIdNumber } from './idcard';

const today = new Date('2025-06-01T00:00:00Z');

describe('checkIdNumber', () => {
  it('should accept the demo residents and an X check digit', () => {
    for (const id of ['140522198503120016', '140522199007080021', '11010519491231002X']) {
      expect(checkIdNumber(id, today)).toEqual({ ok: true, value: id });
    }
  });

  it('should normalise spaces and a lower-case x', () => {
    expect(normaliseIdNumber(' 110105 19491231 002x ')).toBe('11010519491231002X');
    expect(checkIdNumber('11010519491231002x', today).ok).toBe(true);
  });

  const cases: { name: string; input: string; problem: string }[] = [
    { name: 'empty input', input: '   ', problem: 'empty' },
    { name: '17 digits', input: '14052219850312001', problem: 'length' },
    { name: 'a 15-digit old number', input: '140522850312001', problem: 'length' },
    { name: 'a letter inside', input: '1405221985O3120016', problem: 'format' },
    { name: 'X not at the end', input: '14052219850312X016', problem: 'format' },
    { name: 'an unknown province', input: '990522198503120016', problem: 'region' },
    { name: 'month 13', input: '140522198513120016', problem: 'birthdate' },
    { name: '30 February', input: '140522198502300016', problem: 'birthdate' },
    { name: 'a birth date in the future', input: '140522203001010016', problem: 'birthdate' },
    { name: 'one digit mistyped', input: '140522198503120017', problem: 'checksum' },
    { name: 'two digits swapped', input: '140522198503120106', problem: 'checksum' },
  ];
  for (const c of cases) {
    it(`should reject ${c.name}`, () => {
      const r = checkIdNumber(c.input, today);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.problem).toBe(c.problem);
        expect(r.message).toMatch(/身份证/);
      }
    });
  }

  it('should compute the GB 11643 check character', () => {
    expect(checkDigit('14052219850312001')).toBe('6');
    expect(checkDigit('11010519491231002')).toBe('X');
  });
});
