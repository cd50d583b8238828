// How masked values are shown and read aloud. The BFF masks; these helpers
// present its output and mask again anything the page itself shows from input
// (a name typed into the real-name form, a value pasted by an officer).

const STAR = '*';

/** isMasked reports whether a value already hides part of itself. */
export function isMasked(value: string): boolean {
  return value.includes(STAR) || value.includes('＊');
}

/** maskName keeps the first character: 张三 → 张*, 欧阳娜娜 → 欧***. */
export function maskName(name: string): string {
  const chars = Array.from(name.trim());
  if (chars.length === 0 || isMasked(name)) return name.trim();
  return chars[0] + STAR.repeat(Math.max(1, chars.length - 1));
}

/** maskIdNumber keeps the first and last four: 1405**********0016. */
export function maskIdNumber(id: string): string {
  const v = id.trim();
  if (isMasked(v)) return v;
  if (v.length <= 8) return STAR.repeat(v.length);
  return v.slice(0, 4) + STAR.repeat(v.length - 8) + v.slice(-4);
}

/** maskPhone keeps the first three and last four digits: 138****0001. */
export function maskPhone(phone: string): string {
  const v = phone.trim();
  if (isMasked(v) || v.length < 8) return v;
  return v.slice(0, 3) + STAR.repeat(v.length - 7) + v.slice(-4);
}

/**
 * spokenMasked rewrites runs of asterisks for screen readers, which would
 * otherwise read "star" ten times: 1405**********0016 → "1405，10 位已隐藏，0016".
 */
export function spokenMasked(value: string): string {
  return value.replace(/[*＊]+/g, (run) => `，${run.length} 位已隐藏，`).replace(/^，|，$/g, '');
}
