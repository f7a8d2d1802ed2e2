import { describe, expect, it } from 'vitest';
import { classifySmtpError } from '../../src/notify/email-sender.js';
import { statusChangeEvents } from '../../src/notify/events.js';
import { matchesFilters } from '../../src/notify/fan-out.js';
import { messageIdHost, notificationMessageId } from '../../src/notify/message-id.js';
import { parseTemplate, renderTemplate, TemplateError } from '../../src/notify/template-engine.js';
import { Templates } from '../../src/notify/templates.js';

describe('template engine', () => {
  it('fills values, repeats lists, shows sections once and inverted sections when unset', () => {
    const data = { a: { b: 'x' }, list: [{ n: 1 }, { n: 2 }], zero: 0, name: 'top' };
    expect(renderTemplate('{{a.b}}-{{missing}}', data)).toBe('x-');
    expect(renderTemplate('{{#list}}[{{n}}{{name}}]{{/list}}', data)).toBe('[1top][2top]');
    expect(renderTemplate('{{#zero}}no{{/zero}}{{^zero}}yes{{/zero}}{{#a}}{{b}}{{/a}}', data)).toBe('yesx');
    expect(renderTemplate('{{#list.length}}{{list.length}} items{{/list.length}}', data)).toBe('2 items');
  });

  it('escapes values in HTML, not the template itself', () => {
    expect(renderTemplate('<b>{{v}}</b>', { v: `<script>"&'` }, true)).toBe(
      '<b>&lt;script&gt;&quot;&amp;&#39;</b>',
    );
    expect(renderTemplate('{{v}}', { v: '<b>' })).toBe('<b>');
  });

  it('refuses sections that do not close or close the wrong one', () => {
    expect(() => parseTemplate('{{#a}}x')).toThrow(TemplateError);
    expect(() => parseTemplate('{{#a}}{{/b}}')).toThrow(TemplateError);
    expect(() => parseTemplate('{{/a}}')).toThrow(TemplateError);
  });

  it('has every built-in event in both languages', () => {
    const t = new Templates(null);
    const data = {
      order: { externalId: 'X-1', channel: 'api', holdReason: 'unknown_sku' },
      lines: [],
      shipments: [],
    };
    for (const event of ['order.confirmed', 'order.held', 'job.failed', 'document.statement'] as const) {
      const en = t.render(event, 'en', data);
      const zh = t.render(event, 'zh-CN', data);
      expect(en.subject).not.toBe(zh.subject);
      expect(zh.text).toContain('您好');
      expect(en.html).toContain('<html lang="en">');
    }
  });
});

describe('status changes as events', () => {
  it('maps the target status, the first departure from received, and credit holds', () => {
    expect(
      statusChangeEvents(7, { orderId: 1, from: 'received', to: 'confirmed' }, null).map((e) => [
        e.event,
        e.sourceKey,
      ]),
    ).toEqual([
      ['order.received', 'order:1:received'],
      ['order.confirmed', 'outbox:7'],
    ]);
    expect(
      statusChangeEvents(8, { orderId: 1, from: 'received', to: 'on_hold' }, 'credit_limit').map(
        (e) => e.event,
      ),
    ).toEqual(['order.received', 'order.held', 'order.credit_hold']);
    expect(statusChangeEvents(9, { orderId: 1, from: 'confirmed', to: 'completed' }, null)).toEqual([]);
  });
});

describe('SMTP failures', () => {
  it.each([
    [{ responseCode: 550, command: 'RCPT TO', response: '550 no such mailbox' }, true],
    [{ responseCode: 554, command: 'DATA', response: '554 rejected' }, true],
    [{ responseCode: 451, command: 'DATA', response: '451 try again' }, false],
    [{ responseCode: 535, command: 'AUTH PLAIN', response: '535 bad credentials' }, false],
    [{ code: 'ECONNREFUSED' }, false],
  ])('%o permanent: %s', (err, permanent) => {
    expect(classifySmtpError(Object.assign(new Error('failed'), err)).permanent).toBe(permanent);
  });

  it.each([
    [{ responseCode: 550, command: 'RCPT TO', response: '550 no such mailbox' }, true],
    [{ responseCode: 551, command: 'RCPT TO', response: '551 user not local' }, true],
    [{ responseCode: 553, command: 'RCPT TO', response: '553 mailbox name not allowed' }, true],
    [{ responseCode: 550, command: 'DATA', response: '550 5.1.1 unknown user' }, true],
    [{ responseCode: 554, command: 'DATA', response: '554 5.7.1 refused as spam' }, false],
    [{ responseCode: 550, command: 'DATA', response: '550 message rejected' }, false],
    [{ responseCode: 552, command: 'DATA', response: '552 5.3.4 message too big' }, false],
    [{ responseCode: 451, command: 'RCPT TO', response: '451 4.1.1 try later' }, false],
  ])('%o suppresses the address: %s', (err, suppress) => {
    expect(classifySmtpError(Object.assign(new Error('failed'), err)).suppressAddress).toBe(suppress);
  });
});

describe('Message-IDs', () => {
  it('are the same for the same key and carry the From domain', () => {
    const host = messageIdHost('Shop <orders@Shop.Example>');
    expect(host).toBe('shop.example');
    expect(notificationMessageId('outbox:1|3|email|a@b', host)).toBe(
      notificationMessageId('outbox:1|3|email|a@b', host),
    );
    expect(notificationMessageId('outbox:1|3|email|a@b', host)).not.toBe(
      notificationMessageId('outbox:2|3|email|a@b', host),
    );
    expect(notificationMessageId('k', host)).toMatch(/^<n\.[A-Za-z0-9_-]{27}@shop\.example>$/);
  });
});

describe('rule filters', () => {
  const order = {
    id: 1,
    channel: 'shopify:3',
    customerId: 5,
    customerGroup: 'Wholesale',
    holdReason: 'credit_limit',
    email: null,
    phone: null,
    language: null,
    timeZone: null,
  };
  it.each([
    [{}, true],
    [{ channel: 'shopify:3' }, true],
    [{ channel: 'api' }, false],
    [{ customerGroup: 'wholesale' }, true],
    [{ customerGroup: 'retail' }, false],
    [{ holdReason: 'credit_limit', channel: 'shopify:3' }, true],
    [{ holdReason: 'unknown_sku' }, false],
  ])('%o lets the order through: %s', (filters, pass) => {
    expect(matchesFilters(filters, order, {})).toBe(pass);
  });
  it('filters on an order fact refuse an event of no order, except the channel its data names', () => {
    expect(matchesFilters({ customerGroup: 'retail' }, null, {})).toBe(false);
    expect(matchesFilters({ channel: 'shopify:3' }, null, { channel: 'shopify:3' })).toBe(true);
  });
  it("takes the hold reason of the event (the time of the hold) over the order's by now", () => {
    const held = { from: 'received', to: 'on_hold', holdReason: 'unknown_sku' };
    expect(matchesFilters({ holdReason: 'unknown_sku' }, order, held)).toBe(true);
    expect(matchesFilters({ holdReason: 'credit_limit' }, order, held)).toBe(false);
  });
});
