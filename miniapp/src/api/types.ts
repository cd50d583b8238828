// Shapes of the BFF's JSON API, named as the H5 uses them. They are
// aliases onto the types generated from the API document
// (docs/openapi/api-v1.yaml, `npm run gen:api`): the document is the one
// source, and the BFF's tests check its answers against it.
import type { components } from './generated/api-v1';

type Schemas = components['schemas'];

export type Colour = Schemas['Colour'];
export type LicenceStatus = Schemas['LicenceStatus'];
export type Annotation = Schemas['Annotation'];
export type Role = Schemas['Role'];
export type Me = Schemas['Me'];
export type RealnameChallenge = Schemas['RealnameChallenge'];
export type LicenceSummary = Schemas['LicenceSummary'];
export type FaceField = Schemas['FaceField'];
/** One lifecycle event of a licence (all its versions), as its holder sees it. */
export type HistoryEntry = Schemas['HistoryEntry'];
export type LicenceDetail = Schemas['LicenceDetail'];
export type Scope = Schemas['Scope'];
export type ShowCode = Schemas['ShowCode'];
export type UsageRecord = Schemas['UsageRecord'];
export type Reminders = Schemas['Reminders'];
export type DisclosedField = Schemas['DisclosedField'];
export type Verification = Schemas['Verification'];
/** The issuing department's electronic seal on a licence version, and whether its signature checked out. */
export type VerifiedSeal = Schemas['VerifiedSeal'];
export type OfficerContext = Schemas['OfficerContext'];
export type OfficerVerification = Schemas['OfficerVerification'];
export type JsConfig = Schemas['JsConfig'];
export type ServerTime = Schemas['ServerTime'];

/** ItemList is the envelope of every list the API answers. */
export interface ItemList<T> {
  items: T[];
}
