// One verification from scanned text to an outcome the result screen shows.

import { verify } from '../api/officer';
import { errorMessage, isCode } from '../api/errors';
import { ApiError } from '../api/http';
import { serverNow } from '../lib/clock';
import { officerState, rememberPurpose, type VerificationOutcome } from './officer';

/** Answers that are a verdict on the code, shown as a red "无法核验" block. */
const REFUSALS = ['show_code_invalid', 'type_not_in_usage_list', 'not_officer'];

/**
 * runVerification sends the code and returns the outcome to show. Failures
 * that say nothing about the licence (network, rate limit, outage) are thrown,
 * so the officer stays on the scan screen and can try again.
 */
export async function runVerification(code: string, purpose: string): Promise<VerificationOutcome> {
  try {
    const verification = await verify(code, purpose);
    rememberPurpose(purpose);
    const outcome: VerificationOutcome = { kind: 'result', purpose, verification };
    officerState.last = outcome;
    return outcome;
  } catch (err) {
    if (isCode(err, ...REFUSALS) || (err instanceof ApiError && err.status === 404)) {
      const code = err instanceof ApiError ? err.reasonCode || err.code : 'show_code_invalid';
      const outcome: VerificationOutcome = { kind: 'refused', purpose, code, message: errorMessage(err), at: serverNow() };
      officerState.last = outcome;
      return outcome;
    }
    throw err;
  }
}
