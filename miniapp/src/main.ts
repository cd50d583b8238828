import { createApp } from 'vue';
import App from './App.vue';
import { createAppRouter } from './router';
import { dropEarlyResponses } from './api/http';
import { initLargeFont } from './composables/useLargeFont';
import { registerOfflineShell } from './lib/offline';
import './styles.css';

declare global {
  interface Window {
    /** The inline script's "please upgrade WeChat" message stays away once the app's code runs. */
    elicMounted?: boolean;
    /** Settles when the stylesheet the boot script added has loaded or failed (scripts/boot.mjs). */
    elicStyles?: Promise<unknown>;
  }
}

window.elicMounted = true;
initLargeFont();
const router = createAppRouter();
const app = createApp(App).use(router);
// The splash stays until the first page can show, styled: the router has
// settled its first navigation (its guard and the page's chunk; a refused
// navigation shows login or an error) and the stylesheet is in.
void Promise.all([router.isReady().catch(() => undefined), window.elicStyles]).then(() => {
  app.mount('#app');
  dropEarlyResponses();
});
registerOfflineShell();
