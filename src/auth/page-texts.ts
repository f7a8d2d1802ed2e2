import type { Locale } from './user-store.js';

/** The login and account pages' words, in both languages. */
export interface AuthTexts {
  lang: string;
  loginTitle: string;
  email: string;
  password: string;
  logIn: string;
  wrongLogin: string;
  blocked: (seconds: number) => string;
  accountTitle: string;
  signedInAs: string;
  name: string;
  role: string;
  roles: Record<string, string>;
  changePassword: string;
  currentPassword: string;
  newPassword: string;
  newPasswordHint: (min: number) => string;
  save: string;
  passwordChanged: string;
  wrongCurrent: string;
  weakPassword: (min: number) => string;
  logOut: string;
  logoutEverywhere: string;
  logoutEverywhereHint: string;
  logoutEverywhereButton: string;
}

export const AUTH_TEXTS: Record<Locale, AuthTexts> = {
  en: {
    lang: 'en',
    loginTitle: 'Log in to stockbridge',
    email: 'E-mail address',
    password: 'Password',
    logIn: 'Log in',
    wrongLogin: 'The e-mail address or the password is not right.',
    blocked: (s) => `Too many failed attempts. Try again in ${Math.ceil(s / 60)} minute(s).`,
    accountTitle: 'Your account',
    signedInAs: 'Logged in as',
    name: 'Name',
    role: 'Role',
    roles: { admin: 'Administrator', operator: 'Operator', finance: 'Finance', viewer: 'Viewer' },
    changePassword: 'Change password',
    currentPassword: 'Current password',
    newPassword: 'New password',
    newPasswordHint: (n) => `At least ${n} characters.`,
    save: 'Save password',
    passwordChanged: 'Your password was changed. Your other sessions were logged out.',
    wrongCurrent: 'The current password is not right.',
    weakPassword: (n) => `The new password must have at least ${n} characters.`,
    logOut: 'Log out',
    logoutEverywhere: 'Log out everywhere',
    logoutEverywhereHint:
      'Ends every session of yours, on every device, this one too. API tokens stay valid.',
    logoutEverywhereButton: 'Log out on all devices',
  },
  'zh-CN': {
    lang: 'zh-CN',
    loginTitle: '登录 stockbridge',
    email: '电子邮件地址',
    password: '密码',
    logIn: '登录',
    wrongLogin: '电子邮件地址或密码不正确。',
    blocked: (s) => `失败次数过多，请在 ${Math.ceil(s / 60)} 分钟后重试。`,
    accountTitle: '我的账户',
    signedInAs: '当前登录',
    name: '姓名',
    role: '角色',
    roles: { admin: '管理员', operator: '运营', finance: '财务', viewer: '只读' },
    changePassword: '修改密码',
    currentPassword: '当前密码',
    newPassword: '新密码',
    newPasswordHint: (n) => `至少 ${n} 个字符。`,
    save: '保存密码',
    passwordChanged: '密码已修改，您在其他设备上的会话已退出。',
    wrongCurrent: '当前密码不正确。',
    weakPassword: (n) => `新密码至少需要 ${n} 个字符。`,
    logOut: '退出登录',
    logoutEverywhere: '在所有设备上退出',
    logoutEverywhereHint: '结束您在所有设备上的全部会话（包括当前会话）。API 令牌仍然有效。',
    logoutEverywhereButton: '在所有设备上退出登录',
  },
};

/** The page language: the user's own, else the browser's first of zh-CN / en, else zh-CN. */
export function pageLocale(userLocale: string | undefined, acceptLanguage: string | undefined): Locale {
  if (userLocale === 'en' || userLocale === 'zh-CN') return userLocale;
  for (const part of (acceptLanguage ?? '').split(',')) {
    const tag = (part.split(';')[0] ?? '').trim().toLowerCase();
    if (tag.startsWith('zh')) return 'zh-CN';
    if (tag.startsWith('en')) return 'en';
  }
  return 'zh-CN';
}
