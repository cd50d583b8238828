// Resident ID number check (GB 11643-1999): caught on the phone before the
// number is sent, so a typo gets a precise message rather than "no match".

export type IdProblem = 'empty' | 'length' | 'format' | 'region' | 'birthdate' | 'checksum';

export type IdCheck = { ok: true; value: string } | { ok: false; problem: IdProblem; message: string };

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS = '10X98765432';

// GB/T 2260 province-level codes, plus 81–83 used on residence permits.
const PROVINCES = new Set(
  '11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83'.split(' '),
);

const messages: Record<IdProblem, string> = {
  empty: '请输入身份证号码。',
  length: '身份证号码应为 18 位，请核对位数。',
  format: '身份证号码前 17 位应为数字，最后一位为数字或字母 X。',
  region: '身份证号码前 6 位（地区码）不正确，请核对。',
  birthdate: '身份证号码中的出生日期（第 7–14 位）不正确，请核对。',
  checksum: '身份证号码校验位不符，可能有一位输错了，请逐位核对。',
};

/** normaliseIdNumber strips spaces and upper-cases a trailing x. */
export function normaliseIdNumber(raw: string): string {
  return raw.replace(/[\s-]/g, '').toUpperCase();
}

/** checkDigit computes the 18th character from the first 17 digits. */
export function checkDigit(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * (WEIGHTS[i] as number);
  return CHECK_CHARS[sum % 11] as string;
}

function validBirthDate(yyyymmdd: string, today: Date): boolean {
  const y = Number(yyyymmdd.slice(0, 4));
  const m = Number(yyyymmdd.slice(4, 6));
  const d = Number(yyyymmdd.slice(6, 8));
  if (y < 1900 || m < 1 || m > 12 || d < 1) return false;
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return false;
  return date.getTime() <= today.getTime();
}

/** checkIdNumber validates an 18-digit resident ID number, including its check digit. */
export function checkIdNumber(raw: string, today: Date = new Date()): IdCheck {
  const value = normaliseIdNumber(raw);
  const fail = (problem: IdProblem): IdCheck => ({ ok: false, problem, message: messages[problem] });
  if (value === '') return fail('empty');
  if (value.length !== 18) return fail('length');
  if (!/^\d{17}[\dX]$/.test(value)) return fail('format');
  if (!PROVINCES.has(value.slice(0, 2))) return fail('region');
  if (!validBirthDate(value.slice(6, 14), today)) return fail('birthdate');
  if (checkDigit(value.slice(0, 17)) !== value[17]) return fail('checksum');
  return { ok: true, value };
}
