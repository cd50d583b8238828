// Browser end-to-end tests: the six flows of the H5 against a real
// `bff serve` in embedded mode, in headless Chromium at 360×640.
// The show code is read only from the QR image's pixels (jsQR), never from
// the DOM or the API, as an officer's phone would read it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bindRealname,
  decodeQR,
  launchBrowser,
  launchBrowserWithCamera,
  loginAs,
  newPhone,
  screenshotDir,
  shot,
  startBff,
  writeY4M,
} from './harness.mjs';

const ZHANGSAN = { openid: 'demo-citizen-zhangsan', name: '张三', id: '140522198503120016', phone: '13800000001' };
const LISI = { openid: 'demo-citizen-lisi', name: '李四', id: '140522199007080021', phone: '13800000002' };
const POLICE = 'demo-officer-police';
const HOUSING = 'demo-officer-housing';

const T = 30_000;

describe('H5 flows against bff serve', { timeout: 10 * 60_000 }, () => {
  const shots = screenshotDir();
  const binDir = mkdtempSync(join(tmpdir(), 'elicence-e2e-bin-'));
  let bff;
  let browser;
  let zhangsan;
  let police;
  let housing;
  let firstCode = '';
  let secondCode = '';
  let basicFieldCount = 0;

  before(async () => {
    console.log(`e2e screenshots: ${shots}`);
    bff = await startBff(binDir, shots);
    console.log(`e2e bff: ${bff.base} (log ${bff.logPath})`);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await bff?.stop();
    rmSync(binDir, { recursive: true, force: true });
    console.log(`e2e screenshots: ${shots}`);
  });

  /** bindRealname logs a citizen in from the front door and binds the real name. */
  async function loginAndBind(page, who) {
    await page.goto(`${bff.base}/`);
    await loginAs(page, who.openid);
    await bindRealname(bff.base, page, who, T);
    await page.locator('[data-testid="licence-card"]').first().waitFor({ timeout: T });
  }

  /** showLicence opens a licence by type name and the show page, and reads the QR pixels. */
  async function openShowPage(page, typeName, shotName) {
    await page.locator('[data-testid="licence-card"]', { hasText: typeName }).click();
    await page.waitForURL(/\/licences\/\d+$/, { timeout: T });
    await page.locator('[data-testid="licence-face"]').waitFor({ timeout: T });
    await shot(page, shots, shotName);
    await page.getByRole('button', { name: /亮证/ }).click();
    await page.waitForURL(/\/licences\/\d+\/show$/, { timeout: T });
  }

  async function readQR(page, notThis = '') {
    const deadline = Date.now() + T;
    for (;;) {
      const box = page.locator('.qr-box');
      await page.locator('[data-testid="qr"]').waitFor({ timeout: T });
      const text = decodeQR(await box.screenshot());
      if (text && text !== notThis) return text;
      if (Date.now() > deadline) throw new Error(`no new QR code decoded (last: ${text})`);
      await page.waitForTimeout(500);
    }
  }

  it('1. 张三 logs in through the fake WeChat, binds his real name and shows his driving licence', async () => {
    const ctx = await newPhone(browser);
    zhangsan = await ctx.newPage();
    await loginAndBind(zhangsan, ZHANGSAN);
    const cards = zhangsan.locator('[data-testid="licence-card"]');
    assert.equal(await cards.count(), 3);
    const driving = cards.filter({ hasText: '机动车驾驶证' });
    assert.match(await driving.innerText(), /还有 \d+ 天到期/);
    await shot(zhangsan, shots, '1-zhangsan-licences');

    // 适老化: the large-font choice applies at once and survives a reload.
    await zhangsan.getByRole('button', { name: '长辈版', exact: true }).click();
    await zhangsan.reload();
    await zhangsan.locator('[data-testid="licence-card"]').first().waitFor({ timeout: T });
    assert.equal(await zhangsan.evaluate(() => document.documentElement.classList.contains('elic-large')), true);
    await shot(zhangsan, shots, '1-zhangsan-licences-large-font');
    await zhangsan.getByRole('button', { name: '长辈版', exact: true }).click();

    await openShowPage(zhangsan, '机动车驾驶证', '1-zhangsan-detail');
    firstCode = await readQR(zhangsan);
    assert.match(firstCode, new RegExp(`^${bff.base.replace(/[.]/g, '\\.')}/v/[A-Za-z0-9_-]{22}$`));
    assert.match(await zhangsan.locator('[data-testid="watermark-clock"]').innerText(), /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/);
    assert.match(await zhangsan.getByRole('timer').getAttribute('aria-label'), /剩余有效时间 \d+ 秒/);
    await shot(zhangsan, shots, '1-zhangsan-show-code');
  });

  it('1b. the licence list loads through the boot script under the served CSP: styled, each API path asked once', async () => {
    const page = await (await newPhone(browser, { storageState: await zhangsan.context().storageState() })).newPage();
    const blocked = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) blocked.push(m.text());
    });
    const api = [];
    page.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (path.startsWith('/api/')) api.push(path);
    });
    await page.goto(`${bff.base}/licences`);
    await page.locator('[data-testid="licence-card"]').first().waitFor({ timeout: T });
    assert.deepEqual(blocked, []);
    assert.deepEqual(api.filter((p) => p === '/api/v1/me' || p === '/api/v1/licences').sort(), ['/api/v1/licences', '/api/v1/me']);
    // No stylesheet <link> in the HTML holds up the splash; the one the boot script added is in.
    assert.doesNotMatch(await (await fetch(`${bff.base}/licences`)).text(), /<link[^>]+rel="stylesheet"/);
    const styled = await page.evaluate(() => [...document.styleSheets].some((s) => /\/assets\/index-[^/]+\.css$/.test(s.href ?? '')));
    assert.equal(styled, true);
    assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('.app-footer')).textAlign), 'center');
    await page.context().close();
  });

  it('2. the police officer opens the decoded text and sees a green result with the disclosed fields', async () => {
    assert.ok(firstCode, 'flow 1 must have produced a code');
    const ctx = await newPhone(browser);
    police = await ctx.newPage();
    await police.goto(firstCode);
    await loginAs(police, POLICE);
    await police.waitForURL(/\/v\//, { timeout: T });
    const block = police.locator('[data-testid="result-block"]');
    await block.waitFor({ timeout: T });
    assert.equal(await block.getAttribute('data-colour'), 'green');
    assert.match(await block.innerText(), /有效/);
    const fields = police.locator('[data-testid="disclosed-fields"]');
    basicFieldCount = await fields.locator('.van-cell').count();
    assert.ok(basicFieldCount > 0, 'disclosed fields are listed');
    const page = await police.locator('.verification').innerText();
    assert.match(page, /机动车驾驶证/);
    assert.match(page, /张\*/);
    assert.doesNotMatch(page, /140522198503120016/);
    // The traffic police's seal signed the licence; the scan checked it.
    assert.equal(await police.locator('[data-testid="seal-status"]').innerText(), '电子印章已验证');
    assert.match(await police.locator('[data-testid="seal-mark"] svg').getAttribute('aria-label'), /晋城市公安局交通警察支队/);
    await shot(police, shots, '2-police-green');
  });

  it('3. the same code opened by another officer reads grey "cannot verify: already used"', async () => {
    const ctx = await newPhone(browser);
    housing = await ctx.newPage();
    await housing.goto(firstCode);
    await loginAs(housing, HOUSING);
    const block = housing.locator('[data-testid="result-block"]');
    await block.waitFor({ timeout: T });
    assert.equal(await block.getAttribute('data-colour'), 'grey');
    assert.match(await block.innerText(), /无法核验/);
    assert.match(await housing.locator('[data-testid="result-reason"]').innerText(), /已被使用，可能是截图或转发/);
    await shot(housing, shots, '3-housing-code-used');
  });

  it("4. 张三's page shows the verified notice and the usage record", async () => {
    const notice = zhangsan.locator('[data-testid="verified-notice"]');
    await notice.waitFor({ timeout: T });
    assert.match(await notice.innerText(), /已被 阳城县公安局交通管理大队 核验/);
    await shot(zhangsan, shots, '4-zhangsan-verified-notice');

    await zhangsan.getByRole('button', { name: '查看用证记录' }).click();
    await zhangsan.waitForURL(/\/usage$/, { timeout: T });
    const records = zhangsan.locator('[data-testid="usage-record"]');
    await records.first().waitFor({ timeout: T });
    const text = await records.allInnerTexts();
    assert.ok(
      text.some((t) => t.includes('阳城县公安局交通管理大队') && t.includes('核验有效')),
      `usage records: ${text.join(' | ')}`,
    );
    await shot(zhangsan, shots, '4-zhangsan-usage');
  });

  it("5. 李四's suspended driving licence verifies red with its reason (officer scans a photo of the code)", async () => {
    const ctx = await newPhone(browser);
    const lisi = await ctx.newPage();
    await loginAndBind(lisi, LISI);
    const card = lisi.locator('[data-testid="licence-card"]', { hasText: '机动车驾驶证' });
    assert.match(await card.innerText(), /暂扣/);
    await shot(lisi, shots, '5-lisi-licences');
    await openShowPage(lisi, '机动车驾驶证', '5-lisi-detail');
    const qrImage = await lisi.locator('.qr-box').screenshot();
    assert.ok(decodeQR(qrImage), 'the QR on screen decodes');
    await shot(lisi, shots, '5-lisi-show-code');

    await police.goto(`${bff.base}/officer/scan`);
    await police.getByText('阳城县公安局交通管理大队').first().waitFor({ timeout: T });
    await shot(police, shots, '5-police-scan-page');
    await police.locator('input[type="file"]').setInputFiles({ name: 'qr.png', mimeType: 'image/png', buffer: qrImage });
    await police.waitForURL(/\/officer\/result$/, { timeout: T });
    const block = police.locator('[data-testid="result-block"]');
    await block.waitFor({ timeout: T });
    assert.equal(await block.getAttribute('data-colour'), 'red');
    assert.match(await block.innerText(), /无效/);
    assert.match(await police.locator('[data-testid="result-reason"]').innerText(), /暂扣/);
    await shot(police, shots, '5-police-red-suspended');
    await ctx.close();
  });

  it("6. the housing officer scanning 张三's driving licence is refused with the usage-list reason", async () => {
    await zhangsan.goBack();
    await zhangsan.waitForURL(/\/show$/, { timeout: T });
    const code = await readQR(zhangsan, firstCode);
    secondCode = code;
    await shot(zhangsan, shots, '6-zhangsan-new-code');
    await housing.goto(code);
    const block = housing.locator('[data-testid="result-block"]');
    await block.waitFor({ timeout: T });
    assert.equal(await block.getAttribute('data-colour'), 'grey');
    assert.match(await block.innerText(), /无法核验/);
    assert.match(await housing.locator('[data-testid="result-reason"]').innerText(), /用证清单/);
    await shot(housing, shots, '6-housing-refused');

    await housing.getByRole('link', { name: '查看核验记录' }).click();
    await housing.waitForURL(/\/officer\/history$/, { timeout: T });
    await housing.locator('[data-testid="history-record"], [data-testid="empty"]').first().waitFor({ timeout: T });
    await shot(housing, shots, '6-housing-history');
  });

  it("an officer's camera (getUserMedia + jsQR) reads a full-scope code", async () => {
    await zhangsan.getByRole('radio', { name: '完整照面' }).click();
    const qr = zhangsan.locator('.qr-box');
    const deadline = Date.now() + T;
    let png;
    for (;;) {
      png = await qr.screenshot();
      const text = decodeQR(png);
      if (text && text !== secondCode && text !== firstCode) break;
      if (Date.now() > deadline) throw new Error('no full-scope code on screen');
      await zhangsan.waitForTimeout(300);
    }
    const y4m = join(shots, 'camera.y4m');
    writeY4M(png, y4m);
    const camBrowser = await launchBrowserWithCamera(y4m);
    try {
      const ctx = await newPhone(camBrowser);
      await ctx.grantPermissions(['camera'], { origin: bff.base });
      const cam = await ctx.newPage();
      await cam.goto(`${bff.base}/officer/scan`);
      await loginAs(cam, POLICE);
      await cam.getByRole('button', { name: '打开摄像头扫码' }).click();
      await cam.waitForURL(/\/officer\/result$/, { timeout: T });
      const block = cam.locator('[data-testid="result-block"]');
      await block.waitFor({ timeout: T });
      assert.equal(await block.getAttribute('data-colour'), 'green');
      const fields = cam.locator('[data-testid="disclosed-fields"]');
      assert.match(await fields.innerText(), /准驾车型/);
      const fullFieldCount = await fields.locator('.van-cell').count();
      assert.ok(fullFieldCount > basicFieldCount, `full scope discloses more (${fullFieldCount} > ${basicFieldCount})`);
      // The full scope carries the holder's photo, shown beside the verdict.
      assert.match(await cam.locator('[data-testid="holder-photo"]').getAttribute('src'), /^data:image\/svg\+xml;base64,/);
      await shot(cam, shots, '7-police-camera-full-scope');
    } finally {
      await camBrowser.close();
    }
  });

  it('an expired session logs in again and returns to the same page', async () => {
    const usagePath = new URL(zhangsan.url()).pathname.replace(/\/show$/, '/usage');
    await zhangsan.context().clearCookies();
    await zhangsan.goto(`${bff.base}${usagePath}`);
    await loginAs(zhangsan, ZHANGSAN.openid);
    await zhangsan.waitForURL((u) => u.pathname === usagePath, { timeout: T });
    await zhangsan.locator('[data-testid="usage-record"]').first().waitFor({ timeout: T });
    await shot(zhangsan, shots, '7-zhangsan-relogin-same-page');
  });
});
