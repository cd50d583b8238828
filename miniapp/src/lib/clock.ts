// The server's clock as seen from the phone. The show-code watermark ticks in
// server time so a screenshot shows its age even when the phone's clock is wrong.

import { onServerDate } from '../api/http';
import { getServerTime } from '../api/system';

let offsetMs = 0;
let bestRtt = Number.POSITIVE_INFINITY;
let precise = false;

/** serverNow is the current server time in epoch milliseconds. */
export function serverNow(): number {
  return Date.now() + offsetMs;
}

export function clockOffsetMs(): number {
  return offsetMs;
}

/** learn takes one server reading taken between sentAt and receivedAt (phone clock). */
export function learn(serverMs: number, sentAt: number, receivedAt: number, resolutionMs = 0): void {
  const rtt = Math.max(0, receivedAt - sentAt);
  // The server read its clock somewhere inside the round trip; the midpoint is
  // the best guess and the round trip bounds the error.
  if (rtt + resolutionMs > bestRtt) return;
  bestRtt = rtt + resolutionMs;
  offsetMs = serverMs + resolutionMs / 2 - (sentAt + rtt / 2);
}

// The Date header (1 s resolution) is a fallback until /time has answered.
onServerDate((serverMs, sentAt, receivedAt) => {
  if (!precise) learn(serverMs, sentAt, receivedAt, 1_000);
});

/** syncServerClock asks the BFF for the time with millisecond precision. */
export async function syncServerClock(): Promise<void> {
  const sentAt = Date.now();
  const { now } = await getServerTime();
  const receivedAt = Date.now();
  const ms = Date.parse(now);
  if (Number.isNaN(ms)) return;
  if (!precise) bestRtt = Number.POSITIVE_INFINITY;
  precise = true;
  learn(ms, sentAt, receivedAt);
}

/** resetClock is for tests. */
export function resetClock(): void {
  offsetMs = 0;
  bestRtt = Number.POSITIVE_INFINITY;
  precise = false;
}
