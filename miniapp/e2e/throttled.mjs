// The H5 on a slow phone (make bench): Chromium throttled through CDP to
// 400 kbit/s each way with a 2 s round trip and the CPU slowed 4×, with an
// empty cache and a live session. For the licence list and the scan page it
// prints first contentful paint, when the page's content is visible and the
// bytes on the wire, and fails only past the generous limits: FCP ≤ 3 s,
// content ≤ 6 s. Figures belong in docs/PERFORMANCE.md.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PHONE, bindRealname, launchBrowser, loginAs, newPhone, screenshotDir, startBff } from './harness.mjs';

const FCP_LIMIT = 3000;
const VISIBLE_LIMIT = 6000;
const T = 60_000;

const shots = screenshotDir();
const binDir = mkdtempSync(join(tmpdir(), 'elicence-throttled-bin-'));
const bff = await startBff(binDir, shots);
const browser = await launchBrowser();
let failed = false;

async function session(openid, bindAs) {
  const ctx = await newPhone(browser);
  const page = await ctx.newPage();
  await page.goto(`${bff.base}/`);
  await loginAs(page, openid);
  if (bindAs) {
    await bindRealname(bff.base, page, bindAs, T);
  } else {
    await page.waitForURL(/\/officer\/scan$/, { timeout: T });
  }
  const state = await ctx.storageState();
  await ctx.close();
  return state;
}

async function measure(name, state, path, visible) {
  // A WeChat WebView's user agent; the service worker is left out so every byte is counted.
  const ctx = await newPhone(browser, {
    userAgent: `${PHONE.userAgent} MicroMessenger/8.0.50`,
    storageState: state,
    serviceWorkers: 'block',
  });
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 2000,
    downloadThroughput: 400_000 / 8,
    uploadThroughput: 400_000 / 8,
  });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  let bytes = 0;
  let requests = 0;
  cdp.on('Network.loadingFinished', (e) => {
    bytes += e.encodedDataLength;
    requests++;
  });
  await page.goto(`${bff.base}${path}`, { waitUntil: 'commit', timeout: T });
  await page.locator(visible).first().waitFor({ timeout: T });
  const t = await page.evaluate(() => ({
    fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
    visible: performance.now(),
  }));
  await page.waitForLoadState('networkidle', { timeout: T }).catch(() => {});
  const ok = t.fcp !== null && t.fcp <= FCP_LIMIT && t.visible <= VISIBLE_LIMIT;
  if (!ok) failed = true;
  console.log(
    `throttled ${name.padEnd(14)} FCP ${(t.fcp / 1000).toFixed(2)} s (≤ ${FCP_LIMIT / 1000}), ` +
      `content visible ${(t.visible / 1000).toFixed(2)} s (≤ ${VISIBLE_LIMIT / 1000}), ` +
      `${(bytes / 1024).toFixed(1)} KB on the wire in ${requests} requests${ok ? '' : '  OVER LIMIT'}`,
  );
  await ctx.close();
}

try {
  const citizen = await session('demo-citizen-zhangsan', { name: '张三', id: '140522198503120016', phone: '13800000001' });
  const officer = await session('demo-officer-police');
  await measure('licence list', citizen, '/licences', '[data-testid="licence-card"]');
  await measure('scan page', officer, '/officer/scan', '[data-testid="short-code-input"]');
} finally {
  await browser.close();
  await bff.stop();
  rmSync(binDir, { recursive: true, force: true });
}
if (failed) {
  console.error('throttled: over the limits');
  process.exit(1);
}
