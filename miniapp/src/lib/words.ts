// Plain words for statuses, annotations and verification reasons, so nobody
// has to know what "暂扣" means to use the service.

import type { Annotation, Colour, LicenceStatus } from '../api/types';

export const statusLabel: Record<LicenceStatus, string> = {
  valid: '有效',
  suspended: '暂扣',
  revoked: '吊销',
  withdrawn: '撤销',
  cancelled: '注销',
  expired: '已过期',
  lost: '已挂失',
  superseded: '已被新版本替代',
};

export const statusMeaning: Record<LicenceStatus, string> = {
  valid: '证照有效，可以正常出示和使用。',
  suspended: '证照被发证机关暂时扣留，暂扣期间不能使用。期满或处理完毕后会恢复。',
  revoked: '证照已被发证机关吊销，不能再使用。',
  withdrawn: '证照已被发证机关撤销，视为自始无效，不能使用。',
  cancelled: '证照已注销，不能再使用。',
  expired: '证照已超过有效期，不能再使用，请尽快到发证机关办理换证。',
  lost: '证照已挂失，不能再使用。如已找回或需补办，请联系发证机关。',
  superseded: '这是证照的旧版本，变更或换证后已由新版本替代，请出示最新版本。',
};

/** Lifecycle actions of the issuing department, as a holder reads them. */
export const actionLabel: Record<string, string> = {
  issue: '发证',
  import: '存量证照归集',
  update: '信息变更（新版本）',
  renew: '换证延期（新版本）',
  suspend: '暂扣',
  restore: '暂扣解除',
  report_lost: '挂失',
  recover: '解除挂失',
  pledge: '办理质押',
  release_pledge: '解除质押',
  inspection_due: '待年检',
  inspection_passed: '年检通过',
  cancel: '注销',
  withdraw: '撤销',
  revoke: '吊销',
};

export const annotationLabel: Record<Annotation, string> = {
  pledged: '质押中',
  mortgaged: '抵押中',
  inspection_due: '待年检',
  under_objection: '异议处理中',
};

export const annotationMeaning: Record<Annotation, string> = {
  pledged: '证照仍然有效，但已办理质押登记，核验时对方会看到这一标注。',
  mortgaged: '证照仍然有效，但已办理抵押登记，核验时对方会看到这一标注。',
  inspection_due: '证照仍然有效，但需按期办理年检，请留意办理时间。',
  under_objection: '证照仍然有效，有人对其内容提出了异议，正在处理中（1 个工作日内标注，5 个工作日内答复）。',
};

/** Verification reason codes (licence.Assess and the BFF's refusals). */
const reasonWords: Record<string, string> = {
  ok: '证照有效。',
  expired: '证照已过有效期，不能作为有效证照使用。',
  not_yet_valid: '证照尚未到生效日期。',
  suspended: '证照处于暂扣状态，暂扣期间无效。',
  revoked: '证照已被吊销。',
  withdrawn: '证照已被撤销。',
  cancelled: '证照已注销。',
  reported_lost: '证照已挂失。',
  lost: '证照已挂失。',
  pledged: '证照有效，但已质押。',
  mortgaged: '证照有效，但已抵押。',
  inspection_due: '证照有效，但待年检。',
  under_objection: '证照有效，但有异议正在处理。',
  not_officer: '您的微信号未登记为核验人员，不能核验。',
  type_not_in_usage_list: '这类证照不在本单位的用证清单中，无权核验。',
  purpose_not_in_usage_list: '用证事由不在本单位的用证清单中，未核验。',
  show_code_invalid: '亮证码无效或已被使用，请持证人刷新后重新出示。',
  signature_missing: '证照没有发证机关的电子印章，不能作为有效证照使用。',
  signature_invalid: '电子印章验证未通过：证照内容与发证机关签章不符，可能被篡改。',
  seal_not_approved: '电子印章未获准用于这类证照。',
  seal_not_active: '签章时电子印章不在启用状态。',
  seal_certificate_invalid: '签章时电子印章的证书不在有效期内。',
  seal_lost: '证照在电子印章挂失之后签章，不能作为有效证照使用。',
  seal_reported_lost: '证照有效，但发证机关的电子印章已于签章后挂失。',
};

export function reasonText(code: string): string {
  return reasonWords[code] ?? '核验未通过。';
}

export const colourLabel: Record<Colour, string> = {
  green: '有效',
  amber: '有效（有标注）',
  red: '无效',
};

/** usageResultLabel reads the result stored in a usage record. */
export function usageResultLabel(result: string): { text: string; colour: Colour } {
  switch (result) {
    case 'valid':
      return { text: '核验有效', colour: 'green' };
    case 'invalid':
      return { text: '核验无效', colour: 'red' };
    case 'refused':
      return { text: '未获准核验', colour: 'amber' };
    default:
      return { text: result || '未知', colour: 'amber' };
  }
}

export function annotationsText(list: readonly Annotation[]): string {
  return list.map((a) => annotationLabel[a] ?? a).join('、');
}
