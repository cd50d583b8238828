import { http } from './http';
import type { ItemList, LicenceDetail, LicenceSummary, Reminders, Scope, ShowCode, UsageRecord } from './types';

const base = (id: string): string => `/licences/${encodeURIComponent(id)}`;

export const listLicences = async (): Promise<LicenceSummary[]> => (await http.get<ItemList<LicenceSummary>>('/licences')).items ?? [];

export const getLicence = (id: string): Promise<LicenceDetail> => http.get<LicenceDetail>(base(id));

export const mintShowCode = (id: string, scope: Scope): Promise<ShowCode> => http.post<ShowCode>(`${base(id)}/show-codes`, { scope });

export const listUsage = async (id: string): Promise<UsageRecord[]> =>
  (await http.get<ItemList<UsageRecord>>(`${base(id)}/usage`)).items ?? [];

export const getReminders = (id: string): Promise<Reminders> => http.get<Reminders>(`${base(id)}/reminders`);

export const setReminders = (id: string, enabled: boolean): Promise<Reminders> => http.put<Reminders>(`${base(id)}/reminders`, { enabled });
