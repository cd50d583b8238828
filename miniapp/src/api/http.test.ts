import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { boot } from '../../scripts/boot.mjs';
import { ApiError, dropEarlyResponses, http, loginUrl, onServerDate, setNavigationTarget } from './http';

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? '' : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

describe('http client', () => {
  let assign: ReturnType<typeof vi.fn<(url: string | URL) => void>>;

  beforeEach(() => {
    sessionStorage.clear();
    assign = vi.fn<(url: string | URL) => void>();
    vi.spyOn(window.location, 'assign').mockImplementation(assign);
    setNavigationTarget(null);
  });
  afterEach(() => {
    setNavigationTarget(null);
  });

  it('should send JSON with the session cookie and decode the answer', async () => {
    const fetchMock = vi.fn(async () => jsonResponse(200, { challenge_id: 'c1', phone_hint: '138****0001' }));
    vi.stubGlobal('fetch', fetchMock);
    const got = await http.post<{ challenge_id: string }>('/me/realname', { name: '张三' });
    expect(got.challenge_id).toBe('c1');
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/v1/me/realname');
    expect(init.method).toBe('POST');
    expect(init.credentials).toBe('same-origin');
    expect(init.body).toBe(JSON.stringify({ name: '张三' }));
  });

  it('should encode query parameters', async () => {
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the parameter types mock.calls
    const fetchMock = vi.fn(async (_url: string) => jsonResponse(200, { app_id: 'wx' }));
    vi.stubGlobal('fetch', fetchMock);
    await http.get('/wechat/js-config', { query: { url: 'http://a/b?c=1&d=2' } });
    expect(fetchMock.mock.calls[0]?.[0]).toBe('/api/v1/wechat/js-config?url=http%3A%2F%2Fa%2Fb%3Fc%3D1%26d%3D2');
  });

  it('should turn an error body into an ApiError', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => jsonResponse(404, { error: { code: 'show_code_invalid', message: 'm' } })),
    );
    const err = await http.post('/verifications', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(404);
    expect((err as ApiError).code).toBe('show_code_invalid');
    expect(assign).not.toHaveBeenCalled();
  });

  it('should send an expired session to login and back to the same route', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => jsonResponse(401, { error: { code: 'not_logged_in', message: 'm' } })),
    );
    window.history.replaceState(null, '', '/licences/12/show?x=1');
    const err = (await http.get('/licences/12').catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe('not_logged_in');
    expect(err.loginStarted).toBe(true);
    expect(assign).toHaveBeenCalledWith('/api/v1/auth/wechat/login?next=%2Flicences%2F12%2Fshow%3Fx%3D1');
  });

  it('should return to the route being opened when a 401 comes during navigation', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => jsonResponse(401, null)),
    );
    window.history.replaceState(null, '', '/licences');
    setNavigationTarget('/v/abcdefghijklmnopqrstuv');
    await http.get('/me').catch(() => undefined);
    expect(assign).toHaveBeenCalledWith(loginUrl('/v/abcdefghijklmnopqrstuv'));
  });

  it('should stop sending the browser to login when the cookie never sticks', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => jsonResponse(401, null)),
    );
    for (let i = 0; i < 5; i++) await http.get('/me').catch(() => undefined);
    expect(assign).toHaveBeenCalledTimes(3);
    const err = (await http.get('/me').catch((e: unknown) => e)) as ApiError;
    expect(err.loginStarted).toBe(false);
  });

  it('should not follow a next that leaves the site', () => {
    expect(loginUrl('//evil.example/x')).toBe('/api/v1/auth/wechat/login?next=%2F');
    expect(loginUrl('https://evil.example/')).toBe('/api/v1/auth/wechat/login?next=%2F');
  });

  it('should report network failures as network_error', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))),
    );
    const err = (await http.get('/licences').catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe('network_error');
    expect(err.status).toBe(0);
  });

  it('should report a server that does not answer in time as timeout', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(
        (_url: string, init: RequestInit) =>
          new Promise<Response>((_resolve, reject) => {
            init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
          }),
      ),
    );
    const err = (await http.get('/licences', { timeoutMs: 20 }).catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe('timeout');
  });

  it('should pass the Date header to clock listeners', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => jsonResponse(200, {}, { Date: 'Wed, 12 Mar 2025 08:00:00 GMT' })),
    );
    const seen: number[] = [];
    const off = onServerDate((ms) => seen.push(ms));
    await http.get('/me');
    off();
    expect(seen).toEqual([Date.parse('2025-03-12T08:00:00Z')]);
  });
});

