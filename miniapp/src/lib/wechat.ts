// WeChat's own scanner through the JS-SDK, used when the page runs inside
// WeChat; it is faster and more reliable than decoding camera frames.

import { getJsConfig } from '../api/system';

type Wx = typeof import('weixin-js-sdk').default;

export function isWeChat(ua: string = navigator.userAgent): boolean {
  return /MicroMessenger/i.test(ua);
}

let ready: { url: string; promise: Promise<Wx> } | null = null;

/** configureWx signs the current page URL (without #fragment) and waits for wx.ready. */
export function configureWx(pageUrl: string = window.location.href.split('#')[0] ?? ''): Promise<Wx> {
  if (ready && ready.url === pageUrl) return ready.promise;
  const promise = (async (): Promise<Wx> => {
    const [{ default: wx }, cfg] = await Promise.all([import('weixin-js-sdk'), getJsConfig(pageUrl)]);
    await new Promise<void>((resolve, reject) => {
      wx.config({
        debug: false,
        appId: cfg.app_id,
        timestamp: Number(cfg.timestamp),
        nonceStr: cfg.nonce_str,
        signature: cfg.signature,
        jsApiList: ['scanQRCode'],
      });
      wx.ready(() => resolve());
      wx.error((e) => reject(new Error(`wx.config: ${e.errMsg}`)));
    });
    return wx;
  })();
  ready = { url: pageUrl, promise };
  promise.catch(() => {
    if (ready?.promise === promise) ready = null;
  });
  return promise;
}

/** How long to wait for WeChat's JS bridge before offering the other ways to scan. */
export const WECHAT_SCAN_TIMEOUT_MS = 8000;

/**
 * wechatScan opens WeChat's scanner and resolves with the text, or null if
 * cancelled. It rejects after timeoutMs when the JS bridge never answers (an
 * old WeChat, a signature the bridge silently refuses), so the officer is
 * not left looking at a spinner.
 */
export async function wechatScan(timeoutMs = WECHAT_SCAN_TIMEOUT_MS): Promise<string | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('wx.scanQRCode: no answer from the JS bridge')), timeoutMs);
  });
  try {
    return await Promise.race([openScanner(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function openScanner(): Promise<string | null> {
  const wx = await configureWx();
  return new Promise<string | null>((resolve, reject) => {
    wx.scanQRCode({
      needResult: 1,
      scanType: ['qrCode'],
      success: (res: { resultStr: string }) => resolve(res.resultStr),
      cancel: () => resolve(null),
      fail: (e: { errMsg?: string }) => reject(new Error(`wx.scanQRCode: ${e?.errMsg ?? 'failed'}`)),
    });
  });
}
