import { describe, expect, it } from 'vitest';
import { looksLikeShowCode } from './qr';

describe('looksLikeShowCode', () => {
  const table: { text: string; want: boolean }[] = [
    { text: 'http://127.0.0.1:8080/v/AbCdEfGhIjKlMnOpQrStUv', want: true },
    { text: 'https://zwfw.yangcheng.gov.cn/v/AbCdEfGhIjKlMnOpQr-_Uv\n', want: true },
    { text: 'AbCdEfGhIjKlMnOpQrStUv', want: true },
    { text: 'https://example.com/some/page', want: false },
    { text: '你好', want: false },
    { text: '', want: false },
    { text: 'http://x/v/short', want: false },
  ];
  for (const t of table) {
    it(`should ${t.want ? 'accept' : 'reject'} ${JSON.stringify(t.text)}`, () => {
      expect(looksLikeShowCode(t.text)).toBe(t.want);
    });
  }
});
