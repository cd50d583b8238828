// Test helpers: mount a page inside a router whose routes have the app's
// names and paths but empty components, so links and navigation can be checked.

import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { defineComponent, type Component } from 'vue';
import { createMemoryHistory, createRouter, type Router, type RouteRecordRaw } from 'vue-router';
import { routes } from '../router';
import type { LicenceDetail, LicenceSummary, Me, Verification } from '../api/types';

const Blank = defineComponent({ render: () => null });

function stubRoutes(): RouteRecordRaw[] {
  return routes.map((r) => ({ path: r.path, name: r.name, component: Blank }) as RouteRecordRaw);
}

export async function mountPage(
  page: Component,
  opts: { props?: Record<string, unknown>; path?: string } = {},
): Promise<{ wrapper: VueWrapper; router: Router }> {
  const router = createRouter({ history: createMemoryHistory(), routes: stubRoutes() });
  await router.push(opts.path ?? '/');
  await router.isReady();
  const wrapper = mount(page, { props: opts.props ?? {}, global: { plugins: [router] }, attachTo: document.body });
  await flushPromises();
  return { wrapper, router };
}

export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve: (v: T) => void = () => undefined;
  let reject: (e: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export const citizen: Me = { openid_hint: 'demo…san', realname_verified: true, roles: ['holder'], name_masked: '张*' };
export const officer: Me = { openid_hint: 'demo…ice', realname_verified: false, roles: ['officer'], name_masked: '' };

export const drivingLicence: LicenceSummary = {
  id: '12',
  type_code: '11100000000013338W001',
  type_name: '机动车驾驶证',
  number_masked: '1405**********0016',
  issuer: '阳城县公安局交通管理大队',
  status: 'valid',
  annotations: [],
  colour: 'green',
  valid_from: '2019-03-30',
  valid_until: '2025-04-01',
  days_left: 20,
};

export const idCard: LicenceSummary = {
  id: '11',
  type_code: '11100000000013338W002',
  type_name: '居民身份证',
  number_masked: '1405**********0016',
  issuer: '阳城县公安局',
  status: 'valid',
  annotations: [],
  colour: 'green',
  valid_from: '2015-06-01',
  valid_until: '2035-06-01',
  days_left: 3700,
};

export const drivingDetail: LicenceDetail = {
  ...drivingLicence,
  identifier: '1.2.156.3005.2.11100000000013338W001.11140522012345678X.0001.001.K',
  version: 1,
  issued_on: '2019-03-30',
  holder_name_masked: '张*',
  fields: [
    { key: 'name', label: '姓名', type: 'text', value: '张*', masked: true },
    { key: 'sex', label: '性别', type: 'text', value: '男', masked: false },
    { key: 'class', label: '准驾车型', type: 'text', value: 'C1', masked: false },
    { key: 'id_number', label: '身份证号', type: 'id_number', value: '1405**********0016', masked: true },
  ],
  history: [],
};

export const greenVerification: Verification = {
  result: 'valid',
  colour: 'green',
  reason_code: 'ok',
  status: 'valid',
  licence: {
    type_code: '11100000000013338W001',
    type_name: '机动车驾驶证',
    number: '1405**********0016',
    fields: [
      { key: 'class', label: '准驾车型', type: 'text', value: 'C1' },
      { key: 'valid_until', label: '有效期至', type: 'date', value: '2025-04-01' },
    ],
    issuer: '阳城县公安局交通管理大队',
    valid_until: '2025-04-01',
  },
  holder: { name: '张*', id_number: '1405**********0016' },
  verified_at: '2025-03-12T08:00:05.123Z',
  replayed: false,
};
