import { http } from './http';
import type { Me, RealnameChallenge } from './types';

export const getMe = (): Promise<Me> => http.get<Me>('/me');

export const startRealname = (name: string, idNumber: string): Promise<RealnameChallenge> =>
  http.post<RealnameChallenge>('/me/realname', { name, id_number: idNumber });

export const confirmRealname = (challengeId: string, code: string): Promise<unknown> =>
  http.post<unknown>('/me/realname/confirm', { challenge_id: challengeId, code });

export const logout = (): Promise<unknown> => http.post<unknown>('/auth/logout', {}, { loginOn401: false });
