// The console's Chinese words for the API's codes.

export const roleNames: Record<string, string> = {
  platform_admin: '平台管理员',
  department_admin: '部门管理员',
  clerk: '业务经办人',
  seal_admin: '印章管理员',
};

export const statusNames: Record<string, string> = {
  valid: '有效',
  suspended: '暂扣',
  lost: '挂失',
  revoked: '吊销',
  withdrawn: '撤回',
  cancelled: '注销',
  expired: '过期',
  superseded: '已换新版本',
};

/** statusTag is the Element Plus tag type of a status: colour with words. */
export function statusTag(status: string): 'success' | 'warning' | 'danger' | 'info' {
  if (status === 'valid') return 'success';
  if (status === 'suspended' || status === 'lost') return 'warning';
  if (status === 'expired') return 'info';
  return 'danger';
}

export const actionNames: Record<string, string> = {
  issue: '签发',
  import: '存量导入',
  update: '变更',
  renew: '延续',
  suspend: '暂扣',
  restore: '恢复',
  report_lost: '挂失',
  recover: '解除挂失',
  pledge: '抵押',
  release_pledge: '解除抵押',
  inspection_due: '待年检',
  inspection_passed: '年检通过',
  cancel: '注销',
  withdraw: '撤回',
  revoke: '吊销',
};

/** statusActions are the actions a console form offers: those that need only a reason. */
export const statusActions = [
  'suspend',
  'restore',
  'report_lost',
  'recover',
  'pledge',
  'release_pledge',
  'inspection_due',
  'inspection_passed',
  'cancel',
  'withdraw',
  'revoke',
];

export const resultNames: Record<string, string> = { valid: '核验有效', invalid: '核验无效', refused: '拒绝核验' };

export function formatInstant(s: string): string {
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export const departmentKinds: Record<string, string> = { issuer: '制发单位', relying: '应用单位', admin: '管理单位' };

export const holderKinds: Record<string, string> = { person: '自然人', organisation: '法人或其他组织' };

export const fieldTypes: Record<string, string> = {
  text: '文本',
  date: '日期',
  id_number: '证件号码',
  phone: '电话号码',
  address: '地址',
  photo: '照片',
};

export const maskRules: Record<string, string> = {
  name: '姓名（保留姓）',
  id: '证件号（保留首尾）',
  phone: '电话（保留前三后四）',
  middle: '中间遮盖',
  all: '全部遮盖',
};

export const planActions: Record<string, string> = { created: '新增', updated: '修改', unchanged: '不变', removed: '移除' };
