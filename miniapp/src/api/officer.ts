import { http } from './http';
import type { ItemList, OfficerContext, OfficerVerification, Verification } from './types';

export const getOfficerContext = (): Promise<OfficerContext> => http.get<OfficerContext>('/officer/context');

export const listOfficerVerifications = async (): Promise<OfficerVerification[]> =>
  (await http.get<ItemList<OfficerVerification>>('/officer/verifications')).items ?? [];

/** verify sends the scanned text (or a bare token) with the purpose of use. */
export const verify = (code: string, purpose: string): Promise<Verification> =>
  http.post<Verification>('/verifications', { code, purpose }, { timeoutMs: 20_000 });
