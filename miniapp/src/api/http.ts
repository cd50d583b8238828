// The one HTTP client of the app: JSON in and out, the session cookie sent by
// the browser, errors turned into ApiError values, and an expired session sent
// back through WeChat login to the page the user was on.

export const API_BASE = '/api/v1';

/** ErrorDetail is one refused field of a 422 answer. */
export interface ErrorDetail {
  field: string;
  code: string;
  message: string;
}

/** ApiError is every failure a call can end with; `code` is the BFF's public code. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly reasonCode: string;
  readonly serverMessage: string;
  /** details name the refused fields of a 422 (validation_failed). */
  readonly details: ErrorDetail[];
  /** loginStarted is true when this 401 already sent the browser to login. */
  loginStarted = false;

  constructor(status: number, code: string, serverMessage = '', reasonCode = '', details: ErrorDetail[] = []) {
    super(`${status} ${code}`);
    this.details = details;
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.serverMessage = serverMessage;
    this.reasonCode = reasonCode;
  }
}

/** Codes the client itself produces when no answer came from the BFF. */
export const NETWORK_ERROR = 'network_error';
export const TIMEOUT = 'timeout';
export const BAD_RESPONSE = 'bad_response';
export const NOT_LOGGED_IN = 'not_logged_in';

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** When false a 401 is returned to the caller instead of starting login. */
  loginOn401?: boolean;
  /** Extra request headers (the console's CSRF token). */
  headers?: Record<string, string>;
}

type DateListener = (serverDate: number, sentAt: number, receivedAt: number) => void;
const dateListeners = new Set<DateListener>();

/** onServerDate lets the clock sync learn from every response's Date header. */
export function onServerDate(fn: DateListener): () => void {
  dateListeners.add(fn);
  return () => dateListeners.delete(fn);
}

// The route being navigated to, if any: a 401 during navigation should come
// back to where the user was going, not where they came from.
let navigationTarget: string | null = null;

export function setNavigationTarget(path: string | null): void {
  navigationTarget = path;
}

function currentPath(): string {
  if (navigationTarget) return navigationTarget;
  const { pathname, search, hash } = window.location;
  return pathname + search + hash;
}

/** loginUrl is where the BFF starts WeChat OAuth and returns to `next`. */
export function loginUrl(next: string): string {
  const safe = next.startsWith('/') && !next.startsWith('//') ? next : '/';
  return `${API_BASE}/auth/wechat/login?next=${encodeURIComponent(safe)}`;
}

const LOOP_KEY = 'elic.loginRedirects';
const LOOP_WINDOW_MS = 60_000;
const LOOP_MAX = 3;

/**
 * redirectToLogin sends the browser to WeChat login. It refuses after a few
 * tries within a minute, which happens when the cookie cannot be kept, so the
 * user sees an explanation instead of a page that reloads forever.
 */
export function redirectToLogin(next: string = currentPath(), force = false): boolean {
  const now = Date.now();
  let recent: number[] = [];
  try {
    const parsed: unknown = JSON.parse(sessionStorage.getItem(LOOP_KEY) ?? '[]');
    if (Array.isArray(parsed)) recent = parsed.filter((t): t is number => typeof t === 'number' && now - t < LOOP_WINDOW_MS);
  } catch {
    recent = [];
  }
  if (force) recent = [];
  if (recent.length >= LOOP_MAX) return false;
  recent.push(now);
  try {
    sessionStorage.setItem(LOOP_KEY, JSON.stringify(recent));
  } catch {
    // Private mode: no loop protection, login still works.
  }
  window.location.assign(loginUrl(next));
  return true;
}

