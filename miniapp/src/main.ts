import { createApp } from 'vue';
import App from './App.vue';
import { createAppRouter } from './router';
import { initLargeFont } from './composables/useLargeFont';
import './styles.css';

initLargeFont();
const router = createAppRouter();
createApp(App).use(router).mount('#app');
