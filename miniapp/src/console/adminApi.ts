// Typed calls of the platform admin's console pages: the catalogue
// (departments, licence types with their field schema, usage lists, YAML
// import and export) and staff accounts (docs/CONSOLE.md).
import type { components } from '../api/generated/api-v1';
import { ApiError } from '../api/http';
import { call, type Role } from './api';

type Schemas = components['schemas'];

export type CatalogueDepartment = Schemas['CatalogueDepartment'];
export type SchemaField = Schemas['SchemaField'];
/** TypeBody is a licence type as the editor sends it (PUT). */
export type TypeBody = Schemas['TypeBody'];
/** CatalogueType carries `licences`, those on file: with any, the schema may only grow. */
export type CatalogueType = Schemas['CatalogueType'];
export type UsageEntry = Schemas['UsageEntry'];
export type Catalogue = Schemas['Catalogue'];
export type Plan = Schemas['Plan'];
export type StaffMember = Schemas['StaffMember'];

const seg = encodeURIComponent;

export const getCatalogue = (): Promise<Catalogue> => call<Catalogue>('GET', '/catalogue');

/** exportURL downloads the catalogue YAML; the browser sends the session cookie. */
export const exportURL = '/api/v1/console/catalogue/export';

export const addDepartment = (d: Omit<CatalogueDepartment, 'id'>): Promise<Plan> =>
  call<Plan>('POST', '/catalogue/departments', { body: d });

export const updateDepartment = (uscc: string, d: Omit<CatalogueDepartment, 'id' | 'uscc'>): Promise<Plan> =>
  call<Plan>('PUT', `/catalogue/departments/${seg(uscc)}`, { body: d });

export const addType = (code: string, t: TypeBody): Promise<Plan> => call<Plan>('POST', '/catalogue/types', { body: { code, ...t } });

export const updateType = (code: string, t: TypeBody): Promise<Plan> => call<Plan>('PUT', `/catalogue/types/${seg(code)}`, { body: t });

export const putUsageList = (uscc: string, types: UsageEntry[]): Promise<Plan> =>
  call<Plan>('PUT', `/catalogue/usage-lists/${seg(uscc)}`, { body: { types } });

export const planImport = (yaml: string): Promise<Plan> => call<Plan>('POST', '/catalogue/plan', { body: { yaml } });

export const applyImport = (yaml: string, digest: string): Promise<Plan> =>
  call<Plan>('POST', '/catalogue/apply', { body: { yaml, digest } });

export const listStaff = async (): Promise<StaffMember[]> => (await call<{ items: StaffMember[] }>('GET', '/staff')).items;

export const addStaff = (username: string, role: Role, departmentUSCC: string): Promise<{ staff: StaffMember; password: string }> =>
  call('POST', '/staff', { body: { username, role, department_uscc: departmentUSCC } });

export const disableStaff = (id: number): Promise<void> => call<void>('POST', `/staff/${id}/disable`);

/** problems is what a refused write says: each refused field, or the message. */
export function problems(e: unknown): string[] {
  if (e instanceof ApiError) {
    if (e.details.length > 0) return e.details.map((d) => d.message);
    if (e.serverMessage) return [e.serverMessage];
  }
  return ['操作失败，请稍后再试'];
}
