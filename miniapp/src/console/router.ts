import { createRouter, createWebHistory, type Router } from 'vue-router';
import LoginPage from './pages/LoginPage.vue';
import LicencesPage from './pages/LicencesPage.vue';
import LicenceDetailPage from './pages/LicenceDetailPage.vue';
import HomePage from './pages/HomePage.vue';
import { restore } from './session';

/** createConsoleRouter: history mode under /console/ (the BFF serves its index.html there). */
export function createConsoleRouter(): Router {
  const router = createRouter({
    history: createWebHistory('/console/'),
    routes: [
      { path: '/', component: HomePage, meta: { title: '首页' } },
      { path: '/login', component: LoginPage, meta: { public: true, title: '登录' } },
      { path: '/licences', component: LicencesPage, meta: { title: '证照查询' } },
      { path: '/licences/:id', component: LicenceDetailPage, props: true, meta: { title: '证照详情' } },
      { path: '/:rest(.*)*', redirect: '/' },
    ],
  });
  router.beforeEach(async (to) => {
    if (to.meta.public) return true;
    if (await restore()) return true;
    return { path: '/login', query: { next: to.fullPath } };
  });
  router.afterEach((to) => {
    document.title = `${String(to.meta.title ?? '')} · 阳城电子证照管理控制台`;
  });
  return router;
}
