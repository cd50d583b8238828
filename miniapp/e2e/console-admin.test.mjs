// Browser test of the platform admin's console pages (desktop viewport)
// against a real `bff serve` in embedded mode: demo-admin adds a
// department (a wrong check character in its USCC is refused first), puts
// a usage list on it, and the list is published at
// /api/v1/public/usage-lists; then the licence-type editor, the catalogue
// export and import (preview first), and a new staff account with its
// one-time password. Every page passes axe; screenshots go to a printed
// temp folder.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { axeViolations, launchBrowser, screenshotDir, shot, startBff } from './harness.mjs';

const DESKTOP = { viewport: { width: 1366, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' };
const T = 30_000;
const DEPT = { name: '阳城县文化和旅游局', uscc: '111405220120812347', badUSCC: '111405220120812348' };
const RESIDENT_ID = '11140522012080212P001'; // 居民身份证

describe('platform admin pages against bff serve', { timeout: 10 * 60_000 }, () => {
  const shots = screenshotDir();
  const binDir = mkdtempSync(join(tmpdir(), 'elicence-e2e-bin-'));
  let bff;
  let browser;

  before(async () => {
    console.log(`console admin e2e screenshots: ${shots}`);
    bff = await startBff(binDir, shots);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await bff?.stop();
    rmSync(binDir, { recursive: true, force: true });
    console.log(`console admin e2e screenshots: ${shots}`);
  });

  it('demo-admin adds a department and a usage list, which is published; types, catalogue and staff pages work', async () => {
    const desk = await (await browser.newContext(DESKTOP)).newPage();
    const a11y = [];
    // check runs axe once the page is still (a dialog fading in, or a
    // closing dropdown, is not what the user reads) and saves a screenshot.
    const check = async (name) => {
      await desk.waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running'), null, { timeout: T });
      await desk.waitForFunction(() => [...document.querySelectorAll('.el-select-dropdown')].every((e) => e.offsetParent === null), null, {
        timeout: T,
      });
      for (const v of await axeViolations(desk)) a11y.push(`${name}: ${v}`);
      await shot(desk, shots, name);
    };

    await desk.goto(`${bff.base}/console/departments`);
    await desk.waitForURL(/\/console\/login\?next=/, { timeout: T });
    await desk.locator('#username').fill('demo-admin');
    await desk.locator('#password').fill('demo-password');
    await desk.getByRole('button', { name: '登录' }).click();
    await desk.waitForURL(/\/console\/departments$/, { timeout: T });
    for (const item of ['部门', '证照类型', '用证清单', '目录导入导出', '工作人员']) {
      await desk.getByRole('menuitem', { name: item, exact: true }).waitFor({ timeout: T });
    }
    assert.equal(await desk.getByRole('menuitem', { name: '证照查询' }).count(), 0, 'the platform admin keeps no licences');

    // Departments: a wrong check character is refused, the right one added.
    const table = desk.getByTestId('department-table');
    await table.locator('.el-table__row', { hasText: '阳城县不动产登记中心' }).waitFor({ timeout: T });
    await check('console-admin-departments');
    await desk.getByRole('button', { name: '新增部门' }).click();
    await desk.locator('#dept-name').fill(DEPT.name);
    await desk.locator('#dept-uscc').fill(DEPT.badUSCC);
    await desk.getByRole('button', { name: '保存' }).click();
    await desk.getByRole('alert').filter({ hasText: 'GB 32100' }).waitFor({ timeout: T });
    await check('console-admin-department-refused');
    await desk.locator('#dept-uscc').fill(DEPT.uscc);
    await desk.getByRole('button', { name: '保存' }).click();
    await table.locator('.el-table__row', { hasText: DEPT.uscc }).waitFor({ timeout: T });
    assert.match(await table.innerText(), new RegExp(DEPT.name));

    // Usage list of the new department.
    await desk.getByRole('menuitem', { name: '用证清单', exact: true }).click();
    await desk.waitForURL(/\/console\/usage-lists$/, { timeout: T });
    await desk.getByTestId('usage-department').click();
    await desk.getByRole('option', { name: DEPT.name, exact: true }).click();
    await desk.getByRole('button', { name: '添加证照类型' }).click();
    await desk.getByTestId('usage-type-0').click();
    await desk.getByRole('option', { name: '居民身份证', exact: true }).click();
    await desk.getByTestId('usage-purposes-0').fill('旅行社从业人员备案、 导游证申领 ');
    await desk.getByRole('button', { name: '保存清单' }).click();
    await desk.getByText('用证清单已保存并公示').waitFor({ timeout: T });
    await check('console-admin-usage-list');
    const published = await (await fetch(`${bff.base}/api/v1/public/usage-lists`)).json();
    const list = published.items.find((l) => l.department.uscc === DEPT.uscc);
    assert.ok(list, 'the new usage list is published');
    assert.equal(list.department.name, DEPT.name);
    assert.deepEqual(
      list.types.map((t) => [t.code, t.purposes]),
      [[RESIDENT_ID, ['旅行社从业人员备案', '导游证申领']]],
    );

    // Licence types: the editor of a type with licences on file locks
    // what they may carry.
    await desk.getByRole('menuitem', { name: '证照类型', exact: true }).click();
    await desk.waitForURL(/\/console\/licence-types$/, { timeout: T });
    const estate = desk.getByTestId('type-table').locator('.el-table__row', { hasText: '不动产权证书' });
    await estate.waitFor({ timeout: T });
    await check('console-admin-types');
    await estate.getByRole('button', { name: '编辑' }).click();
    const editor = desk.getByRole('dialog');
    await editor.getByText(/张此类证照在册/).waitFor({ timeout: T });
    assert.ok(await editor.getByTestId('field-key-0').isDisabled(), 'a field on file keeps its key');
    await editor.getByRole('button', { name: '添加字段' }).click();
    const last = (await editor.getByTestId('field-table').locator('.el-table__row').count()) - 1;
    await editor.getByTestId(`field-key-${last}`).fill('parcel_no');
    await editor.getByTestId(`field-label-${last}`).fill('宗地代码');
    await editor.getByLabel(`字段 ${last + 1} 必填`).check();
    await editor.getByRole('button', { name: '保存' }).click();
    await editor.getByRole('alert').filter({ hasText: 'cannot make parcel_no required' }).waitFor({ timeout: T });
    await check('console-admin-type-editor');
    await editor.getByLabel(`字段 ${last + 1} 必填`).uncheck();
    await editor.getByRole('button', { name: '保存' }).click();
    await editor.waitFor({ state: 'hidden', timeout: T });

    // Catalogue: the export holds the new department; an import is
    // previewed before it is applied.
    await desk.getByRole('menuitem', { name: '目录导入导出', exact: true }).click();
    await desk.waitForURL(/\/console\/catalogue$/, { timeout: T });
    const exported = await desk.evaluate(async (url) => (await fetch(url)).text(), await desk.getByTestId('export').getAttribute('href'));
    assert.match(exported, new RegExp(`uscc: "${DEPT.uscc}"`));
    assert.match(exported, /key: parcel_no/);
    await check('console-admin-catalogue');
    await desk
      .getByTestId('import-yaml')

      .fill(exported.replace(`name: ${DEPT.name}`, 'name: 阳城县文化旅游局'));
    await desk.getByRole('button', { name: '预览' }).click();
    const summary = desk.getByTestId('plan-summary');
    await summary.waitFor({ timeout: T });
    assert.match(await summary.innerText(), /departments: 0 created, 1 updated/);
    assert.equal(
      await (
        await fetch(`${bff.base}/api/v1/public/usage-lists`)
      )
        .json()
        .then((p) => p.items.find((l) => l.department.uscc === DEPT.uscc).department.name),
      DEPT.name,
      'the preview wrote nothing',
    );
    await check('console-admin-import-plan');
    await desk.getByRole('button', { name: '确认导入' }).click();
    await desk.getByRole('status').filter({ hasText: '已导入' }).waitFor({ timeout: T });

    // Staff: a new clerk of the new department; the password is shown once.
    await desk.getByRole('menuitem', { name: '工作人员', exact: true }).click();
    await desk.waitForURL(/\/console\/staff$/, { timeout: T });
    await desk.getByTestId('staff-table').locator('.el-table__row', { hasText: 'demo-estate-clerk' }).waitFor({ timeout: T });
    await check('console-admin-staff');
    await desk.getByRole('button', { name: '新增工作人员' }).click();
    await desk.locator('#staff-username').fill('culture.clerk');
    await desk.getByTestId('staff-department').click();
    await desk.getByRole('option', { name: '阳城县文化旅游局', exact: true }).click();
    await desk.getByRole('button', { name: '创建账号' }).click();
    const password = (await desk.getByTestId('one-time-password').innerText({ timeout: T })).trim();
    assert.ok(password.length >= 20, 'a one-time password is shown');
    await check('console-admin-staff-password');
    await desk.getByRole('button', { name: '我已交给本人' }).click();
    const row = desk.getByTestId('staff-table').locator('.el-table__row', { hasText: 'culture.clerk' });
    await row.waitFor({ timeout: T });
    assert.match(await row.innerText(), /阳城县文化旅游局/);
    assert.doesNotMatch(await desk.content(), new RegExp(password), 'the password is gone once the dialog closed');

    // The new clerk logs in with it (no second factor in the demo).
    const clerk = await (await browser.newContext(DESKTOP)).newPage();
    await clerk.goto(`${bff.base}/console/login`);
    await clerk.locator('#username').fill('culture.clerk');
    await clerk.locator('#password').fill(password);
    await clerk.getByRole('button', { name: '登录' }).click();
    await clerk.waitForURL(/\/console\/$/, { timeout: T });
    assert.match(await clerk.getByTestId('who').innerText(), /阳城县文化旅游局/);

    // The admin disables the clerk, after a confirmation.
    await row.getByRole('button', { name: '停用' }).click();
    await desk.getByRole('button', { name: '确定停用' }).click();
    await row.getByText('已停用').waitFor({ timeout: T });
    await check('console-admin-staff-disabled');

    assert.deepEqual(a11y, [], 'axe: no critical or serious violation');
  });
});
