import { createApp } from 'vue';
import App from './App.vue';
import { createAppRouter } from './router';
import { initLargeFont } from './composables/useLargeFont';
import { registerOfflineShell } from './lib/offline';
import './styles.css';

initLargeFont();
const router = createAppRouter();
createApp(App).use(router).mount('#app');
(window as Window & { elicMounted?: boolean }).elicMounted = true;
registerOfflineShell();
