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

/** wechatScan opens WeChat's scanner and resolves with the text, or null if cancelled. */
export async function wechatScan(): Promise<string | null> {
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
