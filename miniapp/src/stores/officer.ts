// Officer-side state kept between the scan page and the result page.

import { reactive } from 'vue';
import type { Verification } from '../api/types';

export type VerificationOutcome =
  | { kind: 'result'; purpose: string; verification: Verification }
  | {
      kind: 'refused';
      purpose: string;
      code: string;
      message: string;
      at: number;
      /** A network or server failure: the same scan can simply be sent again. */
      retry?: { text: string };
    };

export const officerState = reactive<{ last: VerificationOutcome | null }>({ last: null });

const PURPOSE_KEY = 'elic.lastPurpose';

/** lastPurpose remembers the officer's usual purpose of use (not secret). */
export function lastPurpose(): string {
  try {
    return localStorage.getItem(PURPOSE_KEY) ?? '';
  } catch {
    return '';
  }
}

export function rememberPurpose(purpose: string): void {
  try {
    localStorage.setItem(PURPOSE_KEY, purpose);
  } catch {
    // Storage full or disabled: the officer picks the purpose again next time.
  }
}
