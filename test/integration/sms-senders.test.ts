import nock from 'nock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OutgoingNotification } from '../../src/notify/contract.js';
import { acs3Authorization } from '../../src/notify/sms/aliyun-signature.js';
import { SmsSender } from '../../src/notify/sms/sms-sender.js';
import { block, track, waitForLockWaits } from '../helpers/interleave.js';
import { interceptChannelHttp } from '../helpers/nock.js';
import { createStack, type TestStack } from '../helpers/stack.js';

interceptChannelHttp({ strict: true });

const ALIYUN = 'https://dysmsapi.aliyuncs.com';
const ACCESS_KEY_SECRET = 'aliyun-access-key-secret-0123456789';
const AUTH_VALUE = 'Bearer generic-gateway-token-abcdef';
const GATEWAY = 'https://sms-gateway.example.com';

let stack: TestStack;

beforeAll(async () => {
  stack = await createStack();
});

afterAll(async () => {
  await stack?.close();
});

beforeEach(async () => {
  await stack.db('sms_gateways').delete();
  await stack.db('sms_recipient_hours').delete();
});

let seq = 0;
const sms = (extra: Partial<OutgoingNotification> = {}): OutgoingNotification => {
  seq += 1;
  return {
    id: 500 + seq,
    medium: 'sms',
    event: 'order.shipped',
    recipient: '+8613800138000',
    language: 'zh-CN',
    timeZone: 'Asia/Shanghai',
    subject: '订单已发货',
    text: '您的订单 A-1 已发货 "快递" \n https://status.example.com/s/tok',
    html: null,
    data: { order: 'A-1', link: 'https://status.example.com/s/tok', nested: { x: 1 } },
    messageId: `sms-${seq}@stockbridge`,
    attachments: [],
    attempt: 0,
    ...extra,
  };
};

const aliyunBody = (extra: Record<string, unknown> = {}) => ({
  kind: 'aliyun',
  name: 'Aliyun',
  settings: { accessKeyId: 'LTAI5texample', signName: '示例商城' },
  secrets: { accessKeySecret: ACCESS_KEY_SECRET },
  templateCodes: { 'order.shipped': 'SMS_100000001', 'order.confirmed': 'SMS_100000002' },
  ...extra,
});

const genericBody = (extra: Record<string, unknown> = {}) => ({
  kind: 'generic',
  name: 'Local gateway',
  settings: {
    url: `${GATEWAY}/send`,
    bodyTemplate: '{"to":"{{phone}}","message":"{{text}}","ref":"{{messageId}}","order":"{{params.order}}"}',
    authHeaderName: 'Authorization',
  },
  secrets: { authHeaderValue: AUTH_VALUE },
  ...extra,
});

async function addGateway(body: Record<string, unknown>) {
  const res = await stack.api('POST', '/api/sms-gateways', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: number };
}

const fixedClock = (iso: string) => () => new Date(iso);

