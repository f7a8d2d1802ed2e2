interface Waiting<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
  /** When it was handed over (performance.now()). */
  at: number;
}

/**
 * Gathers the items handed over in the same turn of the event loop (at most `maxBatch` at a time)
 * and runs them through `handle` together; each caller gets the outcome for its own item. `handle`
 * returns one outcome per item, in order: a value, or an Error for that item alone.
 *
 * With a `gate`, the items wait for it before they run — given when the oldest of them was handed
 * over — and everything handed over meanwhile joins them; groups that had to wait run one after the
 * other, each after the gate again (src/queue/intake-priority.ts: applying gives way to intake, and
 * never takes the process in one go while intake is busy).
 */
export class MicroBatcher<I, O> {
  private waiting: Waiting<I, O>[] = [];
  private scheduled = false;

  constructor(
    private readonly maxBatch: number,
    private readonly handle: (items: I[]) => Promise<(O | Error)[]>,
    private readonly gate?: (since: number) => Promise<boolean>,
  ) {}

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
    while (this.waiting.length > 0) void this.run(this.waiting.splice(0, this.maxBatch));
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
    try {
      outcomes = await this.handle(group.map((w) => w.item));
    } catch (err) {
      outcomes = group.map(() => err as Error);
    }
    group.forEach((w, i) => {
      const outcome = outcomes[i];
      if (outcome instanceof Error) w.reject(outcome);
      else w.resolve(outcome as O);
    });
  }
}
