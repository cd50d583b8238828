// Spots the usage record an officer's scan leaves behind, so the holder's
// show page can say "已被 XX 核验" without a push channel: the BFF has no
// show-code status endpoint, so new usage records after a mint are the signal.

import type { UsageRecord } from '../api/types';

/** Records can be up to this much earlier than the mint time we noted (clock skew). */
const SKEW_MS = 5_000;

export interface VerifiedWatcher {
  /** baseline notes the records that existed before this page showed anything. */
  baseline(items: readonly UsageRecord[] | null): void;
  /** minted notes when a code was put on screen (server clock). */
  minted(at: number): void;
  /** check returns the newest record made since a code was minted, once. */
  check(items: readonly UsageRecord[]): UsageRecord | null;
}

function time(r: UsageRecord): number {
  const t = Date.parse(r.at);
  return Number.isNaN(t) ? -Infinity : t;
}

export function createVerifiedWatcher(): VerifiedWatcher {
  let seenUpTo = -Infinity;
  let firstMint: number | null = null;

  return {
    baseline(items) {
      if (!items) return;
      for (const r of items) seenUpTo = Math.max(seenUpTo, time(r));
    },
    minted(at) {
      if (firstMint === null) firstMint = at;
    },
    check(items) {
      if (firstMint === null) return null;
      let newest: UsageRecord | null = null;
      for (const r of items) {
        const t = time(r);
        if (t > seenUpTo && t >= firstMint - SKEW_MS && (!newest || t > time(newest))) newest = r;
      }
      if (newest) seenUpTo = time(newest);
      return newest;
    },
  };
}

/** departmentName reads the department of a usage record, given as a name or {name}. */
export function departmentName(dept: unknown): string {
  if (typeof dept === 'string' && dept) return dept;
  if (typeof dept === 'object' && dept !== null && 'name' in dept && typeof dept.name === 'string') return dept.name;
  return '工作人员';
}
