// Browser test of the staff's administration console (desktop viewport)
// against a real `bff serve` in embedded mode: the demo clerk of
// 阳城县不动产登记中心 logs in, finds 张三's 不动产权证书, suspends it with a
// reason, and the housing officer's next scan of that licence in the H5
// is red. Screenshots go to a printed temp folder.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindRealname, decodeQR, launchBrowser, loginAs, newPhone, screenshotDir, shot, startBff } from './harness.mjs';

const ZHANGSAN = { openid: 'demo-citizen-zhangsan', name: '张三', id: '140522198503120016', phone: '13800000001' };
const HOUSING = 'demo-officer-housing';
const DESKTOP = { viewport: { width: 1366, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' };
const T = 30_000;

describe('administration console against bff serve', { timeout: 10 * 60_000 }, () => {
  const shots = screenshotDir();
  const binDir = mkdtempSync(join(tmpdir(), 'elicence-e2e-bin-'));
  let bff;
  let browser;

  before(async () => {
    console.log(`console e2e screenshots: ${shots}`);
    bff = await startBff(binDir, shots);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await bff?.stop();
    rmSync(binDir, { recursive: true, force: true });
    console.log(`console e2e screenshots: ${shots}`);
  });

  it('the demo clerk suspends a licence with a reason, and the next scan of it is red', async () => {
    const desk = await (await browser.newContext(DESKTOP)).newPage();
    await desk.goto(`${bff.base}/console/licences`);
    await desk.waitForURL(/\/console\/login\?next=/, { timeout: T });
    await shot(desk, shots, 'console-login');
    await desk.locator('#username').fill('demo-estate-clerk');
    await desk.locator('#password').fill('wrong-password');
    await desk.getByRole('button', { name: '登录' }).click();
    await desk.getByRole('alert').filter({ hasText: '用户名、密码或动态口令不正确' }).waitFor({ timeout: T });
    await desk.locator('#password').fill('demo-password');
    await desk.getByRole('button', { name: '登录' }).click();
    await desk.waitForURL(/\/console\/licences$/, { timeout: T });
    assert.match(await desk.getByTestId('who').innerText(), /阳城县不动产登记中心/);

    await desk.locator('#q-holder').fill(ZHANGSAN.id);
    await desk.getByRole('button', { name: '查询' }).click();
    const row = desk.locator('[data-testid="licence-table"] .el-table__row', { hasText: '不动产权证书' });
    await row.waitFor({ timeout: T });
    const listed = await desk.getByTestId('licence-table').innerText();
    assert.doesNotMatch(listed, new RegExp(ZHANGSAN.id), 'the full ID number is never shown');
    assert.match(listed, /1405\*+0016/);
    await shot(desk, shots, 'console-licence-search');

    await row.getByRole('link', { name: '详情' }).click();
    await desk.waitForURL(/\/console\/licences\/\d+$/, { timeout: T });
    const status = desk.getByTestId('detail-status');
    await status.waitFor({ timeout: T });
    assert.equal((await status.innerText()).trim(), '有效');
    await desk.getByTestId('action-select').click();
    await desk.getByRole('option', { name: '暂扣', exact: true }).click();
    await desk.locator('#reason').fill('法院查封，暂停使用');
    await desk.getByRole('button', { name: '办理' }).click();
    const dialog = desk.getByRole('dialog');
    await dialog.waitFor({ timeout: T });
    assert.match(await dialog.innerText(), /法院查封，暂停使用/);
    await shot(desk, shots, 'console-confirm-suspend');
    await dialog.getByRole('button', { name: '确定暂扣' }).click();
    await desk.waitForFunction(() => document.querySelector('[data-testid="detail-status"]')?.textContent?.trim() === '暂扣', null, {
      timeout: T,
    });
    const history = await desk.getByTestId('history').innerText();
    assert.match(history, /法院查封，暂停使用/);
    assert.match(history, /staff:demo-estate-clerk/);
    assert.match(await desk.getByTestId('audit').innerText(), /licence\.suspend/);
    await shot(desk, shots, 'console-licence-suspended');

    // 张三 shows the licence; the housing officer's scan is red.
    const phone = await (await newPhone(browser)).newPage();
    await phone.goto(`${bff.base}/`);
    await loginAs(phone, ZHANGSAN.openid);
    await bindRealname(bff.base, phone, ZHANGSAN, T);
    await phone.locator('[data-testid="licence-card"]', { hasText: '不动产权证书' }).click();
    await phone.waitForURL(/\/licences\/\d+$/, { timeout: T });
    await phone.getByRole('button', { name: /亮证/ }).click();
    await phone.waitForURL(/\/licences\/\d+\/show$/, { timeout: T });
    await phone.locator('[data-testid="qr"]').waitFor({ timeout: T });
    const deadline = Date.now() + T;
    let code = null;
    while (!code && Date.now() < deadline) {
      code = decodeQR(await phone.locator('.qr-box').screenshot());
      if (!code) await phone.waitForTimeout(500);
    }
    assert.ok(code, 'the QR on the phone decodes');

    const officer = await (await newPhone(browser)).newPage();
    await officer.goto(code);
    await loginAs(officer, HOUSING);
    const block = officer.locator('[data-testid="result-block"]');
    await block.waitFor({ timeout: T });
    assert.equal(await block.getAttribute('data-colour'), 'red');
    assert.match(await officer.locator('[data-testid="result-reason"]').innerText(), /暂扣/);
    await shot(officer, shots, 'console-officer-scan-red');

    // Logout ends the session: the console asks for a login again.
    await desk.getByRole('button', { name: '退出登录' }).click();
    await desk.waitForURL(/\/console\/login/, { timeout: T });
    await desk.goto(`${bff.base}/console/licences`);
    await desk.waitForURL(/\/console\/login\?next=/, { timeout: T });
  });
});
