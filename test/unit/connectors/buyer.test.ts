import { describe, expect, it } from 'vitest';
import { languageOfLocale, phoneOf } from '../../../connectors/shared/buyer.js';
import shopify, { parseJsonKeepingBigIds } from '../../../connectors/shopify/index.js';
import { fixture } from './shopify-fixtures.js';

describe("a shop's buyer", () => {
  it.each([
    ['en', 'en'],
    ['en-US', 'en'],
    ['EN_gb', 'en'],
    ['zh-CN', 'zh-CN'],
    ['zh-TW', 'zh-CN'],
    ['zh', 'zh-CN'],
    ['de', undefined],
    ['eng', undefined],
    ['', undefined],
    [null, undefined],
  ])('reads the locale %s as the language %s', (locale, language) => {
    expect(languageOfLocale(locale)).toBe(language);
  });

  it('takes the first phone that is there and fits', () => {
    expect(phoneOf(null, '', '+86 21 5555 0101')).toBe('+86 21 5555 0101');
    expect(phoneOf('9'.repeat(65), '555')).toBe('555');
    expect(phoneOf(undefined)).toBeUndefined();
  });

  it("fills the buyer of a GraphQL order node: the customer's id, the order's e-mail, phone and locale", () => {
    const node = parseJsonKeepingBigIds(fixture('graphql-order-node.json').toString('utf8')) as Record<
      string,
      any
    >;
    node.phone = '+49 30 5555 0101';
    node.customerLocale = 'zh-CN';
    const order = shopify.normalizeOrder(node);
    expect(order.customer).toEqual({
      channelCustomerId: '115310627314723954',
      name: 'John Smith',
      email: 'jon@example.com',
      phone: '+49 30 5555 0101',
      language: 'zh-CN',
    });
  });
});
