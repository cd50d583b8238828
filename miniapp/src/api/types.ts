// Shapes of the BFF's JSON API (docs/API.md).

export type Colour = 'green' | 'amber' | 'red';

export type LicenceStatus = 'valid' | 'suspended' | 'revoked' | 'withdrawn' | 'cancelled' | 'expired' | 'lost';

export type Annotation = 'pledged' | 'mortgaged' | 'inspection_due' | 'under_objection';

export type Role = 'holder' | 'officer' | (string & {});

export interface Me {
  openid_hint: string;
  realname_verified: boolean;
  roles: Role[];
  /** null until the account is bound to a holder. */
  name_masked: string | null;
}

export interface RealnameChallenge {
  challenge_id: string;
  phone_hint: string;
}

export interface LicenceSummary {
  id: string;
  type_code: string;
  type_name: string;
  number_masked: string;
  issuer: string;
  status: LicenceStatus;
  annotations: Annotation[];
  colour: Colour;
  valid_from: string;
  valid_until: string | null;
  days_left: number | null;
}

export interface FaceField {
  key: string;
  label: string;
  /** text, date, id_number, address, photo (value is a data: URI) … */
  type?: string;
  value: string;
  masked: boolean;
}

/** One lifecycle event of a licence (all its versions), as its holder sees it. */
export interface HistoryEntry {
  version: number;
  action: string;
  from_status: string;
  to_status: string;
  annotations: Annotation[];
  reason: string;
  effective_at: string;
}

export interface LicenceDetail extends LicenceSummary {
  fields: FaceField[];
  identifier: string;
  version?: number;
  issued_on: string;
  holder_name_masked: string;
  history?: HistoryEntry[];
  /** The issuing department's electronic seal on this version, checked as a scan checks it. */
  seal?: { name: string; verified: boolean };
}

export type Scope = 'basic' | 'full';

export interface ShowCode {
  token: string;
  /** 8 digits the officer can type instead of scanning; same code, same lifetime. */
  short_code: string;
  content: string;
  qr_png: string;
  expires_at: string;
}

export interface UsageRecord {
  department: string;
  purpose: string;
  /** valid | invalid | refused */
  result: string;
  at: string;
  /** null for a refusal: the licence was not read. */
  colour?: Colour | null;
  reason_code?: string;
}

export interface Reminders {
  enabled: boolean;
}

export interface DisclosedField {
  key: string;
  label: string;
  type?: string;
  value: string;
}

export interface Verification {
  result: 'valid' | 'invalid';
  colour: Colour;
  reason_code: string;
  status: LicenceStatus;
  licence: {
    type_code: string;
    type_name: string;
    number: string;
    fields: DisclosedField[];
    issuer: string;
    valid_until: string | null;
  };
  holder: { name: string; id_number: string };
  verified_at: string;
  /** This officer had verified this code before: verified_at is that first time, no new record. */
  replayed?: boolean;
  /** The issuing department's electronic seal on the version, and whether its signature checked out. */
  seal?: { name: string; verified: boolean };
}

export interface OfficerContext {
  department: { name: string };
  purposes: string[];
  types: { code: string; name: string }[];
}

export interface OfficerVerification {
  licence_type: string;
  /** valid | invalid | refused */
  result: string;
  /** null for a refusal: the licence was not read. */
  colour: Colour | null;
  reason_code: string;
  purpose: string;
  holder_name_masked: string;
  at: string;
}

export interface JsConfig {
  app_id: string;
  timestamp: number | string;
  nonce_str: string;
  signature: string;
}

export interface ServerTime {
  now: string;
}

export interface ItemList<T> {
  items: T[];
}
