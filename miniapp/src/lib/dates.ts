// Dates as the county reads them: calendar days in Asia/Shanghai (UTC+8, no DST).

const SHANGHAI_OFFSET_MS = 8 * 3600_000;

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** shanghaiParts splits an instant into its wall-clock fields in Asia/Shanghai. */
function shanghaiParts(ms: number): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const t = new Date(ms + SHANGHAI_OFFSET_MS);
  return {
    y: t.getUTCFullYear(),
    mo: t.getUTCMonth() + 1,
    d: t.getUTCDate(),
    h: t.getUTCHours(),
    mi: t.getUTCMinutes(),
    s: t.getUTCSeconds(),
  };
}

/** formatDate shows "2025年03月12日" for a date string (YYYY-MM-DD or RFC 3339). */
export function formatDate(value: string | null | undefined): string {
  if (!value) return '长期';
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (m) return `${m[1]}年${m[2]}月${m[3]}日`;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return value;
  const p = shanghaiParts(ms);
  return `${p.y}年${pad(p.mo)}月${pad(p.d)}日`;
}

/** formatDateTime shows "2025-03-12 14:05:09" in Beijing time. */
export function formatDateTime(value: string | number): string {
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (Number.isNaN(ms)) return String(value);
  const p = shanghaiParts(ms);
  return `${p.y}-${pad(p.mo)}-${pad(p.d)} ${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}`;
}

/** expiryText says how soon a licence runs out, or null when that is far off. */
export function expiryText(daysLeft: number | null, withinDays = 90): string | null {
  if (daysLeft === null || daysLeft > withinDays) return null;
  if (daysLeft < 0) return `已过期 ${-daysLeft} 天`;
  if (daysLeft === 0) return '今天是有效期最后一天';
  return `还有 ${daysLeft} 天到期`;
}

/** formatTime shows "14:05:09" in Beijing time. */
export function formatTime(value: string | number): string {
  return formatDateTime(value).slice(11);
}
