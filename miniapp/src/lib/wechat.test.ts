import { beforeEach, describe, expect, it, vi } from 'vitest';
import wx from 'weixin-js-sdk';
import { getJsConfig } from '../api/system';
import { configureWx, isWeChat, wechatScan } from './wechat';

vi.mock('../api/system', () => ({ getJsConfig: vi.fn() }));
vi.mock('weixin-js-sdk', () => {
  const sdk = {
    config: vi.fn(),
    ready: vi.fn((fn: () => void) => fn()),
    error: vi.fn(),
    scanQRCode: vi.fn(),
  };
  return { default: sdk };
});

describe('WeChat scanner', () => {
  beforeEach(() => {
    vi.mocked(getJsConfig).mockReset().mockResolvedValue({ app_id: 'wx123', timestamp: 1700000000, nonce_str: 'n', signature: 's' });
  });

  it('should recognise the WeChat browser by its user agent', () => {
    expect(isWeChat('Mozilla/5.0 (Linux; Android 12) MicroMessenger/8.0.47.2560')).toBe(true);
    expect(isWeChat('Mozilla/5.0 (Linux; Android 12) Chrome/120')).toBe(false);
  });

  it('should sign the page URL without its fragment and ask only for scanQRCode', async () => {
    await configureWx('http://127.0.0.1:8080/officer/scan?x=1');
    expect(getJsConfig).toHaveBeenCalledWith('http://127.0.0.1:8080/officer/scan?x=1');
    expect(wx.config).toHaveBeenCalledWith(
      expect.objectContaining({ appId: 'wx123', timestamp: 1700000000, nonceStr: 'n', signature: 's', jsApiList: ['scanQRCode'] }),
    );
  });

  it('should return the scanned text with needResult=1, or null when cancelled', async () => {
    vi.mocked(wx.scanQRCode)
      .mockImplementationOnce((p) => p.success({ resultStr: 'http://h/v/AbCdEfGhIjKlMnOpQrStUv' }))
      .mockImplementationOnce((p) => p.cancel?.());
    expect(await wechatScan()).toBe('http://h/v/AbCdEfGhIjKlMnOpQrStUv');
    expect(vi.mocked(wx.scanQRCode).mock.calls[0]?.[0]).toMatchObject({ needResult: 1, scanType: ['qrCode'] });
    expect(await wechatScan()).toBeNull();
  });

  it('should give up when the JS bridge never answers', async () => {
    vi.mocked(wx.scanQRCode).mockImplementationOnce(() => undefined);
    await expect(wechatScan(20)).rejects.toThrow('no answer');
  });
});
