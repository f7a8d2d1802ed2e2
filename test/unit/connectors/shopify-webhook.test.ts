import { describe, expect, it } from 'vitest';
import shopify from '../../../connectors/shopify/index.js';
import { fixture, SECRET, settings, sign } from './shopify-fixtures.js';

const body = fixture('orders-create.json');

function headers(extra: Record<string, string | undefined> = {}) {
  return {
    'x-shopify-topic': 'orders/create',
    'x-shopify-hmac-sha256': sign(body),
    'x-shopify-shop-domain': 'example.myshopify.com',
    'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
    'x-shopify-event-id': '98880550-7158-44d4-b7cd-2c97c8a091b5',
    'x-shopify-api-version': '2026-10',
    ...extra,
  };
}

describe('shopify verifyWebhook', () => {
  it('accepts a correctly signed orders/create and reads its envelope', () => {
    const r = shopify.verifyWebhook(body, headers(), settings());
    expect(r.valid).toBe(true);
    if (!r.valid) return;
    expect(r.envelope).toMatchObject({
      topic: 'orders/create',
      kind: 'order.upsert',
      deliveryId: '98880550-7158-44d4-b7cd-2c97c8a091b5',
      externalOrderId: '820982911946154508',
    });
  });

  it('keeps every digit of ids beyond 2^53 in the parsed payload', () => {
    expect(body.toString()).toContain('"id": 820982911946154508');
    expect(String(JSON.parse(body.toString()).id)).toBe('820982911946154500'); // what JSON.parse does
    const r = shopify.verifyWebhook(body, headers(), settings());
    if (!r.valid) throw new Error(r.reason);
    const payload = r.envelope.payload as {
      id: unknown;
      customer: { id: unknown };
      line_items: { id: unknown; product_id: unknown }[];
    };
    expect(payload.id).toBe('820982911946154508');
    expect(payload.customer.id).toBe('115310627314723954');
    expect(payload.line_items.map((l) => l.id)).toEqual(['866550311766439020', '141249953214522974']);
    expect(payload.line_items[0]?.product_id).toBe(632910392); // small ids stay numbers
    expect(shopify.normalizeOrder(payload).externalId).toBe('820982911946154508');
  });

  it('rejects a signature made with the wrong secret', () => {
    const r = shopify.verifyWebhook(
      body,
      headers({ 'x-shopify-hmac-sha256': sign(body, 'not-the-secret') }),
      settings(),
    );
    expect(r).toEqual({ valid: false, reason: 'invalid_signature' });
  });

  it('rejects a tampered body', () => {
    const tampered = Buffer.from(body.toString().replace('"199.00"', '"0.01"'));
    expect(tampered.equals(body)).toBe(false);
    expect(shopify.verifyWebhook(tampered, headers(), settings())).toEqual({
      valid: false,
      reason: 'invalid_signature',
    });
  });

  it('rejects a missing signature header', () => {
    expect(shopify.verifyWebhook(body, headers({ 'x-shopify-hmac-sha256': undefined }), settings())).toEqual({
      valid: false,
      reason: 'missing_signature',
    });
  });

  it('rejects a signature of a different length without throwing', () => {
    const good = sign(body);
    for (const bad of [good.slice(0, -4), `${good}AAAA`, 'x', good.replace(/=+$/, '')]) {
      expect(shopify.verifyWebhook(body, headers({ 'x-shopify-hmac-sha256': bad }), settings())).toEqual({
        valid: false,
        reason: 'invalid_signature',
      });
    }
  });

  it('reads header names case-insensitively and without the x- prefix', () => {
    const mixed = shopify.verifyWebhook(
      body,
      {
        'X-Shopify-Hmac-SHA256': sign(body),
        'X-Shopify-Topic': 'orders/updated',
        'X-Shopify-Webhook-Id': 'w-1',
      },
      settings(),
    );
    expect(mixed).toMatchObject({ valid: true, envelope: { kind: 'order.upsert', deliveryId: 'w-1' } });
    const bare = shopify.verifyWebhook(
      body,
      { 'shopify-hmac-sha256': sign(body), 'shopify-topic': 'orders/cancelled', 'shopify-event-id': 'e-9' },
      settings(),
    );
    expect(bare).toMatchObject({ valid: true, envelope: { kind: 'order.cancel', deliveryId: 'e-9' } });
  });

  it('maps topics to kinds', () => {
    const kinds = Object.fromEntries(
      [
        'orders/create',
        'orders/updated',
        'orders/cancelled',
        'orders/delete',
        'orders/paid',
        'products/update',
      ].map((topic) => {
        const r = shopify.verifyWebhook(body, headers({ 'x-shopify-topic': topic }), settings());
        return [topic, r.valid ? r.envelope.kind : r.reason];
      }),
    );
    expect(kinds).toEqual({
      'orders/create': 'order.upsert',
      'orders/updated': 'order.upsert',
      'orders/cancelled': 'order.cancel',
      'orders/delete': 'order.delete',
      'orders/paid': 'ignored',
      'products/update': 'ignored',
    });
  });

  it('reads the exact id of an orders/delete body ({"id": ...} only)', () => {
    const del = fixture('orders-delete.json');
    const r = shopify.verifyWebhook(
      del,
      {
        'x-shopify-hmac-sha256': sign(del),
        'x-shopify-topic': 'orders/delete',
        'x-shopify-webhook-id': 'w-2',
      },
      settings(),
    );
    expect(r).toMatchObject({
      valid: true,
      envelope: { kind: 'order.delete', externalOrderId: '820982911946154508' },
    });
  });

  it('falls back to X-Shopify-Webhook-Id, then to a hash of the body, for the delivery id', () => {
    const noEvent = shopify.verifyWebhook(body, headers({ 'x-shopify-event-id': undefined }), settings());
    expect(noEvent).toMatchObject({ envelope: { deliveryId: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043' } });
    const neither = shopify.verifyWebhook(
      body,
      headers({ 'x-shopify-event-id': undefined, 'x-shopify-webhook-id': undefined }),
      settings(),
    );
    expect(neither.valid && neither.envelope.deliveryId).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('rejects a correctly signed body that is not JSON', () => {
    const junk = Buffer.from('{"id": 1,');
    expect(shopify.verifyWebhook(junk, headers({ 'x-shopify-hmac-sha256': sign(junk) }), settings())).toEqual(
      {
        valid: false,
        reason: 'invalid_json',
      },
    );
  });

  it('rejects everything when no secret is configured', () => {
    expect(shopify.verifyWebhook(body, headers(), { ...settings(), webhookSecret: '' })).toMatchObject({
      valid: false,
    });
    expect(SECRET).not.toBe('');
  });
});
