// Routes (history mode, served by the BFF at /) and the guard that logs in,
// sends unbound citizens to real-name binding and keeps officer pages to officers.

import {
  createRouter,
  createWebHistory,
  type RouteLocationNormalized,
  type RouteLocationRaw,
  type Router,
  type RouterHistory,
  type RouteRecordRaw,
} from 'vue-router';
import { ApiError, NOT_LOGGED_IN, setNavigationTarget } from './api/http';
import { appState } from './stores/app';
import { isOfficer, loadMe } from './stores/session';
import { homeFor, safeNext } from './lib/nav';
import type { Me } from './api/types';
// The two pages people open from the WeChat menu are in the entry chunk, so
// their first screen needs no chunk besides it (vite.config.ts).
import LicencesPage from './pages/LicencesPage.vue';
import ScanPage from './pages/ScanPage.vue';

declare module 'vue-router' {
  interface RouteMeta {
    title?: string;
    /** auth: the page needs a logged-in account. */
    auth?: boolean;
    /** realname: the page needs a bound holder. */
    realname?: boolean;
    /** officer: the page is for verification staff. */
    officer?: boolean;
  }
}

export const routes: RouteRecordRaw[] = [
  { path: '/', name: 'home', component: () => import('./pages/HomePage.vue'), meta: { auth: true, title: '阳城电子证照' } },
  {
    path: '/realname',
    name: 'realname',
    component: () => import('./pages/RealnamePage.vue'),
    meta: { auth: true, title: '实名认证' },
  },
  {
    path: '/licences',
    name: 'licences',
    component: LicencesPage,
    meta: { auth: true, realname: true, title: '我的证照' },
  },
  {
    path: '/licences/:id',
    name: 'licence',
    component: () => import('./pages/LicenceDetailPage.vue'),
    props: true,
    meta: { auth: true, realname: true, title: '证照详情' },
  },
  {
    path: '/licences/:id/show',
    name: 'show',
    component: () => import('./pages/ShowCodePage.vue'),
    props: true,
    meta: { auth: true, realname: true, title: '亮证' },
  },
  {
    path: '/licences/:id/usage',
    name: 'usage',
    component: () => import('./pages/UsagePage.vue'),
    props: true,
    meta: { auth: true, realname: true, title: '用证记录' },
  },
  {
    path: '/officer/scan',
    name: 'scan',
    component: ScanPage,
    meta: { auth: true, officer: true, title: '扫码核验' },
  },
  {
    path: '/officer/result',
    name: 'result',
    component: () => import('./pages/ResultPage.vue'),
    meta: { auth: true, officer: true, title: '核验结果' },
  },
  {
    path: '/officer/history',
    name: 'history',
    component: () => import('./pages/HistoryPage.vue'),
    meta: { auth: true, officer: true, title: '核验记录' },
  },
  {
    path: '/officer/invite/:token',
    name: 'officer-invite',
    component: () => import('./pages/OfficerInvitePage.vue'),
    props: true,
    meta: { auth: true, title: '核验人员邀请' },
  },
  {
    path: '/v/:token',
    name: 'verify-link',
    component: () => import('./pages/VerifyLinkPage.vue'),
    props: true,
    meta: { auth: true, title: '亮证码核验' },
  },
  {
    path: '/me',
    name: 'me',
    component: () => import('./pages/MePage.vue'),
    meta: { auth: true, title: '我的' },
  },
  {
    path: '/not-officer',
    name: 'not-officer',
    component: () => import('./pages/NotOfficerPage.vue'),
    meta: { auth: true, title: '仅限核验人员' },
  },
  { path: '/:rest(.*)*', name: 'not-found', component: () => import('./pages/NotFoundPage.vue'), meta: { title: '页面不存在' } },
];

export async function guard(to: RouteLocationNormalized): Promise<boolean | RouteLocationRaw> {
  setNavigationTarget(to.fullPath);
  appState.fatal = null;
  if (!to.meta.auth) return true;
  let me: Me;
  try {
    me = await loadMe();
  } catch (err) {
    if (err instanceof ApiError && err.code === NOT_LOGGED_IN) {
      appState.loggingIn = err.loginStarted;
      appState.loginBlocked = !err.loginStarted;
      appState.pending = to.fullPath;
      return false;
    }
    appState.fatal = err;
    appState.pending = to.fullPath;
    return false;
  }
  if (to.name === 'home') return homeFor(me);
  if (to.name === 'realname' && me.realname_verified) return safeNext(to.query.next) ?? homeFor(me);
  if (to.meta.realname && !me.realname_verified) return { name: 'realname', query: { next: to.fullPath } };
  if (to.meta.officer && !isOfficer(me)) return { name: 'not-officer' };
  return true;
}

export function createAppRouter(history: RouterHistory = createWebHistory('/')): Router {
  const router = createRouter({
    history,
    routes,
    scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
  });
  router.beforeEach(guard);
  router.afterEach((to) => {
    setNavigationTarget(null);
    document.title = to.meta.title ? `${to.meta.title} · 阳城电子证照` : '阳城电子证照';
  });
  return router;
}
