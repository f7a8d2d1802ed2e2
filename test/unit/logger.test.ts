import { describe, expect, it } from 'vitest';
import { wantsPrettyLogs } from '../../src/logger.js';
import { capturingLogger } from '../helpers/log-sink.js';

describe('logger redaction', () => {
  it.each([
    ['JSON', false],
    ['readable', true],
  ])('never writes tokens, signatures, settings or customer e-mail (%s lines)', (_kind, pretty) => {
    const { log, lines } = capturingLogger('info', { pretty });
    log.info(
      {
        headers: { authorization: 'Bearer abc123secret', 'x-shopify-hmac-sha256': 'c2lnbmF0dXJl' },
        channel: { settings: { accessToken: 'shpat_xyz' } },
        customer: { email: 'jane@example.com', name: 'Jane' },
        config: { token: 't0k3n' },
      },
      'request',
    );
    const text = lines.join('\n');
    for (const secret of ['abc123secret', 'c2lnbmF0dXJl', 'shpat_xyz', 'jane@example.com', 't0k3n'])
      expect(text).not.toContain(secret);
    expect(text).toContain('Jane');
    expect(text).toContain('[redacted]');
  });
});

describe('log format', () => {
  it('writes one JSON object per line by default', () => {
    const { log, lines } = capturingLogger();
    log.child({ requestId: 'r-1' }).info({ status: 200 }, 'request');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, msg: 'request', requestId: 'r-1', status: 200 });
  });

  it('writes readable lines (level word, message, fields) when pretty', () => {
    const { log, lines } = capturingLogger('info', { pretty: true });
    log.child({ requestId: 'r-1' }).info({ status: 200 }, 'request');
    const text = lines.join('\n');
    expect(() => JSON.parse(lines[0]!)).toThrow();
    expect(text).toMatch(/INFO.*request/);
    expect(text).toMatch(/requestId: "r-1"/);
    expect(text).toMatch(/status: 200/);
  });

  it('is readable only in development on a terminal', () => {
    expect(wantsPrettyLogs('development', true)).toBe(true);
    expect(wantsPrettyLogs('development', false)).toBe(false);
    expect(wantsPrettyLogs('development', undefined)).toBe(false);
    expect(wantsPrettyLogs('production', true)).toBe(false);
    expect(wantsPrettyLogs('test', true)).toBe(false);
  });
});
