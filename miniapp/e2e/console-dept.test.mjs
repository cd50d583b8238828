// Browser test of a department's console pages (desktop viewport) against
// a real `bff serve` in embedded mode: the demo clerk of 阳城县不动产登记中心
// imports a CSV with two bad rows (dry run, then for real), watches the
// progress finish and downloads the error report; the demo admin of
// 阳城县公安局交通管理大队 invites an officer, the invitation is opened in a
// second browser (李四, a citizen with no officer role, logging in through
// the fake WeChat), and 李四 then verifies 张三's driving licence; the
// admin also creates an Open API app. Screenshots go to a printed temp
// folder.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindRealname, decodeQR, launchBrowser, loginAs, newPhone, screenshotDir, shot, startBff } from './harness.mjs';

const ZHANGSAN = { openid: 'demo-citizen-zhangsan', name: '张三', id: '140522198503120016', phone: '13800000001' };
const LISI = 'demo-citizen-lisi';
const DESKTOP = { viewport: { width: 1366, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true };
const T = 30_000;

const TITLE = '121405220120805465001'; // 不动产权证书
const DRIVING = '11140500011970328E001'; // 机动车驾驶证, not issued by the real-estate centre
// Row 2 is good; row 3 has an invalid ID number; row 4 a type the centre does not issue.
const STOCK =
  'type_code,licence_number,holder_name,holder_id_type,holder_id_number,holder_phone,issue_date,valid_from,valid_until,fields\n' +
  `${TITLE},晋(2019)阳城县不动产权第0000301号,周七,111,11010519491231002x,13900000007,2019-06-02,2019-06-02,2049-06-01,{}\n` +
  `${TITLE},晋(2019)阳城县不动产权第0000302号,吴八,111,110105194912310020,,2019-06-03,,,{}\n` +
  `${DRIVING},140522198503120099,郑九,111,11010519491231002x,,2019-06-03,2019-06-03,2029-06-03,{}\n`;

async function consoleLogin(page, base, username) {
  await page.goto(`${base}/console/`);
  await page.waitForURL(/\/console\/login/, { timeout: T });
  await page.locator('#username').fill(username);
  await page.locator('#password').fill('demo-password');
  await page.getByRole('button', { name: '登录' }).click();
  await page.getByTestId('who').waitFor({ timeout: T });
}

describe('a department in the console against bff serve', { timeout: 10 * 60_000 }, () => {
  const shots = screenshotDir();
  const binDir = mkdtempSync(join(tmpdir(), 'elicence-e2e-bin-'));
  const files = mkdtempSync(join(tmpdir(), 'elicence-e2e-import-'));
  let bff;
  let browser;

  before(async () => {
    console.log(`console-dept e2e screenshots: ${shots}`);
    bff = await startBff(binDir, shots);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await bff?.stop();
    rmSync(binDir, { recursive: true, force: true });
    rmSync(files, { recursive: true, force: true });
    console.log(`console-dept e2e screenshots: ${shots}`);
  });

  it('the clerk imports a CSV with two bad rows: dry run, import, progress, error report', async () => {
    const desk = await (await browser.newContext(DESKTOP)).newPage();
    await consoleLogin(desk, bff.base, 'demo-estate-clerk');
    await desk.getByRole('menuitem', { name: '存量导入' }).click();
    await desk.waitForURL(/\/console\/imports$/, { timeout: T });
    const csv = join(files, '存量证照.csv');
    writeFileSync(csv, STOCK);
    await desk.getByTestId('import-file').setInputFiles(csv);
    await shot(desk, shots, 'console-import');

    const job = desk.getByTestId('import-job');
    const finish = async (label) => {
      await desk.waitForFunction(() => document.querySelector('[data-testid="import-job"]')?.getAttribute('data-state') === 'done', null, {
        timeout: T,
      });
      assert.match(await job.innerText(), new RegExp(label));
      assert.match(await desk.getByTestId('import-progress').innerText(), /100%/);
    };
    await desk.getByRole('button', { name: '试运行（不写入）' }).click();
    await finish('试运行');
    assert.match(await desk.getByTestId('import-counts').innerText(), /可导入 1 行，未变更 0 行，拒绝 2 行/);
    await shot(desk, shots, 'console-import-dry-run');

    await desk.getByRole('button', { name: '正式导入' }).click();
    await desk.waitForFunction(() => /导入：/.test(document.querySelector('[data-testid="import-job"] h2')?.textContent ?? ''), null, {
      timeout: T,
    });
    await finish('导入');
    assert.match(await desk.getByTestId('import-counts').innerText(), /导入 1 行，未变更 0 行，拒绝 2 行/);
    await shot(desk, shots, 'console-import-done');

    const [download] = await Promise.all([desk.waitForEvent('download', { timeout: T }), desk.getByTestId('import-errors').click()]);
    const report = readFileSync(await download.path(), 'utf8')
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\n');
    assert.equal(report[0], 'row,column,code,message');
    assert.equal(report.length, 3, `the error report has two rows: ${report.join(' | ')}`);
    assert.match(report[1], /^3,holder_id_number,invalid_id_number,/);
    assert.match(report[2], /^4,type_code,type_not_issued_by_department,/);

    // The import stays listed after a reload, and its licence is searchable.
    await desk.reload();
    await desk.getByTestId('import-table').getByText('存量证照.csv').first().waitFor({ timeout: T });
    await desk.getByRole('menuitem', { name: '证照查询' }).click();
    await desk.locator('#q-number').fill('晋(2019)阳城县不动产权第0000301号');
    await desk.getByRole('button', { name: '查询' }).click();
    await desk.locator('[data-testid="licence-table"] .el-table__row', { hasText: '周七' }).waitFor({ timeout: T });
  });

  it('the police admin invites an officer, who opens the link in WeChat and verifies a licence', async () => {
    const desk = await (await browser.newContext(DESKTOP)).newPage();
    await consoleLogin(desk, bff.base, 'demo-police-admin');
    await desk.getByRole('menuitem', { name: '核验人员' }).click();
    await desk.waitForURL(/\/console\/officers$/, { timeout: T });
    await desk.getByTestId('officer-table').getByText('demo-officer-police').waitFor({ timeout: T });
    await desk.locator('#invite-name').fill('李警官');
    await desk.getByRole('button', { name: '生成邀请链接' }).click();
    const url = await desk.getByTestId('invite-url').inputValue();
    assert.match(url, /\/officer\/invite\/[A-Za-z0-9_-]{43}$/);
    await desk.getByTestId('invite-qr').waitFor({ timeout: T });
    await shot(desk, shots, 'console-officer-invite');
    await desk.keyboard.press('Escape');

    // A second browser: 李四 opens the link in WeChat and logs in.
    const phone = await (await newPhone(browser)).newPage();
    await phone.goto(url.replace(/^https?:\/\/[^/]+/, bff.base));
    await loginAs(phone, LISI);
    await phone.getByTestId('invite-offer').waitFor({ timeout: T });
    assert.match(await phone.getByTestId('invite-offer').innerText(), /阳城县公安局交通管理大队/);
    await shot(phone, shots, 'officer-invite-offer');
    await phone.getByRole('button', { name: '确认成为核验人员' }).click();
    await phone.getByTestId('invite-done').waitFor({ timeout: T });
    await shot(phone, shots, 'officer-invite-done');

    // 张三 shows his driving licence; the new officer verifies it.
    const zs = await (await newPhone(browser)).newPage();
    await zs.goto(`${bff.base}/`);
    await loginAs(zs, ZHANGSAN.openid);
    await bindRealname(bff.base, zs, ZHANGSAN, T);
    await zs.locator('[data-testid="licence-card"]', { hasText: '机动车驾驶证' }).click();
    await zs.waitForURL(/\/licences\/\d+$/, { timeout: T });
    await zs.getByRole('button', { name: /亮证/ }).click();
    await zs.locator('[data-testid="qr"]').waitFor({ timeout: T });
    let code = null;
    for (const deadline = Date.now() + T; !code && Date.now() < deadline;) {
      code = decodeQR(await zs.locator('.qr-box').screenshot());
      if (!code) await zs.waitForTimeout(500);
    }
    assert.ok(code, 'the QR on the phone decodes');
    await phone.goto(code);
    const block = phone.locator('[data-testid="result-block"]');
    await block.waitFor({ timeout: T });
    assert.equal(await block.getAttribute('data-colour'), 'green');
    await shot(phone, shots, 'officer-invited-scan-green');

    // The link was single use; the new officer is on the list.
    const again = await (await newPhone(browser)).newPage();
    await again.goto(url.replace(/^https?:\/\/[^/]+/, bff.base));
    await loginAs(again, 'demo-citizen-wangwu');
    assert.match(await again.getByTestId('invite-error').innerText(), /已被使用/);
    await desk.reload();
    await desk.getByTestId('officer-table').getByText(LISI).waitFor({ timeout: T });
    await shot(desk, shots, 'console-officers');

    // Apps: create one; the secret is shown once.
    await desk.getByRole('menuitem', { name: '开放接口应用' }).click();
    await desk.waitForURL(/\/console\/apps$/, { timeout: T });
    await desk.locator('#app-name').fill('交管业务系统');
    await desk.getByRole('button', { name: '创建应用' }).click();
    assert.match(await desk.getByTestId('app-secret').innerText(), /^[A-Za-z0-9_-]{43}$/);
    await shot(desk, shots, 'console-app-secret');
    await desk.keyboard.press('Escape');
    await desk.getByTestId('app-table').getByText('交管业务系统').waitFor({ timeout: T });
    await shot(desk, shots, 'console-apps');
  });
});
