// Runs the real BFF (embedded mode, fake WeChat) and a headless Debian
// Chromium for the browser tests. Nothing here is mocked: pages talk to the
// server over HTTP exactly as in the WeChat browser.
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';

const here = dirname(fileURLToPath(import.meta.url));
export const miniappDir = resolve(here, '..');
export const repoRoot = resolve(miniappDir, '..');
const distDir = join(miniappDir, 'dist');

export const CHROMIUM = process.env.ELICENCE_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-gpu',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * startBff builds the server into workDir (unless ELICENCE_BFF_BIN is set)
 * and starts `bff serve` on a free port, logging to logDir/bff.log.
 */
export async function startBff(workDir, logDir, extraEnv = {}) {
  if (!existsSync(join(distDir, 'index.html'))) {
    throw new Error('miniapp/dist is missing: run `npm run build` (or `npx vite build`) first');
  }
  let bin = process.env.ELICENCE_BFF_BIN;
  if (!bin) {
    bin = join(workDir, 'bff');
    execFileSync('go', ['build', '-o', bin, './bff'], { cwd: repoRoot, stdio: 'inherit' });
  }
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'elicence-e2e-data-'));
  const logPath = join(logDir, 'bff.log');
  const log = createWriteStream(logPath);
  const child = spawn(bin, ['serve'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ELICENCE_DATA_DIR: dataDir,
      ELICENCE_HTTP_ADDR: `127.0.0.1:${port}`,
      ELICENCE_PUBLIC_URL: base,
      ELICENCE_WECHAT_FAKE: 'true',
      ELICENCE_HTTP_STATIC_DIR: distDir,
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });

  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exited) throw new Error(`bff exited early (${JSON.stringify(exited)}); see ${logPath}`);
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`bff not ready within 90 s; see ${logPath}`);
    }
    await sleep(250);
  }

  return {
    base,
    dataDir,
    logPath,
    async stop() {
      if (!exited) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await done;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** A phone: 360×640 CSS pixels, touch, Android WebView-like user agent. */
export const PHONE = {
  viewport: { width: 360, height: 640 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'zh-CN',
  timezoneId: 'Asia/Shanghai',
  userAgent: 'Mozilla/5.0 (Linux; Android 12; M2012K11AC) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36',
};

export function newPhone(browser, extra = {}) {
  return browser.newContext({ ...PHONE, ...extra });
}

/**
 * bindRealname fills the real-name form of a citizen who has just logged
 * in, reads the SMS code from the dev outbox and confirms; it returns on
 * the licence list.
 */
export async function bindRealname(base, page, who, timeout = 30_000) {
  await page.waitForURL(/\/realname/, { timeout });
  await page.locator('input[name="name"]').fill(who.name);
  await page.locator('input[name="id_number"]').fill(who.id);
  const sentAfter = Date.now() - 2_000;
  await page.getByRole('button', { name: '获取短信验证码' }).click();
  await page.getByText('验证码已发送至').waitFor({ timeout });
  await page.locator('input[name="code"]').fill(await latestSms(base, who.phone, sentAfter));
  await page.getByRole('button', { name: '完成认证' }).click();
  await page.waitForURL(/\/licences$/, { timeout });
}

export function screenshotDir() {
  return mkdtempSync(join(tmpdir(), 'elicence-e2e-shots-'));
}

let shotNo = 0;
/** shot saves a full-page screenshot named after the step. */
export async function shot(page, dir, name) {
  shotNo++;
  const file = join(dir, `${String(shotNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** decodeQR reads a QR code from PNG bytes with jsQR, as a phone camera would. */
export function decodeQR(pngBytes) {
  const png = PNG.sync.read(pngBytes);
  const found = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height, {
    inversionAttempts: 'attemptBoth',
  });
  return found ? found.data : null;
}

/** loginAs follows the WeChat OAuth redirect and picks the demo user on the fake's page. */
export async function loginAs(page, openid) {
  await page.waitForURL(/\/fakewx\/connect\/oauth2\/authorize/, { timeout: 30_000 });
  await page.locator(`a[href*="fake_openid=${openid}"]`).first().click();
}

/** latestSms returns the newest code sent to a phone through the dev outbox. */
export async function latestSms(base, phone, after = 0) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const r = await fetch(`${base}/api/v1/dev/sms`);
    if (r.ok) {
      const { items } = await r.json();
      const hit = items.find((m) => m.phone === phone && Date.parse(m.sent_at) >= after);
      if (hit) return hit.code;
    }
    if (Date.now() > deadline) throw new Error(`no SMS to ${phone}`);
    await sleep(200);
  }
}

/**
 * writeY4M turns a PNG into a one-frame Y4M video (640×480, I420) that
 * Chromium plays as a fake camera, so the camera scan path runs for real.
 */
export function writeY4M(pngBytes, path) {
  const src = PNG.sync.read(pngBytes);
  const W = 640;
  const H = 480;
  const side = Math.min(H - 40, W - 40);
  const scale = side / Math.max(src.width, src.height);
  const ox = Math.floor((W - src.width * scale) / 2);
  const oy = Math.floor((H - src.height * scale) / 2);
  const y = Buffer.alloc(W * H, 255);
  for (let j = 0; j < H; j++) {
    for (let i = 0; i < W; i++) {
      const sx = Math.floor((i - ox) / scale);
      const sy = Math.floor((j - oy) / scale);
      if (sx < 0 || sy < 0 || sx >= src.width || sy >= src.height) continue;
      const k = (sy * src.width + sx) * 4;
      const [r, g, b] = [src.data[k], src.data[k + 1], src.data[k + 2]];
      y[j * W + i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    }
  }
  // Grey picture: both chroma planes sit at the neutral 128.
  const chroma = Buffer.alloc((W / 2) * (H / 2), 128);
  const header = Buffer.from(`YUV4MPEG2 W${W} H${H} F10:1 Ip A1:1 C420jpeg\n`);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, chroma, chroma]);
  writeFileSync(path, Buffer.concat([header, frame, frame]));
}

/** launchBrowserWithCamera starts Chromium whose camera shows the given Y4M file. */
export async function launchBrowserWithCamera(y4mPath) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...CHROMIUM_ARGS,
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${y4mPath}`,
    ],
  });
}

// axe-core's source, run through the DevTools protocol rather than as a
// <script> tag: the pages' Content-Security-Policy allows no inline script,
// and the check must run against the pages as they are served.
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axeViolations injects axe-core into the page and returns the critical and
 * serious violations against WCAG 2.1 A/AA, as "rule: target" lines.
 */
export async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations
      .filter((v) => v.impact === 'critical' || v.impact === 'serious')
      .map(
        (v) =>
          `${v.id} (${v.impact}): ${v.nodes
            .map((n) => n.target.join(' '))
            .slice(0, 3)
            .join(', ')}`,
      );
  });
  return found;
}

/**
 * consoleAs logs a demo staff member in to the console API (demo mode has no
 * second factor) and returns JSON calls that carry the session cookie and
 * the CSRF token, for a test that sets a licence up as a department would.
 */
export async function consoleAs(base, username, password = 'demo-password') {
  const login = await fetch(`${base}/api/v1/console/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password, otp: '' }),
  });
  if (login.status !== 201) throw new Error(`console login ${username}: ${login.status} ${await login.text()}`);
  const { csrf_token: csrf } = await login.json();
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const call = async (method, path, body) => {
    const res = await fetch(`${base}/api/v1/console${path}`, {
      method,
      headers: { Cookie: cookie, 'X-CSRF-Token': csrf, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`console ${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  return { get: (path) => call('GET', path), post: (path, body) => call('POST', path, body) };
}
