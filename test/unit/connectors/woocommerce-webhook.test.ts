import { describe, expect, it } from 'vitest';
import woocommerce from '../../../connectors/woocommerce/index.js';
import { fixture, settings, sign, WEBHOOK_SECRET } from '../../fixtures/woocommerce/helpers.js';

/** The bytes as WooCommerce sends them: `trim(wp_json_encode($payload))`, `\/` and `\u00e3` escapes. */
const wire = fixture('order-723-webhook-body.txt');
const order727 = fixture('order-727.json');

function headers(body: Buffer, extra: Record<string, string | undefined> = {}) {
  return {
    'content-type': 'application/json',
    'user-agent': 'WooCommerce/9.3.3 Hookshot (WordPress/6.6.2)',
    'x-wc-webhook-source': 'https://shop.example.com/',
    'x-wc-webhook-topic': 'order.updated',
    'x-wc-webhook-resource': 'order',
    'x-wc-webhook-event': 'updated',
    'x-wc-webhook-signature': sign(body),
    'x-wc-webhook-id': '14',
    'x-wc-webhook-delivery-id': '8e2f7c09a4d1b3e5f6a7b8c9d0e1f2a3',
    ...extra,
  };
}

const PING = Buffer.from('webhook_id=14');
const pingHeaders = {
  'content-type': 'application/x-www-form-urlencoded; charset=UTF-8',
  'user-agent': 'WooCommerce/9.3.3 Hookshot (WordPress/6.6.2)',
};

describe('woocommerce verifyWebhook: signatures', () => {
  it('accepts a correctly signed delivery of the exact bytes sent, and reads its envelope', () => {
    expect(wire.toString()).toContain('"Jo\\u00e3o"');
    const r = woocommerce.verifyWebhook(wire, headers(wire), settings());
    expect(r.valid).toBe(true);
    if (!r.valid) return;
    expect(r.envelope).toMatchObject({
      topic: 'order.updated',
      kind: 'order.upsert',
      deliveryId: expect.stringMatching(/^8e2f7c09a4d1b3e5f6a7b8c9d0e1f2a3:sha256:[0-9a-f]{64}$/),
      externalOrderId: '723',
    });
    expect((r.envelope.payload as { billing: { first_name: string } }).billing.first_name).toBe('João');
  });

  it('rejects a signature made with the wrong secret', () => {
    const r = woocommerce.verifyWebhook(
      wire,
      headers(wire, { 'x-wc-webhook-signature': sign(wire, 'not-the-secret') }),
      settings(),
    );
    expect(r).toEqual({ valid: false, reason: 'invalid_signature' });
  });

  it('rejects a tampered body', () => {
    const tampered = Buffer.from(wire.toString().replace('"total":"39.00"', '"total":"0.01"'));
    expect(tampered.equals(wire)).toBe(false);
    expect(woocommerce.verifyWebhook(tampered, headers(wire), settings())).toEqual({
      valid: false,
      reason: 'invalid_signature',
    });
  });

  it('rejects the same JSON re-serialised (the signature covers the bytes, not the data)', () => {
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(wire.toString())));
    expect(reserialised.equals(wire)).toBe(false);
    expect(woocommerce.verifyWebhook(reserialised, headers(wire), settings())).toEqual({
      valid: false,
      reason: 'invalid_signature',
    });
  });

  it('rejects a missing signature header', () => {
    expect(
      woocommerce.verifyWebhook(wire, headers(wire, { 'x-wc-webhook-signature': undefined }), settings()),
    ).toEqual({ valid: false, reason: 'missing_signature' });
    expect(
      woocommerce.verifyWebhook(wire, headers(wire, { 'x-wc-webhook-signature': '' }), settings()),
    ).toEqual({ valid: false, reason: 'missing_signature' });
  });

  it('rejects signatures of another length without throwing', () => {
    const good = sign(wire);
    for (const bad of [good.slice(0, -4), `${good}AAAA`, 'x', good.replace(/=+$/, '')]) {
      expect(
        woocommerce.verifyWebhook(wire, headers(wire, { 'x-wc-webhook-signature': bad }), settings()),
      ).toEqual({ valid: false, reason: 'invalid_signature' });
    }
  });

  it('reads header names case-insensitively', () => {
    const r = woocommerce.verifyWebhook(
      order727,
      {
        'X-WC-Webhook-Signature': sign(order727),
        'X-WC-Webhook-Topic': 'order.created',
        'X-WC-Webhook-Delivery-ID': 'd-1',
      },
      settings(),
    );
    expect(r).toMatchObject({
      valid: true,
      envelope: { kind: 'order.upsert', deliveryId: expect.stringMatching(/^d-1:sha256:/) },
    });
  });

  it('rejects a correctly signed body that is not JSON', () => {
    const junk = Buffer.from('{"id": 1,');
    expect(
      woocommerce.verifyWebhook(junk, headers(junk, { 'x-wc-webhook-signature': sign(junk) }), settings()),
    ).toEqual({ valid: false, reason: 'invalid_json' });
  });

  it('rejects a signed order topic whose body has no order id', () => {
    const body = Buffer.from('{"status":"processing"}');
    expect(woocommerce.verifyWebhook(body, headers(body), settings())).toEqual({
      valid: false,
      reason: 'missing_order_id',
    });
  });

  it('rejects signed deliveries when no secret is configured', () => {
    expect(
      woocommerce.verifyWebhook(wire, headers(wire), { ...settings(), webhookSecret: '' }),
    ).toMatchObject({
      valid: false,
    });
    expect(WEBHOOK_SECRET).not.toBe('');
  });
});

