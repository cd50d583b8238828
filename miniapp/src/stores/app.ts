// Page-wide states that replace the current screen: going to login, a login
// that does not stick, or a start-up failure.

import { reactive } from 'vue';

export const appState = reactive<{
  loggingIn: boolean;
  loginBlocked: boolean;
  fatal: unknown;
  pending: string | null;
}>({ loggingIn: false, loginBlocked: false, fatal: null, pending: null });
