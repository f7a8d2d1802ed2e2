interface Waiting<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
  /** When it was handed over (performance.now()). */
  at: number;
}

/**
 * How many groups may run at once (the ungated way). While that many run, everything handed over
 * waits and goes in the next group as soon as one ends: work that would queue on the same rows in
 * the database anyway is done in fewer, larger transactions instead of many small ones waiting for
 * each other. A group running longer than `overdueMs` (most likely waiting for a lock held
 * elsewhere) stops counting, so one stuck group never holds the rest back for longer than that.
 */
export interface RunningLimit {
  maxRunning: number;
  overdueMs: number;
}

/**
 * Gathers the items handed over in the same turn of the event loop (at most `maxBatch` at a time)
 * and runs them through `handle` together; each caller gets the outcome for its own item. `handle`
 * returns one outcome per item, in order: a value, or an Error for that item alone. With a `limit`
 * (`RunningLimit`), at most that many groups run at once; without, every group starts at once.
 *
 * With a `gate`, the items wait for it before they run — given when the oldest of them was handed
 * over — and everything handed over meanwhile joins them; groups that had to wait run one after the
 * other, each after the gate again (src/queue/intake-priority.ts: applying gives way to intake, and
 * never takes the process in one go while intake is busy).
 */
export class MicroBatcher<I, O> {
  private waiting: Waiting<I, O>[] = [];
  private scheduled = false;
  /** When each running group started (performance.now()). */
  private readonly running = new Set<{ at: number }>();
  private overdueTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly maxBatch: number,
    private readonly handle: (items: I[]) => Promise<(O | Error)[]>,
    private readonly gate?: (since: number) => Promise<boolean>,
    private readonly limit?: RunningLimit,
  ) {
    if (gate && limit) throw new Error('a MicroBatcher takes a gate or a running limit, not both');
    if (limit && !(limit.maxRunning >= 1)) throw new Error('maxRunning must be at least 1');
  }

  /** How many groups are running now. */
  get runningGroups(): number {
    return this.running.size;
  }

  submit(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject, at: performance.now() });
      if (this.gate) {
        if (!this.scheduled) {
          this.scheduled = true;
          setImmediate(() => void this.drain(this.gate!));
        }
      } else if (this.waiting.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.waiting.length > 0) {
      if (!this.mayStart()) {
        this.wakeWhenOverdue();
        return;
      }
      void this.run(this.waiting.splice(0, this.maxBatch));
    }
  }

  /** Whether another group may start: fewer than `maxRunning` groups are running and not overdue. */
  private mayStart(): boolean {
    if (!this.limit) return true;
    const now = performance.now();
    let counted = 0;
    for (const g of this.running) if (now - g.at < this.limit.overdueMs) counted++;
    return counted < this.limit.maxRunning;
  }

  /** Looks again when the earliest counted group becomes overdue (a group ending looks sooner). */
  private wakeWhenOverdue(): void {
    if (!this.limit || this.overdueTimer) return;
    const now = performance.now();
    let earliest = Number.POSITIVE_INFINITY;
    for (const g of this.running) if (now - g.at < this.limit.overdueMs) earliest = Math.min(earliest, g.at);
    if (earliest === Number.POSITIVE_INFINITY) return;
    this.overdueTimer = setTimeout(
      () => {
        this.overdueTimer = null;
        this.flush();
      },
      Math.ceil(earliest + this.limit.overdueMs - now) + 1,
    );
    // Only a wake-up: the running group keeps the process alive for as long as it runs.
    this.overdueTimer.unref();
  }

  /**
   * The gated way: while the gate holds items back (it answers true: intake was busy), one group
   * runs at a time, each after the gate again; once it lets them through at once (false: quiet),
   * all that wait run, as without a gate.
   */
  private async drain(gate: (since: number) => Promise<boolean>): Promise<void> {
    while (this.waiting.length > 0) {
      const held = await gate(this.waiting[0]!.at).catch(() => false);
      if (!held) break;
      await this.run(this.waiting.splice(0, this.maxBatch));
    }
    this.flush();
  }

  private async run(group: Waiting<I, O>[]): Promise<void> {
    let outcomes: (O | Error)[];
    const entry = { at: performance.now() };
    this.running.add(entry);
    try {
      outcomes = await this.handle(group.map((w) => w.item));
    } catch (err) {
      outcomes = group.map(() => err as Error);
    } finally {
      this.running.delete(entry);
    }
    // With a limit, what waited for this group to end goes now, as one group.
    if (this.limit && this.waiting.length > 0) this.flush();
    group.forEach((w, i) => {
      const outcome = outcomes[i];
      if (outcome instanceof Error) w.reject(outcome);
      else w.resolve(outcome as O);
    });
  }
}
