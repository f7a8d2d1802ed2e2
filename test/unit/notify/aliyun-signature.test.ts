import { describe, expect, it } from 'vitest';
import { aliyunSendSmsRequest } from '../../../src/notify/sms/aliyun-gateway.js';
import {
  acs3Authorization,
  canonicalQuery,
  canonicalRequest,
  percentEncode,
  sha256Hex,
} from '../../../src/notify/sms/aliyun-signature.js';

/**
 * The worked example ("签名示例") of Aliyun's "V3版本请求体&签名机制" page,
 * https://help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature
 * (English: https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature):
 * POST RunInstances to ecs.cn-shanghai.aliyuncs.com with the two query parameters below, signed
 * with AccessKey id `YourAccessKeyId` and secret `YourAccessKeySecret`.
 */
const example = {
  method: 'POST',
  path: '/',
  query: {
    ImageId: 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd',
    RegionId: 'cn-shanghai',
  },
  headers: {
    host: 'ecs.cn-shanghai.aliyuncs.com',
    'x-acs-action': 'RunInstances',
    'x-acs-version': '2014-05-26',
    'x-acs-date': '2023-10-26T10:22:32Z',
    'x-acs-signature-nonce': '3156853299f313e23d1673dc12e1703d',
    'x-acs-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  },
  body: '',
};

describe('Aliyun request signature V3 (ACS3-HMAC-SHA256)', () => {
  it("reproduces the documentation's worked example exactly", () => {
    const { text, signedHeaders } = canonicalRequest(example);
    expect(text).toBe(
      [
        'POST',
        '/',
        'ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai',
        'host:ecs.cn-shanghai.aliyuncs.com',
        'x-acs-action:RunInstances',
        'x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        'x-acs-date:2023-10-26T10:22:32Z',
        'x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d',
        'x-acs-version:2014-05-26',
        '',
        'host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version',
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      ].join('\n'),
    );
    expect(sha256Hex(text)).toBe('7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259');
    const signed = acs3Authorization(example, 'YourAccessKeyId', 'YourAccessKeySecret');
    expect(signed.stringToSign).toBe(
      'ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259',
    );
    expect(signed.signature).toBe('06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0');
    expect(signed.authorization).toBe(
      'ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=' +
        `${signedHeaders},Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0`,
    );
    // The empty body's hash is what the example's x-acs-content-sha256 holds.
    expect(sha256Hex('')).toBe(example.headers['x-acs-content-sha256']);
  });

  it('changes with the secret, a parameter or the nonce', () => {
    const base = acs3Authorization(example, 'YourAccessKeyId', 'YourAccessKeySecret').signature;
    expect(acs3Authorization(example, 'YourAccessKeyId', 'other').signature).not.toBe(base);
    expect(
      acs3Authorization(
        { ...example, query: { ...example.query, RegionId: 'cn-hangzhou' } },
        'YourAccessKeyId',
        'YourAccessKeySecret',
      ).signature,
    ).not.toBe(base);
    expect(
      acs3Authorization(
        { ...example, headers: { ...example.headers, 'x-acs-signature-nonce': 'x' } },
        'YourAccessKeyId',
        'YourAccessKeySecret',
      ).signature,
    ).not.toBe(base);
  });

  it('percent-encodes as RFC 3986: space %20, * %2A, ~ kept, UTF-8 bytes', () => {
    expect(percentEncode("a b*c~d!e'(f)")).toBe('a%20b%2Ac~d%21e%27%28f%29');
    expect(percentEncode('阿里')).toBe('%E9%98%BF%E9%87%8C');
    expect(canonicalQuery({ b: '2', a: '{"x":"y z"}' })).toBe('a=%7B%22x%22%3A%22y%20z%22%7D&b=2');
  });

  it('builds a SendSms request with the template, its parameters, OutId and a verifiable signature', () => {
    const req = aliyunSendSmsRequest(
      {
        phoneNumbers: '13800138000',
        signName: '阿里云短信测试',
        templateCode: 'SMS_154950909',
        templateParam: { order: 'A-1001', link: 'https://status.example.com/s/abc' },
        outId: 'notification-42@stockbridge',
      },
      { accessKeyId: 'LTAIexample', signName: '阿里云短信测试', endpoint: 'https://dysmsapi.aliyuncs.com' },
      { accessKeySecret: 'the-secret' },
      new Date('2026-12-04T10:22:32.123Z'),
      'nonce-1',
    );
    const url = new URL(req.url);
    expect(url.origin).toBe('https://dysmsapi.aliyuncs.com');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      OutId: 'notification-42@stockbridge',
      PhoneNumbers: '13800138000',
      SignName: '阿里云短信测试',
      TemplateCode: 'SMS_154950909',
      TemplateParam: '{"order":"A-1001","link":"https://status.example.com/s/abc"}',
    });
    expect(req.headers).toMatchObject({
      host: 'dysmsapi.aliyuncs.com',
      'x-acs-action': 'SendSms',
      'x-acs-version': '2017-05-25',
      'x-acs-date': '2026-12-04T10:22:32Z',
      'x-acs-signature-nonce': 'nonce-1',
    });
    const { authorization: _a, accept: _b, ...signedHeaders } = req.headers;
    const expected = acs3Authorization(
      {
        method: 'POST',
        path: '/',
        query: Object.fromEntries(url.searchParams),
        headers: signedHeaders,
        body: '',
      },
      'LTAIexample',
      'the-secret',
    );
    expect(req.headers.authorization).toBe(expected.authorization);
    expect(req.headers.authorization).not.toContain('the-secret');
  });
});
