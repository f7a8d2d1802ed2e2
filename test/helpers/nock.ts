import nock from 'nock';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';

/**
 * For a test file that talks to channels through nock: no real network (our own MariaDB and Redis
 * on 127.0.0.1 stay reachable), interceptors cleared after each test — and with `strict`, a test
 * fails if an interceptor it set up was never called.
 */
export function interceptChannelHttp(options: { strict?: boolean } = {}): void {
  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    if (options.strict) expect(pending).toEqual([]);
  });
  afterAll(() => {
    nock.enableNetConnect();
  });
}