describe('SMS gateways API', () => {
  it('keeps secrets write-only: masked in answers, sealed at rest', async () => {
    const created = await stack.api(
      'POST',
      '/api/sms-gateways',
      aliyunBody({ quietHours: { start: '21:00', end: '08:00' }, hourlyCap: 3 }),
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      kind: 'aliyun',
      enabled: true,
      settings: { accessKeyId: 'LTAI5texample', signName: '示例商城', endpoint: ALIYUN },
      secrets: { accessKeySecret: '********' },
      templateCodes: { 'order.shipped': 'SMS_100000001' },
      quietHours: { start: '21:00', end: '08:00' },
      defaultTimeZone: null,
      hourlyCap: 3,
    });
    const answers = [
      created,
      await stack.api('GET', '/api/sms-gateways'),
      await stack.api('GET', `/api/sms-gateways/${created.body.id}`),
      await stack.api('PATCH', `/api/sms-gateways/${created.body.id}`, {
        secrets: { accessKeySecret: 'rotated-secret-value' },
      }),
    ];
    for (const a of answers) {
      expect(a.status).toBeLessThan(300);
      expect(JSON.stringify(a.body)).not.toContain(ACCESS_KEY_SECRET);
      expect(JSON.stringify(a.body)).not.toContain('rotated-secret-value');
    }
    const row = await stack.db('sms_gateways').where({ id: created.body.id }).first();
    expect(JSON.stringify(row)).not.toContain('rotated-secret-value');
    expect(row.secrets_sealed).toMatch(/^v1:/);
  });

  it('refuses bad input with what is wrong and changes nothing', async () => {
    const { id } = await addGateway(genericBody());
    const before = await stack.db('sms_gateways').where({ id }).first();
    const cases: Array<[string, string, unknown, number]> = [
      [
        'POST',
        '/api/sms-gateways',
        { ...genericBody(), settings: { ...genericBody().settings, url: 'http://sms.example.com/send' } },
        422,
      ],
      [
        'POST',
        '/api/sms-gateways',
        { ...genericBody(), settings: { ...genericBody().settings, bodyTemplate: '{{phone}} {{password}}' } },
        422,
      ],
      ['POST', '/api/sms-gateways', aliyunBody({ secrets: {} }), 422],
      ['POST', '/api/sms-gateways', aliyunBody({ templateCodes: { shipped: 'SMS_1' } }), 422],
      ['POST', '/api/sms-gateways', aliyunBody({ quietHours: { start: '25:00', end: '08:00' } }), 422],
      ['POST', '/api/sms-gateways', aliyunBody({ defaultTimeZone: 'Mars/Olympus' }), 422],
      ['POST', '/api/sms-gateways', { ...aliyunBody(), kind: 'twilio' }, 422],
      ['POST', '/api/sms-gateways', '{not json', 400],
      ['PATCH', `/api/sms-gateways/${id}`, { settings: { url: 'ftp://x' } }, 422],
      ['PATCH', `/api/sms-gateways/${id}`, { templateCodes: { 'order.shipped': 'SMS_1' } }, 422],
      ['PATCH', '/api/sms-gateways/99999', { enabled: false }, 404],
      ['DELETE', '/api/sms-gateways/x', undefined, 400],
    ];
    for (const [method, path, body, status] of cases) {
      const res = await stack.api(method, path, body);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(status);
      expect(res.body.error.message).toBeTruthy();
    }
    expect(await stack.db('sms_gateways').count({ n: '*' })).toEqual([{ n: 1 }]);
    expect(await stack.db('sms_gateways').where({ id }).first()).toEqual(before);
  });
});

