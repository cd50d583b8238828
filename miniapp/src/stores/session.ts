// Who is logged in, loaded once per page load and shared by every page.

import { reactive } from 'vue';
import { getMe } from '../api/me';
import type { Me } from '../api/types';

export const session = reactive<{ me: Me | null }>({ me: null });

let inflight: Promise<Me> | null = null;

/** loadMe returns the logged-in account; a 401 starts login inside the HTTP client. */
export function loadMe(force = false): Promise<Me> {
  if (session.me && !force) return Promise.resolve(session.me);
  if (inflight && !force) return inflight;
  const p = getMe().then(
    (me) => {
      session.me = me;
      if (inflight === p) inflight = null;
      return me;
    },
    (err: unknown) => {
      if (inflight === p) inflight = null;
      throw err;
    },
  );
  inflight = p;
  return p;
}

export function isOfficer(me: Me | null): boolean {
  return !!me && me.roles.includes('officer');
}

export function resetSession(): void {
  session.me = null;
  inflight = null;
}
