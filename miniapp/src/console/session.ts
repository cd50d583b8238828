// The logged-in member, shared by the console's pages. The session itself
// is the HttpOnly cookie; only the CSRF token the server gave is kept, in
// memory, and fetched again from /me after a reload.
import { ref } from 'vue';
import { ApiError } from '../api/http';
import { getMe, setCSRF, type Me } from './api';

export const me = ref<Me | null>(null);

export function signedIn(m: Me): void {
  me.value = m;
  setCSRF(m.csrf_token);
}

export function signedOut(): void {
  me.value = null;
  setCSRF('');
}

/** restore reads the session after a reload; false when there is none. */
export async function restore(): Promise<boolean> {
  if (me.value) return true;
  try {
    signedIn(await getMe());
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return false;
    throw e;
  }
}

export const may = (permission: string): boolean => me.value?.permissions.includes(permission) ?? false;