describe('Aliyun SMS sender (nock)', () => {
  it('sends the event template with its parameters and OutId, signed; OK -> sent with the BizId', async () => {
    await addGateway(aliyunBody());
    const sender = new SmsSender({
      db: stack.db,
      secretKey: stack.secretKey,
      now: fixedClock('2026-12-01T04:00:00Z'),
    });
    let seen: { query: Record<string, string>; headers: Record<string, string> } | null = null;
    nock(ALIYUN)
      .post('/')
      .query(true)
      .reply(function (uri) {
        const url = new URL(uri, ALIYUN);
        seen = {
          query: Object.fromEntries(url.searchParams),
          headers: this.req.headers as Record<string, string>,
        };
        return [200, { Code: 'OK', Message: 'OK', BizId: '900619746936498440^0', RequestId: 'F655A8D5' }];
      });
    const n = sms();
    const out = await sender.send(n);
    expect(out).toMatchObject({ state: 'sent', providerReference: '900619746936498440^0' });
    expect(seen!.query).toEqual({
      PhoneNumbers: '13800138000',
      SignName: '示例商城',
      TemplateCode: 'SMS_100000001',
      TemplateParam: JSON.stringify({ order: 'A-1', link: 'https://status.example.com/s/tok' }),
      OutId: n.messageId,
    });
    // The rendered free text never goes to Aliyun: the link is only a template parameter.
    expect(JSON.stringify(seen!.query)).not.toContain('已发货');
    const h = seen!.headers;
    expect(h['x-acs-action']).toBe('SendSms');
    expect(h['x-acs-version']).toBe('2017-05-25');
    const resigned = acs3Authorization(
      {
        method: 'POST',
        path: '/',
        query: seen!.query,
        headers: Object.fromEntries(
          [
            'host',
            'x-acs-action',
            'x-acs-version',
            'x-acs-date',
            'x-acs-signature-nonce',
            'x-acs-content-sha256',
          ].map((k) => [k, h[k] as string]),
        ),
        body: '',
      },
      'LTAI5texample',
      ACCESS_KEY_SECRET,
    );
    expect(h.authorization).toBe(resigned.authorization);
  });

  it('sends an international number as country code and number', async () => {
    await addGateway(aliyunBody());
    const sender = new SmsSender({
      db: stack.db,
      secretKey: stack.secretKey,
      now: fixedClock('2026-12-01T04:00:00Z'),
    });
    nock(ALIYUN)
      .post('/')
      .query((q) => q.PhoneNumbers === '85291234567')
      .reply(200, { Code: 'OK', BizId: 'b2' });
    expect(await sender.send(sms({ recipient: '+852 9123 4567', timeZone: 'Asia/Hong_Kong' }))).toMatchObject(
      { state: 'sent' },
    );
  });

  it.each([
    [{ Code: 'isv.BUSINESS_LIMIT_CONTROL', Message: '触发小时级流控Permits:5' }, 200, false],
    [{ Code: 'Throttling.User', Message: 'Request was denied due to user flow control.' }, 400, false],
    [{ Code: 'isv.MOBILE_NUMBER_ILLEGAL', Message: '非法手机号' }, 200, true],
    [{ Code: 'isv.SMS_TEMPLATE_ILLEGAL', Message: '该账号下找不到对应模板' }, 200, true],
  ])('maps %j to a failure (permanent: %s)', async (body, status, permanent) => {
    await addGateway(aliyunBody());
    const sender = new SmsSender({
      db: stack.db,
      secretKey: stack.secretKey,
      now: fixedClock('2026-12-01T04:00:00Z'),
    });
    nock(ALIYUN).post('/').query(true).reply(status, body);
    const out = await sender.send(sms());
    expect(out).toMatchObject({ state: 'failed', permanent, answer: expect.stringContaining(body.Code) });
    expect(JSON.stringify(out)).not.toContain(ACCESS_KEY_SECRET);
  });

  it('suppresses invalid numbers, a +86 number that is not a mobile, and events without a TemplateCode', async () => {
    await addGateway(aliyunBody());
    const sender = new SmsSender({
      db: stack.db,
      secretKey: stack.secretKey,
      now: fixedClock('2026-12-01T04:00:00Z'),
    });
    expect(await sender.send(sms({ recipient: '13800138000' }))).toMatchObject({
      state: 'suppressed',
      reason: expect.stringContaining('E.164'),
    });
    expect(await sender.send(sms({ recipient: '+861065529988' }))).toMatchObject({
      state: 'suppressed',
      reason: expect.stringContaining('mainland mobile'),
    });
    expect(await sender.send(sms({ event: 'order.cancelled' }))).toMatchObject({
      state: 'suppressed',
      reason: 'no Aliyun TemplateCode is configured for order.cancelled',
    });
  });
});

