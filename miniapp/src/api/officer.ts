import { http } from './http';
import type { ItemList, OfficerContext, OfficerVerification, Verification } from './types';

export const getOfficerContext = (): Promise<OfficerContext> => http.get<OfficerContext>('/officer/context');

export const listOfficerVerifications = async (): Promise<OfficerVerification[]> =>
  (await http.get<ItemList<OfficerVerification>>('/officer/verifications')).items ?? [];

/** verify sends the scanned text (or a bare token) with the purpose of use. */
export const verify = (code: string, purpose: string): Promise<Verification> =>
  http.post<Verification>('/verifications', { code, purpose }, { timeoutMs: 20_000 });

/** OfficerInvite is an invitation from a department's console, before it is accepted. */
export interface OfficerInvite {
  department: string;
  name: string;
  expires_at?: string;
}

export const getOfficerInvite = (token: string): Promise<OfficerInvite> =>
  http.get<OfficerInvite>(`/officer-invites/${encodeURIComponent(token)}`);

/** acceptOfficerInvite binds the logged-in WeChat account as an officer of the inviting department. */
export const acceptOfficerInvite = (token: string): Promise<OfficerInvite> =>
  http.post<OfficerInvite>(`/officer-invites/${encodeURIComponent(token)}/accept`);
