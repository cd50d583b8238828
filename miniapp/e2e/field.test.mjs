// Browser tests of the H5 as used in the field: every verdict colour and
// its words, the typed 8-digit code, a reopened code, 长辈版 sizes measured
// in the DOM, and axe-core on every page in both modes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { axeViolations, bindRealname, consoleAs, launchBrowser, loginAs, newPhone, screenshotDir, shot, startBff } from './harness.mjs';

const ZHANGSAN = { openid: 'demo-citizen-zhangsan', name: '张三', id: '140522198503120016', phone: '13800000001' };
const LISI = { openid: 'demo-citizen-lisi', name: '李四', id: '140522199007080021', phone: '13800000002' };
const POLICE = 'demo-officer-police';
const HOUSING = 'demo-officer-housing';
const T = 30_000;
// Short enough to watch a code expire, long enough to read and type one.
const TTL_SECONDS = 45;

describe('H5 in the field', { timeout: 25 * 60_000 }, () => {
  const shots = screenshotDir();
  const binDir = mkdtempSync(join(tmpdir(), 'elicence-e2e-bin-'));
  let bff;
  let browser;
  let zhangsan;
  let lisi;
  let police;
  let housing;

  before(async () => {
    bff = await startBff(binDir, shots, { ELICENCE_SHOWCODE_TTL: `${TTL_SECONDS}s` });
    console.log(`e2e field: ${bff.base}, screenshots ${shots}`);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await bff?.stop();
    rmSync(binDir, { recursive: true, force: true });
  });

  async function phone(openid, path) {
    const ctx = await newPhone(browser);
    const page = await ctx.newPage();
    await page.goto(`${bff.base}${path}`);
    await loginAs(page, openid);
    return page;
  }

  async function bind(who) {
    const page = await phone(who.openid, '/');
    await bindRealname(bff.base, page, who, T);
    await page.locator('[data-testid="licence-card"]').first().waitFor({ timeout: T });
    return page;
  }

  /** showFromCard: one tap on a card's 亮证 opens the QR; returns the 8 digits shown under it. */
  async function showFromCard(page, typeName) {
    await page.goto(`${bff.base}/licences`);
    const item = page.locator('.card-item', { hasText: typeName });
    await item.locator('[data-testid="card-show"]').click();
    await page.waitForURL(/\/licences\/\d+\/show$/, { timeout: T });
    return shortCode(page);
  }

  async function shortCode(page, notThis = '') {
    const deadline = Date.now() + T;
    for (;;) {
      const el = page.locator('[data-testid="short-code"]');
      await el.waitFor({ timeout: T });
      const code = (await el.innerText()).replace(/\s/g, '');
      if (/^\d{8}$/.test(code) && code !== notThis) return code;
      if (Date.now() > deadline) throw new Error(`no new short code (last ${code})`);
      await page.waitForTimeout(300);
    }
  }

  async function typeCode(officer, code) {
    await officer.goto(`${bff.base}/officer/scan`);
    const input = officer.locator('[data-testid="short-code-input"] input');
    await input.waitFor({ timeout: T });
    await input.fill(code);
    await officer.locator('[data-testid="short-code-submit"]').click();
    await officer.waitForURL(/\/officer\/result$/, { timeout: T });
    const block = officer.locator('[data-testid="result-block"]');
    await block.waitFor({ timeout: T });
    return { colour: await block.getAttribute('data-colour'), text: await block.innerText() };
  }

  it('a typed 8-digit code verifies green, once: another officer reads grey "used", the same officer "already verified"', async () => {
    zhangsan = await bind(ZHANGSAN);
    police = await phone(POLICE, '/officer/scan');
    housing = await phone(HOUSING, '/officer/scan');
    const code = await showFromCard(zhangsan, '居民身份证');
    await shot(zhangsan, shots, 'field-show-short-code');

    const first = await typeCode(police, code);
    assert.equal(first.colour, 'green');
    assert.match(first.text, /有效/);
    await shot(police, shots, 'field-police-typed-green');

    const other = await typeCode(housing, code);
    assert.equal(other.colour, 'grey');
    assert.match(other.text, /无法核验/);
    assert.match(other.text, /已被使用，可能是截图或转发/);
    await shot(housing, shots, 'field-housing-used-grey');

    const again = await typeCode(police, code);
    assert.equal(again.colour, 'green');
    assert.match(await police.locator('[data-testid="result-replayed"]').innerText(), /您已于 \d{2}:\d{2}:\d{2} 核验过此码/);
    await shot(police, shots, 'field-police-reopened');

    // The holder sees one record for the police officer, not two.
    const id = new URL(zhangsan.url()).pathname.match(/\/licences\/(\d+)\/show$/)[1];
    const usage = await zhangsan.request.get(`${bff.base}/api/v1/licences/${id}/usage`);
    const { items } = await usage.json();
    assert.equal(items.filter((r) => r.department === '阳城县公安局交通管理大队').length, 1, JSON.stringify(items));
  });

  it('an expired code reads grey "expired, ask for a refresh", distinct from "used"', async () => {
    const code = await showFromCard(zhangsan, '居民身份证');
    await zhangsan.goto(`${bff.base}/licences`); // stop refreshing: the code is left to expire
    await police.waitForTimeout((TTL_SECONDS + 1) * 1000);
    const res = await typeCode(police, code);
    assert.equal(res.colour, 'grey');
    assert.match(res.text, /已过期，请持证人刷新/);
    await shot(police, shots, 'field-police-expired-grey');
  });

  it('a suspended licence reads red, a type off the usage list grey, a server failure grey with a retry', async () => {
    lisi = await bind(LISI);
    const suspended = await typeCode(police, await showFromCard(lisi, '机动车驾驶证'));
    assert.equal(suspended.colour, 'red');
    assert.match(suspended.text, /无效/);
    assert.match(suspended.text, /暂扣/);

    const refused = await typeCode(housing, await showFromCard(zhangsan, '机动车驾驶证'));
    assert.equal(refused.colour, 'grey');
    assert.match(refused.text, /用证清单/);

    await police.route('**/api/v1/verifications', (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: '{"error":{"code":"dependency_unavailable","message":"服务暂时不可用"}}',
      }),
    );
    const down = await typeCode(police, await showFromCard(zhangsan, '居民身份证'));
    assert.equal(down.colour, 'grey');
    assert.match(down.text, /暂时不可用/);
    assert.match(down.text, /不会在系统故障时显示为有效/);
    await police.locator('[data-testid="result-retry"]').waitFor({ timeout: T });
    await shot(police, shots, 'field-police-503-grey');
    await police.unroute('**/api/v1/verifications');
    await police.locator('[data-testid="result-retry"]').click();
    await police.waitForFunction(
      () => document.querySelector('[data-testid="result-block"]')?.getAttribute('data-colour') === 'green',
      null,
      { timeout: T },
    );
  });

  it('an annotated licence reads amber: valid, with the annotation in words', async () => {
    // The issuing department pledges 张三's 不动产权证书 as its clerk would.
    const desk = await consoleAs(bff.base, 'demo-estate-clerk');
    const { items } = await desk.get(`/licences?holder_id_number=${ZHANGSAN.id}`);
    const title = items.find((l) => l.type_name === '不动产权证书');
    assert.ok(title, `no 不动产权证书 among ${JSON.stringify(items)}`);
    const pledged = await desk.post(`/licences/${title.id}/events`, { action: 'pledge', reason: '办理质押登记' });
    try {
      const res = await typeCode(housing, await showFromCard(zhangsan, '不动产权证书'));
      assert.equal(res.colour, 'amber');
      assert.match(res.text, /有效/);
      assert.match(res.text, /质押/);
      await shot(housing, shots, 'field-housing-amber-pledged');
    } finally {
      await desk.post(`/licences/${pledged.id}/events`, { action: 'release_pledge', reason: '质押已解除' });
    }
  });

  it('the detail page keeps 亮证 in a bar at the bottom of the screen', async () => {
    await zhangsan.goto(`${bff.base}/licences`);
    await zhangsan.locator('[data-testid="licence-card"]', { hasText: '不动产权证书' }).click();
    await zhangsan.locator('[data-testid="licence-face"]').waitFor({ timeout: T });
    const bar = await zhangsan.locator('[data-testid="show-bar"]').boundingBox();
    const vh = zhangsan.viewportSize().height;
    assert.ok(bar && bar.y + bar.height <= vh && bar.y > vh / 2, `亮证 bar at ${JSON.stringify(bar)} of ${vh}`);
  });

  it('长辈版: text at least 18 px and key controls at least 60 px high, measured in the DOM', async () => {
    for (const [page, path] of [
      [zhangsan, '/licences'],
      [police, '/officer/scan'],
    ]) {
      await page.evaluate(() => localStorage.setItem('elic.largeFont', '1'));
      await page.goto(`${bff.base}${path}`);
      await page.locator('.page-body').first().waitFor({ timeout: T });
      await page.waitForTimeout(300);
      const small = await page.evaluate(() => {
        const out = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const el = n.parentElement;
          if (!el || !n.textContent.trim()) continue;
          const r = el.getBoundingClientRect();
          const st = getComputedStyle(el);
          if (r.width === 0 || st.visibility === 'hidden' || el.closest('[aria-hidden="true"], .sr-only, .watermark')) continue;
          const px = parseFloat(st.fontSize);
          if (px < 18) out.push(`${px}px "${n.textContent.trim().slice(0, 20)}"`);
        }
        return out;
      });
      assert.deepEqual(small, [], `text under 18 px on ${path}`);
      const low = await page.evaluate(() =>
        [...document.querySelectorAll('.van-button--large, .van-button--normal, .btn:not(.btn--small), [data-testid="card-show"]')]
          .filter((b) => b.getBoundingClientRect().width > 0 && b.getBoundingClientRect().height < 60)
          .map((b) => `${b.textContent.trim()}: ${b.getBoundingClientRect().height}px`),
      );
      assert.deepEqual(low, [], `key controls under 60 px on ${path}`);
      await shot(page, shots, `field-elder${path.replace(/\//g, '-')}`);
    }
  });

  it('axe-core finds no critical or serious violation on any page, in either mode', async () => {
    const wangwu = await phone('demo-citizen-wangwu', '/realname');
    await wangwu.locator('input[name="name"]').waitFor({ timeout: T });
    const licencePath = await (async () => {
      await zhangsan.goto(`${bff.base}/licences`);
      await zhangsan.locator('[data-testid="licence-card"]').first().click();
      await zhangsan.waitForURL(/\/licences\/\d+$/, { timeout: T });
      return new URL(zhangsan.url()).pathname;
    })();
    const pages = [
      [zhangsan, '/licences', '[data-testid="licence-card"]'],
      [zhangsan, licencePath, '[data-testid="licence-face"]'],
      [zhangsan, `${licencePath}/show`, '[data-testid="short-code"]'],
      [zhangsan, `${licencePath}/usage`, '.page-body'],
      [zhangsan, '/me', '[data-testid="logout"]'],
      [zhangsan, '/v/AAAAAAAAAAAAAAAAAAAAAA', '[data-testid="citizen-explain"]'],
      [zhangsan, '/no-such-page', '.page'],
      [zhangsan, '/officer/scan', '.page'],
      [wangwu, '/realname', 'input[name="name"]'],
      [police, '/officer/scan', '[data-testid="short-code-input"]'],
      [police, '/officer/history', '.page-body'],
      [police, '/officer/result', '.page'],
    ];
    const failures = [];
    for (const large of ['0', '1']) {
      for (const [page, path, ready] of pages) {
        await page.evaluate((v) => localStorage.setItem('elic.largeFont', v), large);
        await page.goto(`${bff.base}${path}`);
        await page.locator(ready).first().waitFor({ timeout: T });
        for (const v of await axeViolations(page)) {
          failures.push(`${path} (长辈版 ${large}): ${v}`);
          console.log(`axe: ${failures.at(-1)}`);
        }
        const h1 = await page.locator('h1').count();
        if (h1 !== 1) failures.push(`${path} (长辈版 ${large}): ${h1} h1 elements`);
      }
    }
    // The grey result of a refused code, with the officer's own result page.
    await typeCode(police, '00000000');
    for (const v of await axeViolations(police)) failures.push(`/officer/result (grey): ${v}`);
    assert.deepEqual(failures, []);
  });
});