describe('generic HTTP gateway sender (nock)', () => {
  it('fills the body template escaped for JSON, with the auth header', async () => {
    await addGateway(genericBody());
    const sender = new SmsSender({
      db: stack.db,
      secretKey: stack.secretKey,
      now: fixedClock('2026-12-01T04:00:00Z'),
    });
    let body: unknown = null;
    nock(GATEWAY, { reqheaders: { authorization: AUTH_VALUE, 'content-type': 'application/json' } })
      .post('/send', (b) => {
        body = b;
        return true;
      })
      .reply(202, { queued: true });
    const n = sms();
    expect(await sender.send(n)).toMatchObject({
      state: 'sent',
      answer: expect.stringContaining('HTTP 202'),
    });
    expect(body).toEqual({ to: '+8613800138000', message: n.text, ref: n.messageId, order: 'A-1' });
  });

  it('retries 429 at the gateway Retry-After (seconds), and fails other 4xx for good', async () => {
    await addGateway(genericBody());
    const sender = new SmsSender({
      db: stack.db,
      secretKey: stack.secretKey,
      now: fixedClock('2026-12-01T04:00:00Z'),
    });
    nock(GATEWAY).post('/send').reply(429, 'slow down', { 'Retry-After': '120' });
    expect(await sender.send(sms())).toEqual({
      state: 'failed',
      permanent: false,
      answer: 'HTTP 429: slow down',
      retryAt: new Date('2026-12-01T04:02:00Z'),
    });
    nock(GATEWAY).post('/send').reply(400, 'bad number');
    const bad = await sender.send(sms());
    expect(bad).toMatchObject({ state: 'failed', permanent: true });
    // A generic gateway's 4xx says nothing certain about the number: never suppress it.
    expect(bad.state === 'failed' && bad.suppressAddress === true).toBe(false);
  });

  it('retries 401/403 (our credentials, not the number) after half an hour', async () => {
    await addGateway(genericBody());
    const sender = new SmsSender({
      db: stack.db,
      secretKey: stack.secretKey,
      now: fixedClock('2026-12-01T04:00:00Z'),
    });
    for (const status of [401, 403]) {
      nock(GATEWAY).post('/send').reply(status, 'no');
      expect(await sender.send(sms())).toEqual({
        state: 'failed',
        permanent: false,
        answer: `HTTP ${status}: no`,
        retryAt: new Date('2026-12-01T04:30:00Z'),
      });
    }
  });

  it('fails for a retry, saying why, when the secrets were sealed under another key', async () => {
    await addGateway(genericBody());
    const sender = new SmsSender({ db: stack.db, secretKey: Buffer.alloc(32, 7) });
    expect(await sender.send(sms())).toMatchObject({
      state: 'failed',
      permanent: false,
      answer: expect.stringContaining('cannot be opened'),
    });
  });

  it('fails for a retry later when no gateway is enabled', async () => {
    const { id } = await addGateway(genericBody({ enabled: false }));
    const sender = new SmsSender({
      db: stack.db,
      secretKey: stack.secretKey,
      now: fixedClock('2026-12-01T04:00:00Z'),
    });
    expect(await sender.send(sms())).toMatchObject({
      state: 'failed',
      permanent: false,
      retryAt: new Date('2026-12-01T05:00:00Z'),
    });
    await stack.api('PATCH', `/api/sms-gateways/${id}`, { enabled: true });
    nock(GATEWAY).post('/send').reply(200, 'ok');
    expect(await sender.send(sms())).toMatchObject({ state: 'sent' });
  });
});