describe('responses the boot script asked for', () => {
  const routes: Parameters<typeof boot>[1] = [
    ['^/licences/?$', ['assets/LicencesPage-x.js'], ['/api/v1/licences']],
    ['^/officer/scan/?$', ['assets/ScanPage-x.js'], ['/api/v1/officer/context']],
    ['^/me/?$', ['assets/shared-x.js', 'assets/shared-x.css', 'assets/MePage-x.js'], []],
  ];

  afterEach(() => {
    dropEarlyResponses();
    document.head.innerHTML = '';
  });

  function fetchByUrl(): ReturnType<typeof vi.fn<(url: string, init?: RequestInit) => Promise<Response>>> {
    const fetchMock = vi.fn(async (url: string) => jsonResponse(200, { url }));
    vi.stubGlobal('fetch', fetchMock);
    return fetchMock;
  }

  it('should be taken once by the client instead of asking again', async () => {
    const fetchMock = fetchByUrl();
    boot('/assets/style-x.css', routes, '/licences');
    expect(fetchMock.mock.calls.map((c) => c[0])).toEqual(['/api/v1/me', '/api/v1/licences']);
    // The same request the client would send: JSON, with the session cookie.
    const init = fetchMock.mock.calls[0]?.[1];
    expect(init?.credentials).toBe('same-origin');
    expect(init?.headers).toEqual({ Accept: 'application/json' });

    expect(await http.get('/me')).toEqual({ url: '/api/v1/me' });
    expect(await http.get('/licences')).toEqual({ url: '/api/v1/licences' });
    expect(fetchMock).toHaveBeenCalledTimes(2);
    // Taken once: the next call is a new request.
    await http.get('/me');
    expect(fetchMock).toHaveBeenCalledTimes(3);
  });

  it('should preload the route being opened and only its data', () => {
    const fetchMock = fetchByUrl();
    boot('/assets/style-x.css', routes, '/officer/scan');
    expect(fetchMock.mock.calls.map((c) => c[0])).toEqual(['/api/v1/me', '/api/v1/officer/context']);
    const preloads = [...document.head.querySelectorAll('link[rel="modulepreload"]')].map((l) => l.getAttribute('href'));
    expect(preloads).toEqual(['/assets/ScanPage-x.js']);
  });

  it('should add the stylesheets from script and tell when all have arrived', async () => {
    fetchByUrl();
    boot('/assets/style-x.css', routes, '/me');
    const links = [...document.head.querySelectorAll<HTMLLinkElement>('link[rel="stylesheet"]')];
    expect(links.map((l) => l.getAttribute('href'))).toEqual(['/assets/style-x.css', '/assets/shared-x.css']);
    const preloads = [...document.head.querySelectorAll('link[rel="modulepreload"]')].map((l) => l.getAttribute('href'));
    expect(preloads).toEqual(['/assets/shared-x.js', '/assets/MePage-x.js']);
    let arrived = false;
    void window.elicStyles?.then(() => (arrived = true));
    links[0]?.dispatchEvent(new Event('load'));
    await Promise.resolve();
    expect(arrived).toBe(false);
    // A stylesheet that fails still lets the page show.
    links[1]?.dispatchEvent(new Event('error'));
    await expect(window.elicStyles).resolves.toBeDefined();
  });

  it('should not hand an early response to a POST', async () => {
    const fetchMock = fetchByUrl();
    boot('/assets/style-x.css', routes, '/licences');
    await http.post('/licences', {});
    expect(fetchMock).toHaveBeenCalledTimes(3);
    expect(await http.get('/licences')).toEqual({ url: '/api/v1/licences' });
    expect(fetchMock).toHaveBeenCalledTimes(3);
  });

  it('should ask afresh once the first screen is done', async () => {
    const fetchMock = fetchByUrl();
    boot('/assets/style-x.css', routes, '/licences');
    dropEarlyResponses();
    await http.get('/licences');
    expect(fetchMock).toHaveBeenCalledTimes(3);
  });

  it('should time out an early request that never answers', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(() => new Promise<Response>(() => {})),
    );
    boot('/assets/style-x.css', routes, '/licences');
    const err = (await http.get('/me', { timeoutMs: 20 }).catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe('timeout');
  });

  it('should turn an early 401 into login like any other', async () => {
    const assign = vi.fn<(url: string | URL) => void>();
    vi.spyOn(window.location, 'assign').mockImplementation(assign);
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => jsonResponse(401, { error: { code: 'not_logged_in', message: 'm' } })),
    );
    window.history.replaceState(null, '', '/licences');
    boot('/assets/style-x.css', routes, '/licences');
    const err = (await http.get('/me').catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe('not_logged_in');
    expect(assign).toHaveBeenCalledWith(loginUrl('/licences'));
  });
});
