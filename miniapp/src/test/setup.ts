import { afterAll, afterEach } from 'vitest';
import { enableAutoUnmount } from '@vue/test-utils';

enableAutoUnmount(afterEach);

afterEach(() => {
  localStorage.clear();
  sessionStorage.clear();
  document.body.innerHTML = '';
});

// Vant's NavBar measures itself 100–300 ms after mounting; let those timers
// run while the DOM still exists instead of after the environment is gone.
afterAll(() => new Promise<void>((resolve) => setTimeout(resolve, 350)));
