import { describe, expect, it } from 'vitest';
import { aliyunOutcome } from '../../../src/notify/sms/aliyun-answer.js';
import { encodingOf, renderBody, unknownPlaceholders } from '../../../src/notify/sms/body-template.js';
import { hourKey, nextHour } from '../../../src/notify/sms/hourly-cap.js';
import { aliyunPhoneNumber, genericPhoneNumber, parseE164 } from '../../../src/notify/sms/phone-number.js';
import { templateParams } from '../../../src/notify/sms/sms-sender.js';

describe('E.164 phone numbers', () => {
  it.each([
    ['+8613800138000', '+8613800138000'],
    ['+86 138-0013-8000', '+8613800138000'],
    ['+1 (415) 555.0100', '+14155550100'],
    ['+85291234567', '+85291234567'],
  ])('accepts %s as %s', (input, e164) => {
    const r = parseE164(input);
    expect(r).toMatchObject({ ok: true, number: { e164 } });
  });

  it.each([
    ['13800138000', 'must start with +'],
    ['008613800138000', 'must start with +'],
    ['+0861380013800', 'never starts with 0'],
    ['+86abc', 'digits only'],
    ['+123456', '6 digits'],
    ['+1234567890123456', '16 digits'],
    ['', 'must start with +'],
  ])('refuses %j: %s', (input, reason) => {
    const r = parseE164(input);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain(reason);
  });

  it('writes mainland numbers for Aliyun without +86, others as country code and number', () => {
    const p = (s: string) => {
      const r = parseE164(s);
      if (!r.ok) throw new Error(r.reason);
      return r.number;
    };
    expect(aliyunPhoneNumber(p('+8613800138000'))).toMatchObject({ ok: true, value: '13800138000' });
    expect(aliyunPhoneNumber(p('+85291234567'))).toMatchObject({ ok: true, value: '85291234567' });
    expect(aliyunPhoneNumber(p('+14155550100'))).toMatchObject({ ok: true, value: '14155550100' });
    // +86 but not a mainland mobile number (a Beijing landline).
    expect(aliyunPhoneNumber(p('+861065529988'))).toMatchObject({ ok: false });
    expect(genericPhoneNumber(p('+14155550100'), 'e164')).toBe('+14155550100');
    expect(genericPhoneNumber(p('+14155550100'), 'digits')).toBe('14155550100');
  });
});

describe('generic gateway body template', () => {
  const values = {
    phone: '+8613800138000',
    text: 'Order "A-1" shipped\nTrack: https://x.example/t?a=1&b=2',
    messageId: 'n-1',
    event: 'order.shipped',
    params: { order: 'A-1' },
  };

  it('escapes values for JSON so the body stays valid JSON', () => {
    const body = renderBody(
      '{"to":"{{phone}}","msg":"{{text}}","ref":"{{ messageId }}","o":"{{params.order}}"}',
      values,
      'json',
    );
    expect(JSON.parse(body)).toEqual({ to: '+8613800138000', msg: values.text, ref: 'n-1', o: 'A-1' });
  });

  it('escapes values for a form body, and leaves unknown parameters empty', () => {
    const body = renderBody('to={{phone}}&text={{text}}&x={{params.missing}}', values, 'form');
    expect(Object.fromEntries(new URLSearchParams(body))).toEqual({
      to: '+8613800138000',
      text: values.text,
      x: '',
    });
  });

  it('names unknown placeholders, and picks the escaping from the content type', () => {
    expect(unknownPlaceholders('{{phone}} {{secret}} {{params.a}} {{ body }}')).toEqual(['secret', 'body']);
    expect(encodingOf('application/json; charset=utf-8')).toBe('json');
    expect(encodingOf('application/x-www-form-urlencoded')).toBe('form');
    expect(encodingOf('text/plain')).toBe('text');
  });

  it('keeps scalar data as template parameters, leaving out nested values', () => {
    expect(templateParams({ a: 'x', n: 3, b: true, o: { x: 1 }, l: [1], z: null })).toEqual({
      a: 'x',
      n: '3',
      b: 'true',
    });
  });
});

describe('Aliyun answers', () => {
  const now = new Date('2026-12-01T10:00:00Z');
  it.each([
    [200, { Code: 'OK', BizId: '900619746936498440^0', RequestId: 'r1' }, 'sent', undefined],
    [200, { Code: 'isv.BUSINESS_LIMIT_CONTROL', Message: '触发号码天级流控' }, 'failed', false],
    [
      200,
      { Code: 'Throttling.User', Message: 'Request was denied due to user flow control.' },
      'failed',
      false,
    ],
    [200, { Code: 'isv.MOBILE_NUMBER_ILLEGAL', Message: '非法手机号' }, 'failed', true],
    [200, { Code: 'isv.SMS_TEMPLATE_ILLEGAL', Message: '模板不合法' }, 'failed', true],
    [200, { Code: 'isv.TEMPLATE_MISSING_PARAMETERS', Message: '模板缺少变量' }, 'failed', true],
    [400, { Code: 'SignatureDoesNotMatch', Message: 'Specified signature is not matched' }, 'failed', false],
    [503, null, 'failed', false],
    [200, { Code: 'isv.SOMETHING_NEW' }, 'failed', false],
  ])('HTTP %i %j -> %s (permanent %s)', (status, body, state, permanent) => {
    const o = aliyunOutcome(status, body, now);
    expect(o.state).toBe(state);
    if (o.state === 'failed') expect(o.permanent).toBe(permanent);
    if (o.state === 'sent') expect(o.providerReference).toBe('900619746936498440^0');
  });

  it.each([
    ['isv.MOBILE_NUMBER_ILLEGAL', true],
    ['isv.DOMESTIC_NUMBER_NOT_SUPPORTED', true],
    ['isv.SMS_TEMPLATE_ILLEGAL', false],
    ['isv.TEMPLATE_MISSING_PARAMETERS', false],
    ['isv.BLACK_KEY_CONTROL_LIMIT', false],
  ])('suppresses the number only for a number fault: %s -> %s', (code, suppressAddress) => {
    const o = aliyunOutcome(200, { Code: code }, now);
    expect(o.state === 'failed' && o.permanent).toBe(true);
    expect(o.state === 'failed' && o.suppressAddress === true).toBe(suppressAddress);
  });

  it('retries an account problem after half an hour, not at once', () => {
    const o = aliyunOutcome(404, { Code: 'InvalidAccessKeyId.NotFound' }, now);
    expect(o).toMatchObject({ state: 'failed', permanent: false, retryAt: new Date('2026-12-01T10:30:00Z') });
  });
});

describe('hourly buckets', () => {
  it('counts per UTC hour and defers to the next one', () => {
    expect(hourKey(new Date('2026-12-01T10:59:59.999Z'))).toBe('2026-12-01 10:00');
    expect(nextHour(new Date('2026-12-01T10:59:59.999Z'))).toEqual(new Date('2026-12-01T11:00:00Z'));
    expect(nextHour(new Date('2026-12-01T10:00:00Z'))).toEqual(new Date('2026-12-01T11:00:00Z'));
  });
});
