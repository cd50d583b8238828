import { describe, expect, it } from 'vitest';
import { createVerifiedWatcher, departmentName } from './verified';
import type { UsageRecord } from '../api/types';

const rec = (at: string, department = '阳城县公安局交通管理大队'): UsageRecord => ({
  department,
  purpose: '交通执法检查',
  result: 'valid',
  colour: 'green',
  reason_code: 'ok',
  at,
});

describe('createVerifiedWatcher', () => {
  it('should ignore records that existed before the page opened', () => {
    const w = createVerifiedWatcher();
    const old = rec('2025-03-12T08:00:00Z');
    w.baseline([old]);
    w.minted(Date.parse('2025-03-12T09:00:00Z'));
    expect(w.check([old])).toBeNull();
  });

  it('should report a record made after the code was minted, once', () => {
    const w = createVerifiedWatcher();
    w.baseline([]);
    w.minted(Date.parse('2025-03-12T09:00:00Z'));
    const fresh = rec('2025-03-12T09:00:20.123Z');
    expect(w.check([fresh])).toEqual(fresh);
    expect(w.check([fresh])).toBeNull();
  });

  it('should report nothing before any code was shown', () => {
    const w = createVerifiedWatcher();
    w.baseline([]);
    expect(w.check([rec('2025-03-12T09:00:20Z')])).toBeNull();
  });

  it('should fall back to the mint time when the first usage load failed', () => {
    const w = createVerifiedWatcher();
    w.baseline(null);
    w.minted(Date.parse('2025-03-12T09:00:00Z'));
    expect(w.check([rec('2025-03-12T08:00:00Z')])).toBeNull();
    const fresh = rec('2025-03-12T09:00:05Z');
    expect(w.check([rec('2025-03-12T08:00:00Z'), fresh])).toEqual(fresh);
  });

  it('should pick the newest of several new records', () => {
    const w = createVerifiedWatcher();
    w.baseline([]);
    w.minted(Date.parse('2025-03-12T09:00:00Z'));
    const a = rec('2025-03-12T09:00:10Z', 'A');
    const b = rec('2025-03-12T09:00:30Z', 'B');
    expect(w.check([b, a])?.department).toBe('B');
  });

  it('should name the department given as text or as an object', () => {
    expect(departmentName('阳城县不动产登记中心')).toBe('阳城县不动产登记中心');
    expect(departmentName({ name: '阳城县公安局' })).toBe('阳城县公安局');
    expect(departmentName(undefined)).toBe('工作人员');
  });
});
