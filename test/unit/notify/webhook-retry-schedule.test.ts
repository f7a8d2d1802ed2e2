import { describe, expect, it } from 'vitest';
import { nextAttemptAt, RETRY_WINDOW_MS } from '../../../src/notify/webhooks/retry-schedule.js';
import { newWebhookSecret } from '../../../src/notify/webhooks/webhook-secret.js';

const t0 = new Date('2026-12-01T10:00:00Z');
const S = 1000;
const M = 60 * S;
const H = 60 * M;

describe('webhook retry schedule', () => {
  it('waits 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then one last time at 24 h, then gives up', () => {
    const waits: number[] = [];
    let at = t0;
    for (let failed = 1; failed < 20; failed++) {
      const next = nextAttemptAt(t0, failed, at);
      if (!next) break;
      waits.push(next.getTime() - at.getTime());
      at = next;
    }
    expect(waits).toEqual([
      5 * S,
      5 * M,
      30 * M,
      2 * H,
      5 * H,
      10 * H,
      24 * H - (5 * S + 5 * M + 30 * M + 2 * H + 5 * H + 10 * H),
    ]);
    expect(at.getTime() - t0.getTime()).toBe(RETRY_WINDOW_MS);
    expect(nextAttemptAt(t0, 8, at)).toBeNull();
  });

  it('measures the wait from the failed attempt, never beyond the window', () => {
    // The core ran the 2nd attempt late: the 3rd still comes 5 min after it.
    expect(nextAttemptAt(t0, 2, new Date(t0.getTime() + 40 * S))).toEqual(
      new Date(t0.getTime() + 40 * S + 5 * M),
    );
    expect(nextAttemptAt(t0, 6, new Date(t0.getTime() + 23 * H))).toEqual(new Date(t0.getTime() + 24 * H));
    expect(nextAttemptAt(t0, 3, new Date(t0.getTime() + 25 * H))).toBeNull();
  });
});

describe('webhook secrets', () => {
  it('are whsec_ and base64 of 32 random bytes, different every time', () => {
    const a = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(a);
  });
});
