// QR decoding on the phone with jsQR, loaded only when an officer scans so it
// never weighs on the first screen.

type JsQR = typeof import('jsqr').default;
let jsqrPromise: Promise<JsQR> | null = null;

export function loadJsQR(): Promise<JsQR> {
  jsqrPromise ??= import('jsqr').then((m) => m.default);
  return jsqrPromise;
}

/** decodeImageData finds a QR code in raw RGBA pixels, or returns null. */
export async function decodeImageData(data: ImageData, thorough = false): Promise<string | null> {
  const jsQR = await loadJsQR();
  const found = jsQR(data.data, data.width, data.height, { inversionAttempts: thorough ? 'attemptBoth' : 'dontInvert' });
  return found && found.data ? found.data : null;
}

const MAX_SIDE = 1280;

async function toBitmapSource(file: Blob): Promise<{ img: CanvasImageSource; width: number; height: number; done: () => void }> {
  if (typeof createImageBitmap === 'function') {
    const bmp = await createImageBitmap(file);
    return { img: bmp, width: bmp.width, height: bmp.height, done: () => bmp.close() };
  }
  const url = URL.createObjectURL(file);
  const img = new Image();
  img.src = url;
  await img.decode();
  return { img, width: img.naturalWidth, height: img.naturalHeight, done: () => URL.revokeObjectURL(url) };
}

/** decodeImageFile decodes a photo of a QR code picked from the album or camera. */
export async function decodeImageFile(file: Blob): Promise<string | null> {
  const src = await toBitmapSource(file);
  try {
    // Photos are large; a QR code survives downscaling and jsQR runs far faster.
    const scale = Math.min(1, MAX_SIDE / Math.max(src.width, src.height));
    const w = Math.max(1, Math.round(src.width * scale));
    const h = Math.max(1, Math.round(src.height * scale));
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) return null;
    ctx.drawImage(src.img, 0, 0, w, h);
    return await decodeImageData(ctx.getImageData(0, 0, w, h), true);
  } finally {
    src.done();
  }
}

/** looksLikeShowCode rejects text that cannot be a show code before a round trip. */
export function looksLikeShowCode(text: string): boolean {
  const t = text.trim();
  if (isShortCode(t)) return true;
  if (/^[A-Za-z0-9_-]{16,64}$/.test(t)) return true;
  return /\/v\/[A-Za-z0-9_-]{16,64}\/?(?:[?#].*)?$/.test(t);
}

/** isShortCode accepts the 8-digit code under the QR, as typed ("1234 5678" too). */
export function isShortCode(text: string): boolean {
  return /^\d{8}$/.test(text.replace(/[\s-]/g, ''));
}
