// Browser test of the console's statistics and audit viewer (desktop
// viewport) against a real `bff serve` in embedded mode: the police officer
// verifies 张三's driving licence in the H5; the brigade's department admin
// then finds that verification counted on the statistics page, exports the
// workbook, which excelize reads back with the same figure, and finds the
// verification's entry in the audit viewer, whose chain check ends intact.
// Screenshots go to a printed temp folder.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindRealname, decodeQR, launchBrowser, loginAs, newPhone, repoRoot, screenshotDir, shot, startBff } from './harness.mjs';

const ZHANGSAN = { openid: 'demo-citizen-zhangsan', name: '张三', id: '140522198503120016', phone: '13800000001' };
const POLICE = 'demo-officer-police';
const BRIGADE = '阳城县公安局交通管理大队';
const DESKTOP = { viewport: { width: 1366, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true };
const T = 30_000;

describe('console statistics and audit against bff serve', { timeout: 10 * 60_000 }, () => {
  const shots = screenshotDir();
  const binDir = mkdtempSync(join(tmpdir(), 'elicence-e2e-bin-'));
  let bff;
  let browser;

  before(async () => {
    console.log(`console-stats e2e screenshots: ${shots}`);
    bff = await startBff(binDir, shots);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await bff?.stop();
    rmSync(binDir, { recursive: true, force: true });
    console.log(`console-stats e2e screenshots: ${shots}`);
  });

  it('a verification in the H5 is counted, exported and audited in the console', async () => {
    // 张三 shows his driving licence; the brigade's officer scans it: green.
    const phone = await (await newPhone(browser)).newPage();
    await phone.goto(`${bff.base}/`);
    await loginAs(phone, ZHANGSAN.openid);
    await bindRealname(bff.base, phone, ZHANGSAN, T);
    await phone.locator('[data-testid="licence-card"]', { hasText: '机动车驾驶证' }).click();
    await phone.waitForURL(/\/licences\/\d+$/, { timeout: T });
    await phone.getByRole('button', { name: /亮证/ }).click();
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
    await loginAs(officer, POLICE);
    const block = officer.locator('[data-testid="result-block"]');
    await block.waitFor({ timeout: T });
    assert.equal(await block.getAttribute('data-colour'), 'green');

    // The brigade's admin opens the statistics: one verification, valid.
    const desk = await (await browser.newContext(DESKTOP)).newPage();
    await desk.goto(`${bff.base}/console/stats`);
    await desk.waitForURL(/\/console\/login\?next=/, { timeout: T });
    await desk.locator('#username').fill('demo-police-admin');
    await desk.locator('#password').fill('demo-password');
    await desk.getByRole('button', { name: '登录' }).click();
    await desk.waitForURL(/\/console\/stats$/, { timeout: T });
    const departments = desk.getByTestId('stats-departments');
    const row = departments.locator('.el-table__row', { hasText: BRIGADE });
    await row.waitFor({ timeout: T });
    const verifications = desk.getByTestId('stats-verifications').locator('.el-table__row', { hasText: 'valid' });
    await verifications.waitFor({ timeout: T });
    assert.match(await verifications.innerText(), new RegExp(`${BRIGADE}[\\s\\S]*valid[\\s\\S]*\\b1\\b`));
    await desk.locator('.chart canvas').first().waitFor({ timeout: T });
    await shot(desk, shots, 'console-stats');

    // The workbook, downloaded and read back with excelize.
    const [download] = await Promise.all([desk.waitForEvent('download', { timeout: T }), desk.getByTestId('export-xlsx').click()]);
    assert.match(download.suggestedFilename(), /\.xlsx$/);
    const file = join(binDir, download.suggestedFilename());
    await download.saveAs(file);
    const figures = JSON.parse(execFileSync('go', ['run', './internal/tools/xlsxfigures', file], { cwd: repoRoot, encoding: 'utf8' }));
    const sheet = figures['部门统计'];
    assert.equal(sheet.length, 1, 'one department on its own page');
    assert.equal(sheet[0]['部门'], BRIGADE);
    assert.equal(sheet[0]['核验次数'], 1);
    assert.equal(sheet[0]['核验有效'], 1);
    const byResult = figures['核验统计'];
    assert.deepEqual(
      byResult.map((r) => [r['部门'], r['结果'], r['次数']]),
      [[BRIGADE, 'valid', 1]],
    );

    // The audit viewer: the verification's entry, then the chain check.
    await desk.getByRole('menuitem', { name: '审计记录' }).click();
    await desk.waitForURL(/\/console\/audit$/, { timeout: T });
    const entry = desk.getByTestId('audit-table').locator('.el-table__row', { hasText: 'verification.valid' });
    await entry.waitFor({ timeout: T });
    assert.match(await entry.innerText(), new RegExp(`officer:${POLICE}`));
    await shot(desk, shots, 'console-audit');
    await desk.getByRole('button', { name: '检查审计链' }).click();
    await desk.locator('[data-testid="chain-check"][data-state="intact"]').waitFor({ timeout: T });
    assert.match(await desk.getByTestId('chain-check').innerText(), /intact/);
    await shot(desk, shots, 'console-audit-chain-intact');
  });
});
