// Where an account lands, and which ?next= values may be followed.

import type { RouteLocationRaw } from 'vue-router';
import type { Me } from '../api/types';
import { isOfficer } from '../stores/session';

/** homeFor picks the first screen for an account. */
export function homeFor(me: Me): RouteLocationRaw {
  if (isOfficer(me)) return { name: 'scan' };
  return { name: me.realname_verified ? 'licences' : 'realname' };
}

/** safeNext accepts only a same-site path, so ?next= cannot send users elsewhere. */
export function safeNext(next: unknown): string | null {
  return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : null;
}
