// The administration console: a second entry of the front end with its
// own bundle (Element Plus for desktop), so the citizens' H5 does not grow.
import { createApp } from 'vue';
import 'element-plus/dist/index.css';
import ConsoleApp from './ConsoleApp.vue';
import { createConsoleRouter } from './router';

createApp(ConsoleApp).use(createConsoleRouter()).mount('#console');
