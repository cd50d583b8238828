import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryHistory, createRouter, type RouteLocationNormalized } from 'vue-router';
import { guard, routes } from './router';
import { getMe } from './api/me';
import { ApiError } from './api/http';
import { appState } from './stores/app';
import { resetSession } from './stores/session';
import { citizen, officer } from './test/helpers';

vi.mock('./api/me', () => ({ getMe: vi.fn() }));

const router = createRouter({ history: createMemoryHistory(), routes });
const to = (path: string): RouteLocationNormalized => router.resolve(path) as RouteLocationNormalized;

describe('route guard', () => {
  beforeEach(() => {
    resetSession();
    vi.mocked(getMe).mockReset();
    appState.loggingIn = false;
    appState.loginBlocked = false;
    appState.fatal = null;
  });

  it('should hold the page while login starts for a visitor without a session', async () => {
    const err = new ApiError(401, 'not_logged_in');
    err.loginStarted = true;
    vi.mocked(getMe).mockRejectedValue(err);
    expect(await guard(to('/v/AbCdEfGhIjKlMnOpQrStUv'))).toBe(false);
    expect(appState.loggingIn).toBe(true);
    expect(appState.pending).toBe('/v/AbCdEfGhIjKlMnOpQrStUv');
  });

  it('should explain when login keeps failing', async () => {
    vi.mocked(getMe).mockRejectedValue(new ApiError(401, 'not_logged_in'));
    expect(await guard(to('/licences'))).toBe(false);
    expect(appState.loginBlocked).toBe(true);
  });

  it('should keep a start-up failure to show it with a retry', async () => {
    vi.mocked(getMe).mockRejectedValue(new ApiError(0, 'network_error'));
    expect(await guard(to('/licences'))).toBe(false);
    expect(appState.fatal).toBeInstanceOf(ApiError);
  });

  it('should send an unbound citizen to real-name binding and back', async () => {
    vi.mocked(getMe).mockResolvedValue({ ...citizen, realname_verified: false });
    expect(await guard(to('/licences/12'))).toEqual({ name: 'realname', query: { next: '/licences/12' } });
  });

  it('should keep officer pages to officers', async () => {
    vi.mocked(getMe).mockResolvedValue(citizen);
    expect(await guard(to('/officer/scan'))).toEqual({ name: 'not-officer' });
  });

  it('should let anyone logged in open a show-code link', async () => {
    vi.mocked(getMe).mockResolvedValue({ ...citizen, realname_verified: false });
    expect(await guard(to('/v/AbCdEfGhIjKlMnOpQrStUv'))).toBe(true);
  });

  it('should open the right home for each account', async () => {
    vi.mocked(getMe).mockResolvedValueOnce(citizen);
    expect(await guard(to('/'))).toEqual({ name: 'licences' });
    resetSession();
    vi.mocked(getMe).mockResolvedValueOnce(officer);
    expect(await guard(to('/'))).toEqual({ name: 'scan' });
    resetSession();
    vi.mocked(getMe).mockResolvedValueOnce({ ...citizen, realname_verified: false });
    expect(await guard(to('/'))).toEqual({ name: 'realname' });
  });

  it('should skip binding for a bound citizen and follow only local next paths', async () => {
    vi.mocked(getMe).mockResolvedValue(citizen);
    expect(await guard(to('/realname?next=%2Flicences%2F12'))).toBe('/licences/12');
    expect(await guard(to('/realname?next=%2F%2Fevil.example'))).toEqual({ name: 'licences' });
  });

  it('should load the account once for many navigations', async () => {
    vi.mocked(getMe).mockResolvedValue(citizen);
    await guard(to('/licences'));
    await guard(to('/licences/12'));
    expect(getMe).toHaveBeenCalledTimes(1);
  });

  it('should let the not-found page open without login', async () => {
    expect(await guard(to('/no/such/page'))).toBe(true);
    expect(getMe).not.toHaveBeenCalled();
  });
});
