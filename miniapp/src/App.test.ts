import { beforeEach, describe, expect, it } from 'vitest';
import App from './App.vue';
import { ApiError } from './api/http';
import { appState } from './stores/app';
import { mountPage } from './test/helpers';

describe('App shell', () => {
  beforeEach(() => {
    appState.loggingIn = false;
    appState.loginBlocked = false;
    appState.fatal = null;
    appState.pending = null;
  });

  it('should say it is going to WeChat login', async () => {
    appState.loggingIn = true;
    const { wrapper } = await mountPage(App);
    expect(wrapper.text()).toContain('正在前往微信登录');
  });

  it('should explain a login that does not stick', async () => {
    appState.loginBlocked = true;
    const { wrapper } = await mountPage(App);
    expect(wrapper.text()).toContain('登录没有成功');
    expect(wrapper.text()).toContain('重新登录');
  });

  it('should show a start-up failure with a retry', async () => {
    appState.fatal = new ApiError(0, 'network_error');
    appState.pending = '/licences';
    const { wrapper, router } = await mountPage(App);
    expect(wrapper.find('[role="alert"]').text()).toContain('网络连接失败');
    await wrapper.find('[role="alert"] button').trigger('click');
    await router.isReady();
    expect(appState.fatal).toBeNull();
  });
});
