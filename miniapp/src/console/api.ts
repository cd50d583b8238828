// Typed calls of the console API (/api/v1/console, docs/API.md), over the
// one HTTP client of the front end. Every unsafe call carries the
// session's CSRF token; a 401 is returned to the caller, who shows the
// login page (the console has no WeChat login). The shapes are aliases
// onto the types generated from docs/openapi/api-v1.yaml.
import type { components } from '../api/generated/api-v1';
import { request, type RequestOptions } from '../api/http';

type Schemas = components['schemas'];

export type Role = Schemas['StaffRole'];
export type Department = Schemas['ConsoleDepartment'];
export type Me = Schemas['ConsoleMe'];
export type TOTPEnrolment = Schemas['TOTPEnrolment'];
export type ConsoleLicence = Schemas['ConsoleLicence'];
export type LicencePage = Schemas['LicencePage'];
export type HistoryEntry = Schemas['ConsoleHistoryEntry'];
export type LicenceDetail = Schemas['ConsoleLicenceDetail'];

export interface LicenceQuery {
  number?: string;
  holder_id_number?: string;
  type_code?: string;
  status?: string;
  page?: number;
  page_size?: number;
}

let csrfToken = '';

/** setCSRF keeps the token of the current session for unsafe calls. */
export function setCSRF(token: string): void {
  csrfToken = token;
}

/** call is one console request; unsafe methods carry the CSRF token. */
export function call<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = method === 'GET' ? {} : { 'X-CSRF-Token': csrfToken };
  return request<T>(method, `/console${path}`, { ...opts, headers, loginOn401: false });
}

/** login answers Me (logged in) or a TOTP enrolment to confirm with a code. */
export const login = (username: string, password: string, otp: string): Promise<Me | TOTPEnrolment> =>
  call<Me | TOTPEnrolment>('POST', '/session', { body: { username, password, otp } });

export const isEnrolment = (r: Me | TOTPEnrolment): r is TOTPEnrolment => 'totp_enrolment' in r;

export const logout = (): Promise<void> => call<void>('DELETE', '/session');

export const getMe = (): Promise<Me> => call<Me>('GET', '/me');

export const licenceTypes = async (): Promise<Schemas['TypeName'][]> =>
  (await call<{ items: Schemas['TypeName'][] }>('GET', '/licence-types')).items;

export const searchLicences = (q: LicenceQuery): Promise<LicencePage> => call<LicencePage>('GET', '/licences', { query: { ...q } });

export const getLicence = (id: string): Promise<LicenceDetail> => call<LicenceDetail>('GET', `/licences/${encodeURIComponent(id)}`);

export const applyAction = (id: string, action: string, reason: string): Promise<LicenceDetail> =>
  call<LicenceDetail>('POST', `/licences/${encodeURIComponent(id)}/events`, { body: { action, reason } });

/** ImportJob is a stock import started from the console; the page polls it. */
export type ImportJob = Schemas['ImportJob'];

export const listImports = async (): Promise<ImportJob[]> => (await call<{ items: ImportJob[] }>('GET', '/imports')).items;

export const getImport = (id: number): Promise<ImportJob> => call<ImportJob>('GET', `/imports/${id}`);

/** startImport uploads the file; the import runs in the background. */
export function startImport(file: File, dryRun: boolean): Promise<ImportJob> {
  const form = new FormData();
  form.append('file', file);
  form.append('dry_run', String(dryRun));
  return call<ImportJob>('POST', '/imports', { body: form, timeoutMs: 120_000 });
}

/** importErrorsUrl downloads the job's error file (the cookie is sent with a plain link). */
export const importErrorsUrl = (id: number): string => `/api/v1/console/imports/${id}/errors`;

export type Officer = Schemas['Officer'];

export type PendingInvite = Schemas['PendingInvite'];

export const listOfficers = (): Promise<{ items: Officer[]; invites: PendingInvite[] }> =>
  call<{ items: Officer[]; invites: PendingInvite[] }>('GET', '/officers');

/** inviteOfficer answers the one-time link and its QR, shown only now. */
export const inviteOfficer = (name: string): Promise<Schemas['OfficerInvitation']> =>
  call<Schemas['OfficerInvitation']>('POST', '/officers/invites', { body: { name } });

export const removeOfficer = (openid: string): Promise<void> => call<void>('DELETE', `/officers/${encodeURIComponent(openid)}`);

export type App = Schemas['App'];

/** AppCredentials carry the secret, shown only in the answer that made it. */
export type AppCredentials = Schemas['AppCredentials'];

export const listApps = async (): Promise<App[]> => (await call<{ items: App[] }>('GET', '/apps')).items;

export const addApp = (name: string): Promise<AppCredentials> => call<AppCredentials>('POST', '/apps', { body: { name } });

export const rotateAppSecret = (appID: string): Promise<AppCredentials> =>
  call<AppCredentials>('POST', `/apps/${encodeURIComponent(appID)}/rotate-secret`);

export const disableApp = (appID: string): Promise<void> => call<void>('POST', `/apps/${encodeURIComponent(appID)}/disable`);

export interface StatsDepartment {
  id: number;
  name: string;
  issued: number;
  imported: number;
  collected: number;
  issued_on_month: number;
  synced: number;
  sync_rate: number | null;
  stock_imported: number;
  stock_baseline: number | null;
  stock_progress: number | null;
  held: number;
  held_verified: number;
  usage_rate: number | null;
  verifications: number;
  valid: number;
  invalid: number;
  refused: number;
}

/** StatsTable is a table as the exports write it; rate columns hold fractions. */
export interface StatsTable {
  name: string;
  title: string;
  header: string[];
  rate_columns: number[];
  rows: (string | number | null)[][];
}

export interface StatsReport {
  month: string;
  departments: StatsDepartment[];
  county: StatsDepartment | null;
  tables: StatsTable[];
}

/** statsPath is the county's report, or one department's. */
export const statsPath = (department: number | null): string =>
  department === null ? '/stats/county' : `/stats/departments/${department}`;

export const getStats = (department: number | null, month: string): Promise<StatsReport> =>
  call<StatsReport>('GET', statsPath(department), { query: { month } });

/** statsExportUrl is a download link: the whole workbook, or one table as CSV. */
export function statsExportUrl(department: number | null, month: string, format: 'xlsx' | 'csv', table?: string): string {
  const q = new URLSearchParams({ month, format });
  if (table) q.set('table', table);
  return `/api/v1/console${statsPath(department)}?${q.toString()}`;
}

export const setStockBaseline = (department: number, total: number): Promise<{ department_id: number; total: number }> =>
  call('PUT', `/stats/departments/${department}/stock-baseline`, { body: { total } });

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  object: string;
  detail: string;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  licence?: string;
  from?: string;
  to?: string;
  before?: number;
  page_size?: number;
}

export interface AuditPage {
  items: AuditEntry[];
  next_before: number | null;
  page_size: number;
}

export const searchAudit = (q: AuditQuery): Promise<AuditPage> => call<AuditPage>('GET', '/audit', { query: { ...q } });

export interface ChainCheck {
  id: string;
  state: 'running' | 'intact' | 'broken' | 'failed';
  checked: number;
  total: number;
  bad_seq: number | null;
  why: string;
  started_by: string;
  started_at: string;
  updated_at: string;
}

export const startChainCheck = (): Promise<ChainCheck> => call<ChainCheck>('POST', '/audit/chain-checks');

export const getChainCheck = (id: string): Promise<ChainCheck> => call<ChainCheck>('GET', `/audit/chain-checks/${encodeURIComponent(id)}`);
