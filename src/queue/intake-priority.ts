/**
 * Acknowledging before applying, within one process.
 *
 * A webhook is answered once it is stored; applying it (reading the payload, making the order,
 * reserving its stock) comes after, in the worker. When the api and worker roles share a process
 * (as `npm start` runs them), both take turns on one thread: during a flash sale, applying the
 * deliveries of a moment ago slows the answers to the deliveries arriving now, and a channel that
 * waits too long for its answer counts a failure (Shopify: 5 seconds) and sends it again.
 *
 * `IntakePriority` lets the applying side wait for a quiet moment: while deliveries are being
 * received, a group of stored events waits until no delivery has been in flight for `quietMs`, but
 * never longer than `maxDeferMs` after the first of them began to wait — under a burst that does not
 * stop, applying still goes on, one group after another (src/queue/micro-batcher.ts). Nothing is
 * lost by waiting: every delivery is in the database before it is answered, and the wait is in
 * memory only (a killed process leaves its events to the relay, as before).
 *
 * `maxDeferMs` 0 turns the waiting off. Worker processes of their own (`--roles worker`) receive
 * nothing and never wait.
 */
export interface IntakePriorityOptions {
  /** How long intake must have been idle for applying to go ahead (ms). Default 10. */
  quietMs?: number;
  /** Most that a group waits for a quiet moment (ms); 0: never waits. */
  maxDeferMs: number;
}

export class IntakePriority {
  private inFlight = 0;
  private lastEnded = Number.NEGATIVE_INFINITY;
  private readonly quietMs: number;
  /** Groups that waited, and the time they waited in all (ms); for the metrics and the tests. */
  readonly waited = { groups: 0, ms: 0 };

  constructor(private readonly options: IntakePriorityOptions) {
    this.quietMs = options.quietMs ?? 10;
  }

  private now(): number {
    return performance.now();
  }

  /** A delivery is being received: call `done` once it has been answered. */
  begin(): () => void {
    this.inFlight++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.inFlight--;
      this.lastEnded = this.now();
    };
  }

  /** True while a delivery is in flight or one ended less than `quietMs` ago. */
  busy(): boolean {
    return this.inFlight > 0 || this.now() - this.lastEnded < this.quietMs;
  }

  /**
   * Resolves once intake is quiet, or `maxDeferMs` after `since` (when the work began to wait, on
   * `performance.now()`'s clock; default now), whichever comes first: true when intake was busy
   * (the work had to wait, or waited its longest), false when it was quiet at once.
   */
  async turn(since = this.now()): Promise<boolean> {
    const { maxDeferMs } = this.options;
    if (maxDeferMs <= 0 || !this.busy()) return false;
    const started = this.now();
    const deadline = since + maxDeferMs;
    while (this.busy()) {
      const left = deadline - this.now();
      if (left <= 0) break;
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.quietMs, left)));
    }
    this.waited.groups++;
    this.waited.ms += this.now() - started;
    return true;
  }
}