describe('quiet hours and the hourly cap', () => {
  it('defers a message in the recipient quiet hours until they end, sending nothing', async () => {
    await addGateway(genericBody({ quietHours: { start: '21:00', end: '08:00' } }));
    // 22:30 in Shanghai.
    const sender = new SmsSender({
      db: stack.db,
      secretKey: stack.secretKey,
      now: fixedClock('2026-12-01T14:30:00Z'),
    });
    expect(await sender.send(sms())).toEqual({
      state: 'deferred',
      until: new Date('2026-12-02T00:00:00Z'),
      reason: 'quiet hours 21:00–08:00 in Asia/Shanghai',
    });
    // The same instant is 14:30 in London: sent.
    nock(GATEWAY).post('/send').reply(200, 'ok');
    expect(await sender.send(sms({ timeZone: 'Europe/London' }))).toMatchObject({ state: 'sent' });
  });

  it('uses the gateway default time zone when the recipient has none', async () => {
    await addGateway(
      genericBody({ quietHours: { start: '21:00', end: '08:00' }, defaultTimeZone: 'Asia/Shanghai' }),
    );
    const sender = new SmsSender({
      db: stack.db,
      secretKey: stack.secretKey,
      now: fixedClock('2026-12-01T14:30:00Z'),
    });
    expect(await sender.send(sms({ timeZone: null }))).toMatchObject({
      state: 'deferred',
      until: new Date('2026-12-02T00:00:00Z'),
    });
  });

  it('uses the business time zone when neither the recipient nor the gateway names one', async () => {
    const g = await addGateway(genericBody({ quietHours: { start: '21:00', end: '08:00' } }));
    const sender = new SmsSender({
      db: stack.db,
      secretKey: stack.secretKey,
      businessTimeZone: 'Asia/Shanghai',
      now: fixedClock('2026-12-01T14:30:00Z'),
    });
    // 14:30 UTC is 22:30 in Shanghai: quiet until 08:00 there.
    expect(await sender.send(sms({ timeZone: null }))).toEqual({
      state: 'deferred',
      until: new Date('2026-12-02T00:00:00Z'),
      reason: 'quiet hours 21:00–08:00 in Asia/Shanghai',
    });
    // A zone set on the gateway and cleared again: back to the business zone.
    const patched = await stack.api('PATCH', `/api/sms-gateways/${g.id}`, {
      defaultTimeZone: 'Europe/London',
    });
    expect(patched.body).toMatchObject({ defaultTimeZone: 'Europe/London' });
    nock(GATEWAY).post('/send').reply(200, 'ok');
    expect(await sender.send(sms({ timeZone: null }))).toMatchObject({ state: 'sent' });
    const cleared = await stack.api('PATCH', `/api/sms-gateways/${g.id}`, { defaultTimeZone: null });
    expect(cleared.body).toMatchObject({ defaultTimeZone: null });
    expect(await sender.send(sms({ timeZone: null }))).toMatchObject({ state: 'deferred' });
  });

  it('defers past the hourly cap until the next hour, and gives a slot back when the send fails', async () => {
    await addGateway(genericBody({ hourlyCap: 2 }));
    const sender = new SmsSender({
      db: stack.db,
      secretKey: stack.secretKey,
      now: fixedClock('2026-12-01T04:20:00Z'),
    });
    nock(GATEWAY).post('/send').reply(500, 'down');
    expect(await sender.send(sms())).toMatchObject({ state: 'failed', permanent: false });
    nock(GATEWAY).post('/send').times(2).reply(200, 'ok');
    expect(await sender.send(sms())).toMatchObject({ state: 'sent' });
    expect(await sender.send(sms())).toMatchObject({ state: 'sent' });
    expect(await sender.send(sms())).toEqual({
      state: 'deferred',
      until: new Date('2026-12-01T05:00:00Z'),
      reason: 'hourly cap of 2 SMS per number reached',
    });
    // Another number has its own allowance.
    nock(GATEWAY).post('/send').reply(200, 'ok');
    expect(await sender.send(sms({ recipient: '+8613900139000' }))).toMatchObject({ state: 'sent' });
    expect(await stack.db('sms_recipient_hours').orderBy('phone').select('phone', 'hour', 'sent')).toEqual([
      { phone: '+8613800138000', hour: '2026-12-01 04:00', sent: 2 },
      { phone: '+8613900139000', hour: '2026-12-01 04:00', sent: 1 },
    ]);
  });

  it('two senders racing for the last slot of the hour: exactly one sends (forced interleaving)', async () => {
    await addGateway(genericBody({ hourlyCap: 2 }));
    const now = fixedClock('2026-12-01T06:10:00Z');
    await stack
      .db('sms_recipient_hours')
      .insert({ phone: '+8613800138000', hour: '2026-12-01 06:00', sent: 1 });
    nock(GATEWAY).post('/send').reply(200, 'ok');

    const blocker = await block(
      stack.db,
      'SELECT sent FROM sms_recipient_hours WHERE phone = ? AND hour = ? FOR UPDATE',
      ['+8613800138000', '2026-12-01 06:00'],
    );
    const a = track(new SmsSender({ db: stack.db, secretKey: stack.secretKey, now }).send(sms()));
    const b = track(new SmsSender({ db: stack.db, secretKey: stack.secretKey, now }).send(sms()));
    await waitForLockWaits(stack.db, 2, {
      table: 'sms_recipient_hours',
      settled: () => (a.done || b.done ? 'a sender finished without waiting for the counter row' : null),
    });
    await blocker.commit();
    const outcomes = await Promise.all([a.promise, b.promise]);
    expect(outcomes.map((o) => o.state).sort()).toEqual(['deferred', 'sent']);
    expect(await stack.db('sms_recipient_hours').where({ phone: '+8613800138000' }).first('sent')).toEqual({
      sent: 2,
    });
  });
});
