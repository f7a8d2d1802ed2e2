import { describe, expect, it } from 'vitest';
import { effectiveRole } from '../../src/auth/authenticator.js';
import { pageLocale } from '../../src/auth/page-texts.js';
import { localPath } from '../../src/http/pages/auth-pages.js';

describe('after a login, next is a local path only', () => {
  it.each([
    ['/account', '/account'],
    ['/console/orders?status=on_hold#top', '/console/orders?status=on_hold#top'],
    ['https://evil.example/', null],
    ['//evil.example/x', null],
    ['/\\evil.example', null],
    ['javascript:alert(1)', null],
    ['account', null],
    ['/a\nb', null],
    ['', null],
  ])('%j -> %j', (next, expected) => {
    expect(localPath(next)).toBe(expected);
  });
});

describe("a user's token acts with at most the user's role", () => {
  it.each([
    ['admin', 'operator', 'operator'],
    ['operator', 'operator', 'operator'],
    ['operator', 'viewer', 'viewer'],
    ['operator', 'admin', 'operator'],
    ['viewer', 'finance', 'viewer'],
    ['finance', 'operator', 'viewer'],
  ] as const)('user %s, token %s -> %s', (user, token, expected) => {
    expect(effectiveRole(user, token)).toBe(expected);
  });
});

describe('the language of the login pages', () => {
  it('is the user’s, else the browser’s first of zh / en, else zh-CN', () => {
    expect(pageLocale('en', 'zh-CN')).toBe('en');
    expect(pageLocale(undefined, 'fr-FR,en;q=0.8,zh;q=0.5')).toBe('en');
    expect(pageLocale(undefined, 'zh-TW,zh;q=0.9')).toBe('zh-CN');
    expect(pageLocale(undefined, undefined)).toBe('zh-CN');
  });
});
