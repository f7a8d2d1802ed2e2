import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';

describe('logger redaction', () => {
  it('never writes tokens, signatures, settings or customer e-mail', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = createLogger('info', sink);
    log.info(
      {
        headers: { authorization: 'Bearer abc123secret', 'x-shopify-hmac-sha256': 'c2lnbmF0dXJl' },
        channel: { settings: { accessToken: 'shpat_xyz' } },
        customer: { email: 'jane@example.com', name: 'Jane' },
        config: { token: 't0k3n' },
      },
      'request',
    );
    const text = lines.join('');
    for (const secret of ['abc123secret', 'c2lnbmF0dXJl', 'shpat_xyz', 'jane@example.com', 't0k3n'])
      expect(text).not.toContain(secret);
    expect(text).toContain('Jane');
    expect(text).toContain('[redacted]');
  });
});
