import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import RecordList, { type RecordEntry } from './RecordList.vue';

const entries: RecordEntry[] = [
  { title: '机动车驾驶证', result: '无效', colour: 'red', details: ['事由：交通执法检查', '驾驶证已被暂扣。'], at: '2025-03-12T08:00:05Z' },
  { title: '居民身份证', result: '有效', colour: 'green', details: ['事由：身份核验'], at: '2025-03-12T07:00:00Z' },
];

describe('RecordList', () => {
  it('should show each record with its title, result, details and local time, in the order given', () => {
    const w = mount(RecordList, { props: { entries, label: '核验记录列表', testid: 'row' } });
    expect(w.find('ol').attributes('aria-label')).toBe('核验记录列表');
    const rows = w.findAll('[data-testid="row"]');
    expect(rows).toHaveLength(2);
    expect(rows[0]?.find('.title').text()).toBe('机动车驾驶证');
    expect(rows[0]?.find('.result').text()).toBe('无效');
    expect(rows[0]?.findAll('div.detail').map((d) => d.text())).toEqual(['事由：交通执法检查', '驾驶证已被暂扣。']);
    expect(rows[0]?.find('time').attributes('datetime')).toBe('2025-03-12T08:00:05Z');
    expect(rows[0]?.find('time').text()).toBe('2025-03-12 16:00:05');
    expect(rows[1]?.find('.title').text()).toBe('居民身份证');
    expect(rows[1]?.findAll('div.detail')).toHaveLength(1);
  });

  it('should colour each record by its result and draw the accent bar only when asked', () => {
    const plain = mount(RecordList, { props: { entries, label: 'l', testid: 'row' } });
    const accented = mount(RecordList, { props: { entries, label: 'l', testid: 'row', accent: true } });
    const [red, green] = plain.findAll('[data-testid="row"]');
    expect(red?.classes()).toContain('record--red');
    expect(green?.classes()).toContain('record--green');
    expect(red?.classes()).not.toContain('record--accent');
    expect(accented.find('[data-testid="row"]').classes()).toContain('record--accent');
  });

  it('should render an empty list when there are no entries', () => {
    const w = mount(RecordList, { props: { entries: [], label: 'l', testid: 'row' } });
    expect(w.findAll('[data-testid="row"]')).toHaveLength(0);
  });
});
