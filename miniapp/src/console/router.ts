import { createRouter, createWebHistory, type Router } from 'vue-router';
import LoginPage from './pages/LoginPage.vue';
import LicencesPage from './pages/LicencesPage.vue';
import LicenceDetailPage from './pages/LicenceDetailPage.vue';
import HomePage from './pages/HomePage.vue';
import ImportPage from './pages/ImportPage.vue';
import OfficersPage from './pages/OfficersPage.vue';
import AppsPage from './pages/AppsPage.vue';
import DepartmentsPage from './pages/admin/DepartmentsPage.vue';
import TypesPage from './pages/admin/TypesPage.vue';
import UsageListsPage from './pages/admin/UsageListsPage.vue';
import StaffPage from './pages/admin/StaffPage.vue';
import CataloguePage from './pages/admin/CataloguePage.vue';
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
      { path: '/imports', component: ImportPage, meta: { title: '存量导入' } },
      { path: '/officers', component: OfficersPage, meta: { title: '核验人员' } },
      { path: '/apps', component: AppsPage, meta: { title: '开放接口应用' } },
      { path: '/departments', component: DepartmentsPage, meta: { title: '部门' } },
      { path: '/licence-types', component: TypesPage, meta: { title: '证照类型' } },
      { path: '/usage-lists', component: UsageListsPage, meta: { title: '用证清单' } },
      { path: '/catalogue', component: CataloguePage, meta: { title: '目录导入导出' } },
      { path: '/staff', component: StaffPage, meta: { title: '工作人员' } },
      { path: '/stats', component: () => import('./pages/StatsPage.vue'), meta: { title: '统计' } },
      { path: '/audit', component: () => import('./pages/AuditPage.vue'), meta: { title: '审计记录' } },
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
