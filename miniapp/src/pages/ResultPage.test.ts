import { beforeEach, describe, expect, it } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import ResultPage from './ResultPage.vue';
import { officerState } from '../stores/officer';
import { greenVerification, mountPage } from '../test/helpers';

describe('ResultPage', () => {
  beforeEach(() => {
    officerState.last = null;
  });

  it('should show a green block with the disclosed fields and masked holder', async () => {
    officerState.last = { kind: 'result', purpose: '交通执法检查', verification: greenVerification };
    const { wrapper } = await mountPage(ResultPage, { path: '/officer/result' });
    const block = wrapper.find('[data-testid="result-block"]');
    expect(block.attributes('data-colour')).toBe('green');
    expect(block.text()).toContain('有效');
    expect(wrapper.find('[data-testid="disclosed-fields"]').text()).toContain('准驾车型');
    expect(wrapper.text()).toContain('张*');
    expect(wrapper.text()).toContain('1405**********0016');
    expect(wrapper.text()).toContain('2025-03-12 16:00:05');
    expect(wrapper.text()).toContain('交通执法检查');
  });

  it('should show an amber block for a valid licence with an annotation', async () => {
    officerState.last = {
      kind: 'result',
      purpose: '不动产登记',
      verification: { ...greenVerification, colour: 'amber', reason_code: 'mortgaged' },
    };
    const { wrapper } = await mountPage(ResultPage);
    const block = wrapper.find('[data-testid="result-block"]');
    expect(block.attributes('data-colour')).toBe('amber');
    expect(block.text()).toContain('已抵押');
  });

  it('should show the issuing seal and 电子印章已验证 when its signature checks out', async () => {
    officerState.last = {
      kind: 'result',
      purpose: '交通执法检查',
      verification: { ...greenVerification, seal: { name: '晋城市公安局交通警察支队', verified: true } },
    };
    const { wrapper } = await mountPage(ResultPage);
    const mark = wrapper.find('[data-testid="seal-mark"]');
    expect(mark.find('svg').attributes('aria-label')).toBe('晋城市公安局交通警察支队电子印章');
    expect(mark.find('textPath').text()).toBe('晋城市公安局交通警察支队');
    expect(mark.find('[data-testid="seal-status"]').text()).toBe('电子印章已验证');
  });

  it('should say in red words why a licence whose seal does not verify is invalid', async () => {
    officerState.last = {
      kind: 'result',
      purpose: '交通执法检查',
      verification: {
        ...greenVerification,
        result: 'invalid',
        colour: 'red',
        reason_code: 'signature_invalid',
        seal: { name: '晋城市公安局交通警察支队', verified: false },
      },
    };
    const { wrapper } = await mountPage(ResultPage);
    expect(wrapper.find('[data-testid="result-block"]').attributes('data-colour')).toBe('red');
    expect(wrapper.find('[data-testid="result-reason"]').text()).toContain('可能被篡改');
    expect(wrapper.find('[data-testid="seal-status"]').text()).toBe('电子印章未通过验证');
    expect(wrapper.text()).not.toContain('电子印章已验证');
  });

  it('should show no seal when the answer carries none', async () => {
    officerState.last = { kind: 'result', purpose: '交通执法检查', verification: greenVerification };
    const { wrapper } = await mountPage(ResultPage);
    expect(wrapper.find('[data-testid="seal-mark"]').exists()).toBe(false);
  });

  it('should show a red block with the reason for a suspended licence', async () => {
    officerState.last = {
      kind: 'result',
      purpose: '交通执法检查',
      verification: { ...greenVerification, result: 'invalid', colour: 'red', reason_code: 'suspended', status: 'suspended' },
    };
    const { wrapper } = await mountPage(ResultPage);
    expect(wrapper.find('[data-testid="result-block"]').attributes('data-colour')).toBe('red');
    expect(wrapper.find('[data-testid="result-reason"]').text()).toContain('暂扣');
  });

  it('should show a refusal in grey "cannot verify", never in the red of an invalid licence', async () => {
    officerState.last = {
      kind: 'refused',
      purpose: '不动产登记',
      code: 'type_not_in_usage_list',
      message: '这类证照不在本单位的用证清单中',
      at: Date.now(),
    };
    const { wrapper } = await mountPage(ResultPage);
    const block = wrapper.find('[data-testid="result-block"]');
    expect(block.attributes('data-colour')).toBe('grey');
    expect(block.text()).toContain('无法核验');
    expect(block.text()).toContain('这不说明证照有效或无效');
    expect(block.find('.van-icon-question').exists()).toBe(true);
    expect(wrapper.find('[data-testid="result-reason"]').text()).toContain('用证清单');
    expect(wrapper.find('[data-testid="result-retry"]').exists()).toBe(false);
  });

  it('should say "reopened" with the first time and show the photo without repeating rows', async () => {
    const photo = 'data:image/svg+xml;base64,PHN2Zy8+';
    officerState.last = {
      kind: 'result',
      purpose: '交通执法检查',
      verification: {
        ...greenVerification,
        replayed: true,
        licence: {
          ...greenVerification.licence,
          fields: [
            ...greenVerification.licence.fields,
            { key: 'name', label: '姓名', type: 'text', value: '张*' },
            { key: 'photo', label: '照片', type: 'photo', value: photo },
          ],
        },
      },
    };
    const { wrapper } = await mountPage(ResultPage);
    expect(wrapper.find('[data-testid="result-replayed"]').text()).toContain('您已于 16:00:05 核验过此码');
    expect(wrapper.find('[data-testid="holder-photo"]').attributes('src')).toBe(photo);
    const fields = wrapper.find('[data-testid="disclosed-fields"]').text();
    expect(fields).not.toContain('照片');
    expect(fields).not.toContain('张*');
  });

  it('should go back to scanning with one tap', async () => {
    officerState.last = { kind: 'result', purpose: '交通执法检查', verification: greenVerification };
    const { wrapper, router } = await mountPage(ResultPage, { path: '/officer/result' });
    await wrapper
      .findAll('button')
      .find((b) => b.text().includes('扫下一个'))
      ?.trigger('click');
    await flushPromises();
    expect(router.currentRoute.value.name).toBe('scan');
    expect(officerState.last).toBeNull();
  });

  it('should explain when there is no result to show', async () => {
    const { wrapper } = await mountPage(ResultPage);
    expect(wrapper.find('[data-testid="no-result"]').text()).toContain('核验记录');
  });
});
