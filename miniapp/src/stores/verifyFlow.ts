// One verification from scanned text to an outcome the result screen shows.

import { verify } from '../api/officer';
import { errorMessage } from '../api/errors';
import { ApiError, NOT_LOGGED_IN } from '../api/http';
import { serverNow } from '../lib/clock';
import { officerState, rememberPurpose, type VerificationOutcome } from './officer';

/**
 * runVerification sends the code and returns the outcome to show. Every
 * failure says nothing about the licence (not on the usage list, expired or
 * used code, network, outage): it becomes a grey "无法核验" outcome with its
 * own words, never the red of an invalid licence. Only a lapsed login is
 * thrown, because the HTTP client is already taking the officer to log in.
 */
export async function runVerification(code: string, purpose: string): Promise<VerificationOutcome> {
  try {
    const verification = await verify(code, purpose);
    rememberPurpose(purpose);
    const outcome: VerificationOutcome = { kind: 'result', purpose, verification };
    officerState.last = outcome;
    return outcome;
  } catch (err) {
    if (err instanceof ApiError && err.code === NOT_LOGGED_IN) throw err;
    const reason = err instanceof ApiError ? err.reasonCode || err.code : 'internal';
    const outcome: VerificationOutcome = { kind: 'refused', purpose, code: reason, message: errorMessage(err), at: serverNow() };
    if (transient(err)) outcome.retry = { text: code };
    officerState.last = outcome;
    return outcome;
  }
}

/** transient: a failure of the network or the service, not an answer about the code. */
function transient(err: unknown): boolean {
  return !(err instanceof ApiError) || err.status === 0 || err.status >= 500 || err.status === 429 || err.code === 'network_error' || err.code === 'timeout';
}