function buildUrl(path: string, query?: RequestOptions['query']): string {
  const url = API_BASE + path;
  if (!query) return url;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined) params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${url}?${qs}` : url;
}

/**
 * A GET the page's boot script (scripts/boot.mjs, inlined in index.html)
 * sent while this code was still downloading, kept under its URL. It asks
 * with the same headers and credentials as request() below.
 */
interface EarlyResponse {
  sentAt: number;
  receivedAt?: number;
  response: Promise<Response>;
}

declare global {
  interface Window {
    elicEarly?: Record<string, EarlyResponse>;
  }
}

/** takeEarly hands out a GET the boot script already sent, once. */
function takeEarly(method: string, url: string): EarlyResponse | undefined {
  const early = window.elicEarly;
  if (method !== 'GET' || !early) return undefined;
  const e = early[url];
  delete early[url];
  return e;
}

/**
 * dropEarlyResponses forgets what the first screen did not take: a later
 * page (after a redirect or real-name binding) must ask afresh.
 */
export function dropEarlyResponses(): void {
  delete window.elicEarly;
}

/** untilAborted is p, or the signal's reason once it aborts first (fetch does this itself). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    p.then(resolve, reject);
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** errorFromBody reads `{"error":{"code","message"},"reason_code"?}` into an ApiError. */
export function errorFromBody(status: number, body: unknown): ApiError {
  let code = '';
  let message = '';
  let reason = '';
  const details: ErrorDetail[] = [];
  if (isRecord(body)) {
    reason = str(body.reason_code);
    if (isRecord(body.error)) {
      code = str(body.error.code);
      message = str(body.error.message);
      reason = reason || str(body.error.reason_code);
      if (Array.isArray(body.error.details)) {
        for (const d of body.error.details) {
          if (isRecord(d)) details.push({ field: str(d.field), code: str(d.code), message: str(d.message) });
        }
      }
    }
  }
  if (!code) code = status === 401 ? NOT_LOGGED_IN : `http_${status}`;
  return new ApiError(status, code, message, reason || code, details);
}

/** request performs one API call and resolves with the decoded JSON body. */
export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const controller = new AbortController();
  const timeout = setTimeout(() => controller.abort(TIMEOUT), opts.timeoutMs ?? 15_000);
  const onOuterAbort = (): void => controller.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onOuterAbort);

  const headers: Record<string, string> = { ...opts.headers, Accept: 'application/json' };
  const init: RequestInit = { method, headers, credentials: 'same-origin', signal: controller.signal };
  if (opts.body instanceof FormData) {
    // A file upload (the console's import): the browser sets the
    // multipart type with its boundary.
    init.body = opts.body;
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }

  const url = buildUrl(path, opts.query);
  const early = takeEarly(method, url);
  const sentAt = early?.sentAt ?? Date.now();
  let res: Response;
  try {
    res = await (early ? untilAborted(early.response, controller.signal) : fetch(url, init));
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    const timedOut = controller.signal.aborted && controller.signal.reason === TIMEOUT;
    throw new ApiError(0, timedOut ? TIMEOUT : NETWORK_ERROR);
  } finally {
    clearTimeout(timeout);
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
  const receivedAt = early?.receivedAt ?? Date.now();

  const date = res.headers.get('Date');
  if (date) {
    const ms = Date.parse(date);
    if (!Number.isNaN(ms)) dateListeners.forEach((fn) => fn(ms, sentAt, receivedAt));
  }

  let body: unknown = null;
  const text = await res.text().catch(() => '');
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }

  if (!res.ok) {
    const err = errorFromBody(res.status, body);
    if (res.status === 401 && opts.loginOn401 !== false) err.loginStarted = redirectToLogin();
    throw err;
  }
  if (body === null && res.status !== 204 && text) throw new ApiError(res.status, BAD_RESPONSE);
  return body as T;
}

export const http = {
  get: <T>(path: string, opts?: RequestOptions): Promise<T> => request<T>('GET', path, opts),
  post: <T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T> => request<T>('POST', path, { ...opts, body: body ?? {} }),
  put: <T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T> => request<T>('PUT', path, { ...opts, body: body ?? {} }),
};