describe('woocommerce verifyWebhook: topics', () => {
  function kindOf(body: Buffer, topic: string): string {
    const r = woocommerce.verifyWebhook(body, headers(body, { 'x-wc-webhook-topic': topic }), settings());
    return r.valid ? r.envelope.kind : r.reason;
  }

  it('maps order topics to kinds; others are ignored', () => {
    const kinds = Object.fromEntries(
      [
        'order.created',
        'order.updated',
        'order.restored',
        'order.deleted',
        'product.updated',
        'coupon.created',
        'action.woocommerce_order_status_completed',
      ].map((topic) => [topic, kindOf(order727, topic)]),
    );
    expect(kinds).toEqual({
      'order.created': 'order.upsert',
      'order.updated': 'order.upsert',
      'order.restored': 'order.upsert',
      'order.deleted': 'order.delete',
      'product.updated': 'ignored',
      'coupon.created': 'ignored',
      'action.woocommerce_order_status_completed': 'ignored',
    });
  });

  it('an order.updated with status cancelled is a cancel; other topics keep their kind', () => {
    const cancelled = fixture('order-727-cancelled.json');
    expect(kindOf(cancelled, 'order.updated')).toBe('order.cancel');
    expect(kindOf(cancelled, 'order.created')).toBe('order.upsert');
    const r = woocommerce.verifyWebhook(cancelled, headers(cancelled), settings());
    expect(r).toMatchObject({ valid: true, envelope: { externalOrderId: '727' } });
  });

  it('order.deleted carries only {"id": n}', () => {
    const del = fixture('order-deleted.json');
    const r = woocommerce.verifyWebhook(
      del,
      headers(del, { 'x-wc-webhook-topic': 'order.deleted', 'x-wc-webhook-event': 'deleted' }),
      settings(),
    );
    expect(r).toMatchObject({
      valid: true,
      envelope: {
        topic: 'order.deleted',
        kind: 'order.delete',
        externalOrderId: '727',
        payload: { id: 727 },
      },
    });
  });

  it('ignored topics need no order id', () => {
    const product = Buffer.from('{"id":0,"name":"Woo Single #1"}');
    const r = woocommerce.verifyWebhook(
      product,
      headers(product, { 'x-wc-webhook-topic': 'product.updated' }),
      settings(),
    );
    expect(r).toMatchObject({ valid: true, envelope: { kind: 'ignored', externalOrderId: null } });
  });

  it('tells apart two deliveries sharing X-WC-Webhook-Delivery-ID (same second) by their bodies', () => {
    const idOf = (body: Buffer) => {
      const r = woocommerce.verifyWebhook(body, headers(body), settings());
      return r.valid ? r.envelope.deliveryId : null;
    };
    // The header is wp_hash(webhook id . current second): the same for both deliveries below.
    expect(idOf(wire)).not.toBe(idOf(order727));
    // The same body sent again under the same header is the same delivery.
    expect(idOf(Buffer.from(wire))).toBe(idOf(wire));
  });

  it('falls back to a hash of the body for the delivery id', () => {
    const r = woocommerce.verifyWebhook(
      wire,
      headers(wire, { 'x-wc-webhook-delivery-id': undefined }),
      settings(),
    );
    expect(r.valid && r.envelope.deliveryId).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('woocommerce verifyWebhook: the creation ping', () => {
  it('accepts the unsigned ping in its exact form as kind ping', () => {
    const r = woocommerce.verifyWebhook(PING, pingHeaders, settings());
    expect(r).toEqual({
      valid: true,
      envelope: {
        topic: 'ping',
        kind: 'ping',
        deliveryId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        externalOrderId: null,
        payload: { webhook_id: '14' },
      },
    });
  });

  it('accepts it without a content type too', () => {
    expect(woocommerce.verifyWebhook(PING, {}, settings())).toMatchObject({
      valid: true,
      envelope: { kind: 'ping' },
    });
  });

  it('refuses any other unsigned request', () => {
    const cases: [string, Buffer, Record<string, string>][] = [
      ['an unsigned order body', order727, { 'content-type': 'application/json' }],
      ['an extra form field', Buffer.from('webhook_id=14&topic=order.created'), pingHeaders],
      ['a non-numeric id', Buffer.from('webhook_id=abc'), pingHeaders],
      ['an empty id', Buffer.from('webhook_id='), pingHeaders],
      ['a trailing newline', Buffer.from('webhook_id=14\n'), pingHeaders],
      ['another field name', Buffer.from('webhook=14'), pingHeaders],
      ['an empty body', Buffer.alloc(0), pingHeaders],
      ['a JSON content type', PING, { 'content-type': 'application/json' }],
      ['a topic header', PING, { ...pingHeaders, 'x-wc-webhook-topic': 'order.created' }],
      ['a delivery id header', PING, { ...pingHeaders, 'x-wc-webhook-delivery-id': 'abc' }],
      ['a JSON ping look-alike', Buffer.from('{"webhook_id":14}'), { 'content-type': 'application/json' }],
    ];
    for (const [what, body, h] of cases) {
      expect(woocommerce.verifyWebhook(body, h, settings()), what).toEqual({
        valid: false,
        reason: 'missing_signature',
      });
    }
  });

  it('checks a ping-shaped body that does carry a signature like any delivery', () => {
    expect(
      woocommerce.verifyWebhook(
        PING,
        { ...pingHeaders, 'x-wc-webhook-signature': sign(PING, 'wrong') },
        settings(),
      ),
    ).toEqual({ valid: false, reason: 'invalid_signature' });
  });
});
