// Typed calls of the console API (/api/v1/console, docs/API.md), over the
// one HTTP client of the front end. Every unsafe call carries the
// session's CSRF token; a 401 is returned to the caller, who shows the
// login page (the console has no WeChat login).
import { request, type RequestOptions } from '../api/http';

export type Role = 'platform_admin' | 'department_admin' | 'clerk' | 'seal_admin';

export interface Department {
  id: number;
  name: string;
  uscc: string;
}

export interface Me {
  id: number;
  username: string;
  role: Role;
  department: Department | null;
  totp_enrolled: boolean;
  permissions: string[];
  csrf_token: string;
  idle_timeout_seconds: number;
}

export interface TOTPEnrolment {
  totp_enrolment: { otpauth_uri: string; qr_png: string };
}

export interface ConsoleLicence {
  id: number;
  identifier: string;
  type_code: string;
  type_name: string;
  licence_number: string;
  holder_name: string;
  holder_id_type: string;
  holder_id_number: string;
  version: number;
  status: string;
  annotations: string[];
  issue_date: string;
  valid_from: string;
  valid_until: string | null;
}

export interface LicencePage {
  items: ConsoleLicence[];
  total: number;
  page: number;
  page_size: number;
}

export interface HistoryEntry {
  version: number;
  action: string;
  from_status: string | null;
  to_status: string;
  annotations: string[];
  reason: string;
  actor: string;
  effective_at: string;
  at: string;
}

export interface LicenceDetail extends ConsoleLicence {
  fields: { key: string; label: string; type: string; value: string }[];
  history: HistoryEntry[];
  usage: { at: string; department: string; purpose: string; scope: string; result: string; reason_code: string }[];
  audit: { seq: number; at: string; actor: string; action: string; object: string; detail: string }[];
  actions: string[];
}

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

function call<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = method === 'GET' ? {} : { 'X-CSRF-Token': csrfToken };
  return request<T>(method, `/console${path}`, { ...opts, headers, loginOn401: false });
}

/** login answers Me (logged in) or a TOTP enrolment to confirm with a code. */
export const login = (username: string, password: string, otp: string): Promise<Me | TOTPEnrolment> =>
  call<Me | TOTPEnrolment>('POST', '/session', { body: { username, password, otp } });

export const isEnrolment = (r: Me | TOTPEnrolment): r is TOTPEnrolment => 'totp_enrolment' in r;

export const logout = (): Promise<void> => call<void>('DELETE', '/session');

export const getMe = (): Promise<Me> => call<Me>('GET', '/me');

export const licenceTypes = async (): Promise<{ code: string; name: string }[]> =>
  (await call<{ items: { code: string; name: string }[] }>('GET', '/licence-types')).items;

export const searchLicences = (q: LicenceQuery): Promise<LicencePage> => call<LicencePage>('GET', '/licences', { query: { ...q } });

export const getLicence = (id: string): Promise<LicenceDetail> => call<LicenceDetail>('GET', `/licences/${encodeURIComponent(id)}`);

export const applyAction = (id: string, action: string, reason: string): Promise<LicenceDetail> =>
  call<LicenceDetail>('POST', `/licences/${encodeURIComponent(id)}/events`, { body: { action, reason } });
